"""Overdue tickets: one digest per person per run — reminders to whoever follows a ticket up,
escalations to its grid worker — never one message per ticket.

Meant to run as a scheduled job. A ticket is reminded once per due date: the 催办 event the run
records (in the same transaction as the digests) marks it, so running twice, or after a restart,
never sends anything twice; a postponed ticket (a later due date) is reminded again. Everything
is read in a few set queries and the events are written in one batch, so a district's first run
(10 k overdue tickets) stays short.
"""
from __future__ import annotations

import zlib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import exists, insert
from sqlmodel import Session, col, select

from bot.permissions import OVERDUE_ROLES
from domain.deadlines import format_due
from schedules.timing import allowed_time
from storage import tickets
from storage.models import Person, RoleGrant, Room, Ticket, TicketEvent

LISTED = 10  # tickets named per section of a digest; the rest are counted (/工单 超期 lists them all)
STATISTICS_AFTER = 1000  # markers in one run: PostgreSQL's planner is told at once (queue_plan)
BOT = tickets.OVERDUE_CHASER  # the actor of the job's 催办 events (residents' chases are told apart by it)


def _reminded_for_this_due_date():
    """The job's own 催办 event at or after the ticket's due date: this due date was reminded
    (a resident's chase is a 催办 event too, by the resident: it reminds nobody)."""
    return exists().where(
        col(TicketEvent.ticket_id) == Ticket.id, col(TicketEvent.action) == "催办",
        # `actor_id || ''`: the same test, but no index by actor may serve it. With the throttle's
        # (actor_id, at) index SQLite looked up each ticket's markers among all of the bot's (the
        # second run on the district: 0.04 s -> 4.8 s); by ticket they are a handful.
        col(TicketEvent.actor_id).concat("") == BOT,
        col(TicketEvent.at) >= Ticket.due_at,
    )


def overdue_tickets(session: Session, now: datetime, *, unreminded: bool = False) -> list[Ticket]:
    stmt = select(Ticket).where(col(Ticket.status).in_(tickets.OPEN_STATUSES), col(Ticket.due_at) < now)
    if unreminded:
        stmt = stmt.where(~_reminded_for_this_due_date())
    return list(session.exec(stmt.order_by(col(Ticket.due_at), col(Ticket.id))).all())


class _Staff:
    """The staff grants, read once per run (the per-ticket lookups of directory, in memory)."""

    def __init__(self, session: Session) -> None:
        self.by_role: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
        for person_id, role, scope in session.exec(
            select(RoleGrant.person_id, RoleGrant.role, RoleGrant.scope)
            .where(col(RoleGrant.role).in_(OVERDUE_ROLES)).order_by(col(RoleGrant.id))  # as directory: grant order
        ).all():
            if person_id not in self.by_role[role][scope]:
                self.by_role[role][scope].append(person_id)
        self.admins = list(dict.fromkeys(self.by_role["admin"].get("*", [])))

    def holding(self, roles: tuple[str, ...], room: Room) -> list[str]:
        """As directory.people_with_roles: a grant naming the room's stairwell, grid or topic."""
        found: list[str] = []
        for role in roles:
            for scope in {s for s in (room.stairwell, room.grid, room.topic) if s is not None}:
                found += self.by_role[role].get(scope, [])
        return list(dict.fromkeys(found))

    def responsible(self, room: Room | None) -> list[str]:
        """As directory.responsible_staff: 信息员 and 楼道长, else the grid worker, else admins."""
        for roles in (("officer", "leader"), ("grid",)):
            people = self.holding(roles, room) if room is not None else []
            if people:
                return people
        return self.admins

    def grid_workers(self, grid: str | None) -> list[str]:
        """The grid's 网格员; admins when the ticket has no grid or the grid has nobody."""
        return (list(self.by_role["grid"].get(grid, [])) if grid else []) or self.admins


@dataclass
class _Digest:
    remind: list[str] = field(default_factory=list)  # lines: tickets this person follows up
    escalate: list[str] = field(default_factory=list)  # lines: tickets this person supervises
    ids: list[int] = field(default_factory=list)
    urgent: bool = False


def _section(head: str, lines: list[str]) -> list[str]:
    more = len(lines) - LISTED
    return [head, *lines[:LISTED]] + ([f"……另有{more}件，/工单 超期 查看全部。"] if more > 0 else [])


def _text(digest: _Digest) -> str:
    parts: list[str] = []
    if digest.remind:
        parts += _section(
            f"【超期提醒】您跟进的{len(digest.remind)}件工单已超过答复期限，请尽快处理，并用 /处理 编号 说明 更新进展：",
            digest.remind,
        )
    if digest.escalate:
        parts += _section(f"【超期督办】{len(digest.escalate)}件工单已超过期限，请督办：", digest.escalate)
    return "\n".join(parts)


def _key(kind: str, who: str, ids: list[int]) -> str:
    """The same tickets to the same person are one message, however often the run is repeated."""
    return f"overdue:{kind}:{who}:{ids[0]}-{ids[-1]}:{len(ids)}:{zlib.crc32(repr(sorted(ids)).encode()):08x}"


@dataclass
class OverduePlan:
    """What one run will queue, worked out by reading only (see plan_overdue)."""

    ticket_ids: list[int]
    made_from: list[tuple]  # unreminded_ids() when the plan was made
    digests: dict[str, _Digest]
    staff_lines: list[str]
    events: list[dict]


def unreminded_ids(session: Session, now: datetime) -> list[tuple]:
    """(number, due date, assignee) of the tickets overdue and not yet reminded for their due date,
    in one query: what a plan was made from, to check it still holds."""
    stmt = select(Ticket.id, Ticket.due_at, Ticket.assignee_id).where(col(Ticket.status).in_(tickets.OPEN_STATUSES), col(Ticket.due_at) < now,
                                   ~_reminded_for_this_due_date())
    return list(session.exec(stmt.order_by(col(Ticket.due_at), col(Ticket.id))).all())


def plan_overdue(session: Session, now: datetime) -> OverduePlan | None:
    """Read the overdue tickets and who follows them, and compose the digests; writes nothing,
    so a district's run can read in a transaction that holds no write lock. None: nothing due."""
    due = overdue_tickets(session, now, unreminded=True)
    if not due:
        return None
    room_ids = {t.room_id for t in due if t.room_id}
    rooms = {r.id: r for r in session.exec(select(Room).where(col(Room.id).in_(room_ids))).all()} if room_ids else {}
    staff = _Staff(session)
    plans = []
    for ticket in due:
        room = rooms.get(ticket.room_id or "")
        owners = [ticket.assignee_id] if ticket.assignee_id else staff.responsible(room)
        plans.append((ticket, room, owners, [p for p in staff.grid_workers(ticket.grid) if p not in owners]))
    everyone = {p for _, _, owners, grid in plans for p in (*owners, *grid)}
    names = dict(session.exec(select(Person.id, Person.name).where(col(Person.id).in_(everyone))).all())

    digests: dict[str, _Digest] = defaultdict(_Digest)
    staff_lines: list[str] = []
    events = []
    for ticket, room, owners, grid in plans:
        assert ticket.id is not None
        place = f"{room.topic if room else '私聊'} · {ticket.category}"
        owner_names = "、".join(names.get(pid, pid) for pid in owners) or "未分派"
        line = f"#{ticket.id}（{place}）期限{format_due(ticket.due_at)}"
        for person_id, lines in [(p, "remind") for p in owners] + [(p, "escalate") for p in grid]:
            digest = digests[person_id]
            getattr(digest, lines).append(line if lines == "remind" else f"{line}，跟进人：{owner_names}")
            digest.ids.append(ticket.id)
            digest.urgent |= ticket.urgent
        staff_lines.append(f"{line}，跟进人：{owner_names}")
        events.append({"ticket_id": ticket.id, "at": now, "actor_id": BOT, "action": "催办",
                       "note": f"超期提醒：{owner_names}"})
    return OverduePlan([t.id for t in due if t.id is not None],
                       [(t.id, t.due_at, t.assignee_id) for t in due], dict(digests), staff_lines, events)


def queue_plan(services, session: Session, plan: OverduePlan, now: datetime) -> int:
    """Queue the plan's digests and record its 催办 markers in ``session``'s transaction."""
    quiet = services.config.schedules.quiet_hours
    queued = 0
    for person_id, digest in plan.digests.items():
        # Volunteers are not woken at night for ordinary tickets; a digest with an urgent one goes at once.
        when = None if digest.urgent else allowed_time(now, quiet)
        queued += services.queue(session, key=_key("digest", person_id, digest.ids), to=person_id,
                                 due_at=when, priority=-1, text=_text(digest))
    queued += services.to_staff_channel(
        session, key=_key("escalate", "staff", plan.ticket_ids),
        text="\n".join(_section(f"【超期督办】{len(plan.staff_lines)}件工单已超过期限：", plan.staff_lines)),
    )
    conn = session.connection()
    conn.execute(insert(TicketEvent), plan.events)  # the marker: this due date is reminded
    if conn.dialect.name == "postgresql" and len(plan.events) >= STATISTICS_AFTER:
        # A first run over a big backlog adds thousands of markers to a table whose statistics say
        # there are none; planned on those, the next run's anti-join scanned them once per ticket
        # (4.6 s on the district; 40 ms once analysed). Autovacuum waits for 10% of the table.
        conn.exec_driver_sql("ANALYZE ticket_events")
    return queued


def remind_overdue(services, session: Session, now: datetime) -> int:
    """Queue one digest per person for the tickets overdue and not yet reminded for their due date
    (plus one for the staff channel), in one transaction; returns how many messages were queued."""
    plan = plan_overdue(session, now)
    return queue_plan(services, session, plan, now) if plan else 0
