"""Overdue tickets: a reminder to whoever follows it up, an escalation to the grid worker.

Meant to run as a scheduled job. Every message has a stable idempotency key
(ticket, due date, person, kind), so running it twice, or after a restart,
never sends anything twice; a postponed ticket (new due date) is reminded again.
"""
from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from bot.clock import SHANGHAI
from handlers.deadlines import format_due
from schedules.timing import allowed_time
from storage import directory, tickets
from storage.models import Person, RoleGrant, Room, Ticket


def overdue_tickets(session: Session, now: datetime) -> list[Ticket]:
    stmt = (
        select(Ticket)
        .where(col(Ticket.status).in_(tickets.OPEN_STATUSES), col(Ticket.due_at) < now)
        .order_by(col(Ticket.due_at), col(Ticket.id))
    )
    return list(session.exec(stmt).all())


def grid_workers(session: Session, grid: str | None) -> list[Person]:
    """The grid's 网格员; admins when the ticket has no grid or the grid has nobody."""
    stmt = select(RoleGrant.person_id).where(RoleGrant.role == "grid", RoleGrant.scope == grid)
    ids = session.exec(stmt).all() if grid else []
    people = [p for p in (session.get(Person, pid) for pid in dict.fromkeys(ids)) if p is not None]
    return people or directory.admins(session)


def remind_overdue(services, session: Session, now: datetime) -> int:
    """Queue reminders and escalations for overdue tickets; returns how many messages were queued."""
    queued = 0
    for ticket in overdue_tickets(session, now):
        room = session.get(Room, ticket.room_id) if ticket.room_id else None
        place = f"{room.topic if room else '私聊'} · {ticket.category}"
        due = format_due(ticket.due_at)
        stem = f"overdue:{ticket.id}:{ticket.due_at.astimezone(SHANGHAI):%Y-%m-%d}"
        owners = (
            [ticket.assignee_id] if ticket.assignee_id else [p.id for p in directory.responsible_staff(session, room)]
        )
        owner_names = "、".join(directory.person_name(session, pid) for pid in owners) or "未分派"
        sent_now = 0
        # Volunteers are not woken at night for an ordinary ticket; an urgent one goes at once.
        when = None if ticket.urgent else allowed_time(now, services.config.schedules.quiet_hours)
        for person_id in owners:
            sent_now += services.queue(
                session, key=f"{stem}:remind:{person_id}", to=person_id, due_at=when,
                text=f"【超期提醒】工单 #{ticket.id}（{place}）已超过答复期限{due}，请尽快处理，并用 /处理 {ticket.id} 说明 更新进展。",
            )
        for person in grid_workers(session, ticket.grid):
            if person.id in owners:
                continue  # the grid worker already got the reminder as its owner
            sent_now += services.queue(
                session, key=f"{stem}:escalate:{person.id}", to=person.id, due_at=when,
                text=f"【超期督办】工单 #{ticket.id}（{place}）已超过期限{due}，跟进人：{owner_names}，请督办。",
            )
        sent_now += services.to_staff_channel(
            session, key=f"{stem}:escalate",
            text=f"【超期督办】工单 #{ticket.id}（{place}）已超过期限{due}，跟进人：{owner_names}。",
        )
        if sent_now and ticket.id is not None:  # only the first run for this due date leaves a trace
            tickets.add_event(session, ticket.id, now, "bot", "催办", f"超期提醒：{owner_names}")
        queued += sent_now
    return queued
