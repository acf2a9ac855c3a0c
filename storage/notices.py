"""Notice, target and receipt queries."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from storage.models import Notice, NoticeTarget, Receipt, Room

RECEIPT_WINDOW = timedelta(hours=24)


def create_notice(
    session: Session, *, author_id: str, text: str, rooms: list[Room], at: datetime,
    source: str = "command", emergency: bool = False, tracked: bool = True,
) -> Notice:
    notice = Notice(author_id=author_id, text=text, source=source, emergency=emergency, tracked=tracked, created_at=at)
    session.add(notice)
    session.flush()
    assert notice.id is not None
    for room in rooms:
        session.add(NoticeTarget(notice_id=notice.id, room_id=room.id))
    session.flush()
    return notice


def recent_tracked_notices(session: Session, room_id: str, since: datetime) -> list[Notice]:
    """Tracked notices to ``room_id`` sent since ``since``, newest first."""
    stmt = (
        select(Notice)
        .join(NoticeTarget, col(NoticeTarget.notice_id) == col(Notice.id))
        .where(NoticeTarget.room_id == room_id, col(Notice.tracked).is_(True), col(Notice.created_at) >= since)
        .order_by(col(Notice.id).desc())
    )
    return list(session.exec(stmt).all())


def latest_tracked_notice(session: Session, room_id: str, now: datetime) -> Notice | None:
    """The newest tracked notice to ``room_id`` still inside the receipt window."""
    return next(iter(recent_tracked_notices(session, room_id, now - RECEIPT_WINDOW)), None)


def add_receipt(session: Session, notice: Notice, person_id: str, room_id: str, at: datetime) -> bool:
    if person_id == notice.author_id or session.get(Receipt, (notice.id, person_id)) is not None:
        return False
    session.add(Receipt(notice_id=notice.id, person_id=person_id, room_id=room_id, at=at))
    return True


def targets(session: Session, notice_id: int) -> list[Room]:
    stmt = (
        select(Room)
        .join(NoticeTarget, col(NoticeTarget.room_id) == col(Room.id))
        .where(NoticeTarget.notice_id == notice_id)
        .order_by(Room.id)
    )
    return list(session.exec(stmt).all())


def confirmed_people(session: Session, notice_id: int) -> set[str]:
    """Everyone who confirmed ``notice_id``, in whichever of its groups they said it."""
    return set(session.exec(select(Receipt.person_id).where(Receipt.notice_id == notice_id)).all())


def unchased_emergency_notices(session: Session, older_than: datetime) -> list[Notice]:
    stmt = select(Notice).where(
        col(Notice.emergency).is_(True), col(Notice.chased).is_(False), col(Notice.created_at) <= older_than
    )
    return list(session.exec(stmt).all())

