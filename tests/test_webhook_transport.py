"""WebhookTransport against a loopback fake of wechatbot-webhook (aiohttp, 127.0.0.1)."""
from __future__ import annotations

import json

import aiohttp
import pytest
from aiohttp import web

from bot.events import Connected, Disconnected, Incoming, Outgoing
from bot.transports.base import TransportError
from bot.transports.webhook import WebhookConfigError, WebhookTransport, create, message_key
from tests.conftest import eventually

SECRET = "s3cret"
TOKEN = "bridge-token"
TOPIC = "3幢1单元楼道群"


class FakeBridge:
    """The documented behaviour of POST /webhook/msg/v2 and GET /healthz."""

    def __init__(self) -> None:
        self.logged_in = True
        self.rooms = {TOPIC}
        self.people = {"张阿姨"}
        self.posts: list[dict] = []
        self.fail_next = 0
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/webhook/msg/v2", self._msg)
        app.router.add_get("/healthz", self._health)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"

    async def stop(self) -> None:
        await self._runner.cleanup()

    async def _msg(self, request: web.Request) -> web.Response:
        if request.query.get("token") != TOKEN:
            return web.json_response({"success": False, "message":
                                      "Unauthorized: Access is denied due to invalid credentials."},
                                     status=401)
        if not self.logged_in:
            return web.json_response({"success": False, "message":
                                      "you must login first before sending messages"}, status=401)
        if self.fail_next:
            self.fail_next -= 1
            return web.json_response({"success": False, "message": "internal"}, status=500)
        body = await request.json()
        self.posts.append(body)
        known = self.rooms if body.get("isRoom") else self.people
        if body.get("to") not in known:
            return web.json_response({"success": False, "message": "部分或全部消息发送失败", "task": {
                "successCount": 0, "failedCount": 1, "totalCount": 1,
                "notFound": [{"to": body.get("to"), "isRoom": body.get("isRoom")}]}})
        return web.json_response({"success": True, "message": "Message sent successfully",
                                  "task": {"successCount": 1, "failedCount": 0, "totalCount": 1,
                                           "notFound": []}})

    async def _health(self, request: web.Request) -> web.Response:
        if request.query.get("token") != TOKEN:
            return web.Response(status=401, text="unauthorized")
        return web.Response(text="healthy" if self.logged_in else "unHealthy")


class Recorder:
    def __init__(self) -> None:
        self.events: list = []

    async def __call__(self, event) -> None:
        self.events.append(event)

    async def wait(self, n: int, timeout: float = 3.0) -> list:
        await eventually(lambda: len(self.events) >= n, timeout=timeout, what=f"{n} events",
                         details=lambda: self.events)
        return self.events


PROBE = "探针"


async def assert_no_more_events(rec: Recorder, deliver, count: int) -> None:
    """The core got ``count`` events and nothing else: a probe delivered now is the next one (the
    transport hands events over in arrival order), so no earlier delivery is still on its way."""
    assert (await deliver("text", PROBE, room=None))[0] == 200
    events = await rec.wait(count + 1)
    assert len(events) == count + 1 and getattr(events[-1], "text", None) == PROBE, events


@pytest.fixture
async def env():
    bridge = FakeBridge()
    await bridge.start()
    transport = WebhookTransport(secret=SECRET, bridge_url=bridge.url, token=TOKEN, port=0,
                                 clock=lambda: 1_700_000_000.0)
    rec = Recorder()
    await transport.start(rec)
    session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5))
    recv = f"http://127.0.0.1:{transport.port}/webhook/recv"

    async def deliver(kind: str, content: str = "", *, room: str | None = TOPIC,
                      sender: str = "张阿姨", mentioned: bool = False, self_: bool = False,
                      secret: str | None = SECRET):
        form = aiohttp.FormData()
        form.add_field("type", kind)
        form.add_field("content", content)
        source = {"room": {"id": "@@abc", "payload": {"topic": room}} if room else "",
                  "from": {"id": "@def", "payload": {"name": sender, "alias": ""}},
                  "to": {"id": "@bot", "payload": {"name": "楼道通"}}}
        form.add_field("source", json.dumps(source, ensure_ascii=False))
        form.add_field("isMentioned", "1" if mentioned else "0")
        form.add_field("isMsgFromSelf", "1" if self_ else "0")
        params = {} if secret is None else {"secret": secret}
        async with session.post(recv, data=form, params=params) as resp:
            return resp.status, await resp.json()

    yield transport, rec, bridge, deliver
    await session.close()
    await transport.stop()
    await bridge.stop()


async def test_inbound_room_message_is_keyed_by_topic_and_name(env):
    transport, rec, bridge, deliver = env
    status, answer = await deliver("text", "3单元楼道里堆满了纸箱,消防通道都堵了", mentioned=True)
    assert (status, answer) == (200, {"success": False})
    [msg] = await rec.wait(1)
    assert isinstance(msg, Incoming)
    assert (msg.room_id, msg.room_topic) == (TOPIC, TOPIC)
    assert (msg.sender_id, msg.sender_name) == ("wx:张阿姨", "张阿姨")
    assert msg.mentions_bot and not msg.is_self and msg.transport == "webhook"
    assert msg.sent_at is not None and msg.sent_at.tzinfo is not None
    assert msg.message_id == message_key(TOPIC, "张阿姨", msg.text, 1_700_000_000.0)

    # a redelivery of the same message gets the same id (the core dedups it)
    await deliver("text", "3单元楼道里堆满了纸箱,消防通道都堵了", mentioned=True)
    events = await rec.wait(2)
    assert events[1].message_id == msg.message_id


async def test_private_self_and_non_text_messages(env):
    transport, rec, bridge, deliver = env
    await deliver("text", "请问法律咨询几点", room=None)
    await deliver("text", "群公告", self_=True)
    await deliver("file", "ignored")
    await deliver("urlLink", "{}")
    await deliver("unknown", "?")
    events = await rec.wait(2)
    await assert_no_more_events(rec, deliver, 2)
    assert events[0].room_id is None and events[0].room_topic is None
    assert events[0].sender_id == "wx:张阿姨"
    assert events[1].is_self


async def test_wrong_or_missing_secret_is_401_json(env):
    transport, rec, bridge, deliver = env
    assert (await deliver("text", "x", secret="nope"))[0] == 401
    status, answer = await deliver("text", "x", secret=None)
    assert status == 401 and answer["success"] is False
    await assert_no_more_events(rec, deliver, 0)


async def test_friend_requests_are_never_accepted(env):
    transport, rec, bridge, deliver = env
    status, answer = await deliver("friendship", "我是3幢的张阿姨", room=None)
    assert status == 200 and answer == {"success": False}
    await assert_no_more_events(rec, deliver, 0)


async def test_login_logout_and_error_events(env):
    transport, rec, bridge, deliver = env
    login = json.dumps({"event": "login", "user": {"id": "@bot", "payload": {"name": "楼道通"}}})
    await deliver("system_event_login", login, room=None)
    await deliver("system_event_logout", "扫码登录已失效", room=None)
    await deliver("system_event_error", "puppet crashed", room=None)
    events = await rec.wait(3)
    assert events[0] == Connected("webhook", self_id="wx:楼道通", self_name="楼道通")
    assert isinstance(events[1], Disconnected) and "扫码登录已失效" in events[1].reason
    assert isinstance(events[2], Disconnected) and "puppet crashed" in events[2].reason
    # after login the bot's name is known: "@楼道通" in a room counts as a mention
    await deliver("text", "@楼道通 电梯坏了")
    assert (await rec.wait(4))[3].mentions_bot


async def test_send_to_room_with_text_mentions(env):
    transport, rec, bridge, deliver = env
    sent = await transport.send(Outgoing(text="已登记工单 #3", room_id=TOPIC,
                                         mentions=("wx:张阿姨",)))
    assert sent.startswith("webhook-")
    assert bridge.posts[-1] == {"to": TOPIC, "isRoom": True,
                                "data": {"type": "text", "content": "@张阿姨 已登记工单 #3"}}
    await transport.send(Outgoing(text="您好", to="wx:张阿姨"))
    assert bridge.posts[-1]["to"] == "张阿姨" and bridge.posts[-1]["isRoom"] is False
    assert await transport.healthy()


async def test_send_errors_are_classified(env):
    transport, rec, bridge, deliver = env
    with pytest.raises(TransportError) as err:
        await transport.send(Outgoing(text="x", room_id="改了名的群"))
    assert not err.value.retryable and "改了名的群" in str(err.value)

    bridge.fail_next = 1
    with pytest.raises(TransportError) as err:
        await transport.send(Outgoing(text="x", room_id=TOPIC))
    assert err.value.retryable

    # logged out: retryable later, and the core hears about it once
    await deliver("system_event_login", json.dumps({"user": {"payload": {"name": "楼道通"}}}),
                  room=None)
    await rec.wait(1)
    bridge.logged_in = False
    for _ in range(2):
        with pytest.raises(TransportError) as err:
            await transport.send(Outgoing(text="x", room_id=TOPIC))
        assert err.value.retryable and "logged out" in str(err.value)
    events = await rec.wait(2)
    await assert_no_more_events(rec, deliver, 2)
    assert [type(e) for e in events[:2]] == [Connected, Disconnected]
    assert "login first" in events[1].reason
    assert not await transport.healthy()

    bad = WebhookTransport(secret=SECRET, bridge_url=bridge.url, token="wrong", port=0)
    await bad.start(Recorder())
    try:
        with pytest.raises(TransportError) as err:
            await bad.send(Outgoing(text="x", room_id=TOPIC))
        assert not err.value.retryable and "STAIRWELL_WEBHOOK_TOKEN" in str(err.value)
    finally:
        await bad.stop()


async def test_unreachable_bridge_is_retryable(unused_tcp_port):
    transport = WebhookTransport(secret=SECRET, bridge_url=f"http://127.0.0.1:{unused_tcp_port}",
                                 token=TOKEN, port=0, send_timeout=2)
    await transport.start(Recorder())
    try:
        with pytest.raises(TransportError) as err:
            await transport.send(Outgoing(text="x", room_id=TOPIC))
        assert err.value.retryable
    finally:
        await transport.stop()


def test_create_needs_the_secret(monkeypatch):
    monkeypatch.delenv("STAIRWELL_WEBHOOK_SECRET", raising=False)
    with pytest.raises(WebhookConfigError, match="STAIRWELL_WEBHOOK_SECRET"):
        create(None)
    monkeypatch.setenv("STAIRWELL_WEBHOOK_SECRET", "x")
    monkeypatch.setenv("STAIRWELL_WEBHOOK_BRIDGE_URL", "http://127.0.0.1:3001/")
    monkeypatch.setenv("STAIRWELL_WEBHOOK_TOKEN", "t")
    transport = create(None, port=9999)
    assert (transport.bridge_url, transport.port, transport.host) == (
        "http://127.0.0.1:3001", 9999, "127.0.0.1")


# ---- hostile deliveries (issue 11.10): 400 with a JSON error, nothing handed to the core ---------
async def post_form(transport, fields: dict[str, str | bytes]) -> tuple[int, dict]:
    """multipart/form-data written by hand, so a field can carry bytes that are not UTF-8."""
    boundary = "----stairwell-test"
    body = b""
    for name, value in fields.items():
        raw = value if isinstance(value, bytes) else value.encode("utf-8")
        body += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n"
                 "Content-Type: text/plain; charset=utf-8\r\n\r\n").encode() + raw + b"\r\n"
    body += f"--{boundary}--\r\n".encode()
    async with aiohttp.ClientSession() as http:
        url = f"http://127.0.0.1:{transport.port}/webhook/recv"
        headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
        async with http.post(url, data=body, params={"secret": SECRET}, headers=headers) as resp:
            return resp.status, await resp.json()


def source(name: str = "张阿姨", topic: str = TOPIC) -> str:
    """The bridge's ``source`` field; a lone surrogate in a name arrives as a \\u escape."""
    return json.dumps({"room": {"id": "@@abc", "payload": {"topic": topic}},
                       "from": {"id": "@def", "payload": {"name": name}}}, ensure_ascii=True)


@pytest.mark.parametrize(
    "fields, fragment",
    [
        ({"source": "[" * 100_000 + "]" * 100_000}, "nested"),
        ({"source": '{"room": ' + "{\"a\": " * 40 + "1" + "}" * 40 + "}"}, "nested"),
        ({"source": '{"n": ' + "7" * 100_000 + "}"}, "number"),
        ({"source": source(name="张\ud800阿姨")}, "surrogate"),
        ({"source": source(topic="\udc00")}, "surrogate"),
        ({"source": "{broken"}, "JSON"),
        ({"source": source(name="张\x00阿姨")}, "NUL"),  # the name is the sender's id: a 500 on PostgreSQL
        ({"id": "msg\x001"}, "NUL"),
        ({"content": b"\xed\xa0\x80 \xff\xfe"}, "bad form"),  # not UTF-8 (an encoded surrogate)
    ],
)
async def test_hostile_text_deliveries_are_400(env, fields, fragment):
    transport, rec, bridge, deliver = env
    base = {"type": "text", "content": "楼道灯坏了", "source": source(), "isMentioned": "0", "isMsgFromSelf": "0"}
    status, answer = await post_form(transport, {**base, **fields})
    assert status == 400 and answer["success"] is False and fragment in answer["error"], answer
    await assert_no_more_events(rec, deliver, 0)


async def test_a_text_whose_content_is_a_file_is_400(env):
    transport, rec, bridge, deliver = env
    form = aiohttp.FormData()
    form.add_field("type", "text")
    form.add_field("content", b"\x00\x01", filename="x.bin")
    form.add_field("source", source())
    async with aiohttp.ClientSession() as http:
        url = f"http://127.0.0.1:{transport.port}/webhook/recv"
        async with http.post(url, data=form, params={"secret": SECRET}) as resp:
            assert resp.status == 400 and "content" in (await resp.json())["error"]
    await assert_no_more_events(rec, deliver, 0)


async def test_a_hostile_login_payload_still_logs_in(env):
    transport, rec, bridge, deliver = env
    status, answer = await deliver("system_event_login", "[" * 5000 + "]" * 5000, room=None)
    assert status == 200 and answer == {"success": False}
    assert isinstance((await rec.wait(1))[0], Connected)


async def test_mentions_use_the_cleaned_name(env):
    transport, rec, bridge, deliver = env
    await transport.send(Outgoing(text="@王五 明天停水 已收到", room_id=TOPIC,
                                  mentions=("wx:王五\u2005\u2005【通知】明天停水",)))
    assert bridge.posts[-1]["data"]["content"] == "@王五 明天停水 已收到"
