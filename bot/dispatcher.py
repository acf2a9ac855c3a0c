"""One pipeline for every incoming event.

guards (own message, too old) → log the masked message (the UNIQUE insert is
the dedup check) → command? → pending conversation? → route → the route's
handler → replies queued in the outbox, committed with the handler's changes.
A handler that raises is rolled back with everything of its message, which is then
logged again (route "error") in a transaction of its own; the transport never sees
the error.

Chatter takes a fast path: a message that no registered route step acts on (each step's
predicate, see bot.handling) costs one INSERT (with its route) and one COMMIT; the
directory look-ups come from the in-process cache (storage.directory.DirectoryCache).
"""
from __future__ import annotations

import asyncio
import dataclasses
import logging
import re
import time
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, col, select

from bot import commands, handling, solitaire
from bot.context import Context
from bot.events import Connected, Disconnected, Event, Handled, Incoming, Replies, RoomJoined, RoomLeft
from bot.permissions import Caller
from bot.pieces import Pieces
from bot.quotes import quote_of, unquoted
from bot.privacy import clean_name, clean_text, mask
from bot.services import Services
from bot.transports.base import CONFLICT, FAILED, NOT_STORED
from storage import directory
from storage.db import is_busy, retry_busy, writer
from storage.messages import BOT_ID_PREFIX, insert_message
from nlp.router import Route
from nlp.script import simplified
from storage.models import Message, Room

log = logging.getLogger("stairwell.dispatch")

class _HandlerFailed(Exception):
    """A handler raised: its transaction, the message's log row included, was rolled back."""


def strip_bot_mention(text: str, bot_name: str) -> str:
    """'@楼道通 /工单' -> '/工单' (WeChat puts a special space after a mention)."""
    return re.sub(rf"^@{re.escape(bot_name)}[\s\u2005]*", "", text).strip()


def strip_leading_mentions(text: str) -> str:
    """'@张阿姨\u2005是的 我昨晚也是摸黑上来的' -> what is said: a neighbour @-ed at the start says
    whom the line answers, not what it is about (WeChat ends each mention with U+2005)."""
    return re.sub(r"^(?:@[^\s\u2005@]{1,20}[\s\u2005]+)+", "", text).strip() or text


class Dispatcher:
    def __init__(self, services: Services) -> None:
        self.services = services
        handling.load_handlers()  # the handlers register their routes and lifecycle handler
        # One message at a time: handlers share one SQLite writer and stay short.
        self._lock = asyncio.Lock()
        self._pieces = Pieces()

    async def handle(self, event: Event) -> Replies:
        """The replies the event queued, with the decision as ``.handled``. A message that could
        not be stored says so (handled.route NOT_STORED or FAILED; see bot.transports.base):
        the transport must not acknowledge it as taken. Never raises."""
        wake = not isinstance(event, Incoming)  # lifecycle events always wake the outbox
        try:
            async with self._lock:
                self.services.take_queued()
                try:
                    if isinstance(event, Incoming):
                        return await retry_busy(lambda: self._on_message(event))
                    if isinstance(event, RoomJoined | RoomLeft | Connected | Disconnected):
                        return await retry_busy(lambda: self._on_lifecycle(event))
                finally:
                    wake = self.services.take_queued() or wake
        except Exception as exc:  # nothing of this event was committed
            wake = True
            if is_busy(exc):
                log.warning("event %s not stored: the database stayed busy", type(event).__name__)
                return Replies(handled=Handled(route=NOT_STORED))
            log.exception("event %s could not be handled", type(event).__name__)
            return Replies(handled=Handled(route=FAILED))
        finally:
            if wake:  # only when something may have been queued: a pass costs two queries
                self.services.wake_outbox()
        return Replies()

    async def _on_lifecycle(self, event: Event) -> Replies:
        with Session(writer(self.services.engine)) as session:
            replies = handling.lifecycle()(self.services, session, event)
            session.commit()
        return Replies(replies)

    def _too_old(self, event: Incoming) -> bool:
        if event.sent_at is None:
            return False
        max_age = timedelta(seconds=self.services.config.bot.max_message_age_seconds)
        return self.services.clock.now() - event.sent_at > max_age

    def _acting(
        self, event: Incoming, text: str, caller: Caller, room: Room | None
    ) -> tuple[Route | None, handling.Decision | None, handling.Decision]:
        """The message's one route (None for an empty text or a command); the decision stored
        with it when no registered step may act on it (chatter, the fast path), else None; and
        the decision it most likely ends with, stored at once (the outcome updates the row only
        when it differs, so most messages cost one write to the log)."""
        if not text:
            return None, ("other", None), ("other", None)
        if commands.is_command(text):
            return None, None, ("command", None)
        route = self.services.router.route(text, staff=caller.is_staff)
        decision = (route.label, route.category)
        steps = handling.acting(handling.Probe(text, route, room, caller, event.mentions_bot))
        if not steps:
            return route, decision, decision
        return route, None, steps[0].usually or decision

    def _with_pieces(
        self, event: Incoming, text: str, caller: Caller, room: Room | None, key: tuple[str, str], at: datetime
    ) -> tuple[str, tuple[Route | None, handling.Decision | None, handling.Decision]]:
        """The text to act on and its ``_acting``: a chatter line read with the sender's pieces
        of the last minute when together they tell of a danger ("402那个一个人住的老太太" /
        "敲门一直不应电话也打不通"); otherwise the line alone. Only a danger: ordinary chatter in a
        row must never add up to a report (a wrong ticket costs trust; a missed danger more)."""
        alone = self._acting(event, text, caller, room)
        route = alone[0]
        # (a line that alone is an ordinary report may finish one: "楼下302那个一个人住的老爷子" /
        # "三天没见他下楼倒垃圾了 敲门没人应" is a neighbour not answering, not a 困难求助 to wait for)
        quiet = route is not None and (route.label == "other" or (route.label == "petition" and not route.urgent))
        earlier = self._pieces.before(key, at) if quiet else None
        if earlier is None:
            return text, alone
        # the bot's name is no part of it ("楼道通" / "402那个一个人住的老太太" / …)
        whole = re.sub(r"\s+", " ", f"{earlier} {text}".replace(self.services.config.bot.name, " ")).strip()
        joined = self._acting(event, whole, caller, room)
        if joined[1] is None and joined[0] is not None and joined[0].label == "petition" and joined[0].urgent:
            return whole, joined
        return text, alone

    async def _on_message(self, event: Incoming) -> Replies:
        try:
            return await self._log_and_handle(event)
        except _HandlerFailed:  # rolled back whole: the message is logged again, as an error
            return await self._log_and_handle(event, failed=True)

    async def _log_and_handle(self, event: Incoming, failed: bool = False) -> Replies:
        started = time.perf_counter()
        if event.is_self:
            return Replies()
        if event.message_id.startswith(BOT_ID_PREFIX):  # the bot's own log ids: never a sender's
            log.warning("message id %s/%s is in the bot's own id space", event.transport, event.message_id)
            return Replies(handled=Handled(route=CONFLICT))
        if self._too_old(event):
            log.info("dropped old message %s/%s", event.transport, event.message_id)
            return Replies(handled=Handled(route="too_old"))
        services = self.services
        bot_name = services.config.bot.name
        cleaned = clean_text(event.text)
        said = strip_leading_mentions(unquoted(strip_bot_mention(cleaned, bot_name), bot_name))  # logged as said
        # read as meant: in simplified characters ("電梯壞了" is "电梯坏了", "@樓道通" the bot), with the
        # lexicon's typing slips and dialect words in Mandarin ("电悌卡主了", "阿婆跌低咗 起唔到身")
        corrected = getattr(services.router, "corrected", None)  # (a test's scripted router has none)
        read = corrected(simplified(cleaned)) if corrected else simplified(cleaned)
        # (a 接龙 list copied with one line added: only that line is the sender's)
        text = alone = solitaire.own_line(strip_leading_mentions(unquoted(strip_bot_mention(read, bot_name), bot_name)))
        name = clean_name(event.sender_name)  # names are input: stored and echoed as "@name"
        if name != event.sender_name:
            event = dataclasses.replace(event, sender_name=name)
        with Session(writer(services.message_engine)) as session:  # BEGIN IMMEDIATE: busy fails here, retried
            arrival = directory.Arrival(
                event.transport, event.sender_id, event.room_id, event.room_topic, services.account
            )
            cache = directory.cache_for(services.engine, session.connection(), arrival)
            # Identity is the transport's stable id, mapped to a known person where linked.
            sender_id = directory.cached_core_person_id(session, cache, event.transport, event.sender_id)
            mention_ids = tuple(
                directory.cached_core_person_id(session, cache, event.transport, m) for m in event.mention_ids
            )
            if sender_id != event.sender_id or mention_ids != event.mention_ids:
                event = dataclasses.replace(event, sender_id=sender_id, mention_ids=mention_ids)
            room = (
                directory.cached_room(
                    session, cache, event.transport, event.room_id, event.room_topic, self.services.account
                )
                if event.room_id
                else None
            )
            directory.warm_person(session, cache, event.sender_id, room.id if room else None)
            directory.cached_ensure_person(session, cache, event.sender_id, event.sender_name)
            if room is not None:
                directory.cached_ensure_member(session, cache, room.id, event.sender_id)
            caller = Caller(
                event.sender_id, event.sender_name, directory.cached_grants(session, cache, event.sender_id)
            )
            room_id = room.id if room else None
            # ``text`` may join the sender's earlier pieces (``alone``: this line's own words)
            piece_key, at = (room_id or "", event.sender_id), event.sent_at or services.clock.now()
            text, (route, quiet, guess) = self._with_pieces(event, text, caller, room, piece_key, at)
            message_id = insert_message(
                session.connection(),
                transport=event.transport,
                external_id=event.message_id,
                room_id=room_id,
                sender_id=event.sender_id,
                sender_name=event.sender_name,
                text=mask(said),
                at=at,
                route=guess[0],
                category=guess[1],
            )
            if message_id is None:  # the UNIQUE (transport, message id) is the dedup check
                first = session.exec(
                    select(Message.room_id, Message.sender_id).where(
                        Message.transport == event.transport, Message.external_id == event.message_id
                    )
                ).first()
                session.rollback()
                # A redelivery comes from the same room and sender; anything else reuses an id (a
                # neighbour's, or the bot's own) and would be dropped unseen as a "duplicate".
                if first is None or tuple(first) != (room_id, event.sender_id):
                    log.warning("message id %s/%s reused in another room or by another sender",
                                event.transport, event.message_id)
                    return Replies(handled=Handled(route=CONFLICT))
                log.info("dropped duplicate message %s/%s", event.transport, event.message_id)
                return Replies(handled=Handled(route="duplicate"))
            if quiet is not None:
                session.commit()
                self._pieces.after(piece_key, at, alone, quiet[0])
                log.info(
                    "handled room=%s sender=%s route=%s ms=%.1f",
                    room_id or "private", event.sender_id, quiet[0], (time.perf_counter() - started) * 1000,
                )
                return Replies(handled=Handled(route=quiet[0], category=quiet[1]))
            ctx = Context(
                services, session, event, caller, directory.attach(session, room) if room else None,
                message_id, text=text, quote=quote_of(strip_bot_mention(read, bot_name), bot_name),
            )
            category: str | None = None
            if failed:
                label = "error"
                if commands.is_command(text):  # the caller expects an answer; no details leak
                    ctx.reply("抱歉，指令处理出错了，请稍后再试。", mention=False)
            else:
                # No SAVEPOINT around the handler (two more statements, round trips on PostgreSQL,
                # for every message that acts): a failure rolls back the whole transaction.
                try:
                    label, category = await self._process(ctx, text, route)
                    services.flush_queued(session)  # the replies and notes it queued: one INSERT
                except Exception as exc:
                    log.exception("handler failed for message %s in room %s", message_id, room_id or "-")
                    services.drop_queued(session)
                    session.rollback()
                    raise _HandlerFailed from exc
            if (label, category) != guess:
                session.execute(
                    update(Message).where(col(Message.id) == message_id).values(route=label, category=category)
                )
            session.commit()
        self._pieces.after(piece_key, at, alone, label)
        for action in ctx.after_commit:
            try:
                action()
            except Exception:
                log.exception("post-commit action failed for message %s", message_id)
        log.info(
            "handled room=%s sender=%s route=%s ms=%.1f",
            room_id or "private", event.sender_id, label, (time.perf_counter() - started) * 1000,
        )
        ctx.handled.route, ctx.handled.category = label, category
        return Replies(ctx.replies, ctx.handled)

    async def _process(self, ctx: Context, text: str, route: Route | None) -> tuple[str, str | None]:
        if route is None:
            if not text:
                return "other", None
            await commands.run_command(ctx, text)
            return "command", None
        probe = handling.Probe(text, route, ctx.room, ctx.caller, ctx.event.mentions_bot)
        return await handling.run_steps(ctx, text, probe)
