"""The message log."""
from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from storage.models import Message


def log_message(session: Session, message: Message) -> bool:
    """Insert ``message``; False when (transport, external_id) is already stored.

    Runs inside a SAVEPOINT so a duplicate leaves the caller's transaction usable.
    """
    try:
        with session.begin_nested():
            session.add(message)
            session.flush()
    except IntegrityError:
        return False
    return True


def room_history(session: Session, room_id: str, limit: int) -> list[Message]:
    stmt = (
        select(Message)
        .where(Message.room_id == room_id)
        .order_by(col(Message.at).desc(), col(Message.id).desc())
        .limit(limit)
    )
    return list(reversed(session.exec(stmt).all()))
