"""WechatyTransport driving the REAL python-wechaty client against a fake gRPC gateway.

Everything runs on 127.0.0.1 with short intervals; every wait is bounded.
"""
from __future__ import annotations

import asyncio
import os
import sys
import time
from datetime import datetime, timezone

import pytest

try:
    import wechaty_grpc  # noqa: F401
except ImportError:  # in CI a missing extra is a failure, except where it cannot install
    if os.environ.get("CI") and sys.version_info < (3, 13):
        raise
    pytest.skip("needs the [wechaty] extra (Python < 3.13 only): pip install -e '.[wechaty]'",
                allow_module_level=True)

from bot.events import Connected, Disconnected, Incoming, Outgoing, RoomJoined, RoomLeft  # noqa: E402
from bot.transports.base import TransportError  # noqa: E402
from bot.transports.wechaty import (  # noqa: E402
    MENTION_SEP,
    WechatyAuthError,
    WechatyConfigError,
    WechatyTransport,
    create,
    to_utc,
)
from tests.wechaty_fake_gateway import (  # noqa: E402
    EVENT_LOGOUT,
    EVENT_ROOM_JOIN,
    EVENT_ROOM_LEAVE,
    EVENT_ROOM_TOPIC,
    TS_IMAGE,
    FakeGateway,
)
from tests.conftest import eventually  # noqa: E402

ROOM = "20001@chatroom"
TOPIC = "3幢1单元楼道群"
BOT = "wxid_bot"
ZHANG = "wxid_zhang"


class Recorder:
    """A small on_event callback that remembers what it got."""

    def __init__(self) -> None:
        self.events: list[object] = []
        self._changed = asyncio.Event()

    async def __call__(self, event: object) -> None:
        self.events.append(event)
        self._changed.set()

    def of(self, kind: type) -> list:
        return [e for e in self.events if isinstance(e, kind)]

    async def wait_for(self, predicate, timeout: float = 5.0):
        return await eventually(predicate, timeout=timeout, what="an event", wake=self._changed,
                                details=lambda: self.events)

    async def next_incoming(self, text: str, timeout: float = 5.0) -> Incoming:
        return await self.wait_for(
            lambda: next((e for e in self.of(Incoming) if e.text == text), None), timeout)


# Only stops a hang (an outcome never reached); what a test shows is which outcome came, never how fast.
GUARD = 30.0
FAST = dict(ding_interval=0.2, dong_timeout=0.4, rpc_timeout=2.0, start_timeout=5.0,
            backoff_initial=0.05, backoff_max=0.3, connect_timeout=1.0)


@pytest.fixture
async def gateway():
    gw = FakeGateway(self_id=BOT, self_name="楼道通")
    gw.add_contact(ZHANG, "张阿姨")
    gw.add_contact("wxid_chen", "陈先生")
    gw.add_room(ROOM, TOPIC, [BOT, ZHANG, "wxid_chen"])
    await gw.start()
    yield gw
    await gw.stop()


@pytest.fixture
async def connected(gateway):
    rec = Recorder()
    transport = WechatyTransport(gateway.endpoint, gateway.token, **FAST)
    await transport.start(rec)
    await rec.wait_for(lambda: rec.of(Connected))
    yield transport, rec, gateway
    await transport.stop()


async def test_login_becomes_connected_with_the_bot_identity(connected):
    transport, rec, gw = connected
    assert rec.of(Connected)[0] == Connected("wechaty", self_id=BOT, self_name="楼道通")
    assert transport.connected
    # python-wechaty's connect sequence: Stop first, then Start, then the event stream
    assert gw.calls[:3] == ["Stop", "Start", "Event"]


async def test_room_message_arrives_with_ids_topic_and_mentions(connected):
    transport, rec, gw = connected
    sent = datetime(2026, 3, 1, 8, 30, tzinfo=timezone.utc)
    gw.say("3单元楼道里堆满了纸箱,消防通道都堵了", sender=ZHANG, room=ROOM,
           mentions=[BOT], message_id="m-100", timestamp=sent.timestamp())
    msg = await rec.next_incoming("3单元楼道里堆满了纸箱,消防通道都堵了")
    assert msg.message_id == "m-100"
    assert (msg.room_id, msg.room_topic) == (ROOM, TOPIC)
    assert (msg.sender_id, msg.sender_name) == (ZHANG, "张阿姨")
    assert msg.mentions_bot and msg.mention_ids == (BOT,)
    assert msg.sent_at == sent and msg.sent_at.tzinfo is not None
    assert not msg.is_self and msg.transport == "wechaty"

    # no mention ids from the puppet, but "@楼道通" in the text: the text fallback
    gw.say(f"@楼道通{MENTION_SEP}电梯又坏了", sender=ZHANG, room=ROOM)
    assert (await rec.next_incoming(f"@楼道通{MENTION_SEP}电梯又坏了")).mentions_bot
    # mentioning someone else is not mentioning the bot
    gw.say("@陈先生 谢谢", sender=ZHANG, room=ROOM, mentions=["wxid_chen"])
    other = await rec.next_incoming("@陈先生 谢谢")
    assert not other.mentions_bot and other.mention_ids == ("wxid_chen",)


async def test_send_with_mentions_reaches_message_send_text(connected):
    transport, rec, gw = connected
    sent_id = await transport.send(Outgoing(text="已登记工单 #12", room_id=ROOM, mentions=(ZHANG,)))
    assert sent_id.startswith("sent-")
    request = gw.sent[-1]
    assert request.conversation_id == ROOM
    assert list(request.mentonal_ids) == [ZHANG]
    assert request.text == f"@张阿姨{MENTION_SEP}已登记工单 #12"
    # a text that already carries the @name is not prefixed twice
    await transport.send(Outgoing(text="@张阿姨 收到", room_id=ROOM, mentions=(ZHANG,)))
    assert gw.sent[-1].text == "@张阿姨 收到"


async def test_private_message_and_private_reply(connected):
    transport, rec, gw = connected
    gw.say("请问怎么预约法律咨询", sender=ZHANG, message_id="p-1")
    msg = await rec.next_incoming("请问怎么预约法律咨询")
    assert msg.room_id is None and msg.room_topic is None
    assert (msg.sender_id, msg.sender_name) == (ZHANG, "张阿姨")
    assert not msg.mentions_bot
    await transport.send(Outgoing(text="每周三下午", to=ZHANG))
    assert gw.sent[-1].conversation_id == ZHANG
    assert list(gw.sent[-1].mentonal_ids) == []


async def test_self_messages_duplicates_and_non_text(connected):
    transport, rec, gw = connected
    gw.say("本群公告", sender=BOT, room=ROOM, message_id="self-1")
    assert (await rec.next_incoming("本群公告")).is_self
    gw.say("图片", sender=ZHANG, room=ROOM, msg_type=TS_IMAGE, message_id="img-1")
    gw.say("重复的消息", sender=ZHANG, room=ROOM, message_id="dup-1")
    gw.redeliver("dup-1")
    await rec.wait_for(lambda: len([e for e in rec.of(Incoming) if e.message_id == "dup-1"]) == 2)
    # the image was skipped, and nothing else arrived
    assert [e.message_id for e in rec.of(Incoming)] == ["self-1", "dup-1", "dup-1"]


async def test_room_join_leave_and_topic(connected):
    transport, rec, gw = connected
    gw.add_contact("wxid_wu", "吴大爷")
    gw.rooms[ROOM].member_ids.append("wxid_wu")
    gw.emit(EVENT_ROOM_JOIN, {"roomId": ROOM, "inviteeIdList": ["wxid_wu"],
                              "inviterId": ZHANG, "timestamp": int(time.time())})
    joined = await rec.wait_for(lambda: rec.of(RoomJoined))
    assert joined[0] == RoomJoined("wechaty", ROOM, TOPIC, member_ids=("wxid_wu",),
                                   member_names=("吴大爷",), bot_joined=False)

    gw.add_room("30001@chatroom", "3幢2单元楼道群", [ZHANG, BOT])
    gw.emit(EVENT_ROOM_JOIN, {"roomId": "30001@chatroom", "inviteeIdList": [BOT],
                              "inviterId": ZHANG, "timestamp": int(time.time())})
    joined = await rec.wait_for(lambda: len(rec.of(RoomJoined)) == 2 and rec.of(RoomJoined))
    assert joined[1].bot_joined and joined[1].room_topic == "3幢2单元楼道群"

    gw.emit(EVENT_ROOM_LEAVE, {"roomId": ROOM, "removeeIdList": ["wxid_wu"],
                               "removerId": ZHANG, "timestamp": int(time.time())})
    left = await rec.wait_for(lambda: rec.of(RoomLeft))
    assert left[0] == RoomLeft("wechaty", ROOM, TOPIC, member_ids=("wxid_wu",), bot_left=False)

    gw.rooms[ROOM].topic = "3幢1单元邻里群"
    gw.emit(EVENT_ROOM_TOPIC, {"roomId": ROOM, "newTopic": "3幢1单元邻里群", "oldTopic": TOPIC,
                               "changerId": ZHANG, "timestamp": int(time.time())})
    await eventually(lambda: transport._topic_of.get(ROOM) == "3幢1单元邻里群", what="the new topic")
    gw.say("改名了", sender=ZHANG, room=ROOM)
    assert (await rec.next_incoming("改名了")).room_topic == "3幢1单元邻里群"


async def test_gateway_restart_reconnects_and_rebinds_rooms_by_topic(connected):
    transport, rec, gw = connected
    gw.say("重启前", sender=ZHANG, room=ROOM)
    await rec.next_incoming("重启前")

    await gw.stop()
    down = await rec.wait_for(lambda: rec.of(Disconnected))
    assert "127.0.0.1" in down[0].reason or "网关" in down[0].reason
    assert not transport.connected
    with pytest.raises(TransportError) as err:
        await transport.send(Outgoing(text="x", room_id=ROOM))
    assert err.value.retryable

    # the puppet comes back after a re-login with a new id for the same room
    gw.rename_room_id(ROOM, "99999@chatroom")
    await gw.start()
    await rec.wait_for(lambda: len(rec.of(Connected)) == 2, timeout=8)
    assert transport.connections == 2

    gw.say("重启后", sender=ZHANG, room="99999@chatroom")
    msg = await rec.next_incoming("重启后")
    assert (msg.room_id, msg.room_topic) == ("99999@chatroom", TOPIC)

    # an outbox row queued with the old id still reaches the room (bound by topic)
    await transport.send(Outgoing(text="工单已处理", room_id=ROOM, mentions=(ZHANG,)))
    assert gw.sent[-1].conversation_id == "99999@chatroom"
    assert list(gw.sent[-1].mentonal_ids) == [ZHANG]


async def test_logout_is_reported_as_disconnected(connected):
    transport, rec, gw = connected
    gw.emit(EVENT_LOGOUT, {"contactId": BOT, "data": "kicked out"})
    down = await rec.wait_for(lambda: rec.of(Disconnected))
    assert "logged out" in down[0].reason and "kicked out" in down[0].reason
    with pytest.raises(TransportError):
        await transport.send(Outgoing(text="x", room_id=ROOM))


async def test_wrong_token_is_reported_clearly_without_hanging(gateway):
    rec = Recorder()
    transport = WechatyTransport(gateway.endpoint, "not-the-token", **FAST)
    with pytest.raises(WechatyAuthError) as err:  # the gateway's refusal, not the start timeout
        await asyncio.wait_for(transport.start(rec), GUARD)
    assert "UNAUTHENTICATED" in str(err.value) and "WECHATY_PUPPET_SERVICE_TOKEN" in str(err.value)
    assert not err.value.retryable
    assert not rec.of(Connected)
    await transport.stop()  # idempotent


async def test_silent_gateway_is_detected_by_the_ding_watchdog(connected):
    transport, rec, gw = connected
    gw.silent = True  # accepts calls, answers nothing, emits nothing
    down = await rec.wait_for(lambda: rec.of(Disconnected), timeout=GUARD)
    assert "DONG" in down[0].reason  # the watchdog noticed, not a broken stream
    assert gw.calls.count("Ding") >= 1
    gw.silent = False
    await rec.wait_for(lambda: len(rec.of(Connected)) == 2, timeout=8)
    gw.say("恢复了", sender=ZHANG, room=ROOM)
    await rec.next_incoming("恢复了")


async def test_unreachable_gateway_does_not_block_start(unused_tcp_port):
    rec = Recorder()
    transport = WechatyTransport(f"127.0.0.1:{unused_tcp_port}", "t", **FAST)
    await asyncio.wait_for(transport.start(rec), GUARD)  # logs and keeps retrying in the background
    assert "unreachable" in transport.last_disconnect_reason
    assert not rec.of(Connected)
    await transport.stop()


async def test_send_to_a_room_the_gateway_does_not_know_is_not_retryable(connected):
    transport, rec, gw = connected
    with pytest.raises(TransportError) as err:
        await transport.send(Outgoing(text="x", room_id="no-such-room@chatroom"))
    assert not err.value.retryable and "NOT_FOUND" in str(err.value)


def test_create_reads_the_environment(monkeypatch):
    monkeypatch.delenv("WECHATY_PUPPET_SERVICE_ENDPOINT", raising=False)
    monkeypatch.setenv("WECHATY_PUPPET_SERVICE_TOKEN", "tok")
    with pytest.raises(WechatyConfigError) as err:
        create(None)
    assert "WECHATY_PUPPET_SERVICE_ENDPOINT" in str(err.value) and "缺少" in str(err.value)
    assert isinstance(err.value, ValueError)

    monkeypatch.setenv("WECHATY_PUPPET_SERVICE_ENDPOINT", "127.0.0.1:8788")
    monkeypatch.delenv("WECHATY_PUPPET_SERVICE_TOKEN")
    with pytest.raises(WechatyConfigError, match="WECHATY_PUPPET_SERVICE_TOKEN"):
        create(None)

    monkeypatch.setenv("WECHATY_PUPPET_SERVICE_TOKEN", "tok")
    transport = create(None, ding_interval=5, port=8080)  # the CLI's --port means nothing here
    assert (transport.endpoint, transport.ding_interval, transport.name) == (
        "127.0.0.1:8788", 5, "wechaty")

    monkeypatch.setenv("WECHATY_PUPPET_SERVICE_ENDPOINT", "no-port")
    with pytest.raises(WechatyConfigError, match="host:port"):
        create(None)


def test_registry_builds_the_wechaty_transport(monkeypatch):
    from bot.transports.registry import build_transport

    monkeypatch.setenv("WECHATY_PUPPET_SERVICE_ENDPOINT", "127.0.0.1:8788")
    monkeypatch.setenv("WECHATY_PUPPET_SERVICE_TOKEN", "tok")
    assert isinstance(build_transport("wechaty", None), WechatyTransport)


def test_payload_timestamps_become_aware_utc():
    assert to_utc(0) is None
    assert to_utc(1_700_000_000) == datetime(2023, 11, 14, 22, 13, 20, tzinfo=timezone.utc)
    assert to_utc(1_700_000_000_500) == datetime(2023, 11, 14, 22, 13, 20, 500000,
                                                 tzinfo=timezone.utc)


# ---------------------------------------------------------------- python -m bot check-wechaty
from bot.transports import wechaty_check  # noqa: E402


async def _run_check(endpoint, token, timeout=2.0):
    lines: list[str] = []
    rc = await asyncio.wait_for(wechaty_check.check(endpoint, token, timeout, out=lines.append), GUARD)
    return rc, "\n".join(lines)


async def test_check_succeeds_against_a_working_gateway(gateway):
    rc, out = await _run_check(gateway.endpoint, gateway.token)
    assert rc == 0, out
    assert "楼道通 (wxid_bot)" in out and "round trip" in out
    assert f"{TOPIC}  [{ROOM}]" in out
    assert "Ding" in gateway.calls and "RoomList" in gateway.calls


async def test_check_reports_each_failure_and_never_hangs(gateway, unused_tcp_port):
    rc, out = await _run_check(gateway.endpoint, "wrong")
    assert rc == wechaty_check.EXIT_AUTH and "UNAUTHENTICATED" in out

    rc, out = await _run_check(f"127.0.0.1:{unused_tcp_port}", "t")
    assert rc == wechaty_check.EXIT_UNREACHABLE and "unreachable" in out

    gateway.dong = False
    rc, out = await _run_check(gateway.endpoint, gateway.token)
    assert rc == wechaty_check.EXIT_NO_DONG and "DONG" in out

    gateway.dong, gateway.logged_in = True, False
    rc, out = await _run_check(gateway.endpoint, gateway.token)
    assert rc == wechaty_check.EXIT_NOT_LOGGED_IN and "logged in" in out


async def _tcp_server(handler):
    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    return server, f"127.0.0.1:{server.sockets[0].getsockname()[1]}"


async def test_check_recognises_a_tls_gateway_and_a_hung_one():
    async def tls_like(reader, writer):  # a TLS server answers plaintext HTTP/2 with an alert
        await reader.read(24)
        writer.write(bytes.fromhex("15030300020250"))
        await writer.drain()
        writer.close()

    server, endpoint = await _tcp_server(tls_like)
    async with server:
        rc, out = await _run_check(endpoint, "t")
    assert rc == wechaty_check.EXIT_UNREACHABLE and "TLS" in out, out

    async def hung(reader, writer):  # accepts, reads, never answers (until the client leaves)
        while await reader.read(1 << 16):
            pass
        writer.close()

    server, endpoint = await _tcp_server(hung)
    async with server:
        rc, out = await _run_check(endpoint, "t", timeout=1.5)
    assert rc == wechaty_check.EXIT_UNREACHABLE, out
    assert "did not answer" in out or "silent" in out


def test_check_main_reports_missing_environment(monkeypatch, capsys):
    monkeypatch.delenv("WECHATY_PUPPET_SERVICE_ENDPOINT", raising=False)
    monkeypatch.delenv("WECHATY_PUPPET_SERVICE_TOKEN", raising=False)
    assert wechaty_check.main([]) == wechaty_check.EXIT_CONFIG
    assert "WECHATY_PUPPET_SERVICE_ENDPOINT" in capsys.readouterr().out


# ---------------------------------------------------------------- the whole bot, end to end
async def test_petition_story_end_to_end_through_the_fake_gateway(gateway, tmp_path):
    """A resident's petition in a WeChat group → a ticket reply in the group that really
    @mentions her (her contact id in MessageSendText's mention list); chatter gets nothing."""
    from pathlib import Path

    from bot.app import Stairwell
    from bot.config import load_config

    # staff with stable WeChat ids equal to the config's ids, so private notices can be delivered
    for person_id, name in (("officer-li", "李敏"), ("leader-zhou", "周建国"), ("grid-zhao", "赵磊")):
        gateway.add_contact(person_id, name)
        gateway.rooms[ROOM].member_ids.append(person_id)
    config = load_config(Path(__file__).resolve().parent.parent / "config.yaml")
    transport = WechatyTransport(gateway.endpoint, gateway.token, **FAST)
    app = Stairwell(config, transport, database_url=f"sqlite:///{tmp_path / 'wechaty.db'}")
    await app.start()
    try:
        await gateway.wait_for(lambda: gateway.streams == 1)
        gateway.say("谢谢楼道长", sender="wxid_chen", room=ROOM, message_id="chat-1")
        gateway.say("3单元楼道里堆满了纸箱,消防通道都堵了", sender=ZHANG, room=ROOM,
                    message_id="petition-1")
        await gateway.wait_for(lambda: any(s.conversation_id == ROOM for s in gateway.sent),
                               timeout=10)
        await app.idle(10)
        room_sends = [s for s in gateway.sent if s.conversation_id == ROOM]
        assert len(room_sends) == 1, [s.text for s in room_sends]  # nothing for the chatter
        reply = room_sends[0]
        assert list(reply.mentonal_ids) == [ZHANG]
        assert reply.text.startswith("@张阿姨") and "#1" in reply.text
        assert reply.text.count("@张阿姨") == 1
        # the staff were told privately, by contact id
        assert {s.conversation_id for s in gateway.sent} >= {ROOM, "officer-li"}

        # the same message delivered again (a replay after re-login) is not answered twice
        gateway.redeliver("petition-1")
        gateway.say("电梯又坏了，困了人", sender="wxid_chen", room=ROOM, message_id="after")
        await gateway.wait_for(lambda: len([s for s in gateway.sent
                                            if s.conversation_id == ROOM]) == 2, timeout=10)
        await app.idle(10)
        second = [s for s in gateway.sent if s.conversation_id == ROOM][1]
        assert list(second.mentonal_ids) == ["wxid_chen"]  # not a second answer to 张阿姨
    finally:
        await app.stop()
