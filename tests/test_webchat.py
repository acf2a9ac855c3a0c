"""The web chat's HTTP API and WebSocket, served by the real bot on a loopback port."""
from __future__ import annotations

import asyncio
import contextlib
import json
import logging

import aiohttp
import pytest

from bot.app import Stairwell
from bot.transports.webchat import WebChatTransport
from tests.conftest import eventually

PETITION = "3单元楼道里堆满了纸箱,消防通道都堵了"


@contextlib.asynccontextmanager
async def serve(config, db_url, clock):
    transport = WebChatTransport(host="127.0.0.1", port=0)
    app = Stairwell(config, transport, clock=clock, database_url=db_url)
    await app.start()
    base = f"http://127.0.0.1:{transport.bound_port}"
    try:
        async with aiohttp.ClientSession() as http:
            yield app, http, base
    finally:
        await app.stop()


@pytest.fixture
async def web(config, db_url, clock):
    async with serve(config, db_url, clock) as running:
        yield running


async def post(http, base, room, **body):
    async with http.post(f"{base}/api/rooms/{room}/messages", json=body) as resp:
        return resp.status, await resp.json()


async def test_rooms_are_listed(web):
    _, http, base = web
    async with http.get(f"{base}/api/rooms") as resp:
        rooms = await resp.json()
    assert {"id": "s3-1", "topic": "3幢1单元楼道群", "kind": "stairwell"} in rooms
    assert {r["topic"] for r in rooms} >= {"3幢2单元楼道群", "幸福里法润民生群"}


async def test_post_returns_every_reply_and_history_shows_them(web):
    app, http, base = web
    status, body = await post(http, base, "s3-1", sender_id="res-zhang", sender_name="张阿姨", text=PETITION, message_id="m1")
    assert status == 200 and body["message_id"] == "m1"
    in_room = [r for r in body["replies"] if r.get("room_id") == "s3-1"]
    private = [r for r in body["replies"] if "to" in r]
    assert len(in_room) == 1 and in_room[0]["mentions"] == ["res-zhang"]
    assert {r["to"] for r in private} >= {"officer-li", "leader-zhou"}
    await app.idle()
    async with http.get(f"{base}/api/rooms/s3-1/messages?limit=10") as resp:
        history = await resp.json()
    assert history[0]["sender_id"] == "res-zhang" and history[0]["text"] == PETITION
    assert history[-1]["sender_id"] == "bot" and "#1" in history[-1]["text"]
    # the same message id again is not handled twice
    status, again = await post(http, base, "s3-1", sender_id="res-zhang", sender_name="张阿姨", text=PETITION, message_id="m1")
    assert status == 200 and again["replies"] == []


async def test_websocket_pushes_the_bots_reply(web):
    app, http, base = web
    async with http.ws_connect(f"{base}/ws") as ws:
        await ws.send_str(json.dumps({"room": "s3-1", "person": "res-chen"}))
        await eventually(lambda: ("s3-1", "res-chen") in app.transport._socket_meta.values(), what="the page's choice")
        await post(http, base, "s3-1", sender_id="res-chen", sender_name="陈先生", text="2楼楼道里堆了好多杂物，把消防通道堵死了")
        seen = []
        while not any(m["from_bot"] for m in seen):
            seen.append(json.loads((await ws.receive(timeout=5)).data))
    assert seen[0]["sender_id"] == "res-chen" and not seen[0]["from_bot"]
    assert "编号" in seen[-1]["text"]


async def test_masked_text_in_history(web):
    app, http, base = web
    await post(http, base, "s3-1", sender_id="res-chen", sender_name="陈先生", text="我的电话是13900001111")
    async with http.get(f"{base}/api/rooms/s3-1/messages") as resp:
        history = await resp.json()
    assert history[0]["text"] == "我的电话是139****1111"


@pytest.mark.parametrize(
    "body, status, fragment",
    [
        ({"sender_id": "res-chen", "sender_name": "陈先生"}, 400, "text"),
        ({"sender_id": "", "sender_name": "陈先生", "text": "hi"}, 400, "sender_id"),
        ({"sender_id": "res-chen", "sender_name": "陈先生", "text": "长" * 4001}, 400, "4000"),
        ({"sender_id": 5, "sender_name": "陈先生", "text": "hi"}, 400, "sender_id"),
        ([1, 2], 400, "JSON object"),
    ],
)
async def test_bad_bodies_get_a_json_400(web, body, status, fragment):
    _, http, base = web
    async with http.post(f"{base}/api/rooms/s3-1/messages", json=body) as resp:
        assert resp.status == status
        assert fragment in (await resp.json())["error"]


async def test_invalid_json_and_unknown_room(web):
    _, http, base = web
    async with http.post(f"{base}/api/rooms/s3-1/messages", data=b"{not json", headers={"Content-Type": "application/json"}) as resp:
        assert resp.status == 400 and "error" in await resp.json()
    async with http.post(f"{base}/api/rooms/nope/messages", json={"sender_id": "a", "sender_name": "b", "text": "c"}) as resp:
        assert resp.status == 404 and "nope" in (await resp.json())["error"]
    async with http.get(f"{base}/api/rooms/nope/messages") as resp:
        assert resp.status == 404
    async with http.get(f"{base}/api/rooms/s3-1/messages?limit=abc") as resp:
        assert resp.status == 400
    async with http.get(f"{base}/no/such/page") as resp:
        assert resp.status == 404 and "error" in await resp.json()


async def test_emoji_and_zero_width_text_are_accepted(web):
    _, http, base = web
    status, body = await post(http, base, "s3-1", sender_id="web-x", sender_name="刘奶奶", text="🌹🌹\u200b👍")
    assert status == 200 and body["replies"] == []


async def test_page_is_served_in_chinese(web):
    _, http, base = web
    async with http.get(f"{base}/") as resp:
        html = await resp.text()
    assert resp.status == 200 and 'lang="zh-CN"' in html and "群聊" in html and "viewport" in html


# ---- hostile bodies (issue 11.10): a clear 400, never a 500 or a silent 200 ----------------------
GOOD = '"sender_id": "res-chen", "sender_name": "陈先生", "text": "楼道灯坏了"'


@pytest.mark.parametrize(
    "raw, fragment",
    [
        ("[" * 100_000 + "]" * 100_000, "nested"),
        ('{"x": ' + "[" * 50 + "]" * 50 + ", " + GOOD + "}", "nested"),
        ('{"x": ' + "9" * 100_000 + ", " + GOOD + "}", "number"),
        ('{"x": 1e' + "9" * 5000 + ", " + GOOD + "}", "number"),
        ('{"x": NaN, ' + GOOD + "}", "NaN"),
        ('{"sender_id": "res-chen", "sender_name": "陈先生", "text": "漏水了\\ud800"}', "surrogate"),
        ('{"sender_id": "res-\\udfff", "sender_name": "陈先生", "text": "漏水了"}', "surrogate"),
        ('{"\\ud83d": 1, ' + GOOD + "}", "surrogate"),
        ('{"extra": {"deep": ["\\ud800"]}, ' + GOOD + "}", "surrogate"),
        ('{"mentions_bot": "yes", ' + GOOD + "}", "mentions_bot"),
        ('{"mentions_bot": 1, ' + GOOD + "}", "mentions_bot"),
        ('{"mentions_bot": null, ' + GOOD + "}", "mentions_bot"),
        ('{"message_id": 12, ' + GOOD + "}", "message_id"),
        # NUL: PostgreSQL's text cannot hold it (an id with one was a 500 there)
        ('{"message_id": "m\\u00001", ' + GOOD + "}", "NUL"),
        ('{"sender_id": "res-\\u0000chen", "sender_name": "陈先生", "text": "漏水了"}', "NUL"),
    ],
)
async def test_hostile_json_is_a_400_and_nothing_is_stored(web, raw, fragment):
    app, http, base = web
    async with http.post(f"{base}/api/rooms/s3-1/messages", data=raw.encode(),
                         headers={"Content-Type": "application/json"}) as resp:
        assert resp.status == 400, await resp.text()
        assert fragment in (await resp.json())["error"]
    async with http.get(f"{base}/api/rooms/s3-1/messages") as resp:
        assert await resp.json() == []


async def test_invalid_utf8_is_a_400(web):
    _, http, base = web
    raw = ('{' + GOOD + ', "x": "').encode() + b"\xed\xa0\x80\xff" + b'"}'
    async with http.post(f"{base}/api/rooms/s3-1/messages", data=raw,
                         headers={"Content-Type": "application/json"}) as resp:
        assert resp.status == 400 and "UTF-8" in (await resp.json())["error"]


async def test_mentions_bot_as_a_boolean_is_accepted(web):
    _, http, base = web
    status, body = await post(http, base, "s3-1", sender_id="res-chen", sender_name="陈先生",
                              text="你好", mentions_bot=True)
    assert status == 200 and body["handled"]["route"]


# ---- message ids (issue 11.15) ----------------------------------------------------------------
async def test_a_message_id_from_another_room_is_a_409(web):
    app, http, base = web
    status, _ = await post(http, base, "s3-1", sender_id="res-zhang", sender_name="张阿姨", text=PETITION, message_id="m7")
    assert status == 200
    status, body = await post(http, base, "s3-2", sender_id="res-chen", sender_name="陈先生",
                              text="2楼楼道里堆了好多杂物", message_id="m7")
    assert status == 409 and "another room" in body["error"], body
    # the same id again in the same room stays a quiet duplicate
    status, again = await post(http, base, "s3-1", sender_id="res-zhang", sender_name="张阿姨", text=PETITION, message_id="m7")
    assert status == 200 and again["replies"] == [] and again["handled"]["route"] == "duplicate"
    await app.idle()
    async with http.get(f"{base}/api/rooms/s3-2/messages") as resp:
        assert [m for m in await resp.json() if not m["from_bot"]] == []


async def test_a_message_id_used_by_another_sender_or_the_bot_is_a_409(web):
    """Only a redelivery (same room, same sender) is a quiet duplicate: a neighbour's id, or one
    in the bot's own 'out:' space, would otherwise drop the message unseen or claim a notice's id."""
    app, http, base = web
    status, _ = await post(http, base, "s3-1", sender_id="res-zhang", sender_name="张阿姨", text="你好", message_id="m8")
    assert status == 200
    status, body = await post(http, base, "s3-1", sender_id="res-chen", sender_name="陈先生", text=PETITION, message_id="m8")
    assert status == 409 and "another sender" in body["error"], body
    status, body = await post(http, base, "s3-1", sender_id="res-chen", sender_name="陈先生", text="哈哈",
                              message_id="out:notice:1:s3-1")
    assert status == 409, body
    status, body = await post(http, base, "s3-1", sender_id="res-chen", sender_name="陈先生", text=PETITION, message_id="m9")
    assert status == 200 and body["handled"]["ticket"] == 1  # his message, under an id of its own
    await app.idle()
    async with http.get(f"{base}/api/rooms/s3-1/messages") as resp:
        assert [m["text"] for m in await resp.json() if not m["from_bot"]] == ["你好", PETITION]


# ---- a busy database (issue 11.11): 503, never 200 with nothing stored ------------------------------
@pytest.fixture
async def busy_web(config, clock, tmp_path, monkeypatch):
    """SQLite's file lock, which another process can hold (PostgreSQL has no database-wide lock)."""
    import sqlite3

    import storage.db

    monkeypatch.setattr(storage.db, "BUSY_TIMEOUT_SECONDS", 0.8)
    path = tmp_path / "busy.db"
    async with serve(config, f"sqlite:///{path}", clock) as (app, http, base):
        yield app, http, base, lambda: sqlite3.connect(path, isolation_level=None)


def busy_retries(caplog) -> int:
    """How often a write has met the lock and waited to try again (storage.db.retry_busy)."""
    return caplog.text.count("database busy; retrying")


async def test_a_busy_database_is_a_503_and_the_loop_keeps_serving(busy_web, caplog):
    caplog.set_level(logging.INFO, logger="storage.db")
    app, http, base, connect = busy_web
    other = connect()
    other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    try:
        sending = asyncio.create_task(post(http, base, "s3-1", sender_id="res-zhang", sender_name="张阿姨",
                                           text=PETITION, message_id="busy-1"))
        await eventually(lambda: busy_retries(caplog), what="the write to meet the lock")
        async with http.get(f"{base}/api/rooms/s3-1/messages") as resp:  # reads do not wait (WAL)
            assert resp.status == 200 and await resp.json() == []
        assert not sending.done()  # the loop served the read while the write waited to retry
        status, body = await sending
        assert status == 503 and "retry" in body["error"], body
        assert busy_retries(caplog) >= 3  # retried through the busy budget before giving up
    finally:
        other.execute("ROLLBACK")
        other.close()
    # the sender's retry is stored and handled once
    status, body = await post(http, base, "s3-1", sender_id="res-zhang", sender_name="张阿姨",
                              text=PETITION, message_id="busy-1")
    assert status == 200 and body["handled"]["ticket"] == 1


async def test_a_lock_released_within_the_budget_costs_only_a_wait(busy_web, caplog):
    caplog.set_level(logging.INFO, logger="storage.db")
    app, http, base, connect = busy_web
    other = connect()
    other.execute("BEGIN IMMEDIATE")
    sending = asyncio.create_task(post(http, base, "s3-1", sender_id="res-zhang", sender_name="张阿姨",
                                       text=PETITION, message_id="busy-2"))
    await eventually(lambda: busy_retries(caplog), what="the write to meet the lock")
    other.execute("ROLLBACK")
    other.close()
    status, body = await sending
    assert status == 200 and body["handled"]["ticket"] == 1


async def test_a_private_chat_with_the_bot_gives_staff_their_console_link(web):
    """The demo's private chat: /登录 there answers with a one-time console link to the caller
    alone; the same command in a group is pointed to the private chat."""
    _, http, base = web
    async with http.post(f"{base}/api/private/messages",
                         json={"sender_id": "officer-li", "sender_name": "李敏", "text": "/登录"}) as resp:
        assert resp.status == 200
        body = await resp.json()
    assert [r["to"] for r in body["replies"]] == ["officer-li"]
    assert "/staff/login/" in body["replies"][0]["text"]
    _, in_group = await post(http, base, "s3-1", sender_id="officer-li", sender_name="李敏", text="/登录")
    assert "/staff/login/" not in json.dumps(in_group, ensure_ascii=False)
    async with http.post(f"{base}/api/private/messages", json={"sender_id": "officer-li", "text": "/登录"}) as resp:
        assert resp.status == 400 and "sender_name" in (await resp.json())["error"]
