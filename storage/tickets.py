"""Ticket queries: open, merge, history, lists, the lifecycle's state changes."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable, Sequence

from sqlalchemy import ARRAY, Boolean, and_, ColumnElement, Row, String, bindparam, exists, false, insert, literal, or_, true, union_all, update
from sqlalchemy import select as core_select
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key
from sqlmodel import Session, col, func, select

from storage.db import insert_ignoring_duplicates
from storage.models import AuditEntry, Room, Ticket, TicketEvent, TicketReporter
from storage.state import StateFlag, set_flag
from storage.tables import detached, table_of

OPEN_STATUSES = ("已受理", "已分派", "处理中")
CLOSED_UNRATED = "已关闭"  # resolved, and nobody rated it within the rating window
RATABLE_STATUSES = ("已办结", "已回访")  # 已回访: one reporter rated; the others still may
RESOLVED_STATUSES = (*RATABLE_STATUSES, CLOSED_UNRATED)
STATUSES = (*OPEN_STATUSES, *RESOLVED_STATUSES, "已撤销")
RATINGS = ("满意", "基本满意", "不满意")  # best first
UNRATED = "未评价"  # the rating of a ticket closed by the rating window, counted apart
SYSTEM = "system"  # the actor of steps nobody took by hand (the rating window's closing)
OVERDUE_CHASER = "bot"  # the actor of the overdue job's 催办 events: a resident's chase is any other
RATING_WINDOW = timedelta(days=7)  # a "1" later than this is chatter, not a rating
NOTE_ACTIONS = ("分派", "处理", "办结", "延期", "重开", "议事会")  # staff steps whose notes the reporters see

# A bare number followed by a place word is a place ("3幢1单元楼道群"), not ticket #3; after '#' or
# "工单" it is always a ticket ("#1 楼上总阀已换", "工单1"), and so is "1号" standing alone ("1号 已清理").
# Full-width digits ("１２") read as ASCII, other scripts' ("١٢") never; a run longer than
# MAX_DIGITS is never int()-ed.
_NUMBER = re.compile(
    r"^\s*(?:(?:[#＃]|工单\s*[#＃]?)\s*([0-9]+)\s*号?"
    r"|([0-9]+)(?:\s*号(?=[\s，,：:。.、@]|$))?(?!\d|[幢栋楼号单元层室]|\s+(?:[幢栋号]|单元)))[\s，,：:。.、]*(.*)$",
    re.S,
)
WIDE_DIGITS = str.maketrans("０１２３４５６７８９＃", "0123456789#")  # a Chinese phone keyboard's digits
# What the guard above read as a place but may be a ticket typed without a space: "1楼上总阀已换",
# "12号纸箱已清理" (never "3号楼", "2号单元", "5号院").
_PLACE_LED = re.compile(r"^\s*([0-9]{1,9})\s*(?:号(?![楼幢栋院单])\s*(.+)|(楼.*))$", re.S)
MAX_DIGITS = 9
NO_SUCH_NUMBER = 0  # what an over-long number parses to: looked up, never found


def parse_number(args: str) -> tuple[int | None, str]:
    """'#12 说明' / '12 说明' -> (12, '说明'); no leading number -> (None, args); too long -> (0, …)."""
    match = _NUMBER.match((args or "").translate(WIDE_DIGITS))
    if not match:
        return None, (args or "").strip()
    digits = match.group(1) or match.group(2)
    return (int(digits) if len(digits) <= MAX_DIGITS else NO_SUCH_NUMBER), match.group(3).strip()


def place_led_number(args: str) -> tuple[int, str] | None:
    """'1楼上总阀已换' -> (1, '楼上总阀已换'): what parse_number read as a place, which may be ticket #1
    written on a phone without a space; the caller asks before acting on it."""
    match = _PLACE_LED.match((args or "").translate(WIDE_DIGITS))
    return (int(match.group(1)), (match.group(2) or match.group(3)).strip()) if match else None


# Plain rows, built once: a busy group has a dozen open tickets, every petition compares itself
# with them, and most only read their texts (as ORM instances they cost ~1 ms a petition).
_OPEN_IN_ROOM = (
    core_select(table_of(Ticket))
    .where(col(Ticket.room_id) == bindparam("room_id"), col(Ticket.status).in_(OPEN_STATUSES))
    .order_by(col(Ticket.id).desc())
)


def open_in_room(session: Session, room_id: str) -> list[Row]:
    """A group's open tickets as plain rows, newest first (``attached`` makes one a Ticket)."""
    session.flush()  # a Core read: the session's pending changes first, as its own queries would
    return list(session.connection().execute(_OPEN_IN_ROOM, {"room_id": room_id}).all())


def attached(session: Session, row: Row) -> Ticket:
    """The session's Ticket for a row read in this transaction (no second query)."""
    held = session.identity_map.get(identity_key(Ticket, row.id))
    if held is not None:
        return held
    ticket = detached(Ticket, row)
    session.add(ticket)  # persistent as it is: no copy, no query (merge() cost three times more)
    return ticket


def _opening_statements(dialect: str) -> tuple:
    """The INSERTs of a new ticket, its first reporter and its 受理 event, built once per dialect:
    on PostgreSQL one statement (data-modifying CTEs: one round trip, not three)."""
    found = _OPENING.get(dialect)
    if found is None:
        tickets, reporters, events = table_of(Ticket), table_of(TicketReporter), table_of(TicketEvent)
        columns = [c for c in tickets.columns if c.name != "id"]
        add_ticket = insert(tickets).values({c.name: bindparam(c.name, type_=c.type) for c in columns})
        if dialect == "postgresql":
            new = add_ticket.returning(tickets.c.id).cte("new_ticket")
            reporter = insert(reporters).from_select(
                ["ticket_id", "person_id"], core_select(new.c.id, bindparam("reporter_id", type_=reporters.c.person_id.type))
            ).cte("first_reporter")
            event = insert(events).from_select(
                ["ticket_id", "at", "actor_id", "action", "note"],
                core_select(new.c.id, bindparam("created_at", type_=events.c.at.type), bindparam("reporter_id"),
                            literal(OPENED), bindparam("note", type_=events.c.note.type)),
            ).cte("opened")
            audit = table_of(AuditEntry)
            told = insert(audit).from_select(
                ["at", "actor_id", "action", "subject"],
                core_select(bindparam("created_at", type_=audit.c.at.type),
                            func.unnest(bindparam("notified", type_=ARRAY(String))),
                            literal(NOTIFIED), func.concat("#", new.c.id)),
            ).cte("notified")
            found = (core_select(new.c.id).add_cte(reporter).add_cte(event).add_cte(told),)
        else:
            found = (
                add_ticket.returning(tickets.c.id),
                insert(reporters).values(ticket_id=bindparam("ticket_id"), person_id=bindparam("reporter_id")),
                insert(events).values(ticket_id=bindparam("ticket_id"), at=bindparam("created_at"),
                                      actor_id=bindparam("reporter_id"), action=OPENED, note=bindparam("note")),
            )
        _OPENING[dialect] = found
    return found


OPENED = "受理"
NOTIFIED = "工单通知"  # audit action: a staff member was sent a new ticket's words
_OPENING: dict[str, tuple] = {}


def open_ticket(session: Session, ticket: Ticket, note: str, notified: Sequence[str] = ()) -> Ticket:
    """Store a new ``ticket`` with its reporter as the first of its reporters and a 受理 event
    (``note``), and a 工单通知 audit row for each of ``notified`` (the staff shown the resident's
    words: 个人信息保护法), by Core INSERTs, not the ORM's flush (every new petition does this);
    ``ticket`` is then the session's, with its number."""
    session.flush()  # what the session holds goes first, as a flush would order it
    conn = session.connection()
    values = {c.name: getattr(ticket, c.name) for c in table_of(Ticket).columns if c.name != "id"}
    values.update(note=note, notified=list(notified))
    statements = _opening_statements(conn.dialect.name)
    ticket.id = conn.execute(statements[0], values).scalar_one()
    for stmt in statements[1:]:
        conn.execute(stmt, {**values, "ticket_id": ticket.id})
    if notified and len(statements) > 1:  # on PostgreSQL they were in the one statement
        conn.execute(insert(table_of(AuditEntry)), [
            {"at": ticket.created_at, "actor_id": who, "action": NOTIFIED, "subject": f"#{ticket.id}"}
            for who in notified
        ])
    make_transient_to_detached(ticket)
    session.add(ticket)
    return ticket


_ADD_EVENT = insert(table_of(TicketEvent))  # built once


def add_event(session: Session, ticket_id: int, at: datetime, actor_id: str, action: str, note: str = "") -> None:
    """One row of a ticket's history, by a Core INSERT (every petition that joins a ticket adds
    one or two; through the ORM each cost a unit-of-work flush)."""
    session.connection().execute(
        _ADD_EVENT, {"ticket_id": ticket_id, "at": at, "actor_id": actor_id, "action": action, "note": note}
    )


def set_status(
    session: Session, ticket: Ticket, status: str, *, at: datetime, actor_id: str, action: str, note: str = ""
) -> None:
    """Change status and record the event; staff actions count as the first response."""
    assert ticket.id is not None
    ticket.status = status
    if action in ("分派", "处理", "办结") and ticket.responded_at is None:
        ticket.responded_at = at
    session.add(ticket)
    add_event(session, ticket.id, at, actor_id, action, note)


def _private_reporter_flag(ticket_id: int, person_id: str) -> str:
    return f"private-reporter:{ticket_id}:{person_id}"


def mark_private_reporter(session: Session, ticket_id: int, person_id: str, at: datetime) -> None:
    """``person_id`` joined this group ticket in a private chat: the group is never told they did."""
    set_flag(session, _private_reporter_flag(ticket_id, person_id), {}, at)


def private_reporters(session: Session, ticket_id: int, person_ids: list[str]) -> set[str]:
    """Those of ``person_ids`` who joined the ticket privately (mark_private_reporter)."""
    if not person_ids:
        return set()
    names = {_private_reporter_flag(ticket_id, pid): pid for pid in person_ids}
    found = session.exec(select(StateFlag.name).where(col(StateFlag.name).in_(list(names)))).all()
    return {names[name] for name in found}


def add_reporter(session: Session, ticket: Ticket, person_id: str) -> bool:
    """True when ``person_id`` is a new reporter of ``ticket`` (one INSERT … ON CONFLICT DO NOTHING
    on SQLite and PostgreSQL, not a look-up and an insert: every petition and follow-up runs it)."""
    assert ticket.id is not None, "a stored ticket"
    conn = session.connection()
    stmt = insert_ignoring_duplicates(table_of(TicketReporter), conn.dialect.name, ("ticket_id", "person_id"), "ticket_id")
    if stmt is not None:
        if session.execute(stmt, {"ticket_id": ticket.id, "person_id": person_id}).first() is None:
            return False
    elif session.get(TicketReporter, (ticket.id, person_id)) is not None:
        return False
    else:
        session.add(TicketReporter(ticket_id=ticket.id, person_id=person_id))
    # Counted in the database (not a change the ORM flushes later): the instance is told the new count
    new_count = session.connection().execute(_ONE_MORE_REPORTER, {"ticket_id": ticket.id}).scalar_one()
    set_committed_value(ticket, "reporters", new_count)
    return True


_TICKETS = table_of(Ticket)
_ONE_MORE_REPORTER = (  # built once
    update(_TICKETS).where(_TICKETS.c.id == bindparam("ticket_id"))
    .values(reporters=_TICKETS.c.reporters + 1).returning(_TICKETS.c.reporters)
)


ADDED, CHASED = "追加", "催办"


@dataclass(frozen=True)
class Joined:
    new_reporter: bool  # ``person_id`` was not a reporter of the ticket before
    chased_lately: bool  # a resident chased it since ``chased_since`` (before this chase)


def join(session: Session, ticket: Ticket, person_id: str, at: datetime, words: str, *,
         chase: bool, chased_since: datetime) -> Joined:
    """``person_id`` adds ``words`` to an open ticket (a 追加 event, where deletion finds a
    resident's words), as one more reporter if not one yet, and with ``chase`` a 催办 event that
    carries none. On PostgreSQL one statement (data-modifying CTEs), four or five elsewhere:
    every petition that joins a ticket runs this."""
    assert ticket.id is not None, "a stored ticket"
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        session.flush()  # a Core write: what the session holds goes first
        row = conn.execute(_joining_statement(), {
            "ticket_id": ticket.id, "person_id": person_id, "at": at, "words": words, "chase": chase,
            "since": chased_since,
        }).one()
        if row.reporters is not None:
            set_committed_value(ticket, "reporters", row.reporters)
        return Joined(row.reporters is not None, chase and row.chased > 0)
    new_reporter = add_reporter(session, ticket, person_id)
    chased_lately = chase and chased_since_by_residents(session, ticket.id, chased_since)
    add_event(session, ticket.id, at, person_id, ADDED, words)
    if chase:
        add_event(session, ticket.id, at, person_id, CHASED)
    return Joined(new_reporter, chased_lately)


def chased_since_by_residents(session: Session, ticket_id: int, since: datetime) -> bool:
    """Someone chased the ticket since ``since`` (the overdue job's own 催办 does not count)."""
    return session.exec(_chased_count(ticket_id, since)).one() > 0


def _chased_count(ticket_id, since):
    return select(func.count()).select_from(TicketEvent).where(
        TicketEvent.ticket_id == ticket_id, TicketEvent.action == CHASED, col(TicketEvent.at) >= since,
        TicketEvent.actor_id != OVERDUE_CHASER,
    )


_JOINING: list = []


def _joining_statement():
    """tickets.join's one statement on PostgreSQL, built once. The count of chases reads the table
    as it was before this statement (a data-modifying CTE's rows are not visible to the rest)."""
    if not _JOINING:
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        reporters, events, table = table_of(TicketReporter), table_of(TicketEvent), table_of(Ticket)
        ticket_id = bindparam("ticket_id", type_=table.c.id.type)
        person, at = bindparam("person_id", type_=reporters.c.person_id.type), bindparam("at", type_=events.c.at.type)
        added = (pg_insert(reporters).values(ticket_id=ticket_id, person_id=person)
                 .on_conflict_do_nothing(index_elements=["ticket_id", "person_id"])
                 .returning(reporters.c.ticket_id).cte("added"))
        counted = (update(table).where(table.c.id == ticket_id, exists(core_select(added.c.ticket_id)))
                   .values(reporters=table.c.reporters + 1).returning(table.c.reporters).cte("counted"))
        columns = ["ticket_id", "at", "actor_id", "action", "note"]
        # one INSERT for both events, so the 追加 is numbered before the 催办 (two CTEs run in no set order)
        said = insert(events).from_select(columns, union_all(
            core_select(ticket_id, at, person, literal(ADDED), bindparam("words", type_=events.c.note.type)),
            core_select(ticket_id, at, person, literal(CHASED), literal("")).where(bindparam("chase", type_=Boolean)),
        )).cte("said")
        lately = _chased_count(ticket_id, bindparam("since", type_=events.c.at.type)).scalar_subquery()
        _JOINING.append(
            core_select(core_select(counted.c.reporters).scalar_subquery().label("reporters"), lately.label("chased"))
            .add_cte(said)
        )
    return _JOINING[0]


def remove_reporter(session: Session, ticket: Ticket, person_id: str) -> None:
    row = session.get(TicketReporter, (ticket.id, person_id))
    if row is not None:
        session.delete(row)
        ticket.reporters -= 1
        session.add(ticket)


def reporter_ids(session: Session, ticket_id: int) -> list[str]:
    stmt = select(TicketReporter.person_id).where(TicketReporter.ticket_id == ticket_id)
    return sorted(session.exec(stmt).all())


def is_reporter(session: Session, ticket_id: int | None, person_id: str) -> bool:
    return ticket_id is not None and session.get(TicketReporter, (ticket_id, person_id)) is not None


def reported_by(session: Session, candidates: list, person_id: str) -> list:
    """Those of ``candidates`` ``person_id`` reported (or joined), in their order: one query for a
    group's open tickets, where one per ticket made a district's busy group cost a dozen."""
    ids = [t.id for t in candidates if t.id is not None]
    if not ids:
        return []
    stmt = select(TicketReporter.ticket_id).where(
        col(TicketReporter.ticket_id).in_(ids), TicketReporter.person_id == person_id
    )
    mine = set(session.exec(stmt).all())
    return [t for t in candidates if t.id in mine]


def history(session: Session, ticket_id: int) -> list[TicketEvent]:
    stmt = select(TicketEvent).where(TicketEvent.ticket_id == ticket_id).order_by(col(TicketEvent.id))
    return list(session.exec(stmt).all())


def assigned_open(session: Session, person_id: str) -> list[Ticket]:
    """The open tickets ``person_id`` follows, oldest first."""
    stmt = select(Ticket).where(Ticket.assignee_id == person_id, col(Ticket.status).in_(OPEN_STATUSES))
    return list(session.exec(stmt.order_by(col(Ticket.id))).all())


def place(ticket: Ticket, room: Room | None = None) -> Room:
    """Where a ticket belongs, as a room for Room.covered_by: the stairwell and grid
    recorded on the ticket, the topic of its group (a detached stand-in, never added to a session)."""
    return Room(id=ticket.room_id or "", topic=room.topic if room else "", stairwell=ticket.stairwell, grid=ticket.grid)


def in_scope(ticket: Ticket, scopes: tuple[str, ...] | None, room: Room | None = None) -> bool:
    """A scope names a stairwell, a grid, a group topic, or "*" (everything); None means no limit."""
    if scopes is None:
        return True
    where = place(ticket, room)
    return any(where.covered_by(scope) for scope in scopes)


def scope_filter(scopes: tuple[str, ...]) -> ColumnElement[bool]:
    """in_scope as SQL, so the database filters and LIMITs: the ticket's stairwell or grid, or its
    group's topic, is one of ``scopes`` (a "*" among them: everything)."""
    if "*" in scopes:
        return true()
    if not scopes:
        return false()
    topics = select(Room.id).where(col(Room.topic).in_(scopes))
    return or_(col(Ticket.stairwell).in_(scopes), col(Ticket.grid).in_(scopes), col(Ticket.room_id).in_(topics))


def list_tickets(
    session: Session,
    *,
    statuses: tuple[str, ...] = OPEN_STATUSES,
    room_id: str | None = None,
    reporter_id: str | None = None,
    scopes: tuple[str, ...] | None = None,
    overdue_at: datetime | None = None,
    limit: int = 20,
    category: str | None = None,
    urgent: bool | None = None,
    assignee_id: str | None = None,
    offset: int = 0,
    newest_first: bool = False,
) -> list[Ticket]:
    """Tickets with these statuses (and the other filters given), filtered and LIMITed in SQL.
    ``assignee_id`` "" means not yet assigned."""
    stmt = select(Ticket).where(col(Ticket.status).in_(statuses))
    if room_id:
        stmt = stmt.where(Ticket.room_id == room_id)
    if category:
        stmt = stmt.where(Ticket.category == category)
    if urgent is not None:
        stmt = stmt.where(Ticket.urgent == urgent)
    if assignee_id is not None:
        stmt = stmt.where(Ticket.assignee_id == assignee_id if assignee_id else col(Ticket.assignee_id).is_(None))
    if reporter_id:
        stmt = stmt.join(TicketReporter, col(TicketReporter.ticket_id) == col(Ticket.id)).where(
            TicketReporter.person_id == reporter_id
        )
    if overdue_at is not None:
        stmt = stmt.where(col(Ticket.due_at) < overdue_at)
    if scopes is not None:
        stmt = stmt.where(scope_filter(scopes))
    order = col(Ticket.id).desc() if newest_first else col(Ticket.id)
    return list(session.exec(stmt.order_by(order).offset(offset).limit(limit)).all())


def facets(session: Session, scopes: tuple[str, ...]) -> tuple[list[str], list[str]]:
    """The categories and the assignees of the tickets in ``scopes`` (for a list's filters)."""
    where = scope_filter(scopes)
    categories = session.exec(select(Ticket.category).where(where).distinct().order_by(col(Ticket.category))).all()
    assignees = session.exec(
        select(Ticket.assignee_id).where(where, col(Ticket.assignee_id).is_not(None)).distinct()
    ).all()
    return list(categories), sorted(a for a in assignees if a)


def count_open(session: Session) -> int:
    stmt = select(func.count()).select_from(Ticket).where(col(Ticket.status).in_(OPEN_STATUSES))
    return session.exec(stmt).one()


@dataclass(frozen=True)
class PendingRating:
    """A resolved ticket whose rating question was put to this reporter; ``given`` is what they
    already answered since the last resolution (then only a 不满意 still counts)."""

    ticket: Ticket
    given: str | None = None


def pending_ratings(
    session: Session,
    room_id: str | None,
    person_id: str,
    now: datetime,
    window: timedelta = RATING_WINDOW,
    asked: Callable[[Ticket], bool] | None = None,
    any_room: bool = False,
    stairwell: str | None = None,
) -> list[PendingRating]:
    """Tickets resolved within ``window`` in this room (or privately) that ``person_id`` reported,
    newest resolution first (and, with ``asked``, whose rating question was put to them); with
    ``stairwell``, also the private tickets filed under it (one joined from its group is rated there).

    Derived from the database, so a pending rating survives a restart; each reporter rates for
    themself (their 评价 events after the ticket's last 办结 event), so a co-reporter's rating
    never takes the question away from the others.
    """
    stmt = (
        select(Ticket)
        .join(TicketReporter, col(TicketReporter.ticket_id) == col(Ticket.id))
        .where(
            col(Ticket.status).in_(RATABLE_STATUSES),
            TicketReporter.person_id == person_id,
            col(Ticket.resolved_at) >= now - window,
        )
        .order_by(col(Ticket.resolved_at).desc(), col(Ticket.id).desc())
    )
    if not any_room and room_id and stairwell:  # any_room: asked privately, a ticket from any group (or a private one)
        stmt = stmt.where(or_(col(Ticket.room_id) == room_id, and_(col(Ticket.room_id).is_(None), col(Ticket.stairwell) == stairwell)))
    elif not any_room:
        stmt = stmt.where(Ticket.room_id == room_id) if room_id else stmt.where(col(Ticket.room_id).is_(None))
    found = [t for t in session.exec(stmt).all() if asked is None or asked(t)]
    return [PendingRating(t, own_rating(session, t.id or 0, person_id)) for t in found]


def own_rating(session: Session, ticket_id: int, person_id: str) -> str | None:
    """What ``person_id`` rated ``ticket_id`` since its last resolution (None: not yet)."""
    resolved = select(func.max(TicketEvent.id)).where(TicketEvent.ticket_id == ticket_id, TicketEvent.action == "办结")
    last = session.exec(resolved).one() or 0
    stmt = (
        select(TicketEvent.note)
        .where(
            TicketEvent.ticket_id == ticket_id, TicketEvent.actor_id == person_id,
            TicketEvent.action == "评价", col(TicketEvent.id) > last,
        )
        .order_by(col(TicketEvent.id).desc())
    )
    return session.exec(stmt).first()


def worst_rating(*ratings: str | None) -> str | None:
    """Several reporters rated one resolution: the ticket keeps the least satisfied answer."""
    given = [r for r in ratings if r in RATINGS]
    return max(given, key=RATINGS.index) if given else None


def close_unrated(session: Session, now: datetime, window: timedelta = RATING_WINDOW) -> list[Ticket]:
    """Resolved tickets nobody rated within ``window``: closed as 未评价 (an event records why)."""
    stmt = select(Ticket).where(Ticket.status == "已办结", col(Ticket.resolved_at) < now - window)
    closed = list(session.exec(stmt.order_by(col(Ticket.id))).all())
    for ticket in closed:
        ticket.rating, ticket.closed_at = UNRATED, now
        set_status(session, ticket, CLOSED_UNRATED, at=now, actor_id=SYSTEM, action="关闭",
                   note=f"{window.days}天内无人评价")
    return closed


def notes(session: Session, ticket_id: int) -> list[TicketEvent]:
    """The staff steps a reporter may read (分派, 处理, 办结, 延期, 重开, 议事会), oldest first."""
    return [e for e in history(session, ticket_id) if e.action in NOTE_ACTIONS]


def last_note(session: Session, ticket_id: int, action: str) -> str:
    """The note of the ticket's latest ``action`` step ("" when none, or purged)."""
    return session.exec(
        select(TicketEvent.note)
        .where(TicketEvent.ticket_id == ticket_id, TicketEvent.action == action)
        .order_by(col(TicketEvent.id).desc())
        .limit(1)
    ).first() or ""
