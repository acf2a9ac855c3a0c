"""One pipeline for every incoming event.

guards (own message, too old) → log the masked message (the UNIQUE insert is
the dedup check) → command? → pending conversation? → route → the route's
handler → replies queued in the outbox, committed with the handler's changes.
A handler that raises is rolled back alone; the message stays logged and the
transport never sees the error.
"""
from __future__ import annotations

import asyncio
import dataclasses
import logging
import re
import time
from datetime import timedelta

from sqlmodel import Session

from bot import commands
from bot.context import Context
from bot.events import Connected, Disconnected, Event, Incoming, Outgoing, RoomJoined, RoomLeft
from bot.permissions import caller_from_grants
from bot.privacy import clean_text, mask
from bot.services import Services
from handlers import lifecycle, routes
from storage import directory
from storage.messages import log_message
from storage.models import Message

log = logging.getLogger("stairwell.dispatch")

def strip_bot_mention(text: str, bot_name: str) -> str:
    """'@楼道通 /工单' -> '/工单' (WeChat puts a special space after a mention)."""
    return re.sub(rf"^@{re.escape(bot_name)}[\s\u2005]*", "", text).strip()


class Dispatcher:
    def __init__(self, services: Services) -> None:
        self.services = services
        # One message at a time: handlers share one SQLite writer and stay short.
        self._lock = asyncio.Lock()

    async def handle(self, event: Event) -> list[Outgoing]:
        try:
            async with self._lock:
                if isinstance(event, Incoming):
                    return await self._on_message(event)
                if isinstance(event, RoomJoined | RoomLeft | Connected | Disconnected):
                    return await self._on_lifecycle(event)
        except Exception:
            log.exception("event %s could not be handled", type(event).__name__)
        finally:
            self.services.wake_outbox()
        return []

    async def _on_lifecycle(self, event: Event) -> list[Outgoing]:
        with Session(self.services.engine) as session:
            replies = lifecycle.handle(self.services, session, event)
            session.commit()
        return replies

    def _too_old(self, event: Incoming) -> bool:
        if event.sent_at is None:
            return False
        max_age = timedelta(seconds=self.services.config.bot.max_message_age_seconds)
        return self.services.clock.now() - event.sent_at > max_age

    async def _on_message(self, event: Incoming) -> list[Outgoing]:
        started = time.perf_counter()
        if event.is_self:
            return []
        if self._too_old(event):
            log.info("dropped old message %s/%s", event.transport, event.message_id)
            return []
        services = self.services
        text = strip_bot_mention(clean_text(event.text), services.config.bot.name)
        with Session(services.engine) as session:
            # Identity is the transport's stable id, mapped to a known person where linked.
            event = dataclasses.replace(
                event,
                sender_id=directory.core_person_id(session, event.transport, event.sender_id),
                mention_ids=tuple(directory.core_person_id(session, event.transport, m) for m in event.mention_ids),
            )
            room = (
                directory.resolve_room(session, event.transport, event.room_id, event.room_topic)
                if event.room_id
                else None
            )
            directory.ensure_person(session, event.sender_id, event.sender_name)
            if room is not None:
                directory.ensure_member(session, room.id, event.sender_id)
            record = Message(
                transport=event.transport,
                external_id=event.message_id,
                room_id=room.id if room else None,
                sender_id=event.sender_id,
                sender_name=event.sender_name,
                text=mask(text),
                at=event.sent_at or services.clock.now(),
            )
            if not log_message(session, record):
                session.rollback()
                log.info("dropped duplicate message %s/%s", event.transport, event.message_id)
                return []
            caller = caller_from_grants(
                event.sender_id, event.sender_name, directory.grants_for(session, event.sender_id)
            )
            ctx = Context(services, session, event, caller, room, record.id or 0, text=text)
            try:
                with session.begin_nested():
                    record.route, record.category = await self._process(ctx, text)
            except Exception:
                log.exception("handler failed for message %s in room %s", record.id, room.id if room else "-")
                ctx.replies.clear()
                ctx.after_commit.clear()
                record.route = "error"
                if commands.is_command(text):  # the caller expects an answer; no details leak
                    ctx.reply("抱歉，指令处理出错了，请稍后再试。", mention=False)
            route = record.route
            room_id = room.id if room else "private"
            session.add(record)
            session.commit()
        for action in ctx.after_commit:
            try:
                action()
            except Exception:
                log.exception("post-commit action failed for message %s", record.id)
        log.info(
            "handled room=%s sender=%s route=%s ms=%.1f",
            room_id, event.sender_id, route, (time.perf_counter() - started) * 1000,
        )
        return ctx.replies

    async def _process(self, ctx: Context, text: str) -> tuple[str, str | None]:
        if not text:
            return "other", None
        if commands.is_command(text):
            await commands.run_command(ctx, text)
            return "command", None
        return await routes.route_message(ctx, text)
