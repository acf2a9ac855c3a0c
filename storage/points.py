"""Volunteer hours and the points ledger: the queries and the two writes that must not race.

The ledger (point_entries) is append-only; point_balances holds each person's running sum and is
changed in the same transaction as every entry. Spending is one conditional UPDATE
(``balance = balance - n WHERE balance >= n``), and giving out a reward another
(``issued = issued + q WHERE issued + q <= stock``): on PostgreSQL the second of two racing
transactions waits for the row lock and re-checks the condition against the committed row; on
SQLite the handler's writer session (BEGIN IMMEDIATE) already serialises them. The CHECK
constraints (balance ≥ 0, issued ≤ stock) are the database's last word if code ever forgot.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from sqlalchemy import func, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from common.tz import SHANGHAI
from storage.models import PointBalance, PointEntry, Redemption, RewardStock, VolunteerLog

EARNED = "志愿"
SPENT = "兑换"


def _insert(session: Session, table):
    """INSERT … ON CONFLICT for the session's database (both speak it, with their own classes)."""
    return (pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert)(table)


def points_for(minutes: int, per_hour: int) -> int:
    """Points for a span of work, rounded down to whole points (half an hour at 10/h is 5)."""
    return minutes * per_hour // 60


def _credit(session: Session, person_id: str, delta: int) -> None:
    stmt = _insert(session, PointBalance).values(person_id=person_id, balance=delta)
    session.execute(stmt.on_conflict_do_update(
        index_elements=[PointBalance.person_id], set_={"balance": PointBalance.balance + stmt.excluded.balance}
    ))


def log_hours(
    session: Session, *, person_id: str, stairwell: str, room_id: str | None, day: date, minutes: int,
    activity: str, logged_by: str, at: datetime, per_hour: int,
) -> VolunteerLog | None:
    """Record one person's volunteer work and credit its points; None when the same person's
    same activity on the same day is logged already (two trio members logging one clean-up)."""
    seen = select(VolunteerLog.id).where(
        VolunteerLog.person_id == person_id, VolunteerLog.day == day, VolunteerLog.activity == activity
    )
    if session.exec(seen).first() is not None:
        return None
    entry = VolunteerLog(person_id=person_id, stairwell=stairwell, room_id=room_id, day=day, minutes=minutes,
                         activity=activity, logged_by=logged_by, created_at=at)
    try:
        with session.begin_nested():  # a concurrent identical log (PostgreSQL) loses here, quietly
            session.add(entry)
            session.flush()
    except IntegrityError:
        return None
    earned = points_for(minutes, per_hour)
    session.add(PointEntry(person_id=person_id, delta=earned, kind=EARNED, volunteer_log_id=entry.id, at=at))
    _credit(session, person_id, earned)
    session.flush()
    return entry


def balance(session: Session, person_id: str) -> int:
    row = session.get(PointBalance, person_id)
    return row.balance if row else 0


def ledger_sum(session: Session, person_id: str) -> int:
    """The sum of the person's entries: always equal to balance() (tests check it)."""
    total = session.exec(select(func.coalesce(func.sum(PointEntry.delta), 0)).where(PointEntry.person_id == person_id))
    return int(total.one())


def issued(session: Session, item: str) -> int:
    row = session.get(RewardStock, item)
    return row.issued if row else 0


@dataclass(frozen=True)
class Outcome:
    result: Literal["ok", "not_enough", "out_of_stock"]
    balance: int  # the person's balance after (or, when refused, as it is)
    redemption: Redemption | None = None


class _Undo(Exception):
    """Raised inside the savepoint to roll back the half of a redemption already written."""


def redeem(
    session: Session, *, person_id: str, item: str, unit_points: int, quantity: int, stock: int | None,
    by_id: str, stairwell: str | None, at: datetime,
) -> Outcome:
    """Spend ``unit_points × quantity`` of the person's points on ``quantity`` of ``item``: all of
    it or nothing. ``stock`` is config's total supplied (None: unlimited)."""
    cost = unit_points * quantity
    outcome: Outcome | None = None
    try:
        with session.begin_nested():
            spent = session.exec(
                update(PointBalance)
                .where(col(PointBalance.person_id) == person_id, col(PointBalance.balance) >= cost)
                .values(balance=PointBalance.balance - cost)
            )
            if spent.rowcount != 1:
                outcome = Outcome("not_enough", balance(session, person_id))
                raise _Undo
            session.execute(_insert(session, RewardStock).values(item=item, stock=stock, issued=0)
                            .on_conflict_do_nothing(index_elements=[RewardStock.item]))
            given = update(RewardStock).where(col(RewardStock.item) == item)
            if stock is not None:
                given = given.where(col(RewardStock.issued) + quantity <= stock)
            if session.exec(given.values(issued=RewardStock.issued + quantity, stock=stock)).rowcount != 1:
                outcome = Outcome("out_of_stock", 0)
                raise _Undo
            redemption = Redemption(person_id=person_id, item=item, quantity=quantity, points=cost,
                                    stairwell=stairwell, by_id=by_id, at=at)
            session.add(redemption)
            session.flush()
            session.add(PointEntry(person_id=person_id, delta=-cost, kind=SPENT, redemption_id=redemption.id, at=at))
            session.flush()
    except _Undo:
        assert outcome is not None
        if outcome.result == "out_of_stock":
            outcome = Outcome("out_of_stock", balance(session, person_id))
        return outcome
    session.expire_all()  # the balance row was changed by a Core UPDATE
    return Outcome("ok", balance(session, person_id), redemption)


@dataclass(frozen=True)
class Hours:
    person_id: str
    minutes: int
    points: int


def hours_between(
    session: Session, first: date, last: date, stairwells: tuple[str, ...] | None = None,
    person_id: str | None = None,
) -> list[Hours]:
    """Volunteer time per person for days in [first, last] (in ``stairwells``, of ``person_id``
    when given), most first, then by id (stable)."""
    stmt = (
        select(VolunteerLog.person_id, func.sum(VolunteerLog.minutes), func.sum(PointEntry.delta))
        .join(PointEntry, col(PointEntry.volunteer_log_id) == col(VolunteerLog.id))
        .where(col(VolunteerLog.day) >= first, col(VolunteerLog.day) <= last)
        .group_by(col(VolunteerLog.person_id))
    )
    if stairwells is not None:
        stmt = stmt.where(col(VolunteerLog.stairwell).in_(stairwells))
    if person_id is not None:
        stmt = stmt.where(VolunteerLog.person_id == person_id)
    rows = [Hours(pid, int(minutes), int(points)) for pid, minutes, points in session.exec(stmt).all()]
    return sorted(rows, key=lambda h: (-h.minutes, h.person_id))


def minutes_by_stairwell(session: Session, first: date, last: date) -> dict[str, int]:
    stmt = (
        select(VolunteerLog.stairwell, func.sum(VolunteerLog.minutes))
        .where(col(VolunteerLog.day) >= first, col(VolunteerLog.day) <= last)
        .group_by(col(VolunteerLog.stairwell))
    )
    return {stairwell: int(minutes) for stairwell, minutes in session.exec(stmt).all()}


def recent_entries(session: Session, person_id: str, limit: int = 5) -> list[tuple[PointEntry, str, date]]:
    """The person's latest entries with what they were for (the activity, or the reward) and the
    day it happened (the service's day, logged perhaps a week later; else the entry's own)."""
    stmt = (
        select(PointEntry, VolunteerLog.activity, Redemption.item, col(VolunteerLog.day))
        .outerjoin(VolunteerLog, col(VolunteerLog.id) == col(PointEntry.volunteer_log_id))
        .outerjoin(Redemption, col(Redemption.id) == col(PointEntry.redemption_id))
        .where(PointEntry.person_id == person_id)
        .order_by(col(PointEntry.at).desc(), col(PointEntry.id).desc())
        .limit(limit)
    )
    return [(entry, activity or item or "", day or entry.at.astimezone(SHANGHAI).date())
            for entry, activity, item, day in session.exec(stmt).all()]
