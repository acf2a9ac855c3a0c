"""A fake Wechaty puppet service gateway: a grpclib server on 127.0.0.1 speaking the real
``wechaty.Puppet`` protocol with the message classes shipped in ``wechaty_grpc``.

It holds contacts, rooms and messages, streams events to every open ``Event`` call, records
every RPC (``calls``) and every ``MessageSendText`` request (``sent``), checks the token sent
as the ``:authority`` header (wrong token -> ``UNAUTHENTICATED``, like the Node gateway), and
can be made silent (no DONG, no events) to exercise the client's watchdog.
"""
from __future__ import annotations

import asyncio
import itertools
import json
import time
from typing import Any, Callable

from grpclib.const import Cardinality, Handler, Status
from grpclib.exceptions import GRPCError
from grpclib.server import Handler as _ServerHandler
from grpclib.server import Server

from wechaty_grpc.wechaty import puppet as pb

from tests.conftest import eventually

# wechaty-puppet (TypeScript) message type numbers, as a real gateway sends them
TS_TEXT = 7
TS_IMAGE = 6

EVENT_HEARTBEAT = 1
EVENT_MESSAGE = 2
EVENT_DONG = 3
EVENT_ROOM_JOIN = 19
EVENT_ROOM_LEAVE = 20
EVENT_ROOM_TOPIC = 21
EVENT_SCAN = 22
EVENT_LOGIN = 25
EVENT_LOGOUT = 26


class _AuthHandler(_ServerHandler):
    """Remembers each request's ``:authority`` (where python-wechaty puts the token)."""

    def accept(self, stream: Any, headers: Any, release_stream: Any) -> None:
        stream.stairwell_authority = dict(headers).get(":authority", "")
        super().accept(stream, headers, release_stream)


class _Server(Server):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.protocols: list[Any] = []

    def _protocol_factory(self) -> Any:
        self.__gc_step__()
        handler = _AuthHandler(
            self._mapping, self._codec, self._status_details_codec, self.__dispatch__,
        )
        self._handlers.add(handler)
        from grpclib.protocol import H2Protocol

        proto = H2Protocol(handler, self._config, self._h2_config)
        self.protocols.append(proto)
        return proto


class FakeGateway:
    def __init__(self, token: str = "stairwell-test-token", *, self_id: str = "wxid_bot",
                 self_name: str = "楼道通") -> None:
        self.token = token
        self.self_id = self_id
        self.self_name = self_name
        self.port = 0
        self.contacts: dict[str, pb.ContactPayloadResponse] = {}
        self.rooms: dict[str, pb.RoomPayloadResponse] = {}
        self.messages: dict[str, pb.MessagePayloadResponse] = {}
        self.sent: list[pb.MessageSendTextRequest] = []
        self.calls: list[str] = []
        self.logged_in = True
        self.silent = False
        self.dong = True  # answer a Ding with a DONG event
        self._streams: list[asyncio.Queue[pb.EventResponse | None]] = []
        self._server: _Server | None = None
        self._ids = itertools.count(1)
        self._changed = asyncio.Event()
        self.add_contact(self_id, self_name)

    # ------------------------------------------------------------------ data
    def add_contact(self, contact_id: str, name: str) -> None:
        self.contacts[contact_id] = pb.ContactPayloadResponse(
            id=contact_id, name=name, type=pb.ContactType.CONTACT_TYPE_PERSONAL, friend=True,
        )

    def add_room(self, room_id: str, topic: str, member_ids: list[str]) -> None:
        self.rooms[room_id] = pb.RoomPayloadResponse(
            id=room_id, topic=topic, member_ids=list(member_ids), owner_id=member_ids[0],
        )

    def rename_room_id(self, old: str, new: str) -> None:
        """What some puppets do at re-login: same room, new id."""
        room = self.rooms.pop(old)
        room.id = new
        self.rooms[new] = room

    # ------------------------------------------------------------------ events
    def emit(self, event_type: int, payload: dict[str, Any]) -> None:
        if self.silent:
            return
        response = pb.EventResponse(type=event_type, payload=json.dumps(payload))
        for queue in list(self._streams):
            queue.put_nowait(response)

    def say(self, text: str, *, sender: str, room: str | None = None,
            mentions: list[str] | tuple[str, ...] = (), message_id: str | None = None,
            timestamp: float | None = None, to: str | None = None, msg_type: int = TS_TEXT,
            emit: bool = True) -> str:
        message_id = message_id or f"msg-{next(self._ids)}"
        self.messages[message_id] = pb.MessagePayloadResponse(
            id=message_id, text=text, type=msg_type, from_id=sender, room_id=room or "",
            to_id=to or ("" if room else self.self_id), mention_ids=list(mentions),
            timestamp=int((timestamp if timestamp is not None else time.time()) * 1000),
        )
        if emit:
            self.emit(EVENT_MESSAGE, {"messageId": message_id})
        return message_id

    def redeliver(self, message_id: str) -> None:
        self.emit(EVENT_MESSAGE, {"messageId": message_id})

    @property
    def streams(self) -> int:
        return len(self._streams)

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 5.0) -> None:
        await eventually(predicate, timeout=timeout, what="the fake gateway's condition", wake=self._changed)

    # ------------------------------------------------------------------ server
    async def start(self, port: int = 0) -> None:
        self._server = _Server([self])
        await self._server.start("127.0.0.1", port or self.port or 0, reuse_address=True)
        self.port = self._server._server.sockets[0].getsockname()[1]

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.port}"

    async def stop(self) -> None:
        """The gateway process dies: streams end, TCP connections are dropped."""
        server, self._server = self._server, None
        if server is None:
            return
        for queue in self._streams:
            queue.put_nowait(None)
        self._streams.clear()
        server.close()
        for proto in server.protocols:
            conn = getattr(proto, "connection", None)
            transport = getattr(conn, "_transport", None)
            if transport is not None:
                transport.abort()
        try:
            await asyncio.wait_for(server.wait_closed(), 2.0)
        except asyncio.TimeoutError:
            pass

    # ------------------------------------------------------------------ RPCs
    def __mapping__(self) -> dict[str, Handler]:
        u = Cardinality.UNARY_UNARY
        rpcs: dict[str, tuple[Callable[[Any], Any], Cardinality, type, type]] = {
            "Start": (self._start, u, pb.StartRequest, pb.StartResponse),
            "Stop": (self._stop, u, pb.StopRequest, pb.StopResponse),
            "Ding": (self._ding, u, pb.DingRequest, pb.DingResponse),
            "Event": (self._event, Cardinality.UNARY_STREAM, pb.EventRequest, pb.EventResponse),
            "ContactPayload": (self._contact_payload, u, pb.ContactPayloadRequest,
                               pb.ContactPayloadResponse),
            "ContactList": (self._contact_list, u, pb.ContactListRequest,
                            pb.ContactListResponse),
            "RoomPayload": (self._room_payload, u, pb.RoomPayloadRequest,
                            pb.RoomPayloadResponse),
            "RoomList": (self._room_list, u, pb.RoomListRequest, pb.RoomListResponse),
            "RoomMemberList": (self._room_member_list, u, pb.RoomMemberListRequest,
                               pb.RoomMemberListResponse),
            "MessagePayload": (self._message_payload, u, pb.MessagePayloadRequest,
                               pb.MessagePayloadResponse),
            "MessageSendText": (self._message_send_text, u, pb.MessageSendTextRequest,
                                pb.MessageSendTextResponse),
        }
        return {
            f"/wechaty.Puppet/{name}": Handler(self._guard(name, func), card, req, rep)
            for name, (func, card, req, rep) in rpcs.items()
        }

    def _guard(self, name: str, func: Callable[[Any], Any]) -> Callable[[Any], Any]:
        async def handler(stream: Any) -> None:
            self.calls.append(name)
            self._changed.set()
            authority = getattr(stream._stream, "stairwell_authority", "")
            if authority != self.token:
                raise GRPCError(Status.UNAUTHENTICATED, "invalid token")
            if self.silent and name != "Event":
                await asyncio.sleep(3600)  # a hung gateway: accepts calls, never answers
            await func(stream)

        return handler

    async def _start(self, stream: Any) -> None:
        await stream.recv_message()
        await stream.send_message(pb.StartResponse())

    async def _stop(self, stream: Any) -> None:
        await stream.recv_message()
        await stream.send_message(pb.StopResponse())

    async def _ding(self, stream: Any) -> None:
        request = await stream.recv_message()
        await stream.send_message(pb.DingResponse())
        if self.dong:
            self.emit(EVENT_DONG, {"data": request.data})

    async def _event(self, stream: Any) -> None:
        await stream.recv_message()
        queue: asyncio.Queue[pb.EventResponse | None] = asyncio.Queue()
        self._streams.append(queue)
        self._changed.set()
        if self.logged_in and not self.silent:
            queue.put_nowait(pb.EventResponse(
                type=EVENT_LOGIN, payload=json.dumps({"contactId": self.self_id})))
        try:
            while True:
                item = await queue.get()
                if item is None:
                    return
                await stream.send_message(item)
        finally:
            if queue in self._streams:
                self._streams.remove(queue)
            self._changed.set()

    async def _contact_payload(self, stream: Any) -> None:
        request = await stream.recv_message()
        contact = self.contacts.get(request.id)
        if contact is None:
            raise GRPCError(Status.NOT_FOUND, f"no contact {request.id}")
        await stream.send_message(contact)

    async def _contact_list(self, stream: Any) -> None:
        await stream.recv_message()
        await stream.send_message(pb.ContactListResponse(ids=list(self.contacts)))

    async def _room_payload(self, stream: Any) -> None:
        request = await stream.recv_message()
        room = self.rooms.get(request.id)
        if room is None:
            raise GRPCError(Status.NOT_FOUND, f"no room {request.id}")
        await stream.send_message(room)

    async def _room_list(self, stream: Any) -> None:
        await stream.recv_message()
        await stream.send_message(pb.RoomListResponse(ids=list(self.rooms)))

    async def _room_member_list(self, stream: Any) -> None:
        request = await stream.recv_message()
        room = self.rooms.get(request.id)
        await stream.send_message(pb.RoomMemberListResponse(
            member_ids=list(room.member_ids) if room else []))

    async def _message_payload(self, stream: Any) -> None:
        request = await stream.recv_message()
        msg = self.messages.get(request.id)
        if msg is None:
            raise GRPCError(Status.NOT_FOUND, f"no message {request.id}")
        await stream.send_message(msg)

    async def _message_send_text(self, stream: Any) -> None:
        request: pb.MessageSendTextRequest = await stream.recv_message()
        if request.conversation_id not in self.rooms and request.conversation_id not in self.contacts:
            raise GRPCError(Status.NOT_FOUND, f"no conversation {request.conversation_id}")
        self.sent.append(request)
        self._changed.set()
        message_id = f"sent-{next(self._ids)}"
        await stream.send_message(pb.MessageSendTextResponse(id=message_id))
