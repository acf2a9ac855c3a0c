"""The points ledger on SQLite and PostgreSQL: racing redemptions never overspend points or stock.

Threads with their own connections redeem at once (a barrier releases them together); exactly the
affordable number succeed, the balance equals the sum of the ledger and never goes below zero.
On PostgreSQL a second test forces the interleaving: the rival's UPDATE is seen waiting on the
first transaction's row lock (pg_locks), and after the commit it finds the points gone.
"""
from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timezone

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, func, select

from storage import points
from storage.db import is_busy, writer
from storage.models import Person, PointEntry, Redemption, RewardStock
from tests.conftest import PG_URL

pytestmark = pytest.mark.postgres
AT = datetime(2026, 11, 25, 2, 0, tzinfo=timezone.utc)


def add_people(engine, count: int, minutes: int) -> list[str]:
    """``count`` residents, each credited ``minutes`` of volunteer work at 10 points an hour."""
    ids = [f"res-{n}" for n in range(count)]
    with Session(engine) as session:
        for pid in ids:
            session.add(Person(id=pid, name=pid))
        session.flush()
        for pid in ids:
            points.log_hours(session, person_id=pid, stairwell="3幢1单元", room_id=None, day=date(2026, 11, 25),
                             minutes=minutes, activity="楼道清理", logged_by="officer-li", at=AT, per_hour=10)
        session.commit()
    return ids


def redeem_once(engine, person_id: str, item: str, stock: int | None, barrier: threading.Barrier) -> str:
    """One redemption in its own transaction, retried while SQLite's write lock is busy."""
    barrier.wait()
    deadline = time.monotonic() + 30
    while True:
        try:
            with Session(writer(engine)) as session:
                outcome = points.redeem(session, person_id=person_id, item=item, unit_points=20, quantity=1,
                                        stock=stock, by_id="officer-li", stairwell="3幢1单元", at=AT)
                session.commit()
                return outcome.result
        except Exception as exc:
            if not is_busy(exc) or time.monotonic() > deadline:
                raise


def race(engine, jobs: list[tuple[str, str, int | None]]) -> list[str]:
    barrier = threading.Barrier(len(jobs))
    with ThreadPoolExecutor(len(jobs)) as pool:
        futures = [pool.submit(redeem_once, engine, pid, item, stock, barrier) for pid, item, stock in jobs]
        return [f.result() for f in futures]


def test_racing_redemptions_spend_each_point_once(engine):
    (person,) = add_people(engine, 1, 600)  # 10 hours: 100 points, five redemptions of 20
    results = race(engine, [(person, "理发券", None)] * 12)
    assert results.count("ok") == 5 and results.count("not_enough") == 7, results
    with Session(engine) as session:
        assert points.balance(session, person) == 0
        assert points.ledger_sum(session, person) == 0
        assert len(session.exec(select(Redemption)).all()) == 5
        assert points.issued(session, "理发券") == 5


def test_racing_for_the_last_units_of_stock(engine):
    people = add_people(engine, 8, 120)  # 20 points each: enough for one
    results = race(engine, [(pid, "大米", 3) for pid in people])
    assert results.count("ok") == 3 and results.count("out_of_stock") == 5, results
    with Session(engine) as session:
        assert session.get(RewardStock, "大米").issued == 3
        balances = sorted(points.balance(session, pid) for pid in people)
        assert balances == [0, 0, 0] + [20] * 5  # the refused kept their points
        for pid in people:
            assert points.balance(session, pid) == points.ledger_sum(session, pid)


def test_the_database_refuses_a_negative_balance_or_over_issued_stock(engine):
    (person,) = add_people(engine, 1, 60)
    with Session(engine) as session, pytest.raises(IntegrityError):
        session.execute(text("UPDATE point_balances SET balance = balance - 11 WHERE person_id = :p"), {"p": person})
    with Session(engine) as session:
        session.add(RewardStock(item="大米", stock=1, issued=1))
        session.commit()
    with Session(engine) as session, pytest.raises(IntegrityError):
        session.execute(text("UPDATE reward_stock SET issued = 2 WHERE item = '大米'"))


def test_same_activity_same_day_is_credited_once(engine):
    (person,) = add_people(engine, 1, 60)
    with Session(engine) as session:
        again = points.log_hours(session, person_id=person, stairwell="3幢1单元", room_id=None,
                                 day=date(2026, 11, 25), minutes=60, activity="楼道清理", logged_by="leader-zhou",
                                 at=AT, per_hour=10)
        other = points.log_hours(session, person_id=person, stairwell="3幢1单元", room_id=None,
                                 day=date(2026, 11, 25), minutes=30, activity="发放通知", logged_by="leader-zhou",
                                 at=AT, per_hour=10)
        session.commit()
        assert again is None and other is not None
        assert points.balance(session, person) == 15 == points.ledger_sum(session, person)
        assert session.exec(select(func.count()).select_from(PointEntry)).one() == 2


def test_a_refused_redemption_leaves_nothing_behind(engine):
    (person,) = add_people(engine, 1, 60)  # 10 points
    with Session(engine) as session:
        out = points.redeem(session, person_id=person, item="大米", unit_points=20, quantity=1, stock=5,
                            by_id="officer-li", stairwell=None, at=AT)
        session.commit()
        assert (out.result, out.balance) == ("not_enough", 10)
        assert session.exec(select(func.count()).select_from(Redemption)).one() == 0
        assert points.issued(session, "大米") == 0


@pytest.mark.skipif(not PG_URL, reason="needs STAIRWELL_TEST_DATABASE_URL (PostgreSQL)")
@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_postgres_second_redemption_waits_for_the_first_then_finds_the_points_gone(engine):
    # Row locks: SQLite has none to show (its writers are serialised by BEGIN IMMEDIATE).
    (person,) = add_people(engine, 1, 120)  # 20 points: one redemption
    first = Session(engine)
    out = points.redeem(first, person_id=person, item="理发券", unit_points=20, quantity=1, stock=None,
                        by_id="officer-li", stairwell=None, at=AT)
    assert out.result == "ok"
    with ThreadPoolExecutor(1) as pool:
        rival = pool.submit(redeem_once, engine, person, "理发券", None, threading.Barrier(1))
        deadline = time.monotonic() + 20
        with engine.connect() as probe:  # wait until the rival is blocked on our row lock
            while not probe.execute(text(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
            )).scalar_one():
                assert time.monotonic() < deadline, "the rival never waited for the row lock"
                assert not rival.done(), f"the rival finished without waiting: {rival.result()}"
                probe.rollback()
        first.commit()
        first.close()
        assert rival.result(timeout=20) == "not_enough"
    with Session(engine) as session:
        assert points.balance(session, person) == 0 == points.ledger_sum(session, person)
