"""The running app's shared parts, handed to handlers and jobs (never transport objects)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.clock import Clock
from bot.config import AppConfig
from bot.sealed import Sealed
from storage import outbox as outbox_queries
from storage.models import Room

if TYPE_CHECKING:
    from nlp.router import Router


STAFF_TARGET = "staff-group"  # the outbox's `to` for the one WeCom staff group
_LATER = "stairwell.queue_later"  # session info: messages queue_later() holds until written
_LATER_BY = "stairwell.queue_later_by"  # session info: the Services that holds them
_Message = tuple[list[dict[str, Any]], str, "str | None"]  # a message's rows, its key, its sealed text


@event.listens_for(Session, "before_commit")
def _write_what_waits(session: Session) -> None:
    """A commit never drops what queue_later() holds (a handler that commits on its own)."""
    if session.info.get(_LATER):
        session.info[_LATER_BY].flush_queued(session)


@dataclass
class Services:
    config: AppConfig
    engine: Engine
    clock: Clock
    router: "Router"
    transport_name: str
    wake_outbox: Callable[[], None] = lambda: None
    on_connected: Callable[[], None] = lambda: None
    scheduler: Any = None  # the APScheduler instance, for the /定时 and /任务 commands
    # False when the transport only knows display names (the webhook bridge): identities there
    # can be faked by renaming, so they are never linked to staff from chat.
    stable_ids: bool = True
    staff_channel: str | None = None  # "wecom" when the WeCom staff robot is configured
    account: str = "main"  # the bot account this process sends as (config bot.account / STAIRWELL_ACCOUNT)
    # Real texts of rows whose stored text leaves a secret out (a login link): bot.sealed
    sealed: Sealed = field(default_factory=Sealed, repr=False)
    _queued: bool = field(default=False, repr=False)  # set by queue(); the dispatcher wakes the outbox on it
    # The engine of the dispatcher's message transactions where it is not ``engine``: the app sets
    # storage.db.lazy_commit_engine when the transport does not answer "stored" (see Transport).
    lazy_engine: Engine | None = None

    @property
    def message_engine(self) -> Engine:
        return self.lazy_engine or self.engine

    def take_queued(self) -> bool:
        """Whether queue() was called since the last call (and reset it)."""
        queued, self._queued = self._queued, False
        return queued

    def queue(
        self,
        session: Session,
        *,
        key: str,
        text: str,
        room: Room | None = None,
        to: str | None = None,
        mentions: tuple[str, ...] = (),
        priority: int = 0,
        due_at=None,
        sealed: str | None = None,
    ) -> int:
        """Queue a message in ``session``'s transaction; returns how many rows were added.
        ``sealed``: the text really sent, kept in memory only (``text`` is what the row stores).
        What was queued with queue_later() on this session goes first, in its order."""
        self._queued = True
        rows = self._rows(key=key, text=text, room=room, to=to, mentions=mentions, priority=priority, due_at=due_at)
        added = self._insert(session, [*self._take_later(session), (rows, key, sealed)])
        return sum(row["key"] in added for row in rows)

    def queue_later(
        self, session: Session, *, key: str, text: str, room: Room | None = None, to: str | None = None,
        mentions: tuple[str, ...] = (), priority: int = 0, sealed: str | None = None,
    ) -> None:
        """Queue a message when ``session``'s pending ones are written: by flush_queued() (the
        dispatcher, when the handler is done), the next queue() or the commit — a handler's
        replies and staff notes in one INSERT, not one statement each."""
        self._queued = True
        rows = self._rows(key=key, text=text, room=room, to=to, mentions=mentions, priority=priority, due_at=None)
        session.info.setdefault(_LATER, []).append((rows, key, sealed))
        session.info[_LATER_BY] = self

    def flush_queued(self, session: Session) -> None:
        pending = self._take_later(session)
        if pending:
            self._insert(session, pending)

    @staticmethod
    def drop_queued(session: Session) -> None:
        """Forget what queue_later() holds (the handler failed: its replies are not sent)."""
        session.info.pop(_LATER, None)

    @staticmethod
    def _take_later(session: Session) -> list[_Message]:
        return session.info.pop(_LATER, None) or []

    def _insert(self, session: Session, messages: list[_Message]) -> set[str]:
        """Write these messages' rows in one INSERT; the keys added. A sealed text is kept for a
        one-row message that was really added (a repeat's key was skipped)."""
        added = {item.key for item in outbox_queries.insert_rows(session, [r for rows, _, _ in messages for r in rows])}
        for rows, key, sealed in messages:
            if sealed is not None and len(rows) == 1 and key in added:
                self.sealed.put(key, sealed)
        return added

    def _rows(
        self, *, key: str, text: str, room: Room | None, to: str | None, mentions: tuple[str, ...], priority: int,
        due_at,
    ) -> list[dict[str, Any]]:
        return outbox_queries.rows_for(
            key=key,
            transport=self.transport_name,
            text=text,
            now=self.clock.now(),
            account=(room.account if room is not None and room.account else self.account),  # the group's own account
            room_id=room.id if room else None,
            to=to,
            mentions=mentions,
            priority=priority,
            due_at=due_at,
            max_length=self.config.outbox_for(self.transport_name).max_length,
        )

    def to_staff_channel(self, session: Session, *, key: str, text: str) -> int:
        """Mirror a staff alert to the WeCom staff group, when one is configured (else nothing)."""
        if self.staff_channel is None:
            return 0
        self._queued = True
        items = outbox_queries.enqueue(
            session, key=f"staff:{key}", transport=self.staff_channel, text=text, now=self.clock.now(),
            account=self.account, to=STAFF_TARGET, max_length=600,  # 600 CJK chars < 2,048 bytes: one row is one POST
        )
        return len(items)
