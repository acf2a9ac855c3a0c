"""What a handler gets: the message, the caller, the room, and ways to reply.

Replies are queued in the outbox inside the handler's transaction, so a state
change and the message announcing it are committed together or not at all.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, TypeVar

from sqlmodel import Session

from bot.events import Handled, Incoming, Outgoing
from bot.quotes import Quote
from bot.permissions import Caller
from common.heap import bulk_in_thread
from storage.models import Room

if TYPE_CHECKING:
    from bot.services import Services


T = TypeVar("T")

# Outbox priority (higher goes first, per row, across rooms): urgent safety lines and alerts.
# Emergency notices use the same level (domain.notices.EMERGENCY_PRIORITY).
URGENT_PRIORITY = 10


@dataclass
class Context:
    services: "Services"
    session: Session
    event: Incoming
    caller: Caller
    room: Room | None
    message_db_id: int
    text: str = ""  # cleaned text, bot mention stripped (not yet masked)
    replies: list[Outgoing] = field(default_factory=list)
    handled: Handled = field(default_factory=Handled)  # the decision, for the API and tests
    # Work that must wait until this message's transaction has committed (e.g. job-store
    # writes, which on SQLite would otherwise wait for our own open write transaction).
    after_commit: list[Callable[[], None]] = field(default_factory=list)
    # Set by bot.commands from the command's declaration: reply() then answers the caller
    # privately even in a group (staff work stays out of the residents' group).
    answer_privately: bool = False
    # Rooms that saw something because of this message (a reply, a notice): no "已私信" line there.
    posted_to: set[str] = field(default_factory=set)
    # A quoted reply: the bot's line about a ticket, or the neighbour's report, it answers.
    quote: Quote | None = None
    # Tickets this message opened for an earlier part of it ("1.… 2.… 3.…"): never joined by a later part
    opened_by_parts: set[int] = field(default_factory=set)
    _count: int = 0
    _masked: tuple[str, str] = ("", "")  # (text, its mask): handlers ask a dozen times a message

    @property
    def masked_text(self) -> str:
        from bot.privacy import mask  # the stored form; never the raw text

        if self._masked[0] != self.text:
            self._masked = (self.text, mask(self.text))
        return self._masked[1]

    @property
    def now(self):
        return self.services.clock.now()

    async def read_apart(self, read: Callable[[Session], T]) -> T:
        """``read(session)`` in a worker thread, on a read session of its own: a report over a
        district's rows (/统计, /回执) would otherwise hold the event loop, and every chat, for
        as long as it takes (issue 15). It sees what is committed, not this message's own writes."""
        def run() -> T:
            with Session(self.services.engine) as session:
                return read(session)

        return await bulk_in_thread(run)

    def _key(self) -> str:
        self._count += 1
        return f"msg:{self.message_db_id}:{self._count}"

    def reply(self, text: str, *, mention: bool = True, priority: int = 0) -> None:
        """Answer the sender: in the room (@-ing them), or privately in a private chat or when
        the command answers privately (``answer_privately``)."""
        if self.room is None or self.answer_privately:
            self.private(self.caller.person_id, text, priority=priority)
        elif mention:
            self.to_room(self.room, f"@{self.caller.name} {text}", mentions=(self.caller.person_id,), priority=priority)
        else:
            self.to_room(self.room, text, priority=priority)

    def _priority(self, priority: int) -> int:
        """Once a handler marks the message urgent (ctx.handled.urgent), everything it queues
        (the safety line, the staff alerts) jumps the outbox queue of every room."""
        return max(priority, URGENT_PRIORITY) if self.handled.urgent else priority

    def to_room(self, room: Room, text: str, *, mentions: tuple[str, ...] = (), priority: int = 0) -> None:
        self.services.queue_later(
            self.session, key=self._key(), text=text, room=room, mentions=mentions, priority=self._priority(priority)
        )
        self.posted_to.add(room.id)
        self.replies.append(Outgoing(text=text, room_id=room.external_id or room.id, mentions=mentions))

    def private(self, person_id: str, text: str, *, priority: int = 0, sealed: str | None = None) -> None:
        """``sealed``: the text really sent when it holds a secret (a login link); ``text``, what
        the outbox row and the message log keep instead (bot.sealed)."""
        if self.event.inline_answers and person_id == self.caller.person_id:
            self.replies.append(Outgoing(text=sealed or text, to=person_id))  # shown on the page that asked
            return
        self.services.queue_later(self.session, key=self._key(), text=text, to=person_id,
                                  priority=self._priority(priority), sealed=sealed)
        self.replies.append(Outgoing(text=sealed or text, to=person_id))

    def needs_pointer(self) -> bool:
        """Whether the group should be told the sender was answered privately: they were, and
        the group saw nothing of the outcome (no reply, no notice posted there)."""
        me = self.caller.person_id
        return self.room is not None and self.room.id not in self.posted_to and any(r.to == me for r in self.replies)
