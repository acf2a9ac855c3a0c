"""Sending a notice and chasing its non-confirmers: shared by the /通知 commands and scheduled jobs."""
from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session

from bot.permissions import ANY_STAFF, TRIO
from bot.services import Services
from common.privacy import mask
from storage import directory
from storage import notices as queries
from storage.models import Notice, Room
from storage.state import EMERGENCY_FLAG, get_flag

CHASE_AFTER = timedelta(minutes=30)
EMERGENCY_PRIORITY = 10


def render_notice(text: str, author: str, title: str, emergency: bool) -> str:
    head = "【紧急通知】" if emergency else "【通知】"
    return f"{head}{text}\n——{title}{author}\n收到请回复“收到”。"


def send_notice(
    services: Services, session: Session, *, author_id: str, author_name: str, title: str,
    text: str, rooms: list[Room], source: str = "command", key_prefix: str | None = None,
) -> tuple[int, int]:
    """Log a notice and queue it to ``rooms``; returns (notice number, messages queued).

    ``key_prefix`` makes a repeated send (a scheduled job run twice) queue nothing new.
    """
    now = services.clock.now()
    text = mask(text)
    emergency = get_flag(session, EMERGENCY_FLAG) is not None
    body = render_notice(text, author_name, title, emergency)
    priority = EMERGENCY_PRIORITY if emergency else 0

    def queue_all(prefix: str) -> int:
        return sum(
            services.queue(session, key=f"{prefix}:{room.id}", text=body, room=room, priority=priority)
            for room in rooms
        )

    if key_prefix:  # a scheduled run: queue first, and log a notice only if this run is new
        queued = queue_all(key_prefix)
        if not queued:
            return 0, 0
    notice = queries.create_notice(
        session, author_id=author_id, text=text, rooms=rooms, at=now, source=source, emergency=emergency
    )
    if not key_prefix:
        queued = queue_all(f"notice:{notice.id}")
    return notice.id or 0, queued


def unconfirmed(session: Session, notice: Notice) -> list[tuple[Room, list[str]]]:
    """Per target group: names of members who have not confirmed (author and staff excluded)."""
    return [(g.room, g.missing) for g in queries.receipts_by_group(session, notice, ANY_STAFF)]


def chase_unconfirmed(services: Services, session: Session) -> int:
    """Emergency notices older than 30 minutes: each group's trio gets its non-confirmers, once."""
    sent = 0
    for notice in queries.unchased_emergency_notices(session, services.clock.now() - CHASE_AFTER):
        for room, missing in unconfirmed(session, notice):
            trio = directory.people_with_roles(session, TRIO, room) or directory.responsible_staff(session, room)
            text = (
                f"【战时回执】通知 N{notice.id}（{room.topic}）30分钟未确认{len(missing)}人："
                + ("、".join(missing) if missing else "无")
                + ("\n请电话或上门联系。" if missing else "")
            )
            for person in trio:
                sent += services.queue(session, key=f"chase:{notice.id}:{room.id}:{person.id}", to=person.id, text=text)
            sent += services.to_staff_channel(session, key=f"chase:{notice.id}:{room.id}", text=text)
        notice.chased = True
        session.add(notice)
    return sent
