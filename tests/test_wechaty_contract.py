"""Contract test: WechatyTransport (the real python-wechaty client) against the REAL upstream
Node gateway -- wechaty-puppet-service@1.19.9 PuppetServer with TLS disabled around
wechaty-puppet-mock@1.19.4 -- started on 127.0.0.1 by this test (tests/gateway/server.js).

Needs ``npm ci`` in tests/gateway (``.ci/run`` does it). Without node_modules the tests FAIL
when the ``CI`` environment variable is set, and are skipped with the reason otherwise.
"""
from __future__ import annotations

import asyncio
import json
import os
import sys
import shutil
import socket
from pathlib import Path

import pytest

try:
    import wechaty_grpc  # noqa: F401
except ImportError:  # in CI a missing extra is a failure, except where it cannot install
    if os.environ.get("CI") and sys.version_info < (3, 13):
        raise
    pytest.skip("needs the [wechaty] extra (Python < 3.13 only): pip install -e '.[wechaty]'",
                allow_module_level=True)

from bot.events import Connected, Incoming, Outgoing, RoomJoined  # noqa: E402
from bot.transports.wechaty import MENTION_SEP, WechatyAuthError, WechatyTransport  # noqa: E402
from tests.conftest import eventually  # noqa: E402
from tests.test_wechaty_transport import Recorder  # noqa: E402

GATEWAY_DIR = Path(__file__).parent / "gateway"
TOKEN = "stairwell-contract-token"
BOT, ZHANG, CHEN = "wxid_bot", "wxid_zhang", "wxid_chen"
ROOM, TOPIC = "20001@chatroom", "3幢1单元楼道群"
FIXTURE = {
    "self": BOT,
    "contacts": [
        {"id": BOT, "name": "楼道通"},
        {"id": ZHANG, "name": "张阿姨"},
        {"id": CHEN, "name": "陈先生"},
        {"id": "wxid_wu", "name": "吴大爷"},
        # staff with stable ids equal to the config's, so private notices can be delivered
        {"id": "officer-li", "name": "李敏"},
        {"id": "leader-zhou", "name": "周建国"},
        {"id": "grid-zhao", "name": "赵磊"},
    ],
    "rooms": [{"id": ROOM, "topic": TOPIC, "members": [BOT, ZHANG, CHEN]}],
}


def _require_gateway() -> str:
    node = shutil.which("node")
    problem = None
    if node is None:
        problem = "node is not installed"
    elif not (GATEWAY_DIR / "node_modules" / "wechaty-puppet-service").is_dir():
        problem = "tests/gateway/node_modules is missing: run `npm ci --prefix tests/gateway`"
    if problem:
        if os.environ.get("CI"):
            pytest.fail(f"Wechaty contract gateway unavailable in CI: {problem}", pytrace=False)
        pytest.skip(f"Wechaty contract gateway unavailable: {problem}")
    return node  # type: ignore[return-value]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class NodeGateway:
    def __init__(self, proc: asyncio.subprocess.Process, port: int) -> None:
        self.proc = proc
        self.port = port
        self.endpoint = f"127.0.0.1:{port}"
        self.lines: list[dict] = []
        self._changed = asyncio.Event()
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.proc.stdout is not None
        while line := await self.proc.stdout.readline():
            try:
                self.lines.append(json.loads(line))
            except ValueError:
                self.lines.append({"raw": line.decode(errors="replace")})
            self._changed.set()

    async def wait_for(self, predicate, timeout: float = 10.0):
        def check():
            found = predicate()
            if not found and self.proc.returncode is not None:
                raise AssertionError(f"gateway exited ({self.proc.returncode}); output so far {self.lines!r}")
            return found

        return await eventually(check, timeout=timeout, what="the gateway", wake=self._changed,
                                details=lambda: self.lines)

    async def command(self, **cmd) -> None:
        assert self.proc.stdin is not None
        before = len(self.lines)
        self.proc.stdin.write((json.dumps(cmd, ensure_ascii=False) + "\n").encode())
        await self.proc.stdin.drain()
        answer = await self.wait_for(lambda: next(
            (x for x in self.lines[before:] if "ok" in x or "error" in x), None))
        assert "error" not in answer, answer

    def sent(self) -> list[dict]:
        return [x["sent"] for x in self.lines if "sent" in x]

    async def close(self) -> None:
        if self.proc.returncode is None:
            if self.proc.stdin is not None:
                self.proc.stdin.close()
            try:
                await asyncio.wait_for(self.proc.wait(), 5)
            except asyncio.TimeoutError:
                self.proc.kill()
                await self.proc.wait()
        self._reader.cancel()
        await asyncio.gather(self._reader, return_exceptions=True)


@pytest.fixture
async def node_gateway():
    node = _require_gateway()
    port = _free_port()
    env = dict(os.environ, STAIRWELL_GATEWAY_PORT=str(port), STAIRWELL_GATEWAY_TOKEN=TOKEN,
               STAIRWELL_GATEWAY_FIXTURE=json.dumps(FIXTURE), WECHATY_LOG="error")
    proc = await asyncio.create_subprocess_exec(
        node, "server.js", cwd=GATEWAY_DIR, env=env, stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL)
    gw = NodeGateway(proc, port)
    try:
        await gw.wait_for(lambda: any(x.get("ready") for x in gw.lines), timeout=30)
        yield gw
    finally:
        await gw.close()


# the mock puppet answers a Ding with a DONG after 1 s: give the watchdog room for that
CONTRACT = dict(ding_interval=1.0, dong_timeout=3.0, rpc_timeout=5.0, start_timeout=15.0,
                backoff_initial=0.2, backoff_max=1.0)


@pytest.fixture
async def connected(node_gateway):
    rec = Recorder()
    transport = WechatyTransport(node_gateway.endpoint, TOKEN, **CONTRACT)
    await transport.start(rec)
    await rec.wait_for(lambda: rec.of(Connected), timeout=15)
    yield transport, rec, node_gateway
    await transport.stop()


async def test_petition_and_mentioned_reply_through_the_real_gateway(connected):
    transport, rec, gw = connected
    assert rec.of(Connected)[0] == Connected("wechaty", self_id=BOT, self_name="楼道通")

    text = "3单元楼道里堆满了纸箱,消防通道都堵了"
    await gw.command(cmd="say", **{"from": ZHANG}, room=ROOM, text=text)
    msg = await rec.next_incoming(text, timeout=10)
    assert (msg.room_id, msg.room_topic) == (ROOM, TOPIC)
    assert (msg.sender_id, msg.sender_name) == (ZHANG, "张阿姨")
    assert not msg.is_self and not msg.mentions_bot
    assert msg.sent_at is not None and msg.sent_at.tzinfo is not None

    await gw.command(cmd="say", **{"from": ZHANG}, room=ROOM, text="@楼道通 电梯坏了",
                     mentions=[BOT])
    mentioned = await rec.next_incoming("@楼道通 电梯坏了", timeout=10)
    assert mentioned.mentions_bot and mentioned.mention_ids == (BOT,)

    await transport.send(Outgoing(text="已登记工单 #1", room_id=ROOM, mentions=(ZHANG,)))
    sent = await gw.wait_for(lambda: gw.sent())
    assert sent[0] == {"conversationId": ROOM, "text": f"@张阿姨{MENTION_SEP}已登记工单 #1",
                       "mentionIds": [ZHANG]}
    # the mock puppet echoes the bot's own message back: it must arrive as is_self
    echo = await rec.next_incoming(f"@张阿姨{MENTION_SEP}已登记工单 #1", timeout=10)
    assert echo.is_self and echo.room_id == ROOM


async def test_private_message_and_room_join_through_the_real_gateway(connected):
    transport, rec, gw = connected
    await gw.command(cmd="say", **{"from": CHEN}, text="请问法律咨询几点")
    msg = await rec.next_incoming("请问法律咨询几点", timeout=10)
    assert msg.room_id is None and (msg.sender_id, msg.sender_name) == (CHEN, "陈先生")

    await gw.command(cmd="join", room=ROOM, members=["wxid_wu"], by=ZHANG)
    joined = await rec.wait_for(lambda: rec.of(RoomJoined), timeout=10)
    assert joined[0].room_id == ROOM and joined[0].room_topic == TOPIC
    assert joined[0].member_ids == ("wxid_wu",) and joined[0].member_names == ("吴大爷",)
    assert not joined[0].bot_joined


async def test_watchdog_keeps_a_live_gateway_connected(connected):
    transport, rec, gw = connected
    dongs: list[object] = []
    transport._session.puppet.on("dong", lambda *payload: dongs.append(payload))
    # DONGs for longer than the watchdog lets a silent session live: they kept this one alive
    dead_after = CONTRACT["ding_interval"] + CONTRACT["dong_timeout"]
    await eventually(lambda: len(dongs) > dead_after / CONTRACT["ding_interval"], timeout=30,
                     what="the gateway's DONGs to outlast the watchdog's limit")
    assert transport.connected and transport.connections == 1
    assert len(rec.of(Connected)) == 1


async def test_wrong_token_is_rejected_by_the_real_gateway(node_gateway):
    transport = WechatyTransport(node_gateway.endpoint, "wrong-token", **CONTRACT)
    with pytest.raises(WechatyAuthError, match="UNAUTHENTICATED"):
        await asyncio.wait_for(transport.start(Recorder()), 10)
    await transport.stop()


async def test_the_whole_bot_answers_a_petition_through_the_real_gateway(node_gateway, tmp_path):
    from bot.app import Stairwell
    from bot.config import load_config

    config = load_config(Path(__file__).resolve().parent.parent / "config.yaml")
    transport = WechatyTransport(node_gateway.endpoint, TOKEN, **CONTRACT)
    app = Stairwell(config, transport, database_url=f"sqlite:///{tmp_path / 'contract.db'}")
    handled: list[Incoming] = []  # messages the bot has finished with, our own echoes included
    start = transport.start

    async def start_recording(on_event):
        async def recording(event):
            try:
                return await on_event(event)
            finally:
                if isinstance(event, Incoming):
                    handled.append(event)

        await start(recording)

    transport.start = start_recording
    await app.start()
    try:
        await eventually(lambda: transport.connected, what="the login")
        await node_gateway.command(cmd="say", **{"from": CHEN}, room=ROOM, text="谢谢楼道长")
        await node_gateway.command(cmd="say", **{"from": ZHANG}, room=ROOM,
                                   text="3单元楼道里堆满了纸箱,消防通道都堵了")
        sent = await node_gateway.wait_for(
            lambda: [s for s in node_gateway.sent() if s["conversationId"] == ROOM], timeout=15)
        await app.idle(10)
        # the mock echoes our own messages back: once the group reply's echo is handled, nothing answered it
        await eventually(lambda: any(e.is_self and e.room_id == ROOM for e in handled), timeout=15,
                         what="the echo of our reply", details=lambda: handled)
        await app.idle(10)
        room_sends = [s for s in node_gateway.sent() if s["conversationId"] == ROOM]
        assert len(room_sends) == 1, room_sends  # the chatter and the echoes got nothing
        assert sent[0]["mentionIds"] == [ZHANG]
        assert sent[0]["text"].startswith("@张阿姨") and "#1" in sent[0]["text"]
        assert "officer-li" in {s["conversationId"] for s in node_gateway.sent()}
    finally:
        await app.stop()
