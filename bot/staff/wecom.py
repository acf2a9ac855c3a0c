"""WeCom (企业微信) group robot webhook: send-only notifications to the staff's internal groups.

``POST <base>/cgi-bin/webhook/send?key=KEY``. The answer is always HTTP 200: ``errcode`` says
what happened -- 0 ok; 93000 bad key, 40058 invalid parameter (e.g. text over 2,048 bytes),
40008 bad msgtype: never retried (``WeComError.retryable = False``); 45009 rate limited: backed
off (``retry_after`` seconds) and retried; -1 (system busy) likewise.

At most ``per_minute`` (20) messages per robot in any 60 s (a sliding window; the clock and the
sleep are injectable for tests). Texts over 2,048 UTF-8 bytes are split on line boundaries into
several messages (markdown at 4,096 bytes likewise).

Settings: ``STAIRWELL_WECOM_BASE_URL`` (default https://qyapi.weixin.qq.com) and
``STAIRWELL_WECOM_KEY``.
"""
from __future__ import annotations

import asyncio
import collections
import logging
import os
import time
from typing import Any, Awaitable, Callable, Iterable

import aiohttp

from common.text import split_utf8

log = logging.getLogger("stairwell.staff.wecom")

BASE_URL_ENV = "STAIRWELL_WECOM_BASE_URL"
KEY_ENV = "STAIRWELL_WECOM_KEY"
DEFAULT_BASE_URL = "https://qyapi.weixin.qq.com"

TEXT_MAX_BYTES = 2048
MARKDOWN_MAX_BYTES = 4096
NO_RETRY = {93000: "webhook key 无效 / invalid key", 40058: "参数无效 / invalid parameter",
            40008: "消息类型无效 / invalid msgtype"}
RETRY = {45009: "超过频率限制 / rate limited", -1: "系统繁忙 / system busy"}
WINDOW = 60.0


class WeComError(Exception):
    """A send failed. ``errcode`` is WeCom's, or the negated HTTP status / -1000 for a network
    failure; ``retryable`` tells a caller whether trying later may help."""

    def __init__(self, errcode: int, errmsg: str, *, retryable: bool) -> None:
        super().__init__(f"WeCom errcode {errcode}: {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg
        self.retryable = retryable


class WeComRobot:
    def __init__(
        self,
        base_url: str,
        key: str,
        *,
        per_minute: int = 20,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], Awaitable[Any]] | None = None,
        retry_after: float = 60.0,
        max_retries: int = 3,
        timeout: float = 10.0,
    ) -> None:
        if not key:
            raise ValueError(f"缺少企业微信机器人 key / missing {KEY_ENV}")
        self.base_url = base_url.rstrip("/")
        self.key = key
        self.per_minute = per_minute
        self._clock = clock or time.monotonic
        self._sleep = sleep or asyncio.sleep
        self.retry_after = retry_after
        self.max_retries = max_retries
        self.timeout = timeout
        self._sent: collections.deque[float] = collections.deque()
        self._lock = asyncio.Lock()
        self._session: aiohttp.ClientSession | None = None

    @classmethod
    def from_env(cls, **options: Any) -> "WeComRobot":
        base = os.environ.get(BASE_URL_ENV) or DEFAULT_BASE_URL
        key = os.environ.get(KEY_ENV, "")
        if not key:
            raise ValueError(f"缺少环境变量 {KEY_ENV}（企业微信群机器人 key）/ missing {KEY_ENV}")
        return cls(base, key, **options)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> "WeComRobot":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()

    # ------------------------------------------------------------------ public API
    async def send_text(self, text: str, mentioned_mobiles: Iterable[str] = ()) -> int:
        """Send a text (split if over 2,048 bytes); returns how many messages were sent.
        Mobiles are @-mentioned on the first message."""
        mobiles = [m for m in mentioned_mobiles if m]
        count = 0
        for i, piece in enumerate(split_utf8(text, TEXT_MAX_BYTES)):
            body: dict[str, Any] = {"msgtype": "text", "text": {"content": piece}}
            if mobiles and i == 0:
                body["text"]["mentioned_mobile_list"] = mobiles
            await self._post(body)
            count += 1
        return count

    async def send_markdown(self, text: str) -> int:
        count = 0
        for piece in split_utf8(text, MARKDOWN_MAX_BYTES):
            await self._post({"msgtype": "markdown", "markdown": {"content": piece}})
            count += 1
        return count

    # ------------------------------------------------------------------ internals
    async def _wait_for_slot(self) -> None:
        while True:
            now = self._clock()
            while self._sent and now - self._sent[0] >= WINDOW:
                self._sent.popleft()
            if len(self._sent) < self.per_minute:
                self._sent.append(now)
                return
            wait = WINDOW - (now - self._sent[0])
            log.info("wecom: %d messages in the last minute, waiting %.1fs",
                     len(self._sent), wait)
            await self._sleep(max(wait, 0.01))

    async def _post(self, body: dict[str, Any]) -> None:
        async with self._lock:
            attempt = 0
            while True:
                await self._wait_for_slot()
                errcode, errmsg = await self._request(body)
                if errcode == 0:
                    return
                if errcode in RETRY and attempt < self.max_retries:
                    attempt += 1
                    delay = self.retry_after * attempt
                    log.warning("wecom: %s (%s), retrying in %.0fs", RETRY[errcode], errmsg, delay)
                    await self._sleep(delay)
                    continue
                explain = NO_RETRY.get(errcode) or RETRY.get(errcode) or ""
                raise WeComError(errcode, f"{explain} {errmsg}".strip(),
                                 retryable=errcode in RETRY or errcode < -1)

    async def _request(self, body: dict[str, Any]) -> tuple[int, str]:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.timeout))
        url = f"{self.base_url}/cgi-bin/webhook/send"
        try:
            async with self._session.post(url, params={"key": self.key}, json=body) as resp:
                if resp.status != 200:
                    return -resp.status, f"HTTP {resp.status}"
                data = await resp.json(content_type=None)
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:
            return -1000, f"网络错误 / network error: {type(exc).__name__}: {exc}"
        if not isinstance(data, dict):
            return -1000, "unexpected answer"
        return int(data.get("errcode", -1000)), str(data.get("errmsg", ""))
