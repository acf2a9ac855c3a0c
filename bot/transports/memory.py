"""An in-process transport for tests: drives the real bot with no network and no sleeps."""
from __future__ import annotations

import itertools
import uuid
from datetime import datetime
from typing import Any

from bot.events import Event, Incoming, Outgoing, Replies, RoomJoined
from bot.transports.base import EventHandler, TransportBase, TransportError


class MemoryTransport(TransportBase):
    name = "memory"
    idempotent_sends = True  # sent messages are recorded by key

    def __init__(self, rooms: dict[str, str] | None = None) -> None:
        self.rooms = dict(rooms or {})  # room id -> topic
        self.on_event: EventHandler | None = None
        self.sent: list[Outgoing] = []
        self._sent_keys: set[str] = set()
        self._ids = itertools.count(1)
        self.fail_next: list[TransportError] = []  # errors to raise on the next sends

    async def start(self, on_event: EventHandler) -> None:
        self.on_event = on_event

    async def stop(self) -> None:
        self.on_event = None

    async def send(self, message: Outgoing) -> str:
        if self.fail_next:
            raise self.fail_next.pop(0)
        if message.key and message.key in self._sent_keys:
            return f"mem-dup-{message.key}"
        if message.key:
            self._sent_keys.add(message.key)
        self.sent.append(message)
        return f"mem-out-{next(self._ids)}"

    async def deliver(self, event: Event) -> Replies:
        """The replies the event queued, with the bot's decision as ``.handled``."""
        if self.on_event is None:
            raise RuntimeError("memory transport is not started")
        result = await self.on_event(event)
        return result if isinstance(result, Replies) else Replies(result or [])

    async def say(
        self,
        text: str,
        *,
        sender: str,
        room: str | None = None,
        sender_name: str | None = None,
        message_id: str | None = None,
        mentions_bot: bool = False,
        sent_at: datetime | None = None,
    ) -> Replies:
        """Post ``text`` as ``sender`` in ``room`` (an id or a topic; None = private)."""
        room_id = None
        topic = None
        if room is not None:
            room_id = room if room in self.rooms else next((rid for rid, t in self.rooms.items() if room == t), room)
            topic = self.rooms.get(room_id, room)
        event = Incoming(
            transport=self.name,
            message_id=message_id or f"mem-in-{uuid.uuid4().hex[:12]}",  # unique across restarts
            room_id=room_id,
            room_topic=topic,
            sender_id=sender,
            sender_name=sender_name or sender,
            text=text,
            mentions_bot=mentions_bot,
            sent_at=sent_at,
        )
        return await self.deliver(event)

    async def join(self, room_id: str, topic: str, **kw: Any) -> list[Outgoing]:
        self.rooms[room_id] = topic
        return await self.deliver(RoomJoined(transport=self.name, room_id=room_id, room_topic=topic, **kw))


def create(config: Any, **options: Any) -> MemoryTransport:
    rooms = {r.id: r.topic for r in config.rooms}
    return MemoryTransport(rooms)
