"""Households in and out of sheets: SheetRow <-> the ledger tables, for import and export.

A district's sheet has thousands of rows: both directions read and write in a few statements
per chunk of households, never a query per row."""
from __future__ import annotations

from datetime import datetime
from typing import Iterable, TypeVar

from sqlalchemy import delete, insert
from sqlmodel import Session, col, select

from domain.ledger_sheet import SheetRow, SheetTag
from storage import ledger
from storage.models import Household, HouseholdMember, HouseholdTag, LedgerAudit

CHUNK = 500  # ids per IN clause
T = TypeVar("T")


def _chunks(items: list[T]) -> Iterable[list[T]]:
    return (items[i:i + CHUNK] for i in range(0, len(items), CHUNK))


def existing(session: Session, rows: list[SheetRow]) -> dict[tuple[str, str], Household]:
    """The ledger's households for the sheet's stairwells, by (stairwell, flat)."""
    found = ledger.in_stairwells(session, sorted({r.stairwell for r in rows}))
    return {(h.stairwell, h.flat): h for h in found}


def store_rows(session: Session, rows: list[SheetRow], actor_id: str, now: datetime, source: str) -> int:
    """Write a sheet's households: a flat already in the ledger takes the sheet's members, tags,
    note and date (the sheet is what was checked); flats the sheet does not list are left alone.
    The caller commits (or rolls back) once for the whole sheet."""
    have = existing(session, rows)
    households = []
    for row in rows:
        household = have.get((row.stairwell, row.flat)) or Household(stairwell=row.stairwell, flat=row.flat,
                                                                     building=row.building, updated_at=now)
        household.grid, household.building, household.unit = row.grid, row.building, row.unit
        household.note, household.last_confirmed = row.note, row.confirmed
        household.updated_at, household.updated_by = now, actor_id
        session.add(household)
        households.append(household)
    session.flush()  # ids for the new ones
    listed = {(r.stairwell, r.flat) for r in rows}
    for ids in _chunks([h.id for key, h in have.items() if key in listed]):
        session.exec(delete(HouseholdMember).where(col(HouseholdMember.household_id).in_(ids)))
        session.exec(delete(HouseholdTag).where(col(HouseholdTag.household_id).in_(ids)))
    members, tags, audit = [], [], []
    for row, household in zip(rows, households, strict=True):  # plain inserts: no ORM object per row
        members += [{"household_id": household.id, "name": name, "relation": relation, "phone": phone}
                    for name, relation, phone in row.members]
        tags += [{"household_id": household.id, "tag": tag, "note": t.note, "tenants": t.tenants,
                  "landlord": t.landlord, "confirmed_at": row.confirmed} for tag, t in row.tags.items()]
        audit.append({"at": now, "actor_id": actor_id, "action": "导入", "household_id": household.id,
                      "detail": source[:200]})
    for table, values in ((HouseholdMember, members), (HouseholdTag, tags), (LedgerAudit, audit)):
        if values:
            session.execute(insert(table), values)
    return len(rows)


def sheet_rows(session: Session, households: list[Household]) -> list[SheetRow]:
    """These households as sheet rows (members in the order they were kept)."""
    ids = [h.id for h in households if h.id is not None]
    members: dict[int, list[HouseholdMember]] = {}
    tags: dict[int, list[HouseholdTag]] = {}
    for chunk in _chunks(ids):
        stmt = select(HouseholdMember).where(col(HouseholdMember.household_id).in_(chunk)).order_by(col(HouseholdMember.id))
        for m in session.exec(stmt).all():
            members.setdefault(m.household_id, []).append(m)
        for t in session.exec(select(HouseholdTag).where(col(HouseholdTag.household_id).in_(chunk))).all():
            tags.setdefault(t.household_id, []).append(t)
    return [
        SheetRow(
            row=0, stairwell=h.stairwell, building=h.building, unit=h.unit, flat=h.flat, grid=h.grid,
            members=[(m.name, m.relation, m.phone) for m in members.get(h.id or 0, [])],
            tags={t.tag: SheetTag(note=t.note, tenants=t.tenants, landlord=t.landlord)
                  for t in ledger.sort_tags(tags.get(h.id or 0, []))},
            note=h.note, confirmed=h.last_confirmed,
        )
        for h in households
    ]
