"""Households in and out of sheets: SheetRow <-> the ledger tables, for import and export."""
from __future__ import annotations

from datetime import datetime
from typing import Iterable

from sqlalchemy import delete
from sqlmodel import Session, col

from domain.ledger_sheet import SheetRow, SheetTag
from storage import ledger
from storage.models import Household, HouseholdMember, HouseholdTag


def store_rows(session: Session, rows: Iterable[SheetRow], actor_id: str, now: datetime, source: str) -> int:
    """Write a sheet's households: a flat already in the ledger takes the sheet's members, tags,
    note and date (the sheet is what was checked); flats the sheet does not list are left alone.
    The caller commits (or rolls back) once for the whole sheet."""
    count = 0
    for row in rows:
        household = ledger.find(session, row.stairwell, row.flat) or Household(stairwell=row.stairwell, flat=row.flat,
                                                                                 building=row.building, updated_at=now)
        household.grid, household.building, household.unit = row.grid, row.building, row.unit
        household.note, household.last_confirmed = row.note, row.confirmed
        household.updated_at, household.updated_by = now, actor_id
        session.add(household)
        session.flush()
        assert household.id is not None
        session.exec(delete(HouseholdMember).where(col(HouseholdMember.household_id) == household.id))  # type: ignore[call-overload]
        session.exec(delete(HouseholdTag).where(col(HouseholdTag.household_id) == household.id))  # type: ignore[call-overload]
        session.add_all(HouseholdMember(household_id=household.id, name=name, relation=relation, phone=phone)
                        for name, relation, phone in row.members)
        session.add_all(HouseholdTag(household_id=household.id, tag=tag, note=t.note, tenants=t.tenants,
                                     landlord=t.landlord, confirmed_at=row.confirmed) for tag, t in row.tags.items())
        ledger.audit(session, actor_id, "导入", now, household.id, source)
        count += 1
    session.flush()
    return count


def sheet_rows(session: Session, stairwells: Iterable[str]) -> list[SheetRow]:
    """The households of these stairwells as sheet rows (members in the order they were kept)."""
    out = []
    for household in ledger.in_stairwells(session, stairwells):
        assert household.id is not None
        out.append(SheetRow(
            row=0, stairwell=household.stairwell, building=household.building, unit=household.unit,
            flat=household.flat, grid=household.grid,
            members=[(m.name, m.relation, m.phone) for m in ledger.members(session, household.id)],
            tags={t.tag: SheetTag(note=t.note, tenants=t.tenants, landlord=t.landlord)
                  for t in ledger.tags(session, household.id)},
            note=household.note, confirmed=household.last_confirmed,
        ))
    return out
