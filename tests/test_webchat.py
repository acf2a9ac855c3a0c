"""The web chat's HTTP API and WebSocket, served by the real bot on a loopback port."""
from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest

from bot.app import Stairwell
from bot.transports.webchat import WebChatTransport

PETITION = "3单元楼道里堆满了纸箱,消防通道都堵了"


@pytest.fixture
async def web(config, db_url, clock):
    transport = WebChatTransport(host="127.0.0.1", port=0)
    app = Stairwell(config, transport, clock=clock, database_url=db_url)
    await app.start()
    base = f"http://127.0.0.1:{transport.bound_port}"
    async with aiohttp.ClientSession() as http:
        yield app, http, base
    await app.stop()


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
        await asyncio.sleep(0.05)
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
