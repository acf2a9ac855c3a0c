"""The local web chat: a WeChat-like page and a small JSON API over aiohttp.

The page lets a person pick a group and who they are, shows the group's
history from the database and receives the bot's messages live over a
WebSocket. Scripts and tests use the JSON API (see the README).
"""
from __future__ import annotations

import json
import logging
import uuid
import weakref
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from aiohttp import WSMsgType, web

from bot.events import Handled, Incoming, Outgoing, Replies
from bot.privacy import clean_name, clean_text, mask
from bot.transports.base import EventHandler, TransportBase, TransportError, refusal
from bot.transports.httpinput import BadInput, loads
from bot.webapi import StorageViews
from bot.webserver import WebServer

log = logging.getLogger(__name__)

PAGE = Path(__file__).with_name("webchat_page.html")
MAX_TEXT = 4000
MAX_NAME = 64


def json_response(data: object, status: int = 200) -> web.Response:
    """JSON with Chinese kept readable (not \\u escapes)."""
    return web.json_response(data, status=status, dumps=lambda obj: json.dumps(obj, ensure_ascii=False))


def json_error(status: int, message: str) -> web.Response:
    return json_response({"error": message}, status=status)


@web.middleware
async def errors_as_json(request: web.Request, handler) -> web.StreamResponse:
    """Every error is a JSON object; never a traceback or an HTML page. Requests routed into a
    sub-application (the staff console under /staff/) answer in their own way."""
    if len(request.match_info.apps) > 1:
        return await handler(request)
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status >= 400 and exc.content_type != "application/json":
            return json_error(exc.status, exc.reason or "error")
        raise
    except Exception:
        log.exception("web chat request failed: %s %s", request.method, request.path)
        return json_error(500, "internal error")


def _field(body: dict, name: str, *, required: bool = True, limit: int = MAX_NAME) -> str | None:
    value = body.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise BadInput(f"'{name}' must be a non-empty string")
    if len(value) > limit:
        raise BadInput(f"'{name}' is longer than {limit} characters")
    return value.strip()


class WebChatTransport(TransportBase):
    name = "webchat"
    idempotent_sends = True  # a send is a log row keyed by the outbox key; the page reloads history
    acknowledges = True  # the HTTP answer says whether the message was stored

    def __init__(self, host: str = "127.0.0.1", port: int = 8080) -> None:
        self.host = host
        self.port = port
        self.web_address = (host, port)  # the app's web server listens here and serves these pages
        self.views: StorageViews | None = None
        self.on_event: EventHandler | None = None
        self._server: WebServer | None = None
        self._sockets: weakref.WeakSet[web.WebSocketResponse] = weakref.WeakSet()
        self._socket_meta: dict[int, tuple[str | None, str | None]] = {}
        self.bound_port: int | None = None

    # -- wiring --------------------------------------------------------------
    def bind_views(self, views: StorageViews) -> None:
        self.views = views

    def use_web(self, server: WebServer) -> None:
        """The page, the JSON API and the WebSocket on the app's web server (web.demo_chat)."""
        self._server = server
        app = server.app
        app.middlewares.append(errors_as_json)
        app.router.add_get("/", self.page)
        app.router.add_get("/api/rooms", self.list_rooms)
        app.router.add_get("/api/people", self.list_people)
        app.router.add_get("/api/rooms/{room_id}/messages", self.room_messages)
        app.router.add_post("/api/rooms/{room_id}/messages", self.post_message)
        app.router.add_post("/api/private/messages", self.post_private)  # a private chat with the bot
        app.router.add_get("/ws", self.websocket)

    async def start(self, on_event: EventHandler) -> None:
        """The app's web server is already listening (it starts before the transport)."""
        self.on_event = on_event
        self.bound_port = self._server.bound_port if self._server is not None else None
        if self.bound_port is not None:
            log.info("web chat on http://%s:%s", self.host, self.bound_port)

    async def stop(self) -> None:
        for ws in list(self._sockets):
            await ws.close()
        self.on_event = None

    async def send(self, message: Outgoing) -> str:
        if self.on_event is None:
            raise TransportError("web chat is not running")
        await self._push(
            {
                "type": "message",
                "room_id": message.room_id,
                "to": message.to,
                "sender_id": "bot",
                "sender_name": "楼道通",
                "text": message.text,
                "from_bot": True,
                "at": datetime.now(timezone.utc).isoformat(),
            }
        )
        return f"web-out:{message.key or uuid.uuid4().hex}"

    async def _push(self, payload: dict[str, Any]) -> None:
        data = json.dumps(payload, ensure_ascii=False)
        for ws in list(self._sockets):
            room, person = self._socket_meta.get(id(ws), (None, None))
            if payload.get("room_id") and payload["room_id"] != room:
                continue
            if payload.get("to") and payload["to"] != person:
                continue
            try:
                await ws.send_str(data)
            except (ConnectionError, RuntimeError):
                pass

    # -- handlers --------------------------------------------------------------
    async def page(self, request: web.Request) -> web.Response:
        return web.Response(text=PAGE.read_text(encoding="utf-8"), content_type="text/html")

    async def list_rooms(self, request: web.Request) -> web.Response:
        assert self.views is not None
        return json_response(self.views.rooms())

    async def list_people(self, request: web.Request) -> web.Response:
        assert self.views is not None
        return json_response(self.views.people())

    async def room_messages(self, request: web.Request) -> web.Response:
        assert self.views is not None
        room_id = request.match_info["room_id"]
        if self.views.room(room_id) is None:
            return json_error(404, f"unknown room '{room_id}'")
        try:
            limit = int(request.query.get("limit", "50"))
        except ValueError:
            return json_error(400, "'limit' must be a whole number")
        if not 1 <= limit <= 500:
            return json_error(400, "'limit' must be between 1 and 500")
        return json_response(self.views.history(room_id, limit))

    async def post_message(self, request: web.Request) -> web.Response:
        assert self.views is not None
        room_id = request.match_info["room_id"]
        room = self.views.room(room_id)
        if room is None:
            return json_error(404, f"unknown room '{room_id}'")
        return await self._handle(request, room.id, room.topic)

    async def post_private(self, request: web.Request) -> web.Response:
        """A private chat with the bot (staff commands such as /登录, a resident's /删除我的信息)."""
        return await self._handle(request, None, None)

    async def _handle(self, request: web.Request, room_id: str | None, topic: str | None) -> web.Response:
        if self.on_event is None:  # the server listens a moment before the bot takes messages
            return json_error(503, "starting, please retry")
        try:
            event = self._incoming(room_id, topic, loads(await request.read()))
        except BadInput as exc:
            return json_error(400, str(exc))
        replies = await self.on_event(event)
        if replies is None:  # a core that answers nothing (tests' stand-ins)
            replies = Replies()
        refused = refusal(replies)
        if refused is not None:  # not stored: never a 200 the sender would take as "sent"
            return json_error(*refused)
        handled = replies.handled.as_dict() if isinstance(replies, Replies) else Handled().as_dict()
        if handled.get("route") != "duplicate":
            # The resident's message as it was stored (masked); the bot's answers follow from the outbox.
            await self._push(
                {
                    "type": "message",
                    **({"room_id": room_id} if room_id else {"to": event.sender_id}),
                    "message_id": event.message_id,
                    "sender_id": event.sender_id,
                    "sender_name": event.sender_name,
                    "text": mask(clean_text(event.text)),
                    "from_bot": False,
                    "at": datetime.now(timezone.utc).isoformat(),
                }
            )
        return json_response(
            {
                "message_id": event.message_id,
                "handled": handled,
                "replies": [
                    {**({"room_id": r.room_id} if r.room_id else {"to": r.to}), "text": r.text, "mentions": list(r.mentions)}
                    for r in replies
                ],
            }
        )

    def _incoming(self, room_id: str | None, topic: str | None, body: Any) -> Incoming:
        """The message a POST body describes, or BadInput."""
        if not isinstance(body, dict):
            raise BadInput("body must be a JSON object")
        sender_id = _field(body, "sender_id")
        sender_name = _field(body, "sender_name")
        text = _field(body, "text", limit=MAX_TEXT)
        message_id = _field(body, "message_id", required=False, limit=128) or uuid.uuid4().hex
        mentions_bot = body.get("mentions_bot", False)
        if not isinstance(mentions_bot, bool):
            raise BadInput("'mentions_bot' must be true or false")
        assert sender_id and sender_name and text
        return Incoming(
            transport=self.name,
            message_id=message_id,
            room_id=room_id,
            room_topic=topic,
            sender_id=sender_id,
            sender_name=clean_name(sender_name),
            text=text,
            mentions_bot=mentions_bot or text.lstrip().startswith("@楼道通"),
            sent_at=None,  # live: the core stamps it with its own clock
        )

    async def websocket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(heartbeat=30)
        await ws.prepare(request)
        self._sockets.add(ws)
        self._socket_meta[id(ws)] = (request.query.get("room"), request.query.get("person"))
        try:
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:  # the page may switch room or person
                    try:
                        data = json.loads(msg.data)
                        self._socket_meta[id(ws)] = (data.get("room"), data.get("person"))
                    except (json.JSONDecodeError, AttributeError):
                        pass
                elif msg.type == WSMsgType.ERROR:
                    break
        finally:
            self._socket_meta.pop(id(ws), None)
        return ws


def create(config: Any, **options: Any) -> WebChatTransport:
    host = options.get("host") or config.web.host
    port = options.get("port")
    return WebChatTransport(host=host, port=config.web.port if port is None else port)
