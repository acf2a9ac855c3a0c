"""The staff console (员工后台) over HTTP on a loopback port, with the bot on the memory transport."""
from __future__ import annotations

import io
from datetime import timedelta
import re

import aiohttp
import pytest
from sqlmodel import Session, select

from bot.console import passwords
from storage import console as logins
from storage.models import AuditEntry, Message, OutboxItem, Ticket, TicketEvent
from tests.conftest import S1, S2

PETITION = "3单元楼道里堆满了纸箱,消防通道都堵了"
LAMP = "5楼楼道灯坏了好几天了，晚上黑乎乎的"
LOOPBACK = ("127.0.0.1", 0)


@pytest.fixture
async def console(make_chat):
    chat = await make_chat(web_address=LOOPBACK)
    return chat, f"http://127.0.0.1:{chat.app.web_port}"


def client() -> aiohttp.ClientSession:
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))  # cookies for 127.0.0.1 too


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


async def link_for(chat, person: str) -> str:
    """The path of the login link /登录 sends ``person`` privately."""
    replies = await chat.say("/登录", sender=person, room=None)
    found = re.search(r"https?://[^/\s]+(/staff/login/\S+)", chat.texts(replies))
    assert found, chat.texts(replies)
    return found.group(1)


async def use_link(http, base: str, path: str) -> aiohttp.ClientResponse:
    async with http.get(base + path) as page:
        token = csrf_of(await page.text())
    async with http.post(base + path, data={"csrf": token}) as resp:
        await resp.read()
        return resp


async def logged_in(chat, base: str, person: str) -> aiohttp.ClientSession:
    http = client()
    resp = await use_link(http, base, await link_for(chat, person))
    assert resp.status == 200 and resp.url.path == "/staff/tickets"
    return http


def db(chat) -> Session:
    return Session(chat.app.engine)


async def test_a_login_link_works_once_for_its_own_person(console):
    chat, base = console
    path = await link_for(chat, "officer-li")
    async with client() as http:
        resp = await use_link(http, base, path)
        assert resp.status == 200 and resp.url.path == "/staff/tickets"
        async with http.get(f"{base}/staff/tickets") as page:
            assert "李敏" in await page.text()  # logged in as the link's person
    async with client() as other:  # the same link again, from anyone: refused
        resp = await use_link(other, base, path)
        assert resp.status == 403
        async with other.get(f"{base}/staff/tickets", allow_redirects=False) as page:
            assert page.status == 302 and page.headers["Location"].startswith("/staff/login")
    with db(chat) as session:  # stored hashed: the token itself is nowhere in the table
        stored = [t.token_hash for t in session.exec(select(logins.ConsoleToken)).all()]
    token = path.rsplit("/", 1)[1]
    assert stored == [logins.token_hash(token)] and token not in stored


async def test_the_stored_copies_of_a_login_link_hold_no_token(console, monkeypatch):
    """The outbox row and the message log keep the text without the token; only the message sent
    has it. A real text lost before sending (a restart) sends the stored one: ask again."""
    chat, base = console
    path = await link_for(chat, "officer-li")
    await chat.app.idle()
    token = path.rsplit("/", 1)[1]
    sent = [m.text for m in chat.sent if m.to == "officer-li"]
    assert len(sent) == 1 and token in sent[0]
    with db(chat) as session:
        rows = [r.text for r in session.exec(select(OutboxItem).where(OutboxItem.to == "officer-li")).all()]
        logged = [m.text for m in session.exec(select(Message).where(Message.from_bot == True)).all()]  # noqa: E712
    assert len(rows) == 1 and "/登录" in rows[0] and "/staff/login/" not in rows[0]
    assert logged == rows and len(chat.app.services.sealed) == 0  # sent: nothing left in memory
    async with client() as http:
        assert (await use_link(http, base, path)).status == 200  # the link sent works

    monkeypatch.setattr(chat.app.services.sealed, "put", lambda key, text: None)  # lost, as in a restart
    await chat.say("/登录", sender="officer-li", room=None)
    await chat.app.idle()
    last = [m.text for m in chat.sent if m.to == "officer-li"][-1]
    assert "/staff/login/" not in last and "请重新发送 /登录" in last


async def test_an_expired_link_is_refused(console):
    chat, base = console
    path = await link_for(chat, "leader-zhou")
    chat.app.clock.advance(minutes=11)
    async with client() as http:
        assert (await use_link(http, base, path)).status == 403


async def test_login_is_only_for_staff_and_only_in_a_private_chat(console):
    chat, base = console
    in_group = chat.texts(await chat.say("/登录", sender="officer-li", room=S1))
    assert "私聊" in in_group and "/staff/login/" not in in_group
    resident = chat.texts(await chat.say("/登录", sender="res-zhang", room=None))
    assert "/staff/login/" not in resident and "仅限" in resident
    with db(chat) as session:
        assert session.exec(select(logins.ConsoleToken)).all() == []


async def test_password_login_wrong_password_and_the_rate_limit(console):
    chat, base = console
    with db(chat) as session:
        logins.set_password_hash(session, "grid-zhao", passwords.hash_password("correct horse 9"), chat.app.clock.now())
        session.commit()
    async with client() as http:
        async def attempt(password: str) -> aiohttp.ClientResponse:
            async with http.get(f"{base}/staff/login") as page:
                token = csrf_of(await page.text())
            form = {"csrf": token, "person": "grid-zhao", "password": password, "next": "/staff/tickets"}
            async with http.post(f"{base}/staff/login", data=form, allow_redirects=False) as resp:
                await resp.read()
                return resp

        wrong = await attempt("wrong password")
        assert wrong.status == 403
        right = await attempt("correct horse 9")
        assert right.status == 303 and right.headers["Location"] == "/staff/tickets"
    async with client() as http:  # 5 failures from one address in 10 minutes (one above): then 429
        for _ in range(4):
            assert (await attempt("guess guess")).status == 403
        limited = await attempt("correct horse 9")  # even the right password waits now
        assert limited.status == 429
    # counted in the database (another process of the bot, or this one restarted, sees the same)
    with db(chat) as session:
        since = chat.app.clock.now() - timedelta(minutes=10)
        assert logins.failed_logins(session, "ip:127.0.0.1", since) == 5
        assert logins.failed_logins(session, "person:grid-zhao", since) == 4  # the right password cleared it
    chat.app.clock.advance(minutes=11)
    async with client() as http:  # ten minutes on, the address may try again
        assert (await attempt("correct horse 9")).status == 303
    with db(chat) as session:  # the nightly purge forgets keys quiet for a day
        chat.app.clock.advance(days=2)
        assert logins.forget_failed_logins(session, chat.app.clock.now() - timedelta(days=1)) == 1  # the address
        session.commit()
        assert logins.failed_logins(session, "ip:127.0.0.1", since) == 0


async def test_a_form_without_its_csrf_token_is_refused_and_logout_ends_the_session(console):
    chat, base = console
    await chat.say(PETITION, sender="res-zhang")
    http = await logged_in(chat, base, "officer-li")
    async with http:
        async with http.post(f"{base}/staff/tickets/1/progress", data={"note": "已联系物业"}) as resp:
            assert resp.status == 403
        async with http.post(f"{base}/staff/logout", data={"csrf": "forged"}) as resp:
            assert resp.status == 403
        with db(chat) as session:
            assert session.get(Ticket, 1).status == "已受理"  # nothing happened
        async with http.get(f"{base}/staff/tickets") as page:
            token = csrf_of(await page.text())
        async with http.post(f"{base}/staff/logout", data={"csrf": token}) as resp:
            assert resp.url.path == "/staff/login"
        async with http.get(f"{base}/staff/tickets", allow_redirects=False) as resp:
            assert resp.status == 302


async def test_scope_an_officer_sees_her_stairwell_only(console):
    chat, base = console
    await chat.say(PETITION, sender="res-zhang", room=S1)  # #1 in 3幢1单元
    await chat.say(LAMP, sender="res-wu", room=S2)  # #2 in 3幢2单元
    async with await logged_in(chat, base, "officer-li") as http:
        async with http.get(f"{base}/staff/tickets") as page:
            html = await page.text()
        assert 'data-ticket="1"' in html and 'data-ticket="2"' not in html
        async with http.get(f"{base}/staff/tickets/2") as resp:
            assert resp.status == 403
        async with http.post(f"{base}/staff/tickets/2/progress", data={"csrf": csrf_of(html), "note": "x"}) as resp:
            assert resp.status == 403
    async with await logged_in(chat, base, "grid-zhao") as http:  # the grid worker (and admin): both
        async with http.get(f"{base}/staff/tickets") as page:
            html = await page.text()
        assert 'data-ticket="1"' in html and 'data-ticket="2"' in html


async def test_progress_from_the_console_reaches_the_group_like_the_chat_command(console):
    chat, base = console
    await chat.say(PETITION, sender="res-zhang", room=S1)  # #1
    await chat.say(LAMP, sender="res-chen", room=S1)  # #2
    async with await logged_in(chat, base, "officer-li") as http:
        before = len(chat.sent)  # after the login link
        async with http.get(f"{base}/staff/tickets/1") as page:
            html = await page.text()
            nonce = re.search(r'name="nonce" value="([^"]+-p)"', html).group(1)
        form = {"csrf": csrf_of(html), "note": "已联系物业，明天清理", "nonce": nonce}
        async with http.post(f"{base}/staff/tickets/1/progress", data=form) as resp:
            page = await resp.text()
        assert resp.url.path == "/staff/tickets/1" and "进展已记录" in page
        async with http.post(f"{base}/staff/tickets/1/progress", data=form) as resp:  # sent twice: once
            assert resp.status == 200
    await chat.app.idle()
    from_console = chat.sent[before:]
    await chat.say("/处理 2 已联系物业，明天清理", sender="officer-li", room=None)
    from_chat = chat.sent[before + len(from_console):]

    def shape(sent):  # who got what, with the ticket's own number, category and reporter left out
        return [(m.room_id, m.to, re.sub(r"@\S+ |#\d+（[^）]*）", "", m.text)) for m in sent if m.to != "officer-li"]

    assert [m.text for m in from_console if m.room_id] == ["@张阿姨 您反映的问题 #1（消防安全隐患）有新进展：已联系物业，明天清理"]
    assert shape(from_console) == shape(from_chat)
    assert not any(m.to == "officer-li" for m in from_console)  # her answer was on the page, not in WeChat
    assert any(m.to == "officer-li" for m in from_chat)
    with db(chat) as session:
        assert session.get(Ticket, 1).status == "处理中"
        events = session.exec(select(TicketEvent).where(TicketEvent.ticket_id == 1)).all()
        assert [e.action for e in events].count("处理") == 1


@pytest.mark.parametrize("action, form, typed", [
    ("assign", {"person": "leader-zhou"}, "/派单 {n} @周建国"),
    ("resolve", {"note": "纸箱已清走"}, "/办结 {n} 纸箱已清走"),
    ("postpone", {"span": "3天", "note": "等物业排期"}, "/延期 {n} 3天 等物业排期"),
])
async def test_assign_resolve_postpone_from_the_console_reach_people_as_the_chat_command(console, action, form, typed):
    """派单, 办结 and 延期 from the ticket page: the group, the reporter and the assignee get what
    the same command typed in chat gives them (ticket #1 from the console, #2 from chat)."""
    chat, base = console
    await chat.say(PETITION, sender="res-zhang", room=S1)  # #1
    await chat.say(LAMP, sender="res-chen", room=S1)  # #2
    with db(chat) as session:
        due = {n: session.get(Ticket, n).due_at for n in (1, 2)}
    async with await logged_in(chat, base, "officer-li") as http:
        await chat.app.idle()
        before = len(chat.sent)
        async with http.get(f"{base}/staff/tickets/1") as page:
            html = await page.text()
        async with http.post(f"{base}/staff/tickets/1/{action}", data={"csrf": csrf_of(html), **form}) as resp:
            shown = await resp.text()
        assert resp.status == 200 and resp.url.path == "/staff/tickets/1" and 'id="flash"' in shown
    await chat.app.idle()
    from_console = chat.sent[before:]
    await chat.say(typed.format(n=2), sender="officer-li", room=None)
    await chat.app.idle()
    from_chat = chat.sent[before + len(from_console):]

    with db(chat) as session:
        categories = {n: session.get(Ticket, n).category for n in (1, 2)}

    def shape(sent, n):  # who got what, with ticket n's own number, category, text and due time left out
        def plain(text):
            text = re.sub(r"(内容|截止)：[^\n]*", r"\1：…", text.replace(categories[n], "类别"))
            text = re.sub(r"\d+月\d+日\d+:\d+", "某时", text)
            return re.sub(rf"#{n}\b|(?<= ){n}(?= )|@\S+ ", "", text)
        return [(m.room_id, m.to, plain(m.text)) for m in sent if m.to != "officer-li"]

    assert from_console and shape(from_console, 1) == shape(from_chat, 2)
    assert not any(m.to == "officer-li" for m in from_console)  # her answer was on the page
    with db(chat) as session:
        one, two = session.get(Ticket, 1), session.get(Ticket, 2)
        assert (one.status, one.assignee_id) == (two.status, two.assignee_id)
        assert one.status == {"assign": "已分派", "resolve": "已办结", "postpone": "已受理"}[action]
        assert one.due_at - due[1] == two.due_at - due[2]  # 延期: the same days more for both; else none
        assert (one.due_at > due[1]) == (action == "postpone")


async def test_opening_a_ticket_is_audited_like_a_chat_read(console):
    chat, base = console
    await chat.say(PETITION, sender="res-zhang", room=S1)
    async with await logged_in(chat, base, "officer-li") as http:
        async with http.get(f"{base}/staff/tickets/1") as page:
            assert "消防通道" in await page.text()
    with db(chat) as session:
        reads = session.exec(select(AuditEntry).where(AuditEntry.action == "查看工单")).all()
    assert [(a.actor_id, a.subject) for a in reads] == [("officer-li", "#1")]


async def test_a_resident_session_gets_403(console):
    chat, base = console
    await chat.say("大家好", sender="res-zhang", room=S1)  # known to the database, no grants
    async with client() as http:
        async with http.get(f"{base}/staff/login") as page:
            token = csrf_of(await page.text())
        with db(chat) as session:  # a password set for a resident by hand (the CLI refuses it)
            logins.set_password_hash(session, "res-zhang", passwords.hash_password("resident pw 1"), chat.app.clock.now())
            session.commit()
        form = {"csrf": token, "person": "res-zhang", "password": "resident pw 1"}
        async with http.post(f"{base}/staff/login", data=form) as resp:
            assert resp.status == 403 and "仅限工作人员" in await resp.text()


async def test_demo_chat_off_the_web_chat_api_is_gone_and_the_console_stays(make_chat, config, db_url, clock):
    from bot.app import Stairwell
    from bot.transports.webchat import WebChatTransport

    quiet = config.model_copy(update={"web": config.web.model_copy(update={"demo_chat": False})})
    transport = WebChatTransport(host="127.0.0.1", port=0)
    app = Stairwell(quiet, transport, clock=clock, database_url=db_url, run_scheduler=False)
    await app.start()
    base = f"http://127.0.0.1:{app.web_port}"
    try:
        async with client() as http:
            async with http.get(f"{base}/api/rooms") as resp:
                assert resp.status == 404
            async with http.post(f"{base}/api/rooms/s3-1/messages", json={"sender_id": "a", "sender_name": "b", "text": "c"}) as resp:
                assert resp.status == 404
            async with http.get(f"{base}/", allow_redirects=False) as resp:
                assert resp.status == 302 and resp.headers["Location"] == "/staff/"
            async with http.get(f"{base}/staff/login") as resp:
                assert resp.status == 200 and "登录员工后台" in await resp.text()
    finally:
        await app.stop()


@pytest.mark.parametrize(
    "person, typed, code, says",
    [
        ("nobody-here", "long enough 1\nlong enough 1\n", 1, "unknown person"),
        ("res-zhang", "long enough 1\nlong enough 1\n", 1, "not staff"),
        ("grid-zhao", "long enough 1\nlong enough 2\n", 1, "differ"),
        ("grid-zhao", "short\nshort\n", 1, "at least"),
        ("grid-zhao", "long enough 1\nlong enough 1\n", 0, "password set"),
    ],
)
def test_set_password_cli(person, typed, code, says, tmp_path, monkeypatch, capsys):
    from bot.cli import main

    url = f"sqlite:///{tmp_path / 'pw.db'}"
    monkeypatch.setenv("STAIRWELL_DATABASE_URL", url)
    monkeypatch.setattr("sys.stdin", io.StringIO(typed))
    assert main(["staff", "set-password", person]) == code
    out = capsys.readouterr()
    assert says in (out.out + out.err) and len((out.err or out.out).strip().splitlines()) == 1
    if code == 0:
        from storage.db import create_db_engine

        engine = create_db_engine(url)
        with Session(engine) as session:
            assert passwords.verify(logins.password_hash(session, person), "long enough 1")
        engine.dispose()
