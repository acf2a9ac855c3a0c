"""WeChat through a Wechaty puppet service gateway (python-wechaty as a gRPC client).

python-wechaty is kept at the edge: it is imported lazily (with the three import fixes from
``shared/transports.md``), and only the small pieces that work are used:

* our own connection loop -- never ``Wechaty.start()`` (it stops the event loop when the gateway
  is unreachable, hides auth errors and sleeps 60 s per retry): ``init_puppet()``,
  ``init_puppet_event_bridge()``, ``puppet.start()``, with exponential back-off;
* a ding/dong watchdog: every ``ding_interval`` seconds we call ``Ding``; a live gateway answers
  with a DONG event. No event at all for ``ding_interval + dong_timeout`` seconds means the
  gateway went silent: the session is torn down and rebuilt;
* the process-global ``Contact._pool`` / ``Room._pool`` caches are reset on every (re)connect
  and every session gets pools of its own;
* sends go through ``puppet.message_send_text(conversation_id, text, mention_ids)`` (never
  ``say()``, which re-fetches the sent message and fails when the gateway returns no id);
* duplicated or replayed messages are passed through unchanged (python-wechaty's own
  ``SingleIdContainer`` filter is bypassed): the core dedups by (transport, message_id) and drops
  old messages by ``sent_at``, which we fill from the payload timestamp (aware UTC).

Room ids can change across logins: every event carries the room's current id *and* topic (the
core binds rooms by topic), and :meth:`WechatyTransport.send` re-binds an old room id to the
room that now has the same topic.

Configuration: ``WECHATY_PUPPET_SERVICE_ENDPOINT`` (``host:port``) and
``WECHATY_PUPPET_SERVICE_TOKEN`` (or the ``endpoint=`` / ``token=`` options). The gateway must
run with TLS disabled (``WECHATY_PUPPET_SERVICE_NO_TLS_INSECURE_SERVER=true``).
"""
from __future__ import annotations

import asyncio
import functools
import logging
import os
import random
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from types import SimpleNamespace
from typing import Any, Callable

from bot.events import (
    Connected,
    Disconnected,
    Event,
    Incoming,
    Outgoing,
    RoomJoined,
    RoomLeft,
)
from bot.transports import base as _base
from bot.transports.base import EventHandler, TransportBase, TransportError, refusal
from common.datadir import data_dir

log = logging.getLogger("stairwell.transport.wechaty")

ENDPOINT_ENV = "WECHATY_PUPPET_SERVICE_ENDPOINT"
TOKEN_ENV = "WECHATY_PUPPET_SERVICE_TOKEN"

# WeChat puts U+2005 (four-per-em space) after an "@name" mention.
MENTION_SEP = "\u2005"

_TransportConfigError: type[Exception] = getattr(_base, "TransportConfigError", ValueError)


def _config_error_bases() -> tuple[type, ...]:
    if _TransportConfigError is ValueError:
        return (ValueError,)
    if issubclass(_TransportConfigError, ValueError):
        return (_TransportConfigError,)
    return (_TransportConfigError, ValueError)


class WechatyConfigError(*_config_error_bases()):  # type: ignore[misc]  # bases chosen at run time (see above)
    """A required setting is missing or malformed (raised by :func:`create`)."""


class WechatyAuthError(TransportError):
    """The gateway refused our token (gRPC ``UNAUTHENTICATED``)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, retryable=False)


class _WatchdogTimeout(Exception):
    pass


# --------------------------------------------------------------------------------------------
# lazy import of python-wechaty with the fixes it needs on Python 3.11
# --------------------------------------------------------------------------------------------
_LIB: SimpleNamespace | None = None


def import_wechaty() -> SimpleNamespace:
    """Import python-wechaty once, patched; returns the few names this module uses.

    Raises :class:`WechatyConfigError` with an install hint when the extra is missing.
    """
    global _LIB
    if _LIB is not None:
        return _LIB
    os.environ.setdefault("WECHATY_LOG", "warn")
    cache = data_dir() / "wechaty-cache"
    if "CACHE_DIR" not in os.environ:
        cache.mkdir(parents=True, exist_ok=True)
        os.environ["CACHE_DIR"] = str(cache.resolve())
    try:
        import wechaty_puppet.schemas.puppet as puppet_schema

        # python-wechaty declares a mutable dataclass default of PuppetOptions: make it hashable.
        if getattr(puppet_schema.PuppetOptions, "__hash__", None) is None:
            puppet_schema.PuppetOptions.__hash__ = object.__hash__
        import wechaty
        import wechaty_puppet
        import wechaty_puppet_service
        from apscheduler.schedulers.asyncio import AsyncIOScheduler
        from grpclib.const import Status
        from grpclib.exceptions import GRPCError, StreamTerminatedError
        from wechaty.user import Contact, ContactSelf, Room, Tag
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise WechatyConfigError(
            "未安装 Wechaty 依赖，请执行 pip install 'stairwell[wechaty]' / "
            f"the wechaty extra is not installed: {exc}"
        ) from exc
    # These loggers print the token at WARNING level ("there are endpoint<..> and token<..>").
    for name in ("PuppetService", "WechatyPuppetServiceConfig", "wechaty.plugin"):
        logging.getLogger(name).setLevel(logging.ERROR)
    _LIB = SimpleNamespace(
        Wechaty=wechaty.Wechaty,
        WechatyOptions=wechaty.WechatyOptions,
        PuppetOptions=puppet_schema.PuppetOptions,
        PuppetService=wechaty_puppet_service.PuppetService,
        MessageType=wechaty_puppet.MessageType,
        WechatyPuppetError=wechaty_puppet.WechatyPuppetError,
        AsyncIOScheduler=AsyncIOScheduler,
        GRPCError=GRPCError,
        Status=Status,
        StreamTerminatedError=StreamTerminatedError,
        pooled=(Contact, ContactSelf, Room, Tag),
    )
    return _LIB


def reset_pools(lib: SimpleNamespace, bot: Any | None = None) -> None:
    """Clear python-wechaty's process-global caches (they hold objects bound to an old puppet).

    With ``bot``, its per-session subclasses also get pools of their own, so two sessions (or
    two transports in one process) never share cached payloads.
    """
    for cls in lib.pooled:
        pool = cls.__dict__.get("_pool")
        if isinstance(pool, dict):
            pool.clear()
    if bot is not None:
        for attr in ("Contact", "ContactSelf", "Room", "Tag"):
            sub = getattr(bot, attr, None)
            if isinstance(sub, type):
                sub._pool = {}  # type: ignore[attr-defined]  # python-wechaty classes cache payloads in _pool


# --------------------------------------------------------------------------------------------
# helpers shared with wechaty_check
# --------------------------------------------------------------------------------------------
def read_settings(endpoint: str | None = None, token: str | None = None) -> tuple[str, str]:
    endpoint = endpoint if endpoint is not None else os.environ.get(ENDPOINT_ENV, "")
    token = token if token is not None else os.environ.get(TOKEN_ENV, "")
    endpoint, token = (endpoint or "").strip(), (token or "").strip()
    if not endpoint:
        raise WechatyConfigError(
            f"缺少环境变量 {ENDPOINT_ENV}（网关地址，如 127.0.0.1:8788）/ "
            f"missing environment variable {ENDPOINT_ENV} (the puppet service gateway, host:port)"
        )
    if not token:
        raise WechatyConfigError(
            f"缺少环境变量 {TOKEN_ENV}（网关 token）/ "
            f"missing environment variable {TOKEN_ENV} (the puppet service token)"
        )
    if endpoint.startswith(("http://", "https://")):
        endpoint = endpoint.split("://", 1)[1]
    endpoint = endpoint.rstrip("/")
    host, sep, port = endpoint.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise WechatyConfigError(
            f"{ENDPOINT_ENV}={endpoint!r} 格式应为 host:port / must look like host:port"
        )
    return endpoint, token


def split_endpoint(endpoint: str) -> tuple[str, int]:
    host, _, port = endpoint.rpartition(":")
    return host.strip("[]"), int(port)


def describe_failure(exc: BaseException, endpoint: str, *, got_events: bool = False) -> str:
    """One line saying what went wrong with the gateway, in Chinese and English."""
    lib = _LIB
    if lib is not None and isinstance(exc, lib.GRPCError):
        if exc.status == lib.Status.UNAUTHENTICATED:
            return (
                f"网关拒绝了 token（UNAUTHENTICATED），请检查 {TOKEN_ENV} / "
                f"the gateway at {endpoint} rejected the token (UNAUTHENTICATED): check {TOKEN_ENV}"
            )
        return f"网关返回错误 / gateway error {exc.status.name}: {exc.message or ''}".rstrip()
    if isinstance(exc, _WatchdogTimeout):
        return f"网关无响应 / gateway silent: {exc}"
    if isinstance(exc, ConnectionRefusedError):
        return f"无法连接网关 / gateway unreachable at {endpoint} (connection refused)"
    if isinstance(exc, (asyncio.TimeoutError, TimeoutError)):
        return f"连接网关超时 / timed out talking to the gateway at {endpoint}"
    name = type(exc).__name__
    if not got_events and (
        (lib is not None and isinstance(exc, lib.StreamTerminatedError))
        or isinstance(exc, (ConnectionResetError, BrokenPipeError))
        or "ProtocolError" in name
    ):
        return (
            f"网关在握手时断开连接（网关是否开启了 TLS？需设置 "
            f"WECHATY_PUPPET_SERVICE_NO_TLS_INSECURE_SERVER=true）/ the gateway at {endpoint} "
            f"closed the connection during the handshake: a TLS gateway? ({name}: {exc})"
        )
    if got_events and (
        (lib is not None and isinstance(exc, lib.StreamTerminatedError))
        or isinstance(exc, (ConnectionError, EOFError))
    ):
        return f"与网关的连接中断 / lost the connection to the gateway at {endpoint}: {exc}"
    if isinstance(exc, OSError):
        return f"无法连接网关 / gateway unreachable at {endpoint}: {exc}"
    if lib is not None and isinstance(exc, lib.WechatyPuppetError) and "ping" in str(exc):
        return f"无法连接网关 / gateway unreachable at {endpoint}"
    return f"网关连接失败 / gateway connection failed: {name}: {exc}"


def to_utc(timestamp: int | float | None) -> datetime | None:
    """A payload timestamp (seconds or milliseconds since the epoch) as an aware UTC datetime."""
    if not timestamp:
        return None
    ts = float(timestamp)
    if ts > 2145888000:  # milliseconds (python-wechaty's own threshold)
        ts /= 1000.0
    try:
        return datetime.fromtimestamp(ts, tz=timezone.utc)
    except (OverflowError, OSError, ValueError):
        return None


async def tcp_reachable(host: str, port: int, timeout: float) -> None:
    """Raise OSError / TimeoutError unless host:port accepts a TCP connection quickly.

    puppet.start() pings the endpoint with a *blocking* telnet connect (3 s): checking first
    keeps the event loop free when the gateway is down.
    """
    reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    writer.close()
    try:
        await asyncio.wait_for(writer.wait_closed(), 1.0)
    except Exception:  # noqa: BLE001 - best effort close
        pass


async def _cancel_hard(task: asyncio.Task[Any], tries: int = 10) -> None:
    for _ in range(tries):
        if task.done():
            break
        task.cancel()
        await asyncio.wait({task}, timeout=0.2)
    if task.done() and not task.cancelled():
        task.exception()  # retrieved: no "exception was never retrieved" noise
    elif not task.done():
        log.warning("wechaty: a task ignored cancellation: %r", task)


# --------------------------------------------------------------------------------------------
# the transport
# --------------------------------------------------------------------------------------------
@dataclass
class _Session:
    generation: int
    bot: Any
    puppet: Any
    scheduler: Any
    started_at: float
    last_event: float
    self_id: str = ""
    self_name: str = ""
    logged_in: bool = False
    got_events: bool = False
    closed: bool = False
    room_ids: set[str] = field(default_factory=set)


class WechatyTransport(TransportBase):
    """A :class:`bot.transports.base.Transport` over a Wechaty puppet service gateway."""

    name = "wechaty"
    idempotent_sends = False
    connects_later = True  # schedules resume on the Connected (login) event, not at start

    def __init__(
        self,
        endpoint: str,
        token: str,
        *,
        name: str = "wechaty",
        ding_interval: float = 30.0,
        dong_timeout: float = 15.0,
        rpc_timeout: float = 15.0,
        start_timeout: float = 15.0,
        backoff_initial: float = 1.0,
        backoff_max: float = 60.0,
        connect_timeout: float = 5.0,
    ) -> None:
        self.name = name
        self.endpoint = endpoint
        self._token = token
        self.ding_interval = ding_interval
        self.dong_timeout = dong_timeout
        self.rpc_timeout = rpc_timeout
        self.start_timeout = start_timeout
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self.connect_timeout = connect_timeout

        self._on_event: EventHandler | None = None
        self._queue: asyncio.Queue[tuple[_Session | None, Callable[[], Any]]] | None = None
        self._runner: asyncio.Task[None] | None = None
        self._worker: asyncio.Task[None] | None = None
        self._session: _Session | None = None
        self._generation = 0
        self._stopping = False
        self._connected = False  # a Connected event was delivered and no Disconnected since
        self._first_outcome: asyncio.Event | None = None
        self._first_error: BaseException | None = None
        # room id -> topic (all sessions), topic -> current room id (this session)
        self._topic_of: dict[str, str] = {}
        self._id_of_topic: dict[str, str] = {}
        self._dong_waiters: list[asyncio.Future[float]] = []
        self.last_disconnect_reason = ""
        self.connections = 0  # successful sessions (a login was seen), for tests and status

    # ------------------------------------------------------------------ lifecycle
    async def start(self, on_event: EventHandler) -> None:
        """Start the connection loop; returns once the gateway answered (or ``start_timeout``).

        A wrong token is raised as :class:`WechatyAuthError`; an unreachable gateway is only
        logged (the loop keeps retrying with back-off, and Disconnected events say why).
        """
        if self._runner is not None:
            raise RuntimeError("WechatyTransport already started")
        self._on_event = on_event
        self._stopping = False
        self._queue = asyncio.Queue()
        self._first_outcome = asyncio.Event()
        self._first_error = None
        import_wechaty()
        self._worker = asyncio.create_task(self._deliver_loop(), name="wechaty-deliver")
        self._runner = asyncio.create_task(self._connection_loop(), name="wechaty-connect")
        try:
            await asyncio.wait_for(self._first_outcome.wait(), self.start_timeout)
        except asyncio.TimeoutError:
            log.warning("wechaty: no answer from %s within %.0fs, still trying",
                        self.endpoint, self.start_timeout)
            return
        err = self._first_error
        if err is not None and isinstance(err, WechatyAuthError):
            await self.stop()
            raise err
        if err is not None:
            log.warning("wechaty: %s (retrying in the background)", err)

    async def stop(self) -> None:
        self._stopping = True
        runner, self._runner = self._runner, None
        if runner is not None:
            runner.cancel()
            await asyncio.gather(runner, return_exceptions=True)
        if self._session is not None:
            await self._close_session(self._session)
            self._session = None
        worker, self._worker = self._worker, None
        if worker is not None and self._queue is not None:
            # let already-queued events (e.g. the final Disconnected) reach the core, briefly
            try:
                await asyncio.wait_for(self._queue.join(), 2.0)
            except asyncio.TimeoutError:
                pass
            worker.cancel()
            await asyncio.gather(worker, return_exceptions=True)

    @property
    def connected(self) -> bool:
        return self._connected

    # ------------------------------------------------------------------ connection loop
    async def _connection_loop(self) -> None:
        delay = self.backoff_initial
        while not self._stopping:
            session: _Session | None = None
            error: BaseException | None = None
            try:
                session = await self._open_session()
                await self._run_session(session)
                error = ConnectionError("事件流被网关关闭 / the gateway closed the event stream")
            except asyncio.CancelledError:
                if session is not None:
                    await self._close_session(session)
                raise
            except BaseException as exc:  # noqa: BLE001 - every failure leads to a reconnect
                error = exc
            got_events = bool(session and session.got_events)
            logged_in_before = bool(session and session.logged_in)
            if session is not None:
                await self._close_session(session)
            reason = describe_failure(error, self.endpoint, got_events=got_events)
            auth = self._is_auth_error(error)
            self.last_disconnect_reason = reason
            log.warning("wechaty: %s", reason)
            self._enqueue(None, functools.partial(self._disconnected, reason))
            if self._first_outcome is not None and not self._first_outcome.is_set():
                self._first_error = WechatyAuthError(reason) if auth else TransportError(reason)
                self._first_outcome.set()
            if logged_in_before:
                delay = self.backoff_initial
            if self._stopping:
                break
            # a wrong token will not fix itself quickly: wait at least the max back-off
            wait = max(delay, self.backoff_max) if auth else delay
            await asyncio.sleep(wait * random.uniform(0.8, 1.2))
            delay = min(self.backoff_max, delay * 2)

    def _is_auth_error(self, exc: BaseException | None) -> bool:
        lib = _LIB
        return bool(
            lib is not None and isinstance(exc, lib.GRPCError)
            and exc.status == lib.Status.UNAUTHENTICATED
        )

    async def _open_session(self) -> _Session:
        lib = import_wechaty()
        host, port = split_endpoint(self.endpoint)
        await tcp_reachable(host, port, self.connect_timeout)
        reset_pools(lib)
        scheduler = lib.AsyncIOScheduler()
        options = lib.WechatyOptions(
            name=f"stairwell-{self.name}",
            puppet="wechaty-puppet-service",
            # a fresh PuppetOptions every time: the dataclass default is shared process-wide
            puppet_options=lib.PuppetOptions(end_point=self.endpoint, token=self._token),
            host="127.0.0.1",
            port=0,
            scheduler=scheduler,
        )
        bot = lib.Wechaty(options)
        await bot.init_puppet()
        reset_pools(lib, bot)
        await bot.init_puppet_event_bridge(bot.puppet)
        puppet = bot.puppet
        # Bypass python-wechaty's message listener: it drops repeated ids (SingleIdContainer)
        # and fetches every payload a second time. Duplicates are the core's business.
        puppet._event_stream.remove_all_listeners("message")
        self._generation += 1
        now = time.monotonic()
        session = _Session(self._generation, bot, puppet, scheduler, now, now)
        for event_name in ("login", "logout", "message", "room-join", "room-leave",
                           "room-topic", "dong", "heartbeat", "scan", "ready", "error"):
            puppet.on(event_name, self._listener(session, event_name))
        self._session = session
        return session

    def _listener(self, session: _Session, event_name: str) -> Callable[..., None]:
        def listener(payload: Any = None, *_: Any) -> None:
            if session.closed:
                return
            if event_name == "error" and isinstance(payload, BaseException):
                # pyee reports exceptions raised by python-wechaty's own listeners here
                log.debug("wechaty: internal listener error: %r", payload)
                return
            session.last_event = time.monotonic()
            session.got_events = True
            if event_name == "dong":
                waiters, self._dong_waiters = self._dong_waiters, []
                for fut in waiters:
                    if not fut.done():
                        fut.set_result(session.last_event)
            if self._first_outcome is not None and not self._first_outcome.is_set():
                self._first_outcome.set()
            handler = getattr(self, "_on_" + event_name.replace("-", "_"), None)
            if handler is not None:
                self._enqueue(session, lambda: handler(session, payload))

        return listener

    async def _run_session(self, session: _Session) -> None:
        start_task = asyncio.create_task(session.puppet.start(), name="wechaty-puppet")
        dog = asyncio.create_task(self._watchdog(session), name="wechaty-watchdog")
        try:
            done, _ = await asyncio.wait({start_task, dog}, return_when=asyncio.FIRST_COMPLETED)
            for task in (start_task, dog):
                if task in done:
                    task.result()  # raises the failure
        finally:
            # Close the channel first so in-flight RPCs fail at once, then cancel -- more than
            # once if needed: puppet.start() runs ``try: Stop() finally: Start()``, so a single
            # cancel during Stop just starts another (possibly hanging) RPC.
            channel = getattr(session.puppet, "channel", None)
            if channel is not None:
                try:
                    channel.close()
                except Exception:  # noqa: BLE001
                    pass
            for task in (start_task, dog):
                await _cancel_hard(task)

    async def _watchdog(self, session: _Session) -> None:
        dead_after = self.ding_interval + self.dong_timeout
        while True:
            await asyncio.sleep(self.ding_interval)
            if session.puppet._puppet_stub is not None:
                try:
                    await asyncio.wait_for(session.puppet.ding("stairwell"), self.dong_timeout)
                except self._grpc_error() as exc:
                    if self._is_auth_error(exc):
                        raise
                    log.debug("wechaty: ding failed: %r", exc)
                except (asyncio.TimeoutError, OSError) as exc:
                    log.debug("wechaty: ding failed: %r", exc)
            silent = time.monotonic() - session.last_event
            if silent > dead_after:
                raise _WatchdogTimeout(
                    f"{silent:.1f}s 内没有任何事件（含 DONG）/ no event (not even a DONG) "
                    f"for {silent:.1f}s"
                )

    def _grpc_error(self) -> type[BaseException]:
        return _LIB.GRPCError if _LIB is not None else RuntimeError

    async def _close_session(self, session: _Session) -> None:
        if session.closed:
            return
        session.closed = True
        if self._session is session:
            self._session = None
        self._id_of_topic.clear()
        puppet = session.puppet
        try:
            puppet._event_stream.remove_all_listeners()
        except Exception:  # noqa: BLE001
            pass
        # No Stop RPC here: the next session's puppet.start() calls Stop then Start itself.
        channel = getattr(puppet, "channel", None)
        if channel is not None:
            try:
                channel.close()
            except Exception:  # noqa: BLE001
                pass
            puppet.channel = None
        puppet._puppet_stub = None
        try:
            if session.scheduler.running:
                session.scheduler.shutdown(wait=False)
        except Exception:  # noqa: BLE001
            pass
        lib = _LIB
        if lib is not None:
            reset_pools(lib)

    # ------------------------------------------------------------------ event delivery
    def _enqueue(self, session: _Session | None, make: Callable[[], Any]) -> None:
        if self._queue is not None:
            self._queue.put_nowait((session, make))

    async def _deliver_loop(self) -> None:
        assert self._queue is not None
        while True:
            session, make = await self._queue.get()
            try:
                if session is not None and session.closed:
                    continue
                try:
                    event = await make()
                except Exception as exc:  # noqa: BLE001 - one bad event never kills the loop
                    log.warning("wechaty: could not translate an event: %r", exc)
                    continue
                if event is None or self._on_event is None:
                    continue
                try:
                    refused = refusal(await asyncio.shield(self._on_event(event)))
                    if refused is not None:  # no one to answer here: at least it is not silent
                        log.error("wechaty: a %s was not taken (%s)", type(event).__name__, refused[1])
                except asyncio.CancelledError:
                    raise
                except Exception:  # noqa: BLE001
                    log.exception("wechaty: the core failed on %s", type(event).__name__)
            finally:
                self._queue.task_done()

    async def _rpc(self, coro: Any) -> Any:
        return await asyncio.wait_for(coro, self.rpc_timeout)

    async def _contact(self, session: _Session, contact_id: str) -> Any:
        contact = session.bot.Contact.load(contact_id)
        if not contact.is_ready():
            await self._rpc(contact.ready())
        return contact

    async def _room(self, session: _Session, room_id: str) -> Any:
        room = session.bot.Room.load(room_id)
        if not room.is_ready():
            await self._rpc(room.ready())
        session.room_ids.add(room_id)
        topic = room.payload.topic or ""
        if topic:
            self._topic_of[room_id] = topic
            self._id_of_topic[topic] = room_id
        return room

    async def _contact_name(self, session: _Session, contact_id: str) -> str:
        try:
            return (await self._contact(session, contact_id)).payload.name or contact_id
        except Exception as exc:  # noqa: BLE001
            log.debug("wechaty: no name for %s: %r", contact_id, exc)
            return contact_id

    async def _room_topic(self, session: _Session, room_id: str) -> str | None:
        try:
            return (await self._room(session, room_id)).payload.topic or None
        except Exception as exc:  # noqa: BLE001
            log.debug("wechaty: no topic for %s: %r", room_id, exc)
            return self._topic_of.get(room_id)

    # event handlers: each returns a core event (or None)
    async def _on_login(self, session: _Session, payload: Any) -> Event | None:
        session.self_id = payload.contact_id
        session.self_name = await self._contact_name(session, payload.contact_id)
        if session.self_name == session.self_id:
            session.self_name = ""
        first = not session.logged_in
        session.logged_in = True
        if first:
            self.connections += 1
        self._connected = True
        return Connected(self.name, self_id=session.self_id, self_name=session.self_name)

    async def _on_logout(self, session: _Session, payload: Any) -> Event | None:
        session.logged_in = False
        reason = "微信账号已登出 / the WeChat account logged out"
        data = getattr(payload, "data", None)
        if data:
            reason += f": {data}"
        return await self._disconnected(reason)

    async def _disconnected(self, reason: str) -> Event | None:
        if not self._connected:
            return None
        self._connected = False
        return Disconnected(self.name, reason=reason)

    async def _on_message(self, session: _Session, payload: Any) -> Event | None:
        lib = import_wechaty()
        message_id = payload.message_id
        msg = await self._rpc(session.puppet.message_payload(message_id))
        if msg.type != lib.MessageType.MESSAGE_TYPE_TEXT:
            log.debug("wechaty: skipping %s message %s", getattr(msg.type, "name", msg.type),
                      message_id)
            return None
        text = msg.text or ""
        sender_id = msg.from_id or ""
        room_id = (msg.room_id or "").strip() or None
        sender_name = await self._contact_name(session, sender_id) if sender_id else ""
        topic = await self._room_topic(session, room_id) if room_id else None
        mention_ids = tuple(i for i in (msg.mention_ids or []) if i)
        self_id = session.self_id
        mentions_bot = bool(self_id and self_id in mention_ids)
        if not mentions_bot and room_id and session.self_name:
            mentions_bot = f"@{session.self_name}" in text
        return Incoming(
            transport=self.name,
            message_id=msg.id or message_id,
            room_id=room_id,
            room_topic=topic,
            sender_id=sender_id,
            sender_name=sender_name,
            text=text,
            mentions_bot=mentions_bot,
            mention_ids=mention_ids,
            sent_at=to_utc(msg.timestamp),
            is_self=bool(self_id and sender_id == self_id),
        )

    async def _on_room_join(self, session: _Session, payload: Any) -> Event | None:
        room_id = payload.room_id
        room = session.bot.Room.load(room_id)
        room._payload = None  # membership changed: re-read the room
        topic = await self._room_topic(session, room_id)
        ids = tuple(i for i in (payload.invited_ids or []) if i)
        names = tuple([await self._contact_name(session, i) for i in ids])
        return RoomJoined(
            self.name, room_id=room_id, room_topic=topic, member_ids=ids, member_names=names,
            bot_joined=bool(session.self_id and session.self_id in ids),
        )

    async def _on_room_leave(self, session: _Session, payload: Any) -> Event | None:
        room_id = payload.room_id
        topic = await self._room_topic(session, room_id)
        ids = tuple(i for i in (payload.removed_ids or []) if i)
        return RoomLeft(
            self.name, room_id=room_id, room_topic=topic, member_ids=ids,
            bot_left=bool(session.self_id and session.self_id in ids),
        )

    async def _on_room_topic(self, session: _Session, payload: Any) -> Event | None:
        room = session.bot.Room.load(payload.room_id)
        if room._payload is not None and payload.new_topic:
            room._payload.topic = payload.new_topic
        old = self._topic_of.get(payload.room_id)
        if old and self._id_of_topic.get(old) == payload.room_id:
            del self._id_of_topic[old]
        if payload.new_topic:
            self._topic_of[payload.room_id] = payload.new_topic
            self._id_of_topic[payload.new_topic] = payload.room_id
        return None

    # ------------------------------------------------------------------ diagnostics
    async def ping(self, timeout: float = 5.0) -> float:
        """Ding the gateway and wait for its DONG event; returns the round trip in seconds."""
        session = self._session
        if session is None or session.closed:
            raise TransportError("微信网关未连接 / not connected to the Wechaty gateway")
        fut: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self._dong_waiters.append(fut)
        started = time.monotonic()
        try:
            await asyncio.wait_for(session.puppet.ding("stairwell-ping"), timeout)
            await asyncio.wait_for(asyncio.shield(fut), max(0.0, timeout - (time.monotonic() - started)))
        finally:
            if fut in self._dong_waiters:
                self._dong_waiters.remove(fut)
        return time.monotonic() - started

    async def list_rooms(self, limit: int = 200) -> list[tuple[str, str | None]]:
        """(room id, topic) of the rooms the logged-in account is in (at most ``limit``)."""
        session = self._session
        if session is None or session.closed:
            raise TransportError("微信网关未连接 / not connected to the Wechaty gateway")
        ids = await self._rpc(session.puppet.room_list())
        return [(rid, await self._room_topic(session, rid)) for rid in list(ids)[:limit]]

    # ------------------------------------------------------------------ sending
    async def _resolve_room(self, session: _Session, room_id: str) -> str:
        """Map a room id from an earlier login (or a topic) to the current room id."""
        if room_id in session.room_ids:
            return room_id
        topic = self._topic_of.get(room_id) or room_id
        if topic in self._id_of_topic:
            return self._id_of_topic[topic]
        if room_id in self._topic_of or room_id not in self._topic_of.values():
            # unknown here: look the rooms up once (ids are stable with most puppets)
            try:
                ids = await self._rpc(session.puppet.room_list())
            except Exception as exc:  # noqa: BLE001
                log.debug("wechaty: room_list failed: %r", exc)
                return room_id
            if room_id in ids:
                session.room_ids.add(room_id)
                return room_id
            for rid in ids:
                t = await self._room_topic(session, rid)
                if t == topic:
                    return rid
        return room_id

    async def send(self, message: Outgoing) -> str:
        session = self._session
        if session is None or session.closed or not session.logged_in:
            raise TransportError(
                "微信网关未连接 / not connected to the Wechaty gateway", retryable=True
            )
        lib = import_wechaty()
        if message.room_id is not None:
            conversation_id = await self._resolve_room(session, message.room_id)
        else:
            conversation_id = message.to or ""
        mentions = [m for m in message.mentions if m]
        text = message.text
        if mentions and message.room_id is not None:
            prefix = ""
            for contact_id in mentions:
                name = await self._contact_name(session, contact_id)
                if name and f"@{name}" not in text:
                    prefix += f"@{name}{MENTION_SEP}"
            text = prefix + text
        try:
            sent_id = await self._rpc(
                session.puppet.message_send_text(conversation_id, text, mentions)
            )
        except lib.GRPCError as exc:
            retryable = exc.status not in (
                lib.Status.INVALID_ARGUMENT, lib.Status.NOT_FOUND,
                lib.Status.PERMISSION_DENIED, lib.Status.UNIMPLEMENTED,
            )
            raise TransportError(
                f"发送失败 / send failed: {exc.status.name} {exc.message or ''}".strip(),
                retryable=retryable,
            ) from exc
        except asyncio.TimeoutError as exc:
            raise TransportError(
                f"发送超时 / send timed out after {self.rpc_timeout:.0f}s", retryable=True
            ) from exc
        except (OSError, lib.StreamTerminatedError) as exc:
            raise TransportError(f"发送失败 / send failed: {exc!r}", retryable=True) from exc
        return sent_id or f"wechaty-local-{uuid.uuid4().hex}"


def create(config: Any = None, **options: Any) -> WechatyTransport:
    """Registry factory: settings from the environment, overridable by keyword options."""
    endpoint, token = read_settings(options.pop("endpoint", None), options.pop("token", None))
    for ignored in ("host", "port"):  # generic CLI options that mean nothing here
        if options.pop(ignored, None) is not None:
            log.info("wechaty: option %r ignored (the gateway is %s)", ignored, endpoint)
    return WechatyTransport(endpoint, token, **options)
