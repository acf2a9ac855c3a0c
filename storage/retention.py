"""Keep residents' words only as long as promised: older texts are blanked, counts stay."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlmodel import Session, col

from storage.models import Consultation, Message, Notice, OutboxItem, Ticket, TicketEvent
from storage.tickets import OPEN_STATUSES

PURGED = "（已超过保存期限，内容已删除）"


def purge_texts_before(session: Session, cutoff: datetime) -> int:
    """Blank texts older than ``cutoff``; open tickets and unanswered questions are kept."""
    changed = 0
    statements = [
        update(Message)
        .where(col(Message.at) < cutoff, col(Message.text) != PURGED, col(Message.from_bot).is_(False))
        .values(text=PURGED, sender_name="居民"),
        update(Message)
        .where(col(Message.at) < cutoff, col(Message.text) != PURGED, col(Message.from_bot).is_(True))
        .values(text=PURGED),
        update(TicketEvent)
        .where(col(TicketEvent.at) < cutoff, col(TicketEvent.note) != "",
               col(TicketEvent.ticket_id).in_(select(Ticket.id).where(col(Ticket.status).not_in(OPEN_STATUSES))))
        .values(note=PURGED),
        update(OutboxItem)
        .where(col(OutboxItem.created_at) < cutoff, col(OutboxItem.status).in_(["sent", "failed"]),
               col(OutboxItem.text) != PURGED)
        .values(text=PURGED),
        update(Notice).where(col(Notice.created_at) < cutoff, col(Notice.text) != PURGED).values(text=PURGED),
        update(Ticket)
        .where(col(Ticket.created_at) < cutoff, col(Ticket.status).not_in(OPEN_STATUSES), col(Ticket.text) != PURGED)
        .values(text=PURGED),
        update(Consultation)
        .where(col(Consultation.created_at) < cutoff, Consultation.status == "已答复", col(Consultation.text) != PURGED)
        .values(text=PURGED, answer=PURGED),
    ]
    for statement in statements:
        changed += session.exec(statement).rowcount or 0  # type: ignore[call-overload]
    return changed
