"""The outbox worker: every message the bot sends goes through here.

Rows are queued in the database (by the code that decided to send them, in the
same transaction), then sent one at a time in priority order under a per-room
interval and a global per-minute limit, retried with back-off, and marked sent
with the transport's id. A row is marked 'sending' before the transport is
called, so a crash can never send it twice: on restart such a row is resent
only where the transport deduplicates by key, otherwise reported to admins.

Every database step of a send (reading what is due, the claim, marking it sent or failed, the
recovery check) runs in a worker thread with a Session of its own (asyncio.to_thread), so the
event loop never waits for the database's round trips or write lock here; only the transport call
and the reporting of failures to admins run on the loop, in the same order as before.

Several processes may share the table: each sends only its bot account's rows, and takes a
row with one conditional UPDATE (storage.outbox.claim), so two processes of one account never
both send it. A row left 'sending' is recovered only once the process that claimed it is gone
(storage.cluster.Presence.alive), checked at start and every ``recover_seconds``.
"""
from __future__ import annotations

import asyncio
import logging
import random
from collections import deque
from datetime import datetime, timedelta
from typing import Awaitable, Callable

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.clock import Clock
from bot.config import OutboxConfig
from bot.events import Outgoing
from bot.sealed import Sealed
from bot.transports.base import Transport, TransportError
from common.tasks import cancel_and_wait
from storage import outbox as queries
from storage import directory
from storage.cluster import INSTANCE, Presence
from storage.db import retry_busy, writer
from storage.messages import bot_message_id, log_message
from storage.models import Message, OutboxItem, Room

log = logging.getLogger(__name__)

# Waits ``delay`` seconds (None: until woken) or until ``wake`` is set; tests pass a fake one.
Waiter = Callable[[float | None, asyncio.Event], Awaitable[None]]
FailureReporter = Callable[[OutboxItem, str], None]


async def wait_or_wake(delay: float | None, wake: asyncio.Event) -> None:
    try:
        await asyncio.wait_for(wake.wait(), timeout=delay)
    except asyncio.TimeoutError:
        pass


class RateLimiter:
    """Per-room minimum interval plus a sliding one-minute global window."""

    def __init__(self, limits: OutboxConfig, clock: Clock, rng: random.Random | None = None) -> None:
        self.limits = limits
        self.clock = clock
        self.rng = rng or random.Random()
        self._room_ready: dict[str, datetime] = {}
        self._window: deque[datetime] = deque()

    def wait_for(self, room_key: str) -> float:
        """Seconds until a message to ``room_key`` may go out (0 = now)."""
        now = self.clock.now()
        waits = [0.0]
        ready = self._room_ready.get(room_key)
        if ready is not None:
            waits.append((ready - now).total_seconds())
        if self.limits.per_minute:
            while self._window and (now - self._window[0]).total_seconds() >= 60:
                self._window.popleft()
            if len(self._window) >= self.limits.per_minute:
                waits.append(60 - (now - self._window[0]).total_seconds())
        return max(waits)

    def window_wait(self) -> float:
        """Seconds until the one-minute window allows another message (0: it does now)."""
        if not self.limits.per_minute or self.free_slots() > 0:
            return 0.0
        return 60 - (self.clock.now() - self._window[-self.limits.per_minute]).total_seconds()

    def free_slots(self) -> float:
        """Messages the one-minute window still allows now (infinite without a global limit)."""
        if not self.limits.per_minute:
            return float("inf")
        now = self.clock.now()
        return self.limits.per_minute - sum(1 for t in self._window if (now - t).total_seconds() < 60)

    def record(self, room_key: str) -> None:
        now = self.clock.now()
        if self.limits.per_minute:
            self._window.append(now)
        interval = self.limits.room_interval_seconds
        if interval or self.limits.jitter_seconds:
            jitter = self.rng.uniform(0, self.limits.jitter_seconds) if self.limits.jitter_seconds else 0
            self._room_ready[room_key] = now + timedelta(seconds=interval + jitter)


class OutboxWorker:
    def __init__(
        self,
        engine: Engine,
        transport: Transport,
        limits: OutboxConfig,
        clock: Clock,
        *,
        on_failure: FailureReporter | None = None,
        waiter: Waiter = wait_or_wake,
        account: str = "main",
        presence: Presence | None = None,
        sealed: Sealed | None = None,
    ) -> None:
        self.engine = engine
        self.sealed = sealed if sealed is not None else Sealed()  # real texts of rows that store a secret left out
        self.transport = transport
        self.limits = limits
        self.clock = clock
        self.limiter = RateLimiter(limits, clock)
        self.on_failure = on_failure
        self.waiter = waiter
        self._wake = asyncio.Event()
        self._idle = asyncio.Condition()
        self._passes = 0
        self._idle_after = -1
        self._task: asyncio.Task | None = None
        self._stopping = False
        self.account = account
        self.presence = presence or Presence(engine)
        self._recovered_at = 0.0
        self._watcher: asyncio.Task | None = None

    # -- lifecycle -------------------------------------------------------
    def recover(self) -> None:
        """Deal with rows left 'sending' by a crash (see the module docstring)."""
        self._report(self._recover_rows())

    def _report(self, failed: list[OutboxItem]) -> None:
        """Tell admins about rows given up (on the loop: reporting queues a message and wakes)."""
        if self.on_failure:
            for item in failed:
                self.on_failure(item, item.error or "")

    def _recover_rows(self) -> list[OutboxItem]:
        """recover()'s database work (any thread); returns the rows marked failed."""
        failed: list[OutboxItem] = []
        with Session(self.engine) as session:  # the usual answer, "none", without the write lock
            if not queries.interrupted(session, self.transport.name, self.account):
                return failed
        # Read again and change as a writer (BEGIN IMMEDIATE on SQLite): a deferred read that then
        # writes fails at once ("database is locked") when another process committed meanwhile —
        # two bots starting together on one file did (tests/test_migrations.py, two first starts).
        with Session(writer(self.engine), expire_on_commit=False) as session:
            items = queries.interrupted(session, self.transport.name, self.account)
            alive = self.presence.alive(i.claimed_by for i in items) if items else set()
            for item in items:
                if item.claimed_by in alive:
                    continue  # another process of this account is sending it right now
                if self.transport.idempotent_sends:  # declared by every Transport (TransportBase: False)
                    item.status = "queued"
                    log.warning("outbox %s was in flight at a crash; resending (transport dedups)", item.id)
                else:
                    item.status = "failed"
                    item.error = "进程中断时正在发送，无法确认是否送达"
                    log.error("outbox %s was in flight at a crash; not resent to avoid a duplicate", item.id)
                session.add(item)
                session.commit()
                if item.status == "failed":
                    failed.append(item)
        return failed

    def start(self) -> None:
        self.recover()
        self._recovered_at = asyncio.get_running_loop().time()
        self._stopping = False
        self._task = asyncio.create_task(self._run(), name="outbox")
        if self.presence.postgres:
            self._watcher = asyncio.create_task(self._watch(), name="outbox-watch")

    async def stop(self, grace: float = 5.0) -> None:
        """Let a send in progress finish (so its row is not left 'sending'), then stop."""
        self._stopping = True
        self._wake.set()
        if self._watcher is not None:
            self._watcher.cancel()
            self._watcher = None
        if self._task:
            try:
                await asyncio.wait_for(asyncio.shield(self._task), grace)
            except (asyncio.TimeoutError, asyncio.CancelledError, Exception):
                await cancel_and_wait(self._task)
            self._task = None

    def wake(self) -> None:
        self._wake.set()

    async def drain(self, timeout: float = 30.0) -> None:
        """Wait until everything due now has been sent (or has failed)."""
        target = self._passes + 1
        self.wake()

        async def _wait() -> None:
            async with self._idle:
                await self._idle.wait_for(lambda: self._idle_after >= target)

        await asyncio.wait_for(_wait(), timeout)

    async def _watch(self) -> None:
        """Several processes (PostgreSQL): rows for this account queued by another process (a
        job, a notice) wake this worker; rows a dead process left 'sending' are recovered."""
        loop = asyncio.get_running_loop()
        while not self._stopping:
            await asyncio.sleep(self.limits.poll_seconds)
            try:
                if loop.time() - self._recovered_at > self.limits.recover_seconds:
                    self._recovered_at = loop.time()
                    self._report(await retry_busy(lambda: asyncio.to_thread(self._recover_rows)))
                due = await asyncio.to_thread(self._next_due)
                if due is not None and due <= self.clock.now():
                    self.wake()
            except Exception:  # the database is away for a moment: look again later
                log.warning("outbox watch: database unavailable", exc_info=True)

    # -- the loop ------------------------------------------------------------
    async def _run(self) -> None:
        while not self._stopping:
            self._wake.clear()
            self._passes += 1
            this_pass = self._passes
            try:
                delay = await self._send_pass()
            except Exception:  # the worker must never die
                log.exception("outbox pass failed")
                delay = 1.0
            if delay is None or delay > 0:
                async with self._idle:
                    self._idle_after = this_pass
                    self._idle.notify_all()
                await self.waiter(delay, self._wake)

    async def _send_pass(self) -> float | None:
        """Send everything sendable now; return seconds until the next try (None: nothing queued)."""
        full = self.limiter.window_wait()
        if full > 0:  # nothing may go before then, whatever is queued: reading it would only cost
            return full  # (a backlog re-read 100 rows at every incoming message, 7 ms each)
        items, room_keys = await asyncio.to_thread(self._due)
        waits: list[float] = []
        held: list[int] = []  # priorities of rows waiting for their room's interval
        for item in items:  # highest priority first, whatever the room (queries.due_items)
            room_key = item.room_id or f"to:{item.to}"
            wait = self.limiter.wait_for(room_key)
            if wait > 0:
                waits.append(wait)
                held.append(item.priority)
                continue
            # A lower row must not take the window slot a higher one, held only by its room's
            # interval, will need in a moment: an urgent line never waits a minute behind chatter.
            if self.limiter.free_slots() <= sum(1 for p in held if p > item.priority):
                continue
            await self._send_one(item, room_keys.get(item.room_id) if item.room_id else None)
            self.limiter.record(room_key)
            if self._stopping:
                return None
            if self._wake.is_set():  # new rows were queued (maybe urgent ones): read again first
                return 0
        if waits:
            return max(min(waits), 0.01)
        if items:
            return 0  # there may be more rows than one pass reads
        next_due = await asyncio.to_thread(self._next_due)
        if next_due is None:
            return None
        return max((next_due - self.clock.now()).total_seconds(), 0.01)

    def _due(self) -> tuple[list[queries.Due], dict[str, str]]:
        """The rows to try now, highest priority first, and their rooms' transport ids."""
        with Session(self.engine) as session:
            items = queries.due_items(session, self.clock.now(), self.transport.name, self.account)
            room_keys = self._room_targets(session, {i.room_id for i in items if i.room_id})
        return items, room_keys

    def _next_due(self) -> datetime | None:
        with Session(self.engine) as session:
            return queries.next_due_at(session, self.transport.name, self.account)

    @staticmethod
    def _room_targets(session: Session, room_ids: set[str]) -> dict[str, str]:
        """Each room's transport id (its own id when it has none), in one query for the pass's up to
        100 rows (one per room made a backlog's every pass a hundred statements)."""
        if not room_ids:
            return {}
        found = dict(session.exec(select(Room.id, Room.external_id).where(col(Room.id).in_(sorted(room_ids)))).all())
        return {room_id: found.get(room_id) or room_id for room_id in room_ids}

    async def _send_one(self, item: queries.Due, room_target: str | None) -> None:
        # Three short transactions, each in a worker thread, none open across the transport call:
        # the claim is committed before the send starts and the result recorded after it ends.
        message = await retry_busy(lambda: asyncio.to_thread(self._claim, item.id, room_target))
        if message is None:  # another process of this account took it, or it was sent meanwhile
            return
        try:
            external_id = await self.transport.send(message)
        except TransportError as exc:
            await self._after_failure(item.id, str(exc), exc.retryable)
            return
        except Exception as exc:  # a transport bug: treat like a retryable error
            log.exception("transport %s raised while sending", self.transport.name)
            await self._after_failure(item.id, repr(exc), True)
            return
        await retry_busy(lambda: asyncio.to_thread(self._mark_sent, item.id, external_id))

    def _claim(self, item_id: int | None, room_target: str | None) -> Outgoing | None:
        """Mark the row 'sending' (committed: a crash can never send it twice) and compose the
        message; None when the row is no longer ours to send."""
        with Session(writer(self.engine), expire_on_commit=False) as session:
            row = queries.claim(session, item_id, INSTANCE)  # 'sending', attempts + 1
            if row is None:
                return None
            name = self.transport.name
            message = Outgoing(
                text=self.sealed.get(row.key) or row.text,  # the row's own text when the real one is lost
                room_id=room_target if row.room_id else None,
                to=directory.external_person_id(session, name, row.to) if row.to else None,
                mentions=tuple(directory.external_person_id(session, name, m) for m in row.mentions.split()),
                key=row.key,
            )
            session.commit()  # 'sending' before the send: a crash can never send it twice
        return message

    def _mark_sent(self, item_id: int | None, external_id: str) -> None:
        """Record a delivered row (retried while the database is busy: it was sent, after all)."""
        with Session(writer(self.engine), expire_on_commit=False) as session:
            row = session.get(OutboxItem, item_id)
            if row is None:  # deleted meanwhile (e.g. a resident's deletion request)
                return
            now = self.clock.now()
            row.status, row.sent_at, row.external_id, row.error = "sent", now, external_id, None
            session.add(row)
            self.sealed.drop(row.key)
            log_message(
                session,
                Message(
                    transport=self.transport.name,
                    external_id=bot_message_id(row.key),
                    room_id=row.room_id,
                    sender_id="bot",
                    sender_name="楼道通",
                    text=row.text,
                    from_bot=True,
                    at=now,
                ),
            )  # False on a resend after a crash: the log already has it
            session.commit()

    async def _after_failure(self, item_id: int | None, error: str, retryable: bool) -> None:
        row = await retry_busy(lambda: asyncio.to_thread(self._record_failure, item_id, error, retryable))
        if row is not None and row.status == "failed":
            self._report([row])

    def _record_failure(self, item_id: int | None, error: str, retryable: bool) -> OutboxItem | None:
        """Back to 'queued' with a back-off, or 'failed' after the last attempt; returns the row."""
        with Session(writer(self.engine), expire_on_commit=False) as session:
            row = session.get(OutboxItem, item_id)
            if row is None:
                return None
            self._record(session, row, error, retryable)
            return row

    def _record(self, session: Session, row: OutboxItem, error: str, retryable: bool) -> None:
        row.error = error[:500]
        if retryable and row.attempts < self.limits.max_attempts:
            backoff = self.limits.retry_base_seconds * (2 ** (row.attempts - 1))
            row.status = "queued"
            row.due_at = self.clock.now() + timedelta(seconds=backoff)
            log.warning("outbox %s: send failed (attempt %d), retry in %.0fs", row.id, row.attempts, backoff)
        else:
            row.status = "failed"
            self.sealed.drop(row.key)
            log.error("outbox %s: giving up after %d attempts: %s", row.id, row.attempts, error[:200])
        session.add(row)
        session.commit()
