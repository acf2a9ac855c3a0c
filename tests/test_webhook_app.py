"""The whole bot behind the wechatbot-webhook bridge: multipart in, /webhook/msg/v2 out (loopback fakes)."""
from __future__ import annotations

import pytest
from sqlmodel import Session, select

from bot.app import Stairwell
from bot.clock import Clock
from bot.transports.webhook import WebhookTransport
from storage.models import OutboxItem
from tests.conftest import eventually
from tests.test_webhook_transport import SECRET, TOKEN, TOPIC, FakeBridge

PETITION = "3单元楼道里堆满了纸箱,消防通道都堵了"


@pytest.fixture
async def bot_behind_bridge(config, db_url):
    people = [
        p.model_copy(update={"aliases": [f"wx:{p.name}"]}) if p.id in ("officer-li", "leader-zhou", "grid-zhao") else p
        for p in config.people
    ]
    cfg = config.model_copy(update={"people": people})
    bridge = FakeBridge()
    bridge.people |= {"李敏", "周建国", "赵磊"}
    await bridge.start()
    transport = WebhookTransport(secret=SECRET, bridge_url=bridge.url, token=TOKEN, port=0)
    # The real clock: the bridge keeps WeChat's per-group interval, which a frozen clock never passes.
    app = Stairwell(cfg, transport, clock=Clock(), database_url=db_url, run_scheduler=False)
    await app.start()
    yield app, transport, bridge
    await app.stop()
    await bridge.stop()


async def deliver(transport, text: str, sender: str, *, mentioned: bool = False) -> dict:
    import json

    import aiohttp

    form = aiohttp.FormData()
    form.add_field("type", "text")
    form.add_field("content", text)
    form.add_field("source", json.dumps({"room": {"id": "@@x", "payload": {"topic": TOPIC}},
                                         "from": {"id": "@y", "payload": {"name": sender}}}, ensure_ascii=False))
    form.add_field("isMentioned", "1" if mentioned else "0")
    form.add_field("isMsgFromSelf", "0")
    async with aiohttp.ClientSession() as http:
        url = f"http://127.0.0.1:{transport.port}/webhook/recv"
        async with http.post(url, data=form, params={"secret": SECRET}) as resp:
            assert resp.status == 200
            return await resp.json()


async def wait_posts(bridge, n: int) -> list[dict]:
    return await eventually(lambda: len(bridge.posts) >= n and bridge.posts, what=f"{n} posts to the bridge",
                            details=lambda: bridge.posts)


def queued(app) -> list[OutboxItem]:
    """All the bot has queued: what the bridge got, and what still waits for WeChat's group interval.

    The bridge answers a delivery only after the bot's decision, whose replies are queued in the
    same transaction: after the answer, this is complete for that message."""
    with Session(app.engine) as session:
        return list(session.exec(select(OutboxItem)).all())


async def test_petition_through_the_bridge_gets_one_reply_and_staff_notes(bot_behind_bridge):
    app, transport, bridge = bot_behind_bridge
    assert await deliver(transport, PETITION, "张阿姨") == {"success": False}  # never a bridge auto-reply
    await app.idle()
    posts = await wait_posts(bridge, 3)
    in_room = [p for p in posts if p["isRoom"]]
    private = {p["to"] for p in posts if not p["isRoom"]}
    assert len(in_room) == 1 and in_room[0]["to"] == TOPIC
    assert in_room[0]["data"]["content"].startswith("@张阿姨 ") and "编号 #1" in in_room[0]["data"]["content"]
    assert private == {"李敏", "周建国"}  # the stairwell's officer and leader, by their WeChat names
    # chatter and a redelivery of the same message get nothing
    before, rows_before = len(bridge.posts), len(queued(app))
    assert await deliver(transport, "谢谢楼道长", "陈先生") == {"success": False}
    assert await deliver(transport, PETITION, "张阿姨") == {"success": False}
    await app.idle()
    assert len(queued(app)) == rows_before and len(bridge.posts) == before


async def test_staff_commands_work_through_the_bridge_by_linked_name(bot_behind_bridge):
    app, transport, bridge = bot_behind_bridge
    await deliver(transport, "/通知 本楼 明天上午停水", "李敏")
    await app.idle()
    posts = await wait_posts(bridge, 1)
    assert any(p["isRoom"] and p["data"]["content"].startswith("【通知】明天上午停水") for p in posts)
    assert await deliver(transport, "/通知 本楼 冒充的通知", "陈先生") == {"success": False}
    await app.idle()
    assert not any("冒充的通知" in row.text and row.text.startswith("【通知】") for row in queued(app))
    assert not any("冒充的通知" in p["data"]["content"] and p["data"]["content"].startswith("【通知】") for p in bridge.posts)


async def test_linking_staff_by_name_is_refused_on_the_bridge(bot_behind_bridge):
    app, transport, bridge = bot_behind_bridge
    await deliver(transport, "/关联 @陈先生 officer-li", "赵磊")
    await deliver(transport, "/授权 @陈先生 信息员", "赵磊")
    await app.idle()
    await wait_posts(bridge, 3)  # each answer privately, and once a short line in the group
    assert len([row for row in queued(app) if row.room_id is not None]) == 1  # nothing more waits for the group
    assert len([p for p in bridge.posts if "只认昵称" in p["data"]["content"] and not p["isRoom"]]) == 2
    assert [p["data"]["content"] for p in bridge.posts if p["isRoom"]] == ["@赵磊 已私信您。"]


async def post_text(transport, text: str, sender: str, *, topic: str = TOPIC, msg_id: str | None = None) -> tuple[int, dict]:
    import json

    import aiohttp

    form = aiohttp.FormData()
    for name, value in {"type": "text", "content": text, "isMentioned": "0", "isMsgFromSelf": "0",
                        **({"id": msg_id} if msg_id else {}),
                        "source": json.dumps({"room": {"id": "@@x", "payload": {"topic": topic}},
                                              "from": {"id": "@y", "payload": {"name": sender}}},
                                             ensure_ascii=False)}.items():
        form.add_field(name, value)
    async with aiohttp.ClientSession() as http:
        url = f"http://127.0.0.1:{transport.port}/webhook/recv"
        async with http.post(url, data=form, params={"secret": SECRET}) as resp:
            return resp.status, await resp.json()


async def test_a_bridge_id_reused_in_another_room_is_a_409(bot_behind_bridge):
    """Issue 11.15: the same id from another room is not a redelivery."""
    app, transport, bridge = bot_behind_bridge
    assert (await post_text(transport, PETITION, "张阿姨", msg_id="bridge-1"))[0] == 200
    status, answer = await post_text(transport, "2楼楼道灯坏了", "陈先生", topic="3幢2单元楼道群", msg_id="bridge-1")
    assert status == 409 and answer["success"] is False and "another room" in answer["error"]
    status, answer = await post_text(transport, PETITION, "张阿姨", msg_id="bridge-1")  # a real redelivery
    assert (status, answer) == (200, {"success": False})


@pytest.fixture
async def busy_bridge(config, tmp_path, monkeypatch):
    """The bot on SQLite (its file lock is what another process can hold), behind the bridge."""
    import storage.db

    monkeypatch.setattr(storage.db, "BUSY_TIMEOUT_SECONDS", 0.5)
    bridge = FakeBridge()
    await bridge.start()
    transport = WebhookTransport(secret=SECRET, bridge_url=bridge.url, token=TOKEN, port=0)
    path = tmp_path / "busy.db"
    app = Stairwell(config, transport, clock=Clock(), database_url=f"sqlite:///{path}", run_scheduler=False)
    await app.start()
    yield app, transport, path
    await app.stop()
    await bridge.stop()


async def test_a_busy_database_is_a_503_and_the_redelivery_is_stored(busy_bridge):
    """Issue 11.11: never 200 with nothing stored."""
    import sqlite3

    from sqlmodel import Session, select

    from storage.models import Ticket

    app, transport, path = busy_bridge
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    try:
        status, answer = await post_text(transport, PETITION, "张阿姨", msg_id="b-1")
        assert status == 503 and answer["success"] is False and "retry" in answer["error"]
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert (await post_text(transport, PETITION, "张阿姨", msg_id="b-1"))[0] == 200
    with Session(app.engine) as session:
        assert len(session.exec(select(Ticket)).all()) == 1
