"""Ticket queries: open, merge, history, lists."""
from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, func, select

from storage.models import Ticket, TicketEvent, TicketReporter

OPEN_STATUSES = ("已受理", "已分派", "处理中")
STATUSES = (*OPEN_STATUSES, "已办结", "已回访", "已撤销")


def add_event(session: Session, ticket_id: int, at: datetime, actor_id: str, action: str, note: str = "") -> None:
    session.add(TicketEvent(ticket_id=ticket_id, at=at, actor_id=actor_id, action=action, note=note))


def find_open_duplicate(session: Session, room_id: str, category: str) -> Ticket | None:
    stmt = (
        select(Ticket)
        .where(Ticket.room_id == room_id, Ticket.category == category, col(Ticket.status).in_(OPEN_STATUSES))
        .order_by(col(Ticket.id).desc())
    )
    return session.exec(stmt).first()


def add_reporter(session: Session, ticket: Ticket, person_id: str) -> bool:
    """True when ``person_id`` is a new reporter of ``ticket``."""
    if session.get(TicketReporter, (ticket.id, person_id)) is not None:
        return False
    session.add(TicketReporter(ticket_id=ticket.id, person_id=person_id))
    ticket.reporters += 1
    session.add(ticket)
    return True


def history(session: Session, ticket_id: int) -> list[TicketEvent]:
    stmt = select(TicketEvent).where(TicketEvent.ticket_id == ticket_id).order_by(col(TicketEvent.id))
    return list(session.exec(stmt).all())


def list_tickets(
    session: Session,
    *,
    statuses: tuple[str, ...] = OPEN_STATUSES,
    room_id: str | None = None,
    reporter_id: str | None = None,
    scopes: tuple[str, ...] | None = None,
    overdue_at: datetime | None = None,
    limit: int = 20,
) -> list[Ticket]:
    stmt = select(Ticket).where(col(Ticket.status).in_(statuses))
    if room_id:
        stmt = stmt.where(Ticket.room_id == room_id)
    if reporter_id:
        stmt = stmt.join(TicketReporter, col(TicketReporter.ticket_id) == col(Ticket.id)).where(
            TicketReporter.person_id == reporter_id
        )
    if overdue_at is not None:
        stmt = stmt.where(col(Ticket.due_at) < overdue_at)
    rows = list(session.exec(stmt.order_by(col(Ticket.id))).all())
    if scopes is not None and "*" not in scopes:
        rows = [t for t in rows if t.stairwell in scopes or t.grid in scopes]
    return rows[:limit]


def count_all(session: Session) -> int:
    return session.exec(select(func.count()).select_from(Ticket)).one()
