"""Council storage on the database (SQLite, and PostgreSQL when configured): a hot ticket joins a
month's agenda once however often it is looked at, a deleted one stays deleted, an undone decision
is carried into the next month instead of the ticket being added again, and settled residents'
topics are blanked by the retention purge."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from storage import council
from storage.db import create_db_engine, init_schema
from storage.models import CouncilItem, CouncilTopic, Room, Ticket, TicketEvent
from storage.retention import PURGED, purge_texts_before

pytestmark = pytest.mark.postgres
DEC = datetime(2026, 12, 3, 2, 0, tzinfo=timezone.utc)  # 10:00 in Shanghai


@pytest.fixture
def engine(db_url):
    engine = create_db_engine(db_url)
    init_schema(engine)
    with Session(engine) as session:
        session.add(Room(id="s1", topic="3幢1单元楼道群", grid="网格A", stairwell="3幢1单元"))
        session.add(Room(id="b1", topic="9幢楼道群", grid="网格B", stairwell="9幢"))
        created = DEC - timedelta(days=10)
        rows = [
            Ticket(room_id="s1", grid="网格A", stairwell="3幢1单元", reporter_id="r1", text="t", urgent=True,
                   created_at=created, due_at=DEC + timedelta(days=1)),  # 紧急
            Ticket(room_id="s1", grid="网格A", stairwell="3幢1单元", reporter_id="r2", text="t",
                   created_at=created, due_at=DEC - timedelta(days=1)),  # 超期
            Ticket(room_id="s1", grid="网格A", stairwell="3幢1单元", reporter_id="r3", text="t", reporters=3,
                   created_at=created, due_at=DEC + timedelta(days=1)),  # 多人反映
            Ticket(room_id="s1", grid="网格A", stairwell="3幢1单元", reporter_id="r4", text="t", status="处理中",
                   created_at=created, due_at=DEC + timedelta(days=1)),  # 重开 (below)
            Ticket(room_id="s1", grid="网格A", stairwell="3幢1单元", reporter_id="r5", text="t",
                   created_at=created, due_at=DEC + timedelta(days=1)),  # not hot
            Ticket(room_id="b1", grid="网格B", stairwell="9幢", reporter_id="r6", text="t", urgent=True,
                   created_at=created, due_at=DEC + timedelta(days=1)),  # another grid
        ]
        session.add_all(rows)
        session.flush()
        session.add(TicketEvent(ticket_id=4, at=created, actor_id="r4", action="重开"))
        session.commit()
    yield engine
    engine.dispose()


def test_hot_tickets_and_their_reasons(engine):
    with Session(engine) as session:
        hot = [(t.id, reasons) for t, reasons in council.hot_tickets(session, "网格A", DEC)]
    assert hot == [(1, ("紧急",)), (2, ("超期",)), (3, ("多人反映",)), (4, ("重开",))]


def test_a_hot_ticket_joins_a_month_once_and_a_deleted_one_stays_out(engine):
    with Session(engine) as session:
        assert council.refresh(session, "网格A", DEC, "grid-zhao") == 4
        assert council.refresh(session, "网格A", DEC, "grid-zhao") == 0
        first = council.agenda(session, "网格A", DEC)[0]
        first.status = council.DELETED
        session.add(first)
        session.commit()
        assert council.refresh(session, "网格A", DEC, "grid-zhao") == 0
        assert [i.ticket_id for i in council.agenda(session, "网格A", DEC)] == [2, 3, 4]
        session.add(CouncilItem(grid="网格A", month="2026-12", source="小急难", ticket_id=2, title="x",
                                created_by="grid-zhao", created_at=DEC))
        with pytest.raises(IntegrityError):  # the database, too, keeps a ticket once per month
            session.commit()


def test_an_undone_decision_is_carried_and_its_ticket_not_added_again(engine):
    with Session(engine) as session:
        council.refresh(session, "网格A", DEC, "grid-zhao")
        item = council.agenda(session, "网格A", DEC)[1]  # ticket 2
        council.decide(session, item, decision="清理", owner="物业", due=date(2026, 12, 15), now=DEC)
        session.commit()
        january = DEC + timedelta(days=35)
        added = council.refresh(session, "网格A", january, "grid-zhao")
        agenda = council.agenda(session, "网格A", january)
    assert added == 4  # tickets 1, 3, 4 again and 5 now overdue; ticket 2 is carried as its decision
    assert [(i.ticket_id, i.month, i.status) for i in agenda][-1] == (2, "2026-12", council.DECIDED)
    assert [i.ticket_id for i in agenda].count(2) == 1


def test_settled_topics_are_blanked_by_the_retention_purge(engine):
    with Session(engine) as session:
        old = council.propose(session, grid="网格A", room_id="s1", proposer_id="r1", text="充电桩不够", now=DEC)
        waiting = council.propose(session, grid="网格A", room_id="s1", proposer_id="r2", text="装健身器材", now=DEC)
        council.settle_topic(session, old, council.TOPIC_DECLINED, DEC, "已列入计划")
        session.commit()
        purge_texts_before(session, DEC + timedelta(days=1))
        session.commit()
        assert session.get(CouncilTopic, old.id).text == PURGED
        assert session.get(CouncilTopic, waiting.id).text == "装健身器材"  # still waiting for an answer
