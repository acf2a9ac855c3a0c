"""Keep residents' words only as long as promised: older texts are blanked, counts stay.

A district keeps millions of messages, so the nightly purge never rewrites what it already
blanked and never holds the database for long: the append-only tables (messages, notices, the
outbox) are walked six hours at a time from where the last purge stopped (a watermark in the state
table), one short transaction per step; tickets, their events and consultations, whose status can
change long after they were written, are purged by ranges of ticket numbers, skipping purged rows.
"""
from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

from sqlalchemy import ColumnElement, func, select, true, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from common.heap import bulk_in_thread
from storage.models import AidApplication, Consultation, CouncilTopic, Message, Notice, OutboxItem, Ticket, TicketEvent
from storage.state import get_flag, set_flag
from storage.tickets import OPEN_STATUSES

PURGED = "（已超过保存期限，内容已删除）"
WATERMARK = "retention_purged_before"  # the cutoff of the last complete purge
WINDOW = timedelta(hours=6)  # one transaction's share of the append-only tables (~3.5 k messages in a district)
TICKETS_PER_STEP = 2000  # closed tickets (and their events) per transaction
SETTLE = timedelta(days=7)  # an outbox row is sent or failed within this after it was queued


def _append_only(lo: datetime | None, hi: datetime) -> list:
    """Statements blanking messages, notices and settled outbox rows written in [lo, hi)."""
    def between(column):
        return (column < hi) if lo is None else ((column >= lo) & (column < hi))

    return [
        update(Message)
        .where(between(col(Message.at)), col(Message.text) != PURGED, col(Message.from_bot).is_(False))
        .values(text=PURGED, sender_name="居民"),
        update(Message)
        .where(between(col(Message.at)), col(Message.text) != PURGED, col(Message.from_bot).is_(True))
        .values(text=PURGED),
        update(OutboxItem)
        .where(between(col(OutboxItem.created_at)), col(OutboxItem.status).in_(["sent", "failed"]),
               col(OutboxItem.text) != PURGED)
        .values(text=PURGED),
        update(Notice).where(between(col(Notice.created_at)), col(Notice.text) != PURGED).values(text=PURGED),
    ]


def _closed_work(cutoff: datetime, ids: tuple[int, int] | None = None) -> list:
    """Statements blanking closed tickets (numbered within ``ids``, when given), their events'
    notes, and answered questions (with the whole range only)."""
    def numbered(column) -> ColumnElement[bool]:
        return true() if ids is None else column.between(*ids)  # true() drops out of the WHERE

    closed = select(col(Ticket.id)).where(col(Ticket.status).not_in(OPEN_STATUSES), numbered(col(Ticket.id)))
    statements = [
        update(TicketEvent)
        .where(numbered(col(TicketEvent.ticket_id)), col(TicketEvent.at) < cutoff,
               col(TicketEvent.note).not_in(["", PURGED]), col(TicketEvent.ticket_id).in_(closed))
        .values(note=PURGED),
        update(Ticket)
        .where(numbered(col(Ticket.id)), col(Ticket.created_at) < cutoff, col(Ticket.status).not_in(OPEN_STATUSES),
               col(Ticket.text) != PURGED)
        .values(text=PURGED),
    ]
    if ids is None or ids[0] == 0:
        statements.append(
            update(Consultation)
            .where(col(Consultation.created_at) < cutoff, col(Consultation.status) == "已答复",
                   col(Consultation.text) != PURGED)
            .values(text=PURGED, answer=PURGED)
        )
        statements.append(  # a finished legal-aid application keeps its kind and status
            update(AidApplication)
            .where(col(AidApplication.updated_at) < cutoff, col(AidApplication.status).in_(["已办结", "不予受理"]),
                   col(AidApplication.matter) != PURGED)
            .values(matter=PURGED)
        )
        statements.append(  # residents' council topics once settled (the agenda item keeps its own title)
            update(CouncilTopic)
            .where(col(CouncilTopic.created_at) < cutoff, col(CouncilTopic.status) != "待定", col(CouncilTopic.text) != PURGED)
            .values(text=PURGED)
        )
    return statements


def _run(session: Session, statements: list) -> int:
    return sum(session.exec(s).rowcount or 0 for s in statements)


def purged_before(session: Session) -> datetime | None:
    found = get_flag(session, WATERMARK)
    return datetime.fromisoformat(found["at"]) if found else None


def purge_texts_before(session: Session, cutoff: datetime) -> int:
    """Blank texts older than ``cutoff`` in one transaction (open tickets and unanswered
    questions are kept); the append-only tables only since the last purge's watermark."""
    since = purged_before(session)
    lo = since - SETTLE if since else None
    changed = _run(session, _append_only(lo, cutoff)) + _run(session, _closed_work(cutoff))
    if since is None or cutoff > since:
        set_flag(session, WATERMARK, {"at": cutoff.isoformat()}, cutoff)
    return changed


async def purge_in_steps(engine: Engine, cutoff: datetime) -> int:
    """purge_texts_before six hours per transaction, each step in a worker thread (its reads,
    writes and the commit's WAL checkpoint off the event loop), so a first purge of a year's
    data never freezes the chat; a chat write meanwhile waits for one short step at most."""
    def read_start() -> tuple[datetime | None, datetime | None]:
        with Session(engine) as session:
            return purged_before(session), session.scalar(select(func.min(Message.at)))

    def step(statements: list) -> int:
        with Session(engine) as session:
            changed = _run(session, statements)
            session.commit()
            return changed

    since, oldest = await asyncio.to_thread(read_start)
    start = since - SETTLE if since else (oldest or cutoff).astimezone(timezone.utc)
    changed = 0
    lo: datetime | None = None if since is None else start
    hi = min(start + WINDOW, cutoff)
    while True:
        changed += await bulk_in_thread(step, _append_only(lo, hi))
        if hi >= cutoff:
            break
        lo, hi = hi, min(hi + WINDOW, cutoff)

    def last_ticket() -> int:
        with Session(engine) as session:
            return session.scalar(select(func.max(Ticket.id))) or 0

    for first in range(0, await asyncio.to_thread(last_ticket) + 1, TICKETS_PER_STEP):
        changed += await bulk_in_thread(step, _closed_work(cutoff, (first, first + TICKETS_PER_STEP - 1)))

    def mark() -> None:
        with Session(engine) as session:
            if since is None or cutoff > since:
                set_flag(session, WATERMARK, {"at": cutoff.isoformat()}, cutoff)
            session.commit()

    await asyncio.to_thread(mark)
    return changed
