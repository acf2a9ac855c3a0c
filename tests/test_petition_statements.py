"""The statements a petition's hot path runs (storage.tickets.join, open_ticket's audit rows, the
standing's packed households), on SQLite and on PostgreSQL, where each is folded into fewer round
trips: the same rows must come out of both."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import select as core_select
from sqlmodel import Session, col, select

from storage import tickets, visits
from storage.models import AuditEntry, Household, HouseholdMember, HouseholdTag, Person, Room, Ticket, TicketEvent

NOW = datetime(2026, 11, 25, 2, 0, tzinfo=timezone.utc)


def _ticket(session: Session, notified=()) -> Ticket:
    if session.get(Room, "s1") is None:
        session.add(Room(id="s1", topic="3幢1单元楼道群", stairwell="3幢1单元"))
        session.add_all([Person(id=p, name=p) for p in ("res-zhang", "res-chen")])
        session.flush()
    ticket = Ticket(room_id="s1", stairwell="3幢1单元", reporter_id="res-zhang", category="设施报修",
                    text="楼道灯坏了", created_at=NOW, due_at=NOW + timedelta(days=1))
    return tickets.open_ticket(session, ticket, note="设施报修", notified=notified)


def _events(session: Session, ticket_id: int) -> list[tuple[str, str, str]]:
    rows = session.exec(select(TicketEvent).where(TicketEvent.ticket_id == ticket_id).order_by(col(TicketEvent.id)))
    return [(e.actor_id, e.action, e.note) for e in rows]


def test_a_new_ticket_logs_who_was_sent_its_words(engine):
    with Session(engine) as session:
        ticket = _ticket(session, notified=["officer-li", "leader-zhou"])
        none = _ticket(session)
        session.commit()
        audit = session.exec(select(AuditEntry.actor_id, AuditEntry.action, AuditEntry.subject)
                             .order_by(col(AuditEntry.actor_id))).all()
        assert sorted(audit) == [("leader-zhou", "工单通知", f"#{ticket.id}"), ("officer-li", "工单通知", f"#{ticket.id}")]
        assert none.id == (ticket.id or 0) + 1
        assert _events(session, ticket.id or 0) == [("res-zhang", "受理", "设施报修")]
        assert tickets.reporter_ids(session, ticket.id or 0) == ["res-zhang"]


def test_joining_adds_a_reporter_once_and_the_words_then_the_chase(engine):
    with Session(engine) as session:
        ticket = _ticket(session)
        hour_ago = NOW - timedelta(hours=1)
        first = tickets.join(session, ticket, "res-chen", NOW, "还是不亮", chase=True, chased_since=hour_ago)
        again = tickets.join(session, ticket, "res-chen", NOW + timedelta(minutes=5), "真的不亮",
                             chase=True, chased_since=hour_ago + timedelta(minutes=5))
        own = tickets.join(session, ticket, "res-zhang", NOW + timedelta(minutes=6), "晚上黑漆漆", chase=False,
                           chased_since=hour_ago)
        session.commit()
        assert (first.new_reporter, first.chased_lately) == (True, False)
        assert (again.new_reporter, again.chased_lately) == (False, True)  # chased five minutes before
        assert (own.new_reporter, own.chased_lately) == (False, False)
        assert ticket.reporters == 2
        assert session.get(Ticket, ticket.id).reporters == 2
        assert _events(session, ticket.id or 0)[1:] == [
            ("res-chen", "追加", "还是不亮"), ("res-chen", "催办", ""),
            ("res-chen", "追加", "真的不亮"), ("res-chen", "催办", ""), ("res-zhang", "追加", "晚上黑漆漆"),
        ]


def test_the_overdue_jobs_own_chase_is_not_a_residents(engine):
    with Session(engine) as session:
        ticket = _ticket(session)
        tickets.add_event(session, ticket.id or 0, NOW, tickets.OVERDUE_CHASER, "催办")
        joined = tickets.join(session, ticket, "res-chen", NOW + timedelta(minutes=1), "还没修",
                              chase=True, chased_since=NOW - timedelta(hours=1))
        assert joined.chased_lately is False and joined.new_reporter is True


def test_packed_households_read_back_as_the_plain_query(engine):
    with Session(engine) as session:
        homes = [Household(stairwell="3幢1单元", building="3幢", unit="1单元", flat=f, updated_at=NOW) for f in ("502", "301", "101")]
        homes.append(Household(stairwell="3幢2单元", building="3幢", unit="2单元", flat="502", updated_at=NOW))
        session.add_all(homes)
        session.flush()
        session.add_all([HouseholdTag(household_id=homes[0].id, tag="独居老人"),
                         HouseholdTag(household_id=homes[0].id, tag="残疾"),
                         HouseholdTag(household_id=homes[0].id, tag="出租房"),
                         HouseholdMember(household_id=homes[1].id, name="王阿姨"),
                         HouseholdMember(household_id=homes[3].id, name="王阿姨")])
        session.commit()
        tags = ["独居老人", "残疾"]
        for flat, name in (("502", "王阿姨"), ("502", "nobody"), (None, "王阿姨"), ("999", "nobody")):
            plain = visits.petition_homes(session, "3幢1单元", flat, name, tags)
            packed = session.connection().execute(
                core_select(visits.PACKED_PETITION_HOMES), visits.petition_homes_params("3幢1单元", flat, name, tags)
            ).scalar()
            assert visits.unpack_homes(packed) == plain, (flat, name)
        both = visits.petition_homes(session, "3幢1单元", "502", "王阿姨", tags)
        assert [(h.flat, h.tags) for h in both] == [("502", ("残疾", "独居老人")), ("301", ())]
