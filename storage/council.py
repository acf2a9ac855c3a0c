"""Grid council (同心网格议事会) queries: the month's agenda, decisions, residents' topics.

A month's agenda is kept as rows: the grid's open 小、急、难 tickets are added when the agenda is
looked at (each ticket once a month, so a deleted one stays deleted), the grid worker adds and
deletes items, residents' topics join when accepted, and decisions not yet done from earlier
months are shown again until they are.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlmodel import Session, col, or_, select

from common.tz import SHANGHAI
from storage.models import CouncilItem, CouncilTopic, Ticket, TicketEvent
from storage.stats import hot_reasons
from storage.tickets import OPEN_STATUSES

PENDING, DECIDED, DONE, DELETED = "待议", "已决定", "已完成", "已删除"
TOPIC_PENDING, TOPIC_ACCEPTED, TOPIC_DECLINED = "待定", "已采纳", "未采纳"


def month_of(now: datetime) -> str:
    return f"{now.astimezone(SHANGHAI):%Y-%m}"


def hot_tickets(session: Session, grid: str, now: datetime) -> list[tuple[Ticket, tuple[str, ...]]]:
    """The grid's open tickets that are urgent, overdue, reported by several or reopened, with why."""
    open_ = list(session.exec(
        select(Ticket).where(Ticket.grid == grid, col(Ticket.status).in_(OPEN_STATUSES)).order_by(col(Ticket.id))
    ).all())
    ids = [t.id for t in open_]
    reopened = set(session.exec(
        select(TicketEvent.ticket_id).where(TicketEvent.action == "重开", col(TicketEvent.ticket_id).in_(ids))
    ).all()) if ids else set()
    found = [(t, hot_reasons(t, now, t.id in reopened)) for t in open_]
    return [(t, reasons) for t, reasons in found if reasons]


def ticket_title(ticket: Ticket, reasons: tuple[str, ...]) -> str:
    """An agenda line for a ticket: place, category, why — never the resident's words."""
    return f"#{ticket.id} {ticket.stairwell or ''} {ticket.category}（{'、'.join(reasons)}）".replace("  ", " ")


def refresh(session: Session, grid: str, now: datetime, actor_id: str) -> int:
    """Add this month's new 小急难 tickets to the grid's agenda; returns how many were added."""
    month = month_of(now)
    # on this month's agenda already (even deleted), or carried over as an undone decision
    listed = set(session.exec(
        select(CouncilItem.ticket_id).where(
            CouncilItem.grid == grid,
            or_(col(CouncilItem.month) == month, col(CouncilItem.status) == DECIDED),
        )
    ).all())
    added = 0
    for ticket, reasons in hot_tickets(session, grid, now):
        if ticket.id not in listed:
            session.add(CouncilItem(grid=grid, month=month, source="小急难", ticket_id=ticket.id,
                                    title=ticket_title(ticket, reasons), created_by=actor_id, created_at=now))
            added += 1
    session.flush()
    return added


def agenda(session: Session, grid: str, now: datetime) -> list[CouncilItem]:
    """This month's items (not deleted), then earlier months' decisions not yet done; undecided
    items of tickets resolved meanwhile are left out."""
    month = month_of(now)
    stmt = select(CouncilItem).where(
        CouncilItem.grid == grid,
        or_(
            (col(CouncilItem.month) == month) & (col(CouncilItem.status) != DELETED),
            (col(CouncilItem.month) < month) & (col(CouncilItem.status) == DECIDED),
        ),
    )
    items = list(session.exec(stmt.order_by(col(CouncilItem.id))).all())
    # a ticket resolved before the meeting needs no discussion: its undecided item drops out
    pending_ids = [i.ticket_id for i in items if i.status == PENDING and i.ticket_id is not None]
    settled = set(session.exec(
        select(Ticket.id).where(col(Ticket.id).in_(pending_ids), col(Ticket.status).not_in(OPEN_STATUSES))
    ).all()) if pending_ids else set()
    items = [i for i in items if not (i.status == PENDING and i.ticket_id in settled)]
    return sorted(items, key=lambda i: (i.month != month, i.id))


def add(session: Session, grid: str, title: str, now: datetime, actor_id: str, *, source: str = "添加",
        topic_id: int | None = None) -> CouncilItem:
    item = CouncilItem(grid=grid, month=month_of(now), source=source, topic_id=topic_id, title=title,
                       created_by=actor_id, created_at=now)
    session.add(item)
    session.flush()
    return item


def decide(session: Session, item: CouncilItem, *, decision: str, owner: str, due: date, now: datetime) -> None:
    item.status, item.decision, item.owner, item.decided_at = DECIDED, decision, owner, now
    item.due_on = datetime.combine(due, datetime.min.time(), SHANGHAI)
    session.add(item)


def complete(session: Session, item: CouncilItem, now: datetime) -> None:
    item.status, item.done_at = DONE, now
    session.add(item)


def propose(session: Session, *, grid: str, room_id: str | None, proposer_id: str, text: str,
            now: datetime) -> CouncilTopic:
    topic = CouncilTopic(grid=grid, room_id=room_id, proposer_id=proposer_id, text=text, created_at=now)
    session.add(topic)
    session.flush()
    return topic


def pending_topics(session: Session, grids: set[str] | None) -> list[CouncilTopic]:
    """Topics awaiting the grid worker, in the given grids (None: every grid)."""
    stmt = select(CouncilTopic).where(CouncilTopic.status == TOPIC_PENDING).order_by(col(CouncilTopic.id))
    return [t for t in session.exec(stmt).all() if grids is None or t.grid in grids]


def settle_topic(session: Session, topic: CouncilTopic, status: str, now: datetime, reason: str | None = None) -> None:
    topic.status, topic.reason, topic.decided_at = status, reason, now
    session.add(topic)


def forget_proposer(session: Session, person_id: str, blank: str) -> int:
    """/删除我的信息: the resident's topics, and agenda items made from them, lose their words
    (the item stays, so a decision already taken keeps its owner and date)."""
    topics = list(session.exec(select(CouncilTopic).where(CouncilTopic.proposer_id == person_id)).all())
    ids = [t.id for t in topics]
    for topic in topics:
        topic.text = blank
        session.add(topic)
    items = session.exec(select(CouncilItem).where(col(CouncilItem.topic_id).in_(ids))).all() if ids else []
    for item in items:
        item.title = blank
        session.add(item)
    return len(topics)
