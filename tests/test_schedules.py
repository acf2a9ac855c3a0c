"""Schedules: restarts, misfires, reconciliation, rotation, quiet hours and the campaign calendar."""
from __future__ import annotations

import asyncio
import logging
import re
from datetime import datetime, timedelta

import pytest
from apscheduler.triggers.date import DateTrigger
from sqlmodel import Session, select

from bot.clock import SHANGHAI, Clock
from schedules import jobs
from schedules.calendar import campaign_runs
from schedules.scheduler import JOBS, config_jobs, reconcile
from schedules.timing import allowed_time, is_holiday
from storage.models import OutboxItem
from tests.conftest import S1, eventually


def add_timed_notice(app, job_id: str, seconds: float, *, grace: int | None = None, rooms=("s3-1", "s3-2")) -> None:
    """What /定时 does, at a time to the second."""
    when = datetime.now(SHANGHAI) + timedelta(seconds=seconds)
    extra = {"misfire_grace_time": grace} if grace is not None else {}
    app.scheduler.add_job(
        JOBS + "send_scheduled", DateTrigger(when), id=job_id, replace_existing=True, **extra,
        kwargs={"job_id": job_id, "text": "今晚8点开楼道会", "room_ids": list(rooms),
                "author_id": "officer-li", "author_name": "李敏", "title": "信息员"},
    )


def notices_sent(chat) -> list:
    return [m for m in chat.sent if "今晚8点开楼道会" in m.text and m.room_id]  # group posts, not reports


async def test_job_created_before_restart_fires_after_it_once(make_chat):
    chat = await make_chat(run_scheduler=True, clock=Clock())
    add_timed_notice(chat.app, "user:restart", 1.5)
    await chat.app.stop()
    chat2 = await make_chat(run_scheduler=True, clock=Clock())
    await eventually(lambda: len(notices_sent(chat2)) == 2, what="the notice in both groups")
    # a date job leaves the store when it fires: nothing is left that could send it again
    await eventually(lambda: chat2.app.scheduler.get_job("user:restart") is None, what="the job to leave the store")
    await chat2.app.idle()
    assert sorted(m.room_id for m in notices_sent(chat2)) == ["s3-1", "s3-2"]
    await chat2.app.stop()
    chat3 = await make_chat(run_scheduler=True, clock=Clock())
    assert chat3.app.scheduler.get_job("user:restart") is None  # the next start has nothing of it to run
    await chat3.app.idle()
    assert notices_sent(chat3) == []


async def test_run_missed_while_down_is_sent_within_grace_and_reported_after(make_chat):
    chat = await make_chat(run_scheduler=True, clock=Clock())
    add_timed_notice(chat.app, "user:in-grace", 0.5, grace=60)
    add_timed_notice(chat.app, "user:too-late", 0.5, grace=1, rooms=(LEGAL_ID,))
    await chat.app.stop()
    await asyncio.sleep(2.5)  # the bot is down when both should have run
    chat2 = await make_chat(run_scheduler=True, clock=Clock())
    await eventually(lambda: len(notices_sent(chat2)) >= 2 and any("错过" in m.text for m in chat2.sent),
                     what="the notice in grace sent and the late one reported")
    await chat2.app.idle()
    assert sorted(m.room_id for m in notices_sent(chat2)) == ["s3-1", "s3-2"]  # the late one is not sent
    missed = [m for m in chat2.sent if "定时任务错过" in m.text]
    assert [m.to for m in missed] == ["grid-zhao"] and "user:too-late" in missed[0].text
    assert "今晚8点开楼道会" in missed[0].text  # the report names what was not sent


LEGAL_ID = "legal-xfl"


async def test_reconcile_keeps_unchanged_jobs_and_follows_config(make_chat, config):
    chat = await make_chat(run_scheduler=True, clock=Clock())
    scheduler = chat.app.scheduler
    job = scheduler.get_job("cfg:weekly_legal_push")
    before = job.next_run_time
    assert reconcile(scheduler, config, datetime.now(SHANGHAI)) == {"added": 0, "updated": 0, "removed": 0}
    assert scheduler.get_job("cfg:weekly_legal_push").next_run_time == before
    schedules = config.schedules.model_copy(update={
        "weekly_legal_push": config.schedules.weekly_legal_push.model_copy(update={"hour": 10}),
        "campaigns": [c for c in config.schedules.campaigns if c.id != "fire-day"],
    })
    changed = reconcile(scheduler, config.model_copy(update={"schedules": schedules}), datetime.now(SHANGHAI))
    assert changed == {"added": 0, "updated": 1, "removed": 1}
    assert scheduler.get_job("cfg:weekly_legal_push").next_run_time.astimezone(SHANGHAI).hour == 10
    assert scheduler.get_job("cfg:campaign:fire-day") is None
    assert scheduler.get_job("cfg:campaign:chongyang:2027") is not None


async def test_weekly_push_rotates_without_repeats_and_keeps_its_place(make_chat, clock):
    clock.set(datetime(2026, 11, 25, 9, 30))
    chat = await make_chat()
    texts = []
    for _week in range(3):
        assert await jobs.weekly_legal_push() == 1
        assert await jobs.weekly_legal_push() == 0  # the same week twice: sent once
        await chat.app.idle()
        texts.append(chat.sent[-1].text)
        clock.advance(days=7)
    await chat.app.stop()
    chat2 = await make_chat()
    assert await jobs.weekly_legal_push() == 1
    await chat2.app.idle()
    texts.append(chat2.sent[-1].text)
    assert len(set(texts)) == 4 and all(t.startswith("【每周普法】") for t in texts)
    assert {m.room_id for m in chat.sent + chat2.sent} == {LEGAL_ID}


async def test_automatic_pushes_wait_out_quiet_hours(make_chat, clock):
    clock.set(datetime(2026, 11, 25, 22, 15))  # a Wednesday night
    chat = await make_chat()
    assert await jobs.campaign("fire-day") == 2
    await chat.app.idle()
    assert chat.sent == []  # queued for the morning
    with Session(chat.app.engine) as session:
        due = {i.due_at.astimezone(SHANGHAI) for i in session.exec(select(OutboxItem)).all()}
    assert due == {datetime(2026, 11, 26, 8, 0, tzinfo=SHANGHAI)}
    clock.set(datetime(2026, 11, 26, 8, 0, 1))
    await chat.app.idle()
    assert sorted(m.room_id for m in chat.sent) == ["s3-1", "s3-2"]
    assert all(m.text.startswith("【11·9消防宣传日】") for m in chat.sent)


async def test_daily_digest_and_visit_reminders_go_privately(make_chat, clock):
    chat = await make_chat()
    await chat.say("3单元楼道里堆满了纸箱,消防通道都堵了", sender="res-zhang", room=S1)
    chat.sent.clear()
    assert await jobs.daily_digest() == 1
    assert await jobs.visit_reminder() >= 2
    assert await jobs.visit_reminder() == 0  # once a month
    await chat.app.idle()
    digest = [m for m in chat.sent if "每日工单摘要" in m.text]
    assert [m.to for m in digest] == ["grid-zhao"] and "新增1件" in digest[0].text
    visits = {m.to for m in chat.sent if "四必联" in m.text}
    assert {"officer-li", "leader-zhou"} <= visits and all(m.room_id is None for m in chat.sent)


async def test_officer_commands_for_timed_notices(make_chat, clock):
    chat = await make_chat(run_scheduler=True)
    ok = await chat.say("/定时 2026-12-01 09:00 本楼 周六上午楼道大扫除", sender="officer-li")
    assert "已设定 2026-12-01（周二）09:00 发往3幢1单元楼道群" in ok[0].text
    night = await chat.say("/每周 五 22:30 本楼 记得关好楼道门", sender="officer-li")
    assert "免打扰" in night[0].text
    listing = await chat.say("/任务", sender="officer-li")
    private = "\n".join(m.text for m in listing if m.to == "officer-li")
    assert "周六上午楼道大扫除" in private and "记得关好楼道门" in private
    assert all("大扫除" not in m.text for m in listing if m.room_id)  # the list goes privately
    job_code = next(line for line in private.splitlines() if "大扫除" in line).split()[0]
    assert "已取消" in (await chat.say(f"/任务 取消 {job_code}", sender="officer-li"))[0].text
    again = await chat.say("/任务", sender="officer-li")
    assert "周六上午楼道大扫除" not in chat.texts(again) and "记得关好楼道门" in chat.texts(again)
    for text, expected in [
        ("/定时 2020-01-01 09:00 本楼 过去的时间", "已经过去"),
        ("/定时 明天 3点 本楼 内容", "凌晨还是下午"),
        ("/定时 下个月吧 本楼 内容", "没看懂时间"),
        ("/定时 2026-12-01 09:00 9幢9单元楼道群 内容", None),
        ("/每周 八 09:00 本楼 内容", "格式"),
    ]:
        reply = (await chat.say(text, sender="officer-li"))[0].text
        assert "\n" not in reply
        if expected:
            assert expected in reply
    refused = await chat.say("/定时 2026-12-01 09:00 本楼 内容", sender="res-zhang")
    assert "仅限" in refused[0].text


def test_a_year_of_campaigns_matches_the_calendar(config):
    start = datetime(2026, 11, 25, tzinfo=SHANGHAI)
    runs = campaign_runs(config.schedules, start, start + timedelta(days=365))
    got = [(t.strftime("%m-%d %H:%M"), cid) for t, cid in runs]
    expected = [
        ("12-01 09:30", "anti-fraud-law"), ("12-02 09:30", "traffic-day"), ("12-04 09:30", "constitution-day"),
        ("03-08 09:30", "womens-day"), ("03-15 09:30", "consumer-day"), ("04-15 09:30", "security-day"),
        ("05-03 09:30", "civil-code-month"), ("05-10 09:30", "civil-code-month"),
        ("05-17 09:30", "civil-code-month"), ("05-24 09:00", "garbage-week"), ("05-24 09:30", "civil-code-month"),
        ("05-31 09:30", "civil-code-month"), ("06-26 09:30", "anti-drug-day"), ("09-20 09:30", "cyber-week"),
        ("10-08 09:00", "chongyang"),  # 九月初九, 2027
        ("11-09 09:30", "fire-day"),
    ]
    assert got == expected
    assert "justice-day" not in {cid for _, cid in runs}  # off by default, easy to switch on
    on = [c.model_copy(update={"enabled": True}) if c.id == "justice-day" else c for c in config.schedules.campaigns]
    with_justice = campaign_runs(config.schedules.model_copy(update={"campaigns": on}), start, start + timedelta(days=365))
    assert ("04-08 09:30", "justice-day") in [(t.strftime("%m-%d %H:%M"), c) for t, c in with_justice]


def test_quiet_hours_and_holidays_move_automatic_pushes(config):
    cfg = config.schedules
    late = cfg.campaigns[0].model_copy(update={"cron": cfg.campaigns[0].cron.model_copy(update={"hour": 22})})
    runs = campaign_runs(cfg.model_copy(update={"campaigns": [late]}), datetime(2026, 1, 1, tzinfo=SHANGHAI),
                         datetime(2026, 12, 31, tzinfo=SHANGHAI))
    assert [t.strftime("%m-%d %H:%M") for t, _ in runs] == ["03-09 08:00"]  # 3.8 at 22:00 waits for the morning
    national_day = datetime(2026, 10, 1, 9, 30, tzinfo=SHANGHAI)
    moved = allowed_time(national_day, cfg.quiet_hours, skip_holidays=True)
    assert moved.date() > national_day.date() and not is_holiday(moved.date()) and moved.hour == 8
    assert allowed_time(national_day, cfg.quiet_hours, skip_holidays=False) == national_day
    assert allowed_time(datetime(2026, 11, 25, 3, 0, tzinfo=SHANGHAI), cfg.quiet_hours).hour == 8


def test_schedules_cli_lists_jobs_with_targets_and_previews(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    env = {"STAIRWELL_DATABASE_URL": f"sqlite:///{tmp_path / 's.db'}", "PATH": "/usr/bin:/bin"}
    result = subprocess.run([sys.executable, "-m", "bot", "schedules"], cwd=root, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "cfg:weekly_legal_push" in result.stdout and "幸福里法润民生群" in result.stdout
    assert "cfg:campaign:chongyang:" in result.stdout and "【重阳节敬老】" in result.stdout
    assert "个定时任务" in result.stdout


@pytest.mark.parametrize("bad", ["/任务 取消", "/任务 取消 nope"])
async def test_cancel_unknown_job_is_refused(make_chat, bad):
    chat = await make_chat(run_scheduler=True)
    assert "没有找到" in (await chat.say(bad, sender="officer-li"))[0].text


async def test_scheduler_waits_for_the_transport_to_connect(config, db_url, clock):
    from apscheduler.schedulers.base import STATE_PAUSED, STATE_RUNNING

    from bot.app import Stairwell
    from bot.events import Connected
    from bot.transports.memory import create

    transport = create(config)
    transport.connects_later = True  # like wechaty: up only after a login
    app = Stairwell(config, transport, clock=clock, database_url=db_url)
    await app.start()
    try:
        assert app.scheduler.state == STATE_PAUSED
        await transport.deliver(Connected("memory", "bot", "楼道通"))
        assert app.scheduler.state == STATE_RUNNING
    finally:
        await app.stop()


async def test_jobs_and_message_handling_share_sqlite_without_locking(make_chat):
    """The "database is locked" trap: a busy job store on the same SQLite file as the chat."""
    from apscheduler.events import EVENT_JOB_EXECUTED
    from apscheduler.triggers.interval import IntervalTrigger

    chat = await make_chat(run_scheduler=True, clock=Clock())
    runs: list[str] = []  # the busy job's completed runs
    chat.app.scheduler.add_listener(lambda event: runs.append(event.job_id), EVENT_JOB_EXECUTED)
    chat.app.scheduler.add_job(JOBS + "visit_reminder", IntervalTrigger(seconds=0.05), id="cfg:busy")

    async def busy_job_ran() -> None:  # one more run of the busy job between two steps
        done = runs.count("cfg:busy")
        await eventually(lambda: runs.count("cfg:busy") > done, what="another run of the busy job")

    texts = [f"/定时 2027-01-{d:02d} 09:00 本楼 第{d}次楼道会" for d in range(1, 21)]
    for text in texts:  # each command writes the job store right after its own transaction
        reply = await chat.say(text, sender="officer-li")
        assert "已设定" in reply[0].text
        await chat.say("谢谢大家", sender="res-chen")
        await busy_job_ran()
    await busy_job_ran()
    jobs_now = [j for j in chat.app.scheduler.get_jobs() if re.fullmatch(r"timed:\d+", j.id)]
    assert len(jobs_now) == 20
    with Session(chat.app.engine) as session:  # queued once a month, however often it ran
        visits = session.exec(select(OutboxItem).where(OutboxItem.key.like("visit:%"))).all()
    assert len(visits) == 3  # 3幢1单元's 李敏 and 周建国; 3幢2单元 (no trio) to its grid worker


async def test_a_scheduled_notice_run_twice_sends_and_logs_once(make_chat, clock):
    chat = await make_chat()
    args = dict(job_id="user:twice", text="周末大扫除", room_ids=["s3-1", "s3-2"],
                author_id="officer-li", author_name="李敏", title="信息员")
    assert await jobs.send_scheduled(**args) == 2
    assert await jobs.send_scheduled(**args) == 0
    await chat.app.idle()
    from storage.models import Notice

    with Session(chat.app.engine) as session:
        assert len(session.exec(select(Notice)).all()) == 1
    assert len([m for m in chat.sent if "周末大扫除" in m.text]) == 2


async def test_texts_older_than_the_retention_period_are_blanked(make_chat, clock):
    chat = await make_chat()
    await chat.say("楼道灯坏了好几天了，晚上看不见，电话13812345678", sender="res-zhang")
    await chat.say("今天天气不错", sender="res-chen")
    clock.advance(days=400)
    await chat.say("最近的消息", sender="res-chen")
    assert await jobs.purge_old_texts() >= 3
    from storage.models import Message, Ticket
    from storage.retention import PURGED

    with Session(chat.app.engine) as session:
        texts = [m.text for m in session.exec(select(Message).order_by(Message.id)).all()]
        ticket = session.exec(select(Ticket)).one()
    assert texts[-1] == "最近的消息" and texts[0] == PURGED and texts.count(PURGED) == len(texts) - 1
    assert ticket.text != PURGED  # an open ticket keeps its text until it is closed
    assert "cfg:purge_old_texts" in {spec.id for spec in config_jobs(chat.app.config, clock.now())}


def test_holidays_beyond_the_library_come_from_config(config, caplog):
    from datetime import date

    from bot.config import Holidays
    from domain.deadlines import add_working_days
    from schedules.timing import calendar_warning, is_workday, use_holidays

    spring_2027 = [date(2027, 2, d) for d in range(6, 13)]  # 春节 2027 (not in chinesecalendar 1.11)
    now = datetime(2026, 11, 25, 10, tzinfo=SHANGHAI)
    try:
        with caplog.at_level(logging.WARNING, logger="schedules.timing"):
            use_holidays(Holidays(), now)
        assert "节假日数据不含2027年" in caplog.text  # at start, in the log
        assert is_workday(date(2027, 2, 8)) and "2027" in calendar_warning(now)
        use_holidays(Holidays(days_off=spring_2027, workdays=[date(2027, 2, 14)]), now)
        assert calendar_warning(now) is None
        assert calendar_warning(datetime(2026, 1, 5, tzinfo=SHANGHAI)) is None  # the pinned library has 2026
        # a year on, with only 2027's dates in config: 2028 is unknown, and so is 2027's running
        # year when the config lists the next one instead
        assert "2028年" in calendar_warning(datetime(2027, 11, 25, tzinfo=SHANGHAI))
        use_holidays(Holidays(days_off=[date(2028, 1, 28)]), now)
        warning = calendar_warning(datetime(2027, 11, 25, tzinfo=SHANGHAI))
        assert warning is not None and "2027年" in warning and "2028年" not in warning
        use_holidays(Holidays(days_off=spring_2027, workdays=[date(2027, 2, 14)]), now)
        assert not is_workday(date(2027, 2, 8)) and is_workday(date(2027, 2, 14))
        # 5 working days from Thursday 2027-02-04: Fri 5th, Sun 14th (make-up), Mon 15th … Wed 17th
        due = add_working_days(datetime(2027, 2, 4, 10, tzinfo=SHANGHAI), 5, 18)
        assert due.date() == date(2027, 2, 17)
        pushed = allowed_time(datetime(2027, 2, 8, 9, 30, tzinfo=SHANGHAI), config.schedules.quiet_hours, True)
        assert pushed.date() == date(2027, 2, 13) and pushed.hour == 8  # Saturday, after the holiday
    finally:
        use_holidays(config.holidays, now)


async def test_status_warns_when_next_year_has_no_holidays(make_chat):
    chat = await make_chat()
    reply = chat.texts(await chat.say("/状态", sender="grid-zhao"))
    assert "节假日数据不含2027年" in reply


async def test_staff_notice_texts_are_masked_when_stored_queued_and_sent(make_chat, clock):
    from storage.models import Notice, TimedNotice

    chat = await make_chat()
    await chat.say("/通知 本楼 明天停水，有事打13812345678", sender="officer-li")
    await chat.say("/定时 明天9点 本楼 电工老王13912345678", sender="officer-li")
    clock.set(datetime(2026, 11, 26, 9, 0))
    assert await jobs.timed_notices_due() == 1
    await chat.app.idle()
    sent = "\n".join(m.text for m in chat.sent)
    with Session(chat.app.engine) as session:
        stored = [n.text for n in session.exec(select(Notice)).all()] + [t.text for t in session.exec(select(TimedNotice)).all()]
        queued = [o.text for o in session.exec(select(OutboxItem)).all()]
    for text in (sent, *stored, *queued):
        assert "13812345678" not in text and "13912345678" not in text
    assert "138****5678" in sent and "139****5678" in sent


async def test_timed_notice_to_all_groups_needs_confirmation(make_chat, clock, caplog):
    import logging

    from storage.models import TimedNotice

    caplog.set_level(logging.DEBUG, logger="apscheduler")
    chat = await make_chat(run_scheduler=True, clock=Clock())  # the job store runs on real time
    # a date two days ahead on the real clock ("明天" asked between midnight and dawn is asked back)
    from zoneinfo import ZoneInfo
    ahead = datetime.now(ZoneInfo("Asia/Shanghai")) + timedelta(days=2)
    preview = chat.texts(await chat.say(f"/定时 {ahead.month}月{ahead.day}日 9:00 全部 周六全小区消防演练", sender="grid-zhao"))
    assert "/确认" in preview and "幸福里法润民生群" in preview
    with Session(chat.app.engine) as session:
        assert session.exec(select(TimedNotice)).all() == []  # nothing until confirmed
    assert "已设定" in chat.texts(await chat.say("/确认", sender="grid-zhao"))
    with Session(chat.app.engine) as session:
        notice = session.exec(select(TimedNotice)).one()
    assert len(notice.room_ids.split()) == 3
    job = chat.app.scheduler.get_job(f"timed:{notice.id}")
    assert job is not None and "消防演练" not in job.name and "消防演练" not in str(job.kwargs)
    assert "定时通知" in caplog.text and "消防演练" not in caplog.text  # APScheduler logs the name only


async def test_recurring_pushes_run_twice_in_a_period_send_once(make_chat, clock):
    """A rerun after a crash (the store had already moved the job on) is harmless: period keys."""
    from storage.models import TimedNotice

    chat = await make_chat()
    await chat.say("3单元楼道里堆满了纸箱,消防通道都堵了", sender="res-zhang")
    for job in (jobs.monthly_case, jobs.daily_digest, jobs.visit_reminder, lambda: jobs.campaign("fire-day")):
        assert await job() > 0
        assert await job() == 0
    await chat.say("/每周 四 9点 本楼 周四上午收快递柜", sender="officer-li")
    clock.set(datetime(2026, 11, 26, 9, 0))
    assert await jobs.timed_notices_due() == 1 and await jobs.timed_notices_due() == 0
    with Session(chat.app.engine) as session:
        weekly = session.exec(select(TimedNotice)).one()
    assert weekly.status == "pending" and weekly.due_at.astimezone(SHANGHAI) == datetime(2026, 12, 3, 9, 0, tzinfo=SHANGHAI)
    clock.set(datetime(2026, 12, 3, 9, 0))
    assert await jobs.timed_notices_due() == 1


async def test_task_list_shows_only_the_callers_scope(make_chat):
    chat = await make_chat(run_scheduler=True)
    await chat.say("/定时 明天9点 本楼 三幢一单元的事", sender="officer-li")
    await chat.say("/定时 明天9点 本楼 二单元的事", sender="grid-zhao", room="3幢2单元楼道群")
    mine = chat.texts(await chat.say("/任务", sender="officer-li", room=None))
    assert "三幢一单元的事" in mine and "二单元的事" not in mine
    admin = chat.texts(await chat.say("/任务", sender="grid-zhao", room=None))
    assert "三幢一单元的事" in admin and "二单元的事" in admin


def test_a_missed_run_report_names_the_jobs_text(config):
    from schedules.scheduler import job_label

    label = job_label("cfg:campaign:fire-day", config, None)
    assert "11·9消防宣传日" in label and "电动车" in label and len(label) < 60
    assert "每周普法" in job_label("cfg:weekly_legal_push", config, None)


async def test_a_second_purge_rewrites_nothing(make_chat, clock):
    """Nightly: what was blanked stays blanked and is not written again (a district has millions)."""
    chat = await make_chat()
    await chat.say("3楼的楼道灯又不亮了", sender="res-zhang")
    await chat.say("/办结 1 已换灯泡", sender="officer-li")
    clock.advance(days=400)
    await chat.say("最近的消息", sender="res-chen")
    assert await jobs.purge_old_texts() >= 3
    from storage.models import TicketEvent
    from storage.retention import PURGED

    with Session(chat.app.engine) as session:
        notes = [e.note for e in session.exec(select(TicketEvent)).all() if e.note]
    assert notes and set(notes) == {PURGED}
    assert await jobs.purge_old_texts() == 0
    clock.advance(days=1)
    assert await jobs.purge_old_texts() == 0  # the next night: nothing new is old enough


async def test_a_timed_notice_paused_is_not_sent_and_resumed_is(make_chat, clock):
    """/任务 暂停 keeps the row and drops its trigger; the catch-up skips it; /任务 恢复 brings it back
    (a one-off whose time passed meanwhile: refused, with the way out)."""
    import schedules.jobs as jobs
    from schedules.scheduler import TIMED_PREFIX

    chat = await make_chat(run_scheduler=True)
    await chat.say("/定时 2026-11-26 09:00 本楼 周四停水", sender="officer-li")
    await chat.say("/每周 五 09:00 本楼 关好楼道门", sender="officer-li")
    once, weekly = (n.id for n in _timed(chat))
    scheduler = chat.app.scheduler
    assert "已暂停任务" in (await chat.say(f"/任务 暂停 {once}", sender="officer-li"))[0].text
    assert "没有找到" in (await chat.say(f"/任务 暂停 {weekly}", sender="leader-zhou"))[0].text  # not hers
    assert scheduler.get_job(f"{TIMED_PREFIX}{once}") is None and scheduler.get_job(f"{TIMED_PREFIX}{weekly}")
    assert "（已暂停）" in (await chat.say("/任务", sender="officer-li"))[0].text
    clock.advance(days=1)
    assert await jobs.timed_notices_due() == 0  # the paused one is not due, and not missed either
    assert "时间已经过去" in (await chat.say(f"/任务 恢复 {once}", sender="officer-li"))[0].text
    await chat.say(f"/任务 暂停 {weekly}", sender="officer-li")
    assert "已恢复任务" in (await chat.say(f"/任务 恢复 {weekly}", sender="officer-li"))[0].text
    assert scheduler.get_job(f"{TIMED_PREFIX}{weekly}") is not None
    assert [n.status for n in _timed(chat)] == ["paused", "pending"]


def _timed(chat):
    from sqlmodel import Session

    from storage import timed

    with Session(chat.app.engine) as session:
        return sorted(timed.listed(session), key=lambda n: n.id)


def test_a_job_another_process_removed_mid_replace_is_added_again():
    """Two first starts at once on one job store: APScheduler replaces a job by "add, conflict,
    update", and a one-off catch-up job the other process ran (and removed) in between made the
    update raise JobLookupError and the start fail. put_job tries again, and the job is there."""
    from apscheduler.jobstores.base import JobLookupError
    from apscheduler.jobstores.memory import MemoryJobStore
    from apscheduler.schedulers.background import BackgroundScheduler

    from schedules.scheduler import put_job

    class RacingStore(MemoryJobStore):
        raced = 0

        def update_job(self, job):
            if not self.raced:  # the other process ran the one-off job and removed it just now
                self.raced += 1
                self.remove_job(job.id)
                raise JobLookupError(job.id)
            return super().update_job(job)

    store = RacingStore()
    scheduler = BackgroundScheduler(jobstores={"default": store})
    scheduler.start(paused=True)  # (jobs go to the store, not to a pending list; none runs)
    try:
        scheduler.add_job(print, id="timed:catch-up", name="first")
        put_job(scheduler, print, id="timed:catch-up", name="second")
        assert store.raced == 1
        assert [(job.id, job.name) for job in scheduler.get_jobs()] == [("timed:catch-up", "second")]
    finally:
        scheduler.shutdown(wait=False)
