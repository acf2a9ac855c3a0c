"""The running app's shared parts, handed to handlers and jobs (never transport objects)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

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
        ``sealed``: the text really sent, kept in memory only (``text`` is what the row stores)."""
        self._queued = True
        limits = self.config.outbox_for(self.transport_name)
        items = outbox_queries.enqueue(
            session,
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
            max_length=limits.max_length,
        )
        if sealed is not None and len(items) == 1:
            self.sealed.put(key, sealed)
        return len(items)

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
