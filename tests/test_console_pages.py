"""The console's 统计, 通知, 定时, 底账 and 走访 pages through aiohttp's test client, logged in by a
one-time link as /登录 sends it: scope (403), CSRF, the exports opened, actions through chat's commands."""
from __future__ import annotations

import csv
import io
import re

import pytest
from aiohttp import web
from sqlmodel import Session, select

from storage import ledger
from storage import console as logins
from storage.models import LedgerAudit
from tests.conftest import S1, S2

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@pytest.fixture
async def web_client(chat, aiohttp_client):
    from bot.console import setup_console

    app = web.Application()
    setup_console(app, chat.app)
    return await aiohttp_client(app)


async def log_in(client, chat, person_id: str) -> str:
    """The one-time link's page, then its button; returns the session's CSRF token."""
    with Session(chat.app.engine) as db:
        token = logins.issue_token(db, person_id, chat.app.clock.now())
        db.commit()
    page = await (await client.get(f"/staff/login/{token}")).text()
    response = await client.post(f"/staff/login/{token}", data={"csrf": CSRF.search(page).group(1)})
    assert response.status == 200, await response.text()
    return CSRF.search(await response.text()).group(1)


async def test_stats_page_chart_data_and_exports(chat, web_client):
    await chat.say("3单元楼道里堆满了纸箱,消防通道都堵了", sender="res-zhang", room=S1)
    await chat.say("楼道灯坏了好几天了", sender="res-wu", room=S2)
    await log_in(web_client, chat, "officer-li")
    page = await (await web_client.get("/staff/stats?month=2026-11")).text()
    assert 'id="trend-chart"' in page and "/staff/static/vendor/echarts.min.js" in page
    assert '"months": ["2025-12"' in page and "受理</td><td data-label=\"数值\"><strong>1件" in page  # her stairwell only
    assert "3幢2单元" not in page
    assert (await web_client.get("/staff/stats?month=2026-13")).status == 400
    assert (await web_client.get("/staff/static/vendor/echarts.min.js")).status == 200

    response = await web_client.get("/staff/stats/report.csv?month=2026-11")
    body = await response.read()
    assert response.status == 200 and body.startswith(b"\xef\xbb\xbf") and "attachment" in response.headers["Content-Disposition"]
    assert ["指标", "受理", "1件", ""] in list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(await (await web_client.get("/staff/stats/report.xlsx?month=2026-11")).read()))
    assert ("受理", "1件", None) in [tuple(r) for r in book["主要指标"].iter_rows(values_only=True)]
    assert [r[0] for r in book["各楼道逐月"].iter_rows(min_row=2, values_only=True)] == ["3幢1单元"] * 12


async def test_ledger_and_visits_pages_refuse_other_stairwells(chat, web_client):
    await log_in(web_client, chat, "officer-li")
    with Session(chat.app.engine) as db:
        mine, other = ledger.find(db, "3幢1单元", "101"), ledger.find(db, "3幢2单元", "101")
        assert mine is not None and other is not None
    assert (await web_client.get(f"/staff/ledger/{other.id}")).status == 403
    assert (await web_client.get("/staff/ledger?stairwell=3幢2单元")).status == 403
    assert (await web_client.get("/staff/visits?stairwell=3幢2单元")).status == 403
    assert (await web_client.get("/staff/ledger/99999")).status == 404
    card = await (await web_client.get(f"/staff/ledger/{mine.id}")).text()
    assert "王秀英" in card and "138****1101" in card and "13800001101" not in card
    listing = await (await web_client.get("/staff/ledger")).text()
    assert f'href="/staff/ledger/{mine.id}"' in listing and "3幢2单元" not in listing
    left = await (await web_client.get("/staff/visits?stairwell=3幢1单元")).text()
    assert "0/8户" in left and left.index(">101<") < left.index(">302<")  # at risk first


async def test_a_notice_composed_previewed_and_confirmed_reaches_the_group(chat, web_client):
    csrf = await log_in(web_client, chat, "officer-li")
    refused = await web_client.post("/staff/notices/send", data={"target": S1, "content": "周六停水"})
    assert refused.status == 403  # no CSRF token
    preview = await (await web_client.post("/staff/notices/send", data={
        "csrf": csrf, "target": S1, "content": "周六上午九点停水", "nonce": "n1"})).text()
    assert "将向1个群发送" in preview and 'id="confirm"' in preview
    assert not [m for m in chat.sent if m.room_id and "停水" in m.text]  # not before /确认
    done = await (await web_client.post("/staff/notices/confirm", data={"csrf": csrf, "nonce": "n1-c"})).text()
    assert "已排队发往1个群" in done
    await chat.app.idle()
    assert [m.text for m in chat.sent if m.room_id and "停水" in m.text]
    await chat.say("收到", sender="res-zhang", room=S1)
    page = await (await web_client.get("/staff/notices")).text()
    assert "周六上午九点停水" in page and "陈先生" in page and "1/" in page  # 张阿姨 confirmed, 陈先生 not


async def test_a_timed_notice_from_the_console_paused_on_the_jobs_page(chat, web_client):
    csrf = await log_in(web_client, chat, "officer-li")
    await web_client.post("/staff/notices/send", data={
        "csrf": csrf, "target": S1, "content": "楼道大扫除", "when": "2026-12-01 09:00", "nonce": "t1"})
    assert "已设定" in await (await web_client.post("/staff/notices/confirm", data={"csrf": csrf, "nonce": "t1-c"})).text()
    jobs = await (await web_client.get("/staff/jobs")).text()
    number = re.search(r'id="job-(\d+)"', jobs).group(1)
    assert "12-01 09:00" in jobs and "楼道大扫除" in jobs and S1 in jobs
    paused = await (await web_client.post(f"/staff/jobs/{number}/pause", data={"csrf": csrf, "nonce": "p1"})).text()
    assert f"已暂停任务 {number}" in paused and "已暂停</span>" in paused
    await log_in(web_client, chat, "leader-zhou")
    other = await (await web_client.get("/staff/jobs")).text()
    assert "仅设定人可操作" in other


async def test_the_jobs_page_lists_system_jobs_read_only_in_scope(chat, web_client):
    """定时 shows the jobs `python -m bot schedules` lists (legal pushes, campaigns, reminders) with
    next run, targets and preview: an admin all of them, an officer those reaching her group; no
    pause or cancel for them (config.yaml sets them again at every start)."""
    await log_in(web_client, chat, "grid-zhao")  # grid worker and admin
    page = await (await web_client.get("/staff/jobs")).text()
    system = page[page.index('id="system"'):]
    assert "cfg:weekly_legal_push" in system and "幸福里法润民生群" in system  # the legal group's push
    assert "cfg:daily_digest" in system and "工作人员私信" in system
    assert "cfg:campaign:fire-day" in system and "【11·9消防宣传日】" in system
    assert re.search(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", system) and "<form" not in system
    assert "只读" in page and "修改配置后重启" in page
    await log_in(web_client, chat, "officer-li")  # her stairwell's group only
    mine = await (await web_client.get("/staff/jobs")).text()
    system = mine[mine.index('id="system"'):]
    assert "cfg:campaign:fire-day" in system and S1 in system  # campaigns to every group reach hers
    assert "cfg:weekly_legal_push" not in system and "cfg:daily_digest" not in system


async def test_in_wartime_the_visits_page_lists_the_people_to_check_on_in_scope(chat, web_client):
    """战时: the households tagged for a check-on kind in the caller's stairwells, who confirmed them
    (/已联系 in chat), the read audited as the list sent in chat."""
    await log_in(web_client, chat, "officer-li")
    assert 'id="checkon"' not in await (await web_client.get("/staff/visits")).text()  # not in 战时
    await chat.say("/战时 开启 寒潮", sender="grid-zhao")
    await chat.say("/已联系 101 已送去棉被", sender="leader-zhou", room=None)
    page = await (await web_client.get("/staff/visits")).text()
    war = page[page.index('id="checkon"'):page.index("</section>", page.index('id="checkon"'))]
    assert "战时 · 寒潮 重点人员" in war and "3幢1单元" in war and "3幢2单元" not in war
    assert re.search(r">101</a>（王秀英）.*独居老人.*已联系 [\d-]+ [\d:]+：已送去棉被", war, re.S)
    left = re.findall(r">(\d{3})</a>", war)
    with Session(chat.app.engine) as db:
        audited = db.exec(select(LedgerAudit).where(LedgerAudit.action == "战时名单",
                                                    LedgerAudit.actor_id == "officer-li")).all()
    assert len(left) >= 2 and len(audited) == len(left)  # each flat shown: one audit row
    assert "未确认" in war and f"（{len(left) - 1}户未确认）" in war


async def test_a_legal_adviser_has_no_stairwell_in_the_console(chat, web_client):
    """A 法律顾问 (lawyer, no stairwell role) logs in but sees no ticket, figure, household or notice
    of the stairwells: the console's scopes are the chat's (STAFF roles), never everything by default."""
    await chat.say("3单元楼道里堆满了纸箱,消防通道都堵了", sender="res-zhang", room=S1)
    await log_in(web_client, chat, "lawyer-wang")
    listing = await (await web_client.get("/staff/tickets")).text()
    assert 'data-ticket="1"' not in listing and "王律师" in listing
    assert (await web_client.get("/staff/tickets/1")).status == 403
    stats = await (await web_client.get("/staff/stats?month=2026-11")).text()
    assert "受理</td><td data-label=\"数值\"><strong>0件" in stats
    assert "3幢1单元" not in await (await web_client.get("/staff/ledger")).text()
    assert S1 not in await (await web_client.get("/staff/notices")).text()
