"""Timed notices (/定时, /每周): the durable intent, its due time and what became of it."""
from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlmodel import Session, col, select

from common.tz import SHANGHAI
from storage.models import TimedNotice

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
PENDING = "pending"
PAUSED = "paused"  # kept, not sent, no trigger: /任务 恢复 sets it pending again


def create(
    session: Session, *, author_id: str, author_name: str, title: str, text: str, room_ids: list[str],
    due_at: datetime, now: datetime, weekly: str | None = None,
) -> TimedNotice:
    notice = TimedNotice(
        author_id=author_id, author_name=author_name, title=title, text=text, room_ids=" ".join(room_ids),
        due_at=due_at, weekly=weekly, created_at=now,
    )
    session.add(notice)
    session.flush()
    return notice


def pending(session: Session) -> list[TimedNotice]:
    stmt = select(TimedNotice).where(TimedNotice.status == PENDING).order_by(col(TimedNotice.due_at))
    return list(session.exec(stmt).all())


def listed(session: Session) -> list[TimedNotice]:
    """Pending and paused notices (what /任务 and the console list), by due time."""
    stmt = (
        select(TimedNotice)
        .where(col(TimedNotice.status).in_((PENDING, PAUSED)))
        .order_by(col(TimedNotice.due_at), col(TimedNotice.id))
    )
    return list(session.exec(stmt).all())


def due(session: Session, now: datetime) -> list[int]:
    """Ids of pending notices whose time has come, oldest first."""
    stmt = (
        select(TimedNotice.id)
        .where(TimedNotice.status == PENDING, col(TimedNotice.due_at) <= now)
        .order_by(col(TimedNotice.due_at), col(TimedNotice.id))
    )
    return [i for i in session.exec(stmt).all() if i is not None]


def room_ids(notice: TimedNotice) -> list[str]:
    return notice.room_ids.split()


def weekly_spec(weekday: int, at: time) -> str:
    return f"{WEEKDAYS[weekday]} {at:%H:%M}"


def next_weekly(spec: str, after: datetime) -> datetime:
    """The first time strictly after ``after`` matching ``spec`` ("fri 22:30"), Asia/Shanghai."""
    day_name, clock = spec.split()
    hour, minute = (int(x) for x in clock.split(":"))
    local = after.astimezone(SHANGHAI)
    ahead = (WEEKDAYS.index(day_name) - local.weekday()) % 7
    when = datetime.combine(local.date() + timedelta(days=ahead), time(hour, minute), SHANGHAI)
    return when if when > local else when + timedelta(days=7)


def finish(notice: TimedNotice, status: str, now: datetime) -> None:
    """A one-off is done ('queued' or 'missed'); a weekly one moves on to its next time."""
    if notice.weekly:
        notice.due_at = next_weekly(notice.weekly, max(now, notice.due_at))
    else:
        notice.status, notice.done_at = status, now
