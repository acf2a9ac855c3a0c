"""Monthly visits (每月走访全覆盖) and the 战时 check-on lists: the queries.

Households, members and tags are the ledger's (storage.ledger); a visit and a check-on row point
at a household by id. Coverage is counted by the database (one GROUP BY), so a district's report
never loads its visits.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import String, and_, bindparam, cast, distinct, exists, func, or_
from sqlalchemy import select as core_select
from sqlmodel import Session, col, select

from storage.models import CheckOn, Emergency, Household, HouseholdMember, HouseholdTag, Visit
from storage.tables import table_of


@dataclass(frozen=True)
class Coverage:
    """One stairwell's households and how many were visited in a period."""

    stairwell: str
    visited: int
    total: int

    @property
    def rate(self) -> float | None:
        return self.visited / self.total if self.total else None


# ---- households and their tags ----------------------------------------------------------------

def tags_of(session: Session, household_ids: list[int]) -> dict[int, list[str]]:
    """{household id: [tag, ...]} for these households (in a stable order)."""
    if not household_ids:
        return {}
    stmt = (
        select(HouseholdTag.household_id, HouseholdTag.tag)
        .where(col(HouseholdTag.household_id).in_(household_ids))
        .order_by(col(HouseholdTag.household_id), col(HouseholdTag.tag))
    )
    found: dict[int, list[str]] = {}
    for household_id, tag in session.exec(stmt).all():
        found.setdefault(household_id, []).append(tag)
    return found


# ---- visits -----------------------------------------------------------------------------------

def record_visit(session: Session, household: Household, visitor_id: str, at: datetime, note: str) -> Visit:
    assert household.id is not None
    visit = Visit(household_id=household.id, visitor_id=visitor_id, at=at, note=note)
    session.add(visit)
    return visit


def visited_ids(session: Session, stairwell: str, start: datetime, end: datetime) -> set[int]:
    """The households of ``stairwell`` visited in [start, end)."""
    stmt = (
        select(Visit.household_id)
        .distinct()
        .join(Household, col(Household.id) == col(Visit.household_id))
        .where(Household.stairwell == stairwell, col(Visit.at) >= start, col(Visit.at) < end)
    )
    return set(session.exec(stmt).all())


def coverage(session: Session, start: datetime, end: datetime, stairwells: list[str] | None = None) -> list[Coverage]:
    """Per stairwell: households, and those visited at least once in [start, end), counted in SQL
    (a LEFT JOIN on the period's visits, COUNT DISTINCT)."""
    in_period = and_(col(Visit.household_id) == col(Household.id), col(Visit.at) >= start, col(Visit.at) < end)
    stmt = (
        select(Household.stairwell, func.count(distinct(col(Visit.household_id))), func.count(distinct(col(Household.id))))
        .select_from(Household)
        .outerjoin(Visit, in_period)
        .group_by(col(Household.stairwell))
        .order_by(col(Household.stairwell))
    )
    if stairwells is not None:
        stmt = stmt.where(col(Household.stairwell).in_(stairwells))
    return [Coverage(s, visited, total) for s, visited, total in session.exec(stmt).all()]


# ---- 战时: emergencies and their check-on rows --------------------------------------------------

def open_emergency(session: Session) -> Emergency | None:
    stmt = select(Emergency).where(col(Emergency.ended_at).is_(None)).order_by(col(Emergency.id).desc())
    return session.exec(stmt).first()


def checks(session: Session, emergency_id: int, stairwell: str | None = None) -> list[tuple[CheckOn, Household]]:
    stmt = (
        select(CheckOn, Household)
        .join(Household, col(Household.id) == col(CheckOn.household_id))
        .where(CheckOn.emergency_id == emergency_id)
        .order_by(col(CheckOn.stairwell), col(Household.flat))
    )
    if stairwell is not None:
        stmt = stmt.where(CheckOn.stairwell == stairwell)
    return [(c, h) for c, h in session.exec(stmt).all()]


def due_followups(session: Session, now: datetime) -> list[int]:
    """Emergencies whose check time has come and whose grid workers have not been told yet."""
    stmt = select(Emergency.id).where(
        col(Emergency.check_due_at) <= now, col(Emergency.followed_up_at).is_(None), col(Emergency.ended_at).is_(None)
    )
    return [i for i in session.exec(stmt).all() if i is not None]


_HOUSEHOLDS, _MEMBERS, _TAGS = (table_of(m) for m in (Household, HouseholdMember, HouseholdTag))
_PETITION_HOMES = (  # built once: every petition from a group asks it
    core_select(_HOUSEHOLDS.c.id, _HOUSEHOLDS.c.flat, _TAGS.c.tag)
    .select_from(_HOUSEHOLDS.outerjoin(_TAGS, and_(
        _TAGS.c.household_id == _HOUSEHOLDS.c.id, _TAGS.c.tag.in_(bindparam("tags", expanding=True)))))
    .where(
        _HOUSEHOLDS.c.stairwell == bindparam("stairwell"),
        or_(_HOUSEHOLDS.c.flat == bindparam("flat"), exists().where(
            _MEMBERS.c.household_id == _HOUSEHOLDS.c.id, _MEMBERS.c.name == bindparam("name"))),
    )
    .order_by(_HOUSEHOLDS.c.id, _TAGS.c.tag)
)


@dataclass(frozen=True)
class PetitionHome:
    """A household of the stairwell a petition may come from, with those of its tags asked for."""

    id: int
    flat: str
    tags: tuple[str, ...]


_FIELD, _ROW = "\x1e", "\x1f"
_HOMES = _PETITION_HOMES.subquery("petition_homes")
# The same rows as one text column (id, flat, tag per row), for a petition's first statement to
# carry (handlers.petitions' standing: no round trip of its own; unpack_homes reads it back).
PACKED_PETITION_HOMES = core_select(func.aggregate_strings(
    cast(_HOMES.c.id, String) + _FIELD + _HOMES.c.flat + _FIELD + func.coalesce(_HOMES.c.tag, ""), _ROW,
)).scalar_subquery()


def unpack_homes(packed: str | None) -> list[PetitionHome]:
    """PACKED_PETITION_HOMES read back, as petition_homes returns them."""
    rows = [line.split(_FIELD) for line in packed.split(_ROW)] if packed else []
    return _grouped((int(i), flat, tag or None) for i, flat, tag in rows)


def _grouped(rows) -> list[PetitionHome]:
    homes: dict[int, tuple[str, list[str]]] = {}
    for household_id, household_flat, tag in rows:
        found = homes.setdefault(household_id, (household_flat, []))
        if tag is not None:
            found[1].append(tag)
    return [PetitionHome(i, f, tuple(sorted(t))) for i, (f, t) in sorted(homes.items())]


def petition_homes(
    session: Session, stairwell: str, flat: str | None, name: str, tags: list[str]
) -> list[PetitionHome]:
    """The households of ``stairwell`` that are flat ``flat`` or list a resident called exactly
    ``name``, each with its tags among ``tags``: one statement (up to three before, every petition)."""
    session.flush()  # a Core read: the session's pending changes first
    return _grouped(session.connection().execute(_PETITION_HOMES, petition_homes_params(stairwell, flat, name, tags)))


def petition_homes_params(stairwell: str | None, flat: str | None, name: str, tags: list[str]) -> dict:
    return {"stairwell": stairwell, "flat": flat, "name": name, "tags": tags or [""]}
