"""Monthly visits and the 战时 check-on lists, on SQLite and PostgreSQL: /走访, /已联系, the
reminder and nudge jobs, coverage in /统计 and `report --month`, the persisted follow-up job and
the petition mark. The conversations in tests/conversations/visits.yaml tell the same stories
through chat; these check the rows and the edges."""
from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone

import pytest
from sqlmodel import Session, select

from bot.clock import SHANGHAI
from schedules import jobs
from storage.models import (
    CheckOn, Emergency, Household, HouseholdMember, HouseholdTag, LedgerAudit, OutboxItem, TicketEvent, Visit,
)
from storage.visits import coverage
from tests.conftest import PG_URL, S1, S2
from tests.test_conversations import CONVERSATIONS
from tests.test_conversations import test_conversation as run_story

pytestmark = pytest.mark.postgres

# 3幢1单元: ten flats, four of them with people at risk; 3幢2单元: two flats, one at risk.
FLATS_S1 = ("101", "102", "201", "202", "301", "302", "501", "502", "503", "504")
TAGS = {("3幢1单元", "502"): ["独居老人"], ("3幢1单元", "301"): ["残疾", "重病"],
        ("3幢1单元", "201"): ["空巢"], ("3幢1单元", "101"): ["党员"], ("3幢2单元", "102"): ["留守儿童"]}
MEMBERS = {("3幢1单元", "502"): "王秀英", ("3幢1单元", "301"): "刘建华"}


def seed_ledger(engine) -> None:
    """What the ledger's /底账 commands or its import would have stored."""
    now = datetime(2026, 11, 1, tzinfo=timezone.utc)
    with Session(engine) as session:
        homes = [("3幢1单元", f) for f in FLATS_S1] + [("3幢2单元", "101"), ("3幢2单元", "102")]
        for stairwell, flat in homes:
            home = Household(stairwell=stairwell, grid="网格A", building="3幢", unit=stairwell[2:], flat=flat,
                             updated_at=now)
            session.add(home)
            session.flush()
            for tag in TAGS.get((stairwell, flat), []):
                session.add(HouseholdTag(household_id=home.id, tag=tag))
            if (stairwell, flat) in MEMBERS:
                session.add(HouseholdMember(household_id=home.id, name=MEMBERS[(stairwell, flat)], relation="户主"))
        session.commit()


@pytest.fixture
def own_ledger(config):
    """config.yaml without the demo ledger: these tests seed their own."""
    return config.model_copy(update={"ledger": config.ledger.model_copy(update={"demo": False})})


@pytest.fixture
async def ledger_chat(make_chat, own_ledger):
    chat = await make_chat(own_ledger)
    seed_ledger(chat.app.engine)
    return chat


def texts(replies) -> str:
    return "\n".join(r.text for r in replies)


def visits(engine) -> list[Visit]:
    with Session(engine) as session:
        return list(session.exec(select(Visit).order_by(Visit.id)).all())


async def test_visits_as_people_write_them_and_the_month_so_far(ledger_chat):
    chat = ledger_chat
    one = await chat.say("/走访 502 已见本人，身体好，电话13812345678", sender="officer-li")
    assert "已记录走访 3幢1单元 502" in texts(one) and "1/10户" in texts(one)
    assert [r.text for r in one if r.room_id] == ["@李敏 已私信您。"]  # asked in the group: answered privately
    floor = await chat.say("/走访 5楼全部 正常", sender="leader-zhou", room=None)
    assert "5楼 4户（501、502、503、504）" in texts(floor) and "4/10户" in texts(floor)
    many = await chat.say("/走访 3-1-101室、102 正常", sender="grid-zhao", room=S1)
    assert "101、102" in texts(many) and "6/10户" in texts(many)
    rows = visits(chat.app.engine)
    assert len(rows) == 7 and {r.visitor_id for r in rows} == {"officer-li", "leader-zhou", "grid-zhao"}
    assert "138****5678" in rows[0].note and "13812345678" not in rows[0].note  # masked at rest

    month = texts(await chat.say("/走访 本月", sender="officer-li", room=None))
    lines = month.splitlines()
    assert lines[0] == "3幢1单元 11月走访：已走访 6/10户（60%）"
    assert lines[1] == "重点人员未走访：201 空巢；301 残疾、重病"  # people at risk first, 党员 is not a risk
    assert lines[2] == "其余未走访：202、302"
    with Session(chat.app.engine) as session:  # the flats at risk shown are audited
        audited = session.exec(select(LedgerAudit).where(LedgerAudit.action == "走访进度")).all()
        assert len(audited) == 2 and {a.actor_id for a in audited} == {"officer-li"}


async def test_refusals_and_bad_input_get_one_polite_line(ledger_chat):
    chat = ledger_chat
    unknown = await chat.say("/走访 808 正常", sender="officer-li", room=None)
    assert "底账里没有808" in texts(unknown) and "/底账 808" in texts(unknown)
    nothing = await chat.say("/走访 看过了", sender="officer-li", room=None)
    assert "请写明哪一户" in texts(nothing) and "/走访 502" in texts(nothing)
    other = await chat.say("/走访 3幢2单元 101 正常", sender="officer-li", room=None)
    assert "不在您负责的楼道" in texts(other)
    resident = await chat.say("/走访 502 正常", sender="res-zhang")
    assert "仅限" in texts(resident) and not [r for r in resident if r.room_id]  # refusals are private
    grid = await chat.say("/走访 101 正常", sender="grid-zhao", room=None)  # a 101 in both of his stairwells
    assert "请写明楼栋单元" in texts(grid) and "3幢1单元101" in texts(grid)
    no_floor = await chat.say("/走访 9楼全部 正常", sender="officer-li", room=None)
    assert "没有9楼的住户" in texts(no_floor)
    assert visits(chat.app.engine) == []


async def test_a_grid_worker_sees_every_stairwell_then_one(ledger_chat):
    chat = ledger_chat
    await chat.say("/走访 3幢2单元 102 孩子在家，爷爷陪着", sender="grid-zhao", room=None)
    both = texts(await chat.say("/走访 本月", sender="grid-zhao", room=None))
    assert "3幢1单元 11月走访：已走访 0/10户（0%）" in both and "3幢2单元 11月走访：已走访 1/2户（50%）" in both
    one = texts(await chat.say("/走访 本月 3幢2单元", sender="grid-zhao", room=None))
    assert one.splitlines()[1:] == ["其余未走访：101"]


async def test_monthly_reminder_and_mid_month_nudge(ledger_chat, clock):
    chat = ledger_chat
    clock.set(datetime(2026, 12, 1, 9, 0))
    # the trio of 3幢1单元 (李敏, 周建国); 3幢2单元 has none yet, so its grid worker is told instead
    assert await jobs.visit_reminder() == 3
    await chat.app.idle()
    reminder = next(m.text for m in chat.sent if m.to == "officer-li")
    for_grid = next(m.text for m in chat.sent if m.to == "grid-zhao")
    assert for_grid.startswith("以下楼道还没有楼道长、信息员、保障员") and "3幢2单元" in for_grid
    assert "3幢1单元" not in for_grid
    assert reminder.startswith("【四必联提醒】12月请联系3幢1单元每户居民")
    assert "本月未走访 10/10户" in reminder and "重点人员未走访：201 空巢；301 残疾、重病；502 独居老人" in reminder
    assert "/走访 502 已见本人，身体好" in reminder and "/走访 本月" in reminder
    assert await jobs.visit_reminder() == 0  # once a month
    # the instructions work as written
    said = await chat.say("/走访 502 已见本人，身体好", sender="officer-li", room=None)
    assert "1/10户" in texts(said)

    chat.sent.clear()
    clock.set(datetime(2026, 12, 15, 9, 0))
    assert await jobs.visit_nudge() == 3  # 1 of 10 < 0.5; 3幢2单元's 0 of 2 to the grid worker
    await chat.app.idle()
    nudge = next(m.text for m in chat.sent if m.to == "leader-zhou")
    assert "【走访进度提醒】3幢1单元 12月走访：已走访 1/10户（10%）" in nudge and "502" not in nudge.split("\n")[1]
    await chat.say("/走访 1楼全部 正常", sender="officer-li", room=None)
    await chat.say("/走访 2楼全部 正常", sender="officer-li", room=None)
    await chat.say("/走访 3楼全部 正常", sender="officer-li", room=None)
    with Session(chat.app.engine) as session:  # a new month key would send again: clear this month's
        for row in session.exec(select(OutboxItem).where(OutboxItem.key.like("visitnudge:%"))).all():
            session.delete(row)
        session.commit()
    assert await jobs.visit_nudge() == 1  # 7 of 10 is on track: only 3幢2单元 (to the grid worker) is left
    with Session(chat.app.engine) as session:
        queued = session.exec(select(OutboxItem).where(OutboxItem.key.like("visitnudge:%"))).all()
    assert [row.to for row in queued] == ["grid-zhao"] and "3幢1单元" not in queued[0].text


async def test_coverage_is_counted_in_sql_per_month_and_shown_in_stats_and_report(ledger_chat, clock, db_url):
    from bot.cli import report_command

    chat = ledger_chat
    await chat.say("/走访 5楼全部 正常", sender="officer-li", room=None)
    await chat.say("/走访 502 又去看了一次", sender="officer-li", room=None)  # twice: one household
    start = datetime(2026, 11, 1, tzinfo=SHANGHAI)
    with Session(chat.app.engine) as session:
        found = coverage(session, start, datetime(2026, 12, 1, tzinfo=SHANGHAI))
        assert [(c.stairwell, c.visited, c.total) for c in found] == [("3幢1单元", 4, 10), ("3幢2单元", 0, 2)]
        before = coverage(session, start - timedelta(days=30), start)
        assert [(c.visited, c.total) for c in before] == [(0, 10), (0, 2)]
    stats = texts(await chat.say("/统计", sender="officer-li", room=None))
    assert "走访覆盖率（11月）：3幢1单元 4/10户 40%" in stats and "3幢2单元" not in stats  # the caller's scope
    md = io.StringIO()
    assert report_command("2026-11", "md", None, db_url, md, now=clock.now()) == 0
    assert "| 3幢1单元 | 4/10户 | 40% |" in md.getvalue() and "| 3幢2单元 | 0/2户 | 0% |" in md.getvalue()
    out = io.StringIO()
    assert report_command("2026-11", "csv", None, db_url, out, now=clock.now()) == 0
    assert "走访覆盖率,3幢1单元,40%,4/10户" in out.getvalue()


async def test_emergency_lists_go_privately_and_the_grid_worker_hears_who_is_left(ledger_chat, clock):
    chat = ledger_chat
    on = await chat.say("/战时 开启 寒潮", sender="grid-zhao")
    assert "已向2个楼道的楼道长、保障员私信寒潮重点人员名单（3户）" in texts(on)
    await chat.app.idle()
    group = [m for m in chat.sent if m.room_id]
    assert all("独居老人" not in m.text and "502" not in m.text for m in group)  # never in a group
    lists = {m.to: m.text for m in chat.sent if m.to and "【战时·寒潮】" in m.text}
    # 3幢1单元: its 楼道长 (no 保障员 configured); 3幢2单元 has no trio: its grid worker
    assert set(lists) == {"leader-zhou", "grid-zhao"}
    assert "301（刘建华） 残疾、重病" in lists["leader-zhou"] and "502（王秀英） 独居老人" in lists["leader-zhou"]
    assert "201" not in lists["leader-zhou"]  # 空巢 is not on the 战时 list
    assert "/已联系 301" in lists["leader-zhou"]

    done = await chat.say("/已联系 502 已送去棉被，一切正常", sender="leader-zhou")
    assert "已确认联系：502。还有1户未确认：301 残疾、重病。" in texts(done)
    assert [r.to for r in done if r.to] == ["leader-zhou"]
    wrong = await chat.say("/已联系 504", sender="leader-zhou", room=None)
    assert "504不在3幢1单元本次的重点人员名单中" in texts(wrong)

    chat.sent.clear()
    clock.advance(seconds=3600)
    assert await jobs.check_on_due() == 0  # not yet: 2 hours
    clock.advance(seconds=3600)
    assert await jobs.check_on_due() == 1  # one grid worker, both stairwells in one message
    await chat.app.idle()
    left = [m for m in chat.sent if m.to == "grid-zhao"]
    assert len(left) == 1 and "以下重点户仍未确认联系" in left[0].text
    assert "3幢1单元：301（刘建华） 残疾、重病" in left[0].text and "502" not in left[0].text
    assert "3幢2单元：102 留守儿童" in left[0].text
    assert await jobs.check_on_due() == 0  # once
    with Session(chat.app.engine) as session:
        check = session.exec(select(CheckOn).where(CheckOn.contacted_by == "leader-zhou")).one()
        assert check.note == "已送去棉被，一切正常"


async def test_the_same_kind_twice_sends_nothing_again_and_closing_cancels_the_follow_up(ledger_chat, clock):
    chat = ledger_chat
    await chat.say("/战时 开启 寒潮预警", sender="grid-zhao")
    again = await chat.say("/战时 开启 寒潮", sender="grid-zhao")
    assert "未重复发送" in texts(again)
    await chat.app.idle()
    assert len([m for m in chat.sent if m.to == "leader-zhou" and "【战时·寒潮】" in m.text]) == 1
    await chat.say("/战时 关闭", sender="grid-zhao")
    clock.advance(seconds=3 * 3600)
    assert await jobs.check_on_due() == 0
    none = await chat.say("/已联系 502", sender="leader-zhou", room=None)
    assert "当前没有战时重点人员名单" in texts(none)
    typhoon = await chat.say("/战时 开启 台风", sender="grid-zhao")  # not a check-on kind: no lists
    assert "重点人员" not in texts(typhoon)
    with Session(chat.app.engine) as session:
        assert [e.kind for e in session.exec(select(Emergency).order_by(Emergency.id)).all()] == ["寒潮", None]


async def test_the_follow_up_is_a_persisted_job_with_a_plain_id(make_chat, own_ledger):
    from bot.clock import Clock

    chat = await make_chat(own_ledger, run_scheduler=True, clock=Clock())  # the job store runs on real time
    seed_ledger(chat.app.engine)
    on = await chat.say("/战时 开启 防汛", sender="grid-zhao")
    assert "防汛重点人员名单（3户）" in texts(on)
    job = chat.app.scheduler.get_job("checkon:1")
    assert job is not None and job.kwargs == {"emergency_id": 1} and job.func_ref == "schedules.jobs:check_on_followup"
    due = job.next_run_time - datetime.now(timezone.utc)
    assert timedelta(hours=1, minutes=59) < due <= timedelta(hours=2)
    await chat.app.stop()
    again = await make_chat(own_ledger, run_scheduler=True, clock=Clock())  # a restart keeps it: the store is the database
    assert again.app.scheduler.get_job("checkon:1").kwargs == {"emergency_id": 1}
    assert await jobs.check_on_followup(1) == 0  # run early (by hand): nothing yet
    with Session(again.app.engine) as session:
        emergency = session.get(Emergency, 1)
        emergency.check_due_at = datetime.now(timezone.utc) - timedelta(minutes=1)
        session.add(emergency)
        session.commit()
    assert await jobs.check_on_followup(1) == 1
    assert await jobs.check_on_followup(1) == 0  # once


async def test_a_petition_from_a_flat_at_risk_is_marked_for_its_follower(ledger_chat):
    chat = ledger_chat
    await chat.say("我家502水管漏水了，没人帮忙修", sender="res-zhang")
    await chat.app.idle()
    alert = next(m.text for m in chat.sent if m.to == "officer-li" and "新工单 #1" in m.text)
    assert "【重点关注】502 独居老人" in alert
    group = "\n".join(m.text for m in chat.sent if m.room_id)
    assert "独居老人" not in group and "重点关注" not in group
    detail = texts(await chat.say("/工单 1", sender="officer-li", room=None))
    assert "关注 系统：502 独居老人" in detail
    progress = texts(await chat.say("/进度 1", sender="res-zhang"))
    assert "独居老人" not in progress  # the reporter never sees the mark

    # no flat named: a resident whose display name is one member's name in this stairwell
    await chat.say("楼道灯坏了好几天了", sender="res-liu", sender_name="刘建华")
    await chat.app.idle()
    alert = next(m.text for m in chat.sent if m.to == "officer-li" and "新工单 #2" in m.text)
    assert "【重点关注】301 残疾（按群昵称与底账姓名对应，请核实）" in alert
    # 201 is 空巢 only: not marked
    await chat.say("201门口的垃圾三天没人收了", sender="res-chen", room=S1)
    await chat.app.idle()
    alert = next(m.text for m in chat.sent if m.to == "officer-li" and "新工单 #3" in m.text)
    assert "重点关注" not in alert
    with Session(chat.app.engine) as session:
        marks = session.exec(select(TicketEvent).where(TicketEvent.action == "关注")).all()
        assert [m.ticket_id for m in marks] == [1, 2]


async def test_the_other_stairwell_group_is_scoped_to_its_own_ledger(ledger_chat):
    chat = ledger_chat
    said = await chat.say("/走访 102 正常", sender="grid-zhao", room=S2)  # in 3幢2单元's group: its 102
    assert "已记录走访 3幢2单元 102" in texts(said)


# The story tests of tests/conversations/visits.yaml run on SQLite in test_conversations.py (and
# every fourth there on PostgreSQL); here all of them run on PostgreSQL too, when it is configured.
VISIT_STORIES = [conv for name, conv in CONVERSATIONS if name.startswith("visits: ")]


if PG_URL:  # defined only then: an empty parameter set would show as a skipped test
    @pytest.mark.parametrize("story, db_url", [pytest.param(c, "postgres", id=c["name"]) for c in VISIT_STORIES],
                             indirect=["db_url"])
    async def test_visit_stories_on_postgres(make_chat, clock, story):
        await run_story(make_chat, clock, story)


def test_there_are_visit_stories_for_every_command():
    said = " ".join(str(step.get("say", "")) + str(step.get("job", "")) for c in VISIT_STORIES for step in c["steps"])
    for what in ("/走访 502", "/走访 5楼全部", "/走访 本月", "/已联系", "/战时 开启 寒潮", "/统计",
                 "visit_reminder", "visit_nudge", "check_on_due"):
        assert what in said, what
