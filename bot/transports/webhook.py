"""WeChat through wechatbot-webhook (an HTTP bridge on the web protocol; pilot grade).

Inbound: the bridge POSTs ``multipart/form-data`` to ``RECVD_MSG_API``; point it at
``http://HOST:PORT/webhook/recv?secret=SECRET`` (our own aiohttp server, default
127.0.0.1:8090; ``STAIRWELL_WEBHOOK_SECRET``). Fields: ``type``, ``content``, ``source`` (JSON
``{"room": ..., "from": ..., "to": ...}``), ``isMentioned``, ``isMsgFromSelf``.

We answer ``{"success": false}`` once the core has taken the message: the bridge then sends
nothing by itself (replies go through the core's outbox), and a ``friendship`` request is never
auto-accepted. A message the core did not take is never a 200: 400 for an unreadable delivery
(bad form, a hostile ``source`` JSON, a lone surrogate), 503 when the database stayed busy (the
bridge may deliver it again), 409 for a bridge message id already used in another room.

Ids from the web protocol change at every login, so rooms are keyed by **topic**
(``Incoming.room_id == room_topic``) and people by display name (``sender_id = "wx:" + name``).
``message_id`` is the bridge's id when it sends one, else a hash of (room, sender, text, minute):
a redelivery within the same minute collapses to the same id, which the core dedups.

Outbound: ``POST {STAIRWELL_WEBHOOK_BRIDGE_URL}/webhook/msg/v2?token=STAIRWELL_WEBHOOK_TOKEN``
with ``{"to": topic, "isRoom": true, "data": {"type": "text", "content": "@name text"}}``. The
bridge has no real @mentions: mentions are written as ``@name`` text.

Send errors (``TransportError.retryable``):

* 401 "you must login first" -- the account logged out: **retryable** (a re-scan brings it back;
  the outbox backs off and gives up after its N tries), and a Disconnected event is emitted so
  admins are alerted;
* 401 for a bad token: not retryable (configuration);
* 200 with ``task.notFound`` -- no such room/person (renamed group?): not retryable;
* other ``success: false``, 5xx, timeouts, connection errors: retryable.
"""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import os
import time
import uuid
from datetime import datetime, timezone
from typing import Any

import aiohttp
from aiohttp import web

from bot.events import Connected, Disconnected, Event, Handled, Incoming, Outgoing, Replies
from bot.privacy import clean_name, mask
from bot.transports.base import FAILED, EventHandler, TransportBase, TransportError, refusal
from bot.transports.httpinput import BadInput, check_string, loads

log = logging.getLogger("stairwell.transport.webhook")

SECRET_ENV = "STAIRWELL_WEBHOOK_SECRET"
BRIDGE_URL_ENV = "STAIRWELL_WEBHOOK_BRIDGE_URL"
TOKEN_ENV = "STAIRWELL_WEBHOOK_TOKEN"
PERSON_PREFIX = "wx:"

NO_REPLY = {"success": False}


def _answer(status: int, error: str) -> web.Response:
    return web.json_response({"success": False, "error": error}, status=status)


class WebhookConfigError(ValueError):
    """A required setting of the webhook transport is missing."""


def _flag(value: Any) -> bool:
    return str(value).strip().lower() in ("1", "true", "yes")


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _payload(obj: dict[str, Any]) -> dict[str, Any]:
    return _obj(obj.get("payload")) or obj


def display_name(person: Any) -> str:
    """A contact's display name from the bridge's serialised wechaty Contact."""
    p = _payload(_obj(person))
    for key in ("name", "alias", "nickName", "nickname"):
        if p.get(key):
            return str(p[key])
    return ""


def room_topic(room: Any) -> str | None:
    r = _obj(room)
    topic = _payload(r).get("topic") or r.get("topic")
    return str(topic) if topic else None


def message_key(room: str | None, sender: str, text: str, when: float) -> str:
    minute = int(when // 60)
    raw = json.dumps([room or "", sender, text, minute], ensure_ascii=False)
    return "wh-" + hashlib.sha256(raw.encode()).hexdigest()[:24]


class WebhookTransport(TransportBase):
    """A :class:`bot.transports.base.Transport` over wechatbot-webhook."""

    name = "webhook"
    idempotent_sends = False
    stable_ids = False  # people are known only by display name (ids change at every login)
    acknowledges = True  # the HTTP answer says whether the message was stored

    def __init__(
        self,
        *,
        secret: str,
        bridge_url: str = "",
        token: str = "",
        host: str = "127.0.0.1",
        port: int = 8090,
        name: str = "webhook",
        send_timeout: float = 15.0,
        answer_timeout: float = 30.0,
        clock: Any = None,
    ) -> None:
        if not secret:
            raise WebhookConfigError(
                f"缺少环境变量 {SECRET_ENV}（入站地址的 secret）/ missing {SECRET_ENV}"
            )
        self.name = name
        self.secret = secret
        self.bridge_url = bridge_url.rstrip("/")
        self.token = token
        self.host = host
        self.port = port
        self.send_timeout = send_timeout
        self._clock = clock or time.time
        self._on_event: EventHandler | None = None
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self._queue: asyncio.Queue[tuple[Event, asyncio.Future[object] | None]] | None = None
        self.answer_timeout = answer_timeout
        self._worker: asyncio.Task[None] | None = None
        self._connected = False
        self.self_name = ""

    # ------------------------------------------------------------------ lifecycle
    def make_app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/webhook/recv", self._recv)
        return app

    async def start(self, on_event: EventHandler) -> None:
        self._on_event = on_event
        self._queue = asyncio.Queue()
        self._worker = asyncio.create_task(self._deliver_loop(), name="webhook-deliver")
        self._session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=self.send_timeout))
        self._runner = web.AppRunner(self.make_app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        server = getattr(site, "_server", None)
        if server is not None and server.sockets:
            self.port = server.sockets[0].getsockname()[1]
        log.info("webhook: listening on http://%s:%s/webhook/recv", self.host, self.port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._queue is not None and self._worker is not None:
            try:
                await asyncio.wait_for(self._queue.join(), 2.0)
            except asyncio.TimeoutError:
                pass
        if self._worker is not None:
            self._worker.cancel()
            await asyncio.gather(self._worker, return_exceptions=True)
            self._worker = None
        if self._session is not None:
            await self._session.close()
            self._session = None

    @property
    def connected(self) -> bool:
        return self._connected

    # ------------------------------------------------------------------ inbound
    async def _recv(self, request: web.Request) -> web.Response:
        given = request.query.get("secret", "")
        if not hmac.compare_digest(given.encode(), self.secret.encode()):
            return _answer(401, "unauthorized")
        try:
            form = await request.post()
        except Exception as exc:  # noqa: BLE001 - always a JSON answer (bad multipart, bad UTF-8)
            log.warning("webhook: unreadable request: %r", exc)
            return _answer(400, "bad form")
        kind = str(form.get("type", ""))
        if not kind:
            return _answer(400, "missing type")
        try:
            event = self._translate(kind, form)
        except BadInput as exc:  # never a silent 200 for a message we could not read
            log.warning("webhook: refused a %s: %s", kind, exc)
            return _answer(400, str(exc))
        except Exception as exc:  # noqa: BLE001 - a shape we did not expect: still a JSON answer
            log.warning("webhook: could not read a %s: %r", kind, exc)
            return _answer(400, f"could not read the {kind}")
        if event is None:  # a kind we ignore
            return web.json_response(NO_REPLY)
        refused = refusal(await self._handled(event))
        if refused is not None:  # not stored (busy: 503, so the bridge may retry) or a reused id (409)
            return _answer(*refused)
        # never success:true -- no auto reply, no auto-accepted friend requests
        return web.json_response(NO_REPLY)

    async def _handled(self, event: Event) -> object:
        """Hand ``event`` to the core (in arrival order) and wait for its decision."""
        if self._queue is None:
            return None
        done: asyncio.Future[object] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((event, done))
        try:
            return await asyncio.wait_for(asyncio.shield(done), self.answer_timeout)
        except asyncio.TimeoutError:  # still queued, so it will be stored: do not make the bridge resend
            log.warning("webhook: the core is slow; answered before %s was handled", type(event).__name__)
            return None

    def _translate(self, kind: str, form: Any) -> Event | None:
        """The core event for a delivery, None for kinds we ignore; BadInput when unreadable."""
        for key, value in form.items():
            if isinstance(value, str):
                check_string(value, f"'{key}'")
        content = form.get("content", "")
        if kind == "system_event_login":
            try:
                info = self._json(content)
            except BadInput:  # the login still counts; only the bot's name is unknown
                info = {}
            name = display_name(info.get("user") or info) if info else ""
            self.self_name = name or self.self_name
            self._connected = True
            return Connected(self.name, self_id=PERSON_PREFIX + self.self_name
                             if self.self_name else "", self_name=self.self_name)
        if kind in ("system_event_logout", "system_event_error"):
            was = self._connected
            if kind == "system_event_logout":
                self._connected = False
            what = "微信账号已登出 / logged out" if kind == "system_event_logout" else \
                "桥接服务报错 / bridge error"
            detail = content if isinstance(content, str) else ""
            if kind == "system_event_error" and not was:
                log.warning("webhook: bridge error while logged out: %s", detail)
            return Disconnected(self.name, reason=f"{what}: {detail}".rstrip(": "))
        if kind != "text":
            # file, urlLink, friendship (never accepted), unknown, push_notify: ignored
            log.debug("webhook: ignoring a %s", kind)
            return None
        if not isinstance(content, str):  # e.g. a file part: nothing we could store as the text
            raise BadInput("'content' of a text message must be text")
        text = content
        source = self._json(form.get("source", ""))
        room = source.get("room")
        topic = room_topic(room)
        sender = display_name(source.get("from"))
        is_self = _flag(form.get("isMsgFromSelf", "0"))
        if not sender and is_self:
            sender = self.self_name
        now = self._clock()
        bridge_id = form.get("id") or form.get("msgId") or _payload(source).get("id")
        message_id = str(bridge_id) if bridge_id and not isinstance(bridge_id, dict) else \
            message_key(topic, sender, text, now)
        mentioned = _flag(form.get("isMentioned", "0"))
        if not mentioned and topic and self.self_name:
            mentioned = f"@{self.self_name}" in text
        return Incoming(
            transport=self.name,
            message_id=message_id,
            room_id=topic,
            room_topic=topic,
            # The id is the name (masked: it is stored); the core cleans the name it shows.
            sender_id=PERSON_PREFIX + mask(sender) if sender else PERSON_PREFIX + "?",
            sender_name=sender,
            text=text,
            mentions_bot=mentioned,
            sent_at=datetime.fromtimestamp(now, tz=timezone.utc),
            is_self=is_self,
        )

    @staticmethod
    def _json(value: Any) -> dict[str, Any]:
        """A JSON form field (``source``, a login's ``content``); BadInput when hostile or broken."""
        if not isinstance(value, str) or not value.strip():
            return {}
        data = loads(value)
        return data if isinstance(data, dict) else {}

    async def _deliver_loop(self) -> None:
        assert self._queue is not None
        while True:
            event, done = await self._queue.get()
            result: object = None
            try:
                if self._on_event is not None:
                    result = await asyncio.shield(self._on_event(event))
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - one bad event never kills the loop
                log.exception("webhook: the core failed on %s", type(event).__name__)
                result = Replies(handled=Handled(route=FAILED))
            finally:
                if done is not None and not done.done():
                    done.set_result(result)
                self._queue.task_done()

    # ------------------------------------------------------------------ outbound
    @staticmethod
    def _name(person_id: str) -> str:
        return person_id[len(PERSON_PREFIX):] if person_id.startswith(PERSON_PREFIX) else person_id

    async def send(self, message: Outgoing) -> str:
        if not self.bridge_url or not self.token:
            raise TransportError(
                f"未配置 {BRIDGE_URL_ENV} / {TOKEN_ENV}: cannot send", retryable=False)
        if self._session is None:
            raise TransportError("webhook transport not started", retryable=True)
        names = [clean_name(self._name(m)) for m in message.mentions if m]  # as the core shows them
        prefix = "".join(f"@{name} " for name in names if f"@{name}" not in message.text)
        is_room = message.room_id is not None
        to = message.room_id if is_room else self._name(message.to or "")
        body = {"to": to, "isRoom": is_room,
                "data": {"type": "text", "content": prefix + message.text}}
        url = f"{self.bridge_url}/webhook/msg/v2"
        try:
            async with self._session.post(url, params={"token": self.token}, json=body) as resp:
                status = resp.status
                raw = await resp.text()
        except asyncio.TimeoutError as exc:
            raise TransportError("桥接服务超时 / bridge timed out", retryable=True) from exc
        except aiohttp.ClientError as exc:
            raise TransportError(f"桥接服务不可达 / bridge unreachable: {exc}",
                                 retryable=True) from exc
        try:
            answer = json.loads(raw) if raw else {}
        except ValueError:
            answer = {}
        answer = answer if isinstance(answer, dict) else {}
        detail = str(answer.get("message") or raw[:200])
        if status == 401:
            if "login" in detail.lower():
                await self._lost(f"微信账号未登录 / the bridge is logged out: {detail}")
                raise TransportError(f"桥接服务未登录 / bridge logged out: {detail}",
                                     retryable=True)
            raise TransportError(f"桥接服务 token 错误 / bad {TOKEN_ENV}: {detail}",
                                 retryable=False)
        if status >= 500 or status == 429:
            raise TransportError(f"桥接服务错误 / bridge HTTP {status}: {detail}", retryable=True)
        if status >= 400:
            raise TransportError(f"桥接服务拒绝 / bridge HTTP {status}: {detail}",
                                 retryable=False)
        task = _obj(answer.get("task"))
        not_found = task.get("notFound") or []
        if not_found:
            raise TransportError(
                f"找不到{'群' if is_room else '联系人'} / not found: {to!r} "
                f"(群名改了？/ renamed?)", retryable=False)
        if not answer.get("success"):
            raise TransportError(f"桥接服务发送失败 / bridge send failed: {detail}",
                                 retryable=True)
        return f"webhook-{uuid.uuid4().hex}"

    async def _lost(self, reason: str) -> None:
        if self._connected and self._queue is not None:
            self._connected = False
            self._queue.put_nowait((Disconnected(self.name, reason=reason), None))

    async def healthy(self) -> bool:
        """``GET /healthz?token=`` on the bridge: True when it answers ``healthy``."""
        if self._session is None or not self.bridge_url:
            return False
        try:
            async with self._session.get(f"{self.bridge_url}/healthz",
                                         params={"token": self.token}) as resp:
                return resp.status == 200 and (await resp.text()).strip() == "healthy"
        except (aiohttp.ClientError, asyncio.TimeoutError):
            return False


def create(config: Any = None, **options: Any) -> WebhookTransport:
    """Registry factory: secret / bridge URL / token from the environment, host/port options."""
    secret = options.pop("secret", None) or os.environ.get(SECRET_ENV, "")
    bridge_url = options.pop("bridge_url", None) or os.environ.get(BRIDGE_URL_ENV, "")
    token = options.pop("token", None) or os.environ.get(TOKEN_ENV, "")
    if not secret:
        raise WebhookConfigError(
            f"缺少环境变量 {SECRET_ENV}（入站地址的 secret）/ missing environment variable "
            f"{SECRET_ENV} (the secret in the bridge's RECVD_MSG_API)")
    if not bridge_url or not token:
        log.warning("webhook: %s / %s not set: receiving only, sends will fail",
                    BRIDGE_URL_ENV, TOKEN_ENV)
    return WebhookTransport(secret=secret, bridge_url=bridge_url, token=token, **options)
