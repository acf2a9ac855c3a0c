"""Notice, target and receipt queries."""
from __future__ import annotations

from collections.abc import Set as AbstractSet
from datetime import datetime, timedelta

from dataclasses import dataclass, field

from sqlalchemy import and_
from sqlmodel import Session, col, select

from storage.models import Notice, NoticeTarget, Person, Receipt, RoleGrant, Room, RoomMember

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
    assert notice.id is not None, "a stored notice"
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


def sent_to(session: Session, room_ids: AbstractSet[str], limit: int = 20) -> list[Notice]:
    """Tracked notices (staff notices, timed or typed) to any of ``room_ids``, newest first."""
    if not room_ids:
        return []
    aimed = select(NoticeTarget.notice_id).where(col(NoticeTarget.room_id).in_(sorted(room_ids)))
    stmt = (
        select(Notice)
        .where(col(Notice.id).in_(aimed), col(Notice.tracked).is_(True))
        .order_by(col(Notice.id).desc())
        .limit(limit)
    )
    return list(session.exec(stmt).all())


def unchased_emergency_notices(session: Session, older_than: datetime) -> list[Notice]:
    stmt = select(Notice).where(
        col(Notice.emergency).is_(True), col(Notice.chased).is_(False), col(Notice.created_at) <= older_than
    )
    return list(session.exec(stmt).all())



UNNAMED = "（一位居民）"


@dataclass
class GroupReceipts:
    """One target group of a notice: who (by name) confirmed, and who did not."""

    room: Room
    done: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)

    @property
    def confirmed(self) -> int:
        return len(self.done)


def receipts_by_group(session: Session, notice: Notice, staff_roles: AbstractSet[str]) -> list[GroupReceipts]:
    """Per target group (by id): members who confirmed, and the names of those who did not.

    A receipt counts in every target group the person is in (one "收到" in any is enough). The
    notice's author, admins and holders of ``staff_roles`` for the group are not asked to confirm
    (as directory.people_with_roles: a grant naming the group's stairwell, grid or topic). A few
    set queries, however many groups a district-wide notice reaches.
    """
    groups = {room.id: GroupReceipts(room) for room in targets(session, notice.id or 0)}
    grants = session.exec(
        select(RoleGrant.person_id, RoleGrant.role, RoleGrant.scope)
        .where(col(RoleGrant.role).in_(sorted(staff_roles | {"admin"})))
    ).all()
    admins = {pid for pid, role, _ in grants if role == "admin"}
    staff_by_scope: dict[str, set[str]] = {}
    for pid, role, scope in grants:
        if role in staff_roles:
            staff_by_scope.setdefault(scope, set()).add(pid)
    members = (
        select(RoomMember.room_id, Person.id, Person.name, col(Receipt.person_id).is_not(None))
        .join(NoticeTarget, col(NoticeTarget.room_id) == col(RoomMember.room_id))
        .join(Person, col(Person.id) == col(RoomMember.person_id))
        .outerjoin(Receipt, and_(col(Receipt.notice_id) == notice.id, col(Receipt.person_id) == col(RoomMember.person_id)))
        .where(NoticeTarget.notice_id == notice.id)
        .order_by(col(RoomMember.room_id), col(Person.id))
    )
    excused: dict[str, set[str]] = {}
    for room_id, person_id, name, confirmed in session.exec(members).all():
        group = groups[room_id]
        name = name or UNNAMED  # a resident who had their information deleted still counts
        if confirmed:
            group.done.append(name)
            continue
        if room_id not in excused:
            room = group.room
            excused[room_id] = admins | {notice.author_id}.union(
                *(staff_by_scope.get(s, set()) for s in {room.stairwell, room.grid, room.topic} if s)
            )
        if person_id not in excused[room_id]:
            group.missing.append(name)
    return list(groups.values())
