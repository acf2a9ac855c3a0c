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

from sqlmodel import Session, col, select

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


def _mean_hours(spans: list[float]) -> float | None:
    return sum(spans) / len(spans) / 3600 if spans else None


def _stairwell(ticket: Ticket, rooms: dict[str, Room]) -> str:
    room = rooms.get(ticket.room_id or "")
    return ticket.stairwell or (room.topic if room else "私聊")


def compute(
    session: Session,
    start: datetime,
    end: datetime,
    scopes: tuple[str, ...] | None = None,
    now: datetime | None = None,
) -> Stats:
    """Statistics for tickets received in [start, end); open 小急难 items as of ``now`` (default ``end``)."""
    now = now or end
    rooms = {r.id: r for r in session.exec(select(Room)).all()}

    def scoped(*where) -> list[Ticket]:
        """The rows' columns only (no ORM objects), the scope filtered by the database."""
        # sqlmodel types select() for at most four columns; the rows are read by attribute like Tickets
        stmt = select(*_COLUMNS).where(*where)  # type: ignore[call-overload]
        if scopes is not None:
            stmt = stmt.where(scope_filter(scopes))
        return list(session.exec(stmt.order_by(col(Ticket.id))).all())

    cohort = scoped(col(Ticket.created_at) >= start, col(Ticket.created_at) < end, Ticket.status != "已撤销")
    stats = Stats(start=start, end=end, received=len(cohort))
    resolved = [(t, t.resolved_at) for t in cohort if t.status in RESOLVED_STATUSES and t.resolved_at is not None]
    responded = [(t, t.responded_at) for t in cohort if t.responded_at is not None]
    stats.responded_in_time = sum(1 for t, at in responded if at <= t.due_at)
    stats.resolved = len(resolved)
    stats.resolved_on_time = sum(1 for t, at in resolved if at <= t.due_at)
    stats.ever_resolved = sum(1 for t in cohort if t.resolved_at is not None)
    stats.ratings = Counter(t.rating for t in cohort if t.rating in RATINGS)
    stats.unrated = sum(1 for t in cohort if t.rating == UNRATED)
    stats.rated = sum(stats.ratings.values())
    stats.mean_hours_to_respond = _mean_hours([(at - t.created_at).total_seconds() for t, at in responded])
    stats.mean_hours_to_resolve = _mean_hours([(at - t.created_at).total_seconds() for t, at in resolved])

    by_place: dict[str, Counter] = {}
    for t in cohort:
        by_place.setdefault(_stairwell(t, rooms), Counter())[t.category] += 1
    stats.top_categories = {
        place: sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_CATEGORIES]
        for place, counts in sorted(by_place.items())
    }

    open_rows = scoped(col(Ticket.status).in_(OPEN_STATUSES), col(Ticket.created_at) < end)
    for t in open_rows:
        reasons = hot_reasons(t, now)
        if reasons and t.id is not None:
            stats.hot_items.append(
                HotItem(t.id, _stairwell(t, rooms), t.category, t.status, t.reporters, reasons, t.created_at)
            )
    return stats
