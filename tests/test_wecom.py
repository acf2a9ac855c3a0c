"""WeComRobot against a loopback fake of the WeCom group robot webhook."""
from __future__ import annotations

import pytest
from aiohttp import web

from bot.staff import WeComError, WeComRobot
from bot.staff.wecom import DEFAULT_BASE_URL, split_utf8

KEY = "test-key-693a"


class FakeWeCom:
    """Always HTTP 200; errcode says what happened, as documented."""

    def __init__(self) -> None:
        self.received: list[dict] = []
        self.forced: list[int] = []  # errcodes to answer next, in order
        self.url = ""

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/cgi-bin/webhook/send", self._send)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"

    async def stop(self) -> None:
        await self._runner.cleanup()

    async def _send(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.received.append(body)
        if request.query.get("key") != KEY:
            return web.json_response({"errcode": 93000, "errmsg": "invalid webhook url"})
        if self.forced:
            code = self.forced.pop(0)
            return web.json_response({"errcode": code, "errmsg": f"forced {code}"})
        kind = body.get("msgtype")
        if kind not in ("text", "markdown"):
            return web.json_response({"errcode": 40008, "errmsg": "invalid message type"})
        limit = 2048 if kind == "text" else 4096
        if len(body[kind]["content"].encode()) > limit:
            return web.json_response({"errcode": 40058, "errmsg": "content exceed max length"})
        return web.json_response({"errcode": 0, "errmsg": "ok"})


class FakeTime:
    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
async def wecom():
    fake = FakeWeCom()
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
def fake_time():
    return FakeTime()


def robot(fake, fake_time, key=KEY, **kw):
    return WeComRobot(fake.url, key, clock=fake_time.clock, sleep=fake_time.sleep, **kw)


async def test_text_with_mentioned_mobiles_and_markdown(wecom, fake_time):
    async with robot(wecom, fake_time) as bot:
        assert await bot.send_text("3幢1单元新工单 #12：楼道堆物", ["13800000000"]) == 1
        assert await bot.send_markdown("**超时工单** <font color=\"warning\">2</font> 件") == 1
    assert wecom.received == [
        {"msgtype": "text", "text": {"content": "3幢1单元新工单 #12：楼道堆物",
                                     "mentioned_mobile_list": ["13800000000"]}},
        {"msgtype": "markdown", "markdown": {"content": "**超时工单** <font color=\"warning\">2</font> 件"}},
    ]
    assert fake_time.sleeps == []


@pytest.mark.parametrize("code", [93000, 40058, 40008])
async def test_permanent_errors_are_not_retried(wecom, fake_time, code):
    wecom.forced = [code]
    async with robot(wecom, fake_time) as bot:
        with pytest.raises(WeComError) as err:
            await bot.send_text("x")
    assert err.value.errcode == code and not err.value.retryable
    assert len(wecom.received) == 1 and fake_time.sleeps == []


async def test_bad_key_is_reported(wecom, fake_time):
    async with robot(wecom, fake_time, key="wrong") as bot:
        with pytest.raises(WeComError) as err:
            await bot.send_text("x")
    assert err.value.errcode == 93000 and "invalid key" in str(err.value)


async def test_rate_limited_answer_backs_off_and_retries(wecom, fake_time):
    wecom.forced = [45009, 45009]
    async with robot(wecom, fake_time, retry_after=60) as bot:
        await bot.send_text("稍后重试")
    assert len(wecom.received) == 3
    assert fake_time.sleeps == [60, 120]

    wecom.forced = [45009] * 4
    async with robot(wecom, fake_time, retry_after=1, max_retries=3) as bot:
        with pytest.raises(WeComError) as err:
            await bot.send_text("一直被限流")
    assert err.value.errcode == 45009 and err.value.retryable


async def test_at_most_per_minute_in_a_sliding_window(wecom, fake_time):
    async with robot(wecom, fake_time, per_minute=20) as bot:
        start = fake_time.now
        for i in range(20):
            fake_time.now = start + i  # one a second
            await bot.send_text(f"msg {i}")
        assert fake_time.sleeps == []
        await bot.send_text("the 21st")  # at t=+19: must wait for the first to leave the window
    assert fake_time.sleeps == [pytest.approx(41.0)]
    assert fake_time.now == pytest.approx(start + 60)
    assert len(wecom.received) == 21


async def test_long_text_is_split_on_lines_under_2048_bytes(wecom, fake_time):
    lines = [f"{i:03d} 3幢1单元楼道堆物、消防通道堵塞、电动车飞线充电，请网格员跟进处理" for i in range(60)]
    text = "\n".join(lines)
    assert len(text.encode()) > 2 * 2048
    async with robot(wecom, fake_time) as bot:
        sent = await bot.send_text(text, ["13800000000"])
    assert sent == len(wecom.received) >= 3
    contents = [body["text"]["content"] for body in wecom.received]
    assert all(len(c.encode()) <= 2048 for c in contents)
    assert "\n".join(contents).split("\n") == lines  # whole lines, in order, nothing lost
    assert "mentioned_mobile_list" in wecom.received[0]["text"]
    assert all("mentioned_mobile_list" not in b["text"] for b in wecom.received[1:])


async def test_long_markdown_is_split_under_4096_bytes(wecom, fake_time):
    text = "\n".join(["> 普法：《民法典》第二百八十六条 业主应当遵守法律、法规以及管理规约"] * 120)
    async with robot(wecom, fake_time) as bot:
        assert await bot.send_markdown(text) >= 2
    assert all(len(b["markdown"]["content"].encode()) <= 4096 for b in wecom.received)


def test_a_single_overlong_line_is_cut_between_characters():
    pieces = split_utf8("楼" * 1000, 2048)  # 3,000 bytes, no newline
    assert [len(p.encode()) for p in pieces] == [2046, 954]
    assert "".join(pieces) == "楼" * 1000


async def test_network_failure_is_retryable(fake_time, unused_tcp_port):
    async with WeComRobot(f"http://127.0.0.1:{unused_tcp_port}", KEY, clock=fake_time.clock,
                          sleep=fake_time.sleep, timeout=2) as bot:
        with pytest.raises(WeComError) as err:
            await bot.send_text("x")
    assert err.value.retryable and err.value.errcode == -1000


def test_from_env(monkeypatch):
    monkeypatch.delenv("STAIRWELL_WECOM_BASE_URL", raising=False)
    monkeypatch.delenv("STAIRWELL_WECOM_KEY", raising=False)
    with pytest.raises(ValueError, match="STAIRWELL_WECOM_KEY"):
        WeComRobot.from_env()
    monkeypatch.setenv("STAIRWELL_WECOM_KEY", "k")
    assert WeComRobot.from_env().base_url == DEFAULT_BASE_URL
    monkeypatch.setenv("STAIRWELL_WECOM_BASE_URL", "http://127.0.0.1:9/")
    bot = WeComRobot.from_env(per_minute=5)
    assert (bot.base_url, bot.key, bot.per_minute) == ("http://127.0.0.1:9", "k", 5)
