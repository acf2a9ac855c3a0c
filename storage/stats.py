"""Petition statistics for a period, as offices report them (件件有回应).

The cohort is the tickets received in [start, end) within the scope, withdrawn
ones (已撤销) left out. Definitions, so every number can be checked by hand:

- 响应率   responded (first assign / progress / resolve) by the due time / received
- 办结率   resolved now (已办结 or 已回访) / received
- 按时办结率 resolved now with resolved_at ≤ due_at / resolved now
- 满意率   (满意 + 基本满意) / rated, using each ticket's rating for its latest resolution
           (the least satisfied of its reporters' answers; a reopened ticket keeps its 不满意
           until it is rated again)
- 回访率   rated / ever resolved (resolved_at set; a rating needs a resolution first)
- 未评价   resolved tickets nobody rated within the rating window (closed by a job); they are
           neither rated nor satisfied, and counted apart
- mean hours from receipt to first response, and to resolution (resolved now)
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import ColumnElement, and_, case, func
from sqlalchemy import select as columns  # rows of columns and aggregates (sqlmodel's select types at most four)
from sqlmodel import Session, col

from storage.models import Room, Ticket
from storage.tickets import OPEN_STATUSES, RATINGS, RESOLVED_STATUSES, UNRATED, scope_filter

_COLUMNS = (  # what the figures read: a month of a district's tickets without building a Ticket each
    Ticket.id, Ticket.room_id, Ticket.stairwell, Ticket.category, Ticket.status, Ticket.urgent, Ticket.reporters,
    Ticket.rating, Ticket.created_at, Ticket.due_at, Ticket.responded_at, Ticket.resolved_at,
)
HOT_REPORTERS = 3  # this many neighbours reporting one thing makes it a council item
TOP_CATEGORIES = 3


@dataclass(frozen=True)
class HotItem:
    """An open 小、急、难 item for the grid council: no resident text, only what is needed."""

    ticket_id: int
    stairwell: str
    category: str
    status: str
    reporters: int
    reasons: tuple[str, ...]  # 紧急 / 超期 / 多人反映 (/ 重开 on the council's agenda)
    created_at: datetime


def hot_reasons(ticket: Ticket, now: datetime, reopened: bool = False) -> tuple[str, ...]:
    """Why an open ticket is a 小、急、难 matter for the grid council (none: it is not one)."""
    return tuple(
        label
        for label, hit in (
            ("紧急", ticket.urgent), ("超期", ticket.due_at < now), ("多人反映", ticket.reporters >= HOT_REPORTERS),
            ("重开", reopened),
        )
        if hit
    )


@dataclass
class Stats:
    start: datetime
    end: datetime
    received: int = 0
    responded_in_time: int = 0
    resolved: int = 0
    resolved_on_time: int = 0
    ever_resolved: int = 0
    rated: int = 0
    unrated: int = 0  # closed as 未评价: nobody answered the rating question
    ratings: Counter = field(default_factory=Counter)
    mean_hours_to_respond: float | None = None
    mean_hours_to_resolve: float | None = None
    top_categories: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    hot_items: list[HotItem] = field(default_factory=list)

    @property
    def satisfied(self) -> int:
        return self.ratings["满意"] + self.ratings["基本满意"]

    def rates(self) -> dict[str, float | None]:
        """The five rates, None when their denominator is zero."""
        return {
            "响应率": _ratio(self.responded_in_time, self.received),
            "办结率": _ratio(self.resolved, self.received),
            "按时办结率": _ratio(self.resolved_on_time, self.resolved),
            "满意率": _ratio(self.satisfied, self.rated),
            "回访率": _ratio(self.rated, self.ever_resolved),
        }


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


# ---- the figures, counted by the database -----------------------------------------------------

Period = tuple[datetime, datetime]
NO_PLACE = "私聊"  # a ticket with neither a stairwell nor a group


def _place():
    """The ticket's stairwell, else its group's topic, else 私聊 (the label reports group by)."""
    return func.coalesce(func.nullif(col(Ticket.stairwell), ""), func.nullif(col(Room.topic), ""), NO_PLACE)


def _seconds(dialect: str, later, earlier):
    """``later - earlier`` in seconds, as each database spells it."""
    if dialect == "postgresql":
        return func.extract("epoch", later - earlier)
    return (func.julianday(later) - func.julianday(earlier)) * 86400.0


def _count(condition) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _cohort(periods: list[Period], scopes: tuple[str, ...] | None):
    """The tickets received in any of ``periods`` (withdrawn ones left out), with the index of
    their period and their place, as a subquery: grouping by its columns spells the same in
    every database (a CASE with bound values in GROUP BY does not, on PostgreSQL)."""
    created = col(Ticket.created_at)
    bucket = case(*((and_(created >= a, created < b), i) for i, (a, b) in enumerate(periods)), else_=None)
    first, last = min(a for a, _ in periods), max(b for _, b in periods)
    stmt = (
        columns(bucket.label("bucket"), _place().label("place"), col(Ticket.id), col(Ticket.category),
               col(Ticket.status), col(Ticket.rating), created, col(Ticket.due_at), col(Ticket.responded_at),
               col(Ticket.resolved_at))
        .outerjoin(Room, col(Room.id) == col(Ticket.room_id))
        .where(created >= first, created < last, col(Ticket.status) != "已撤销")
    )
    if scopes is not None:
        stmt = stmt.where(scope_filter(scopes))
    return stmt.subquery("cohort")


def figures(
    session: Session,
    periods: list[Period],
    scopes: tuple[str, ...] | None = None,
    by_place: bool = False,
) -> dict[tuple[int, str | None], Stats]:
    """The rates' counts and mean times of the tickets received in each period, in one
    ``GROUP BY`` (period, and the stairwell when ``by_place``): {(period index, place or None): Stats}.
    Periods or places without tickets are absent. The definitions are this module's docstring."""
    if not periods:
        return {}
    dialect = session.get_bind().dialect.name
    t = _cohort(periods, scopes).c
    resolved_now = and_(t.status.in_(RESOLVED_STATUSES), t.resolved_at.is_not(None))
    responded = t.responded_at.is_not(None)
    keys = (t.bucket, t.place) if by_place else (t.bucket,)
    stmt = columns(
        *keys,
        func.count(),
        _count(and_(responded, t.responded_at <= t.due_at)),
        _count(resolved_now),
        _count(and_(resolved_now, t.resolved_at <= t.due_at)),
        _count(t.resolved_at.is_not(None)),
        *(_count(t.rating == r) for r in (*RATINGS, UNRATED)),
        _count(responded),
        func.sum(case((responded, _seconds(dialect, t.responded_at, t.created_at)), else_=None)),
        func.sum(case((resolved_now, _seconds(dialect, t.resolved_at, t.created_at)), else_=None)),
    ).group_by(*keys)
    found: dict[tuple[int, str | None], Stats] = {}
    for row in session.execute(stmt).all():
        index, where = row[0], (row[1] if by_place else None)
        received, in_time, resolved, on_time, ever, *ratings, n_responded, respond_s, resolve_s = row[len(keys):]
        if index is None:  # between periods that are not adjacent
            continue
        start, end = periods[index]
        stats = Stats(start=start, end=end, received=received, responded_in_time=in_time, resolved=resolved,
                      resolved_on_time=on_time, ever_resolved=ever)
        stats.ratings = Counter({r: n for r, n in zip(RATINGS, ratings[:len(RATINGS)], strict=True) if n})
        stats.unrated = ratings[len(RATINGS)]
        stats.rated = sum(stats.ratings.values())
        stats.mean_hours_to_respond = float(respond_s) / n_responded / 3600 if n_responded else None
        stats.mean_hours_to_resolve = float(resolve_s) / resolved / 3600 if resolved else None
        found[(index, where)] = stats
    return found


def monthly(session: Session, periods: list[Period], scopes: tuple[str, ...] | None = None) -> list[Stats]:
    """One Stats per period, in order (an empty one where nothing was received): the trend."""
    counted = figures(session, periods, scopes)
    return [counted.get((i, None)) or Stats(start=a, end=b) for i, (a, b) in enumerate(periods)]


def by_place(session: Session, periods: list[Period], scopes: tuple[str, ...] | None = None) -> dict[str, list[Stats]]:
    """{stairwell: one Stats per period}, stairwells in name order: the stairwell-by-month table."""
    counted = figures(session, periods, scopes, by_place=True)
    places = sorted({where for _, where in counted if where is not None})
    return {
        p: [counted.get((i, p)) or Stats(start=a, end=b) for i, (a, b) in enumerate(periods)] for p in places
    }


def categories(session: Session, start: datetime, end: datetime,
               scopes: tuple[str, ...] | None = None) -> list[tuple[str, str, int]]:
    """(stairwell, category, tickets) received in [start, end), most first within each stairwell."""
    t = _cohort([(start, end)], scopes).c
    rows = session.execute(columns(t.place, t.category, func.count()).group_by(t.place, t.category)).all()
    return sorted(((p, c, int(n)) for p, c, n in rows), key=lambda r: (r[0], -r[2], r[1]))


def compute(
    session: Session,
    start: datetime,
    end: datetime,
    scopes: tuple[str, ...] | None = None,
    now: datetime | None = None,
) -> Stats:
    """Statistics for tickets received in [start, end); open 小急难 items as of ``now`` (default ``end``).
    The figures are counted by the database (``figures``); only the open 小急难 rows are read."""
    now = now or end
    stats = figures(session, [(start, end)], scopes).get((0, None)) or Stats(start=start, end=end)
    top: dict[str, list[tuple[str, int]]] = {}
    for place, category, n in categories(session, start, end, scopes):
        if len(top.setdefault(place, [])) < TOP_CATEGORIES:
            top[place].append((category, n))
    stats.top_categories = top
    stats.hot_items = hot_items(session, end, now, scopes)
    return stats


def hot_items(session: Session, end: datetime, now: datetime, scopes: tuple[str, ...] | None = None) -> list[HotItem]:
    """Open tickets received before ``end`` that are 小、急、难 as of ``now`` (紧急, 超期, 多人反映)."""
    stmt = (
        columns(*(col(c) for c in _COLUMNS), _place())
        .outerjoin(Room, col(Room.id) == col(Ticket.room_id))
        .where(col(Ticket.status).in_(OPEN_STATUSES), col(Ticket.created_at) < end)
        .order_by(col(Ticket.id))
    )
    if scopes is not None:
        stmt = stmt.where(scope_filter(scopes))
    items = []
    for row in session.execute(stmt).all():
        reasons = hot_reasons(row, now)  # type: ignore[arg-type]  # a row read by attribute like a Ticket
        if reasons and row.id is not None:
            items.append(HotItem(row.id, row[-1], row.category, row.status, row.reporters, reasons, row.created_at))
    return items
