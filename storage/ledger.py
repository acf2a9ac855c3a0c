"""Household ledger (数字化底账) queries: where a flat is, who may see it, its members and tags.

Scope is the one rule of bot.permissions: a household is seen by whoever's grant covers its
stairwell (the trio), its grid (the grid worker) or everything (admin). Every read or change by
staff leaves a LedgerAudit row (个人信息保护法); the caller of these functions writes it with
``audit``.
"""
from __future__ import annotations

import re
from pathlib import Path
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Iterable, Protocol

from sqlalchemy import delete, func
from sqlmodel import Session, col, or_, select

from common.yamlload import load_unique
from common.privacy import mask
from common.flats import FlatRef, stairwell_parts
from storage.models import LEDGER_TAGS, Household, HouseholdMember, HouseholdTag, LedgerAudit, Room


class Caller(Protocol):
    """Who asks (bot.permissions.Caller): the one scope rule, without storage importing the bot."""

    def covers(self, room: Room, roles: frozenset[str] | set[str]) -> bool: ...


LEDGER_ROLES = frozenset({"leader", "officer", "support", "grid"})  # the trio and the grid worker
RENTED = "出租房"
READ = "查看"  # the audit action of one household read (chat /底账 502, the console's household page)
OVERVIEW = "概况"  # the audit action of the overview of a caller's stairwells
TAG_ALIASES = {
    "独居": "独居老人", "独居老": "独居老人", "空巢老人": "空巢", "留守": "留守儿童", "残疾人": "残疾",
    "残障": "残疾", "重病患者": "重病", "大病": "重病", "低保": "低保/困难", "困难": "低保/困难",
    "困难户": "低保/困难", "低保户": "低保/困难", "出租": RENTED, "租房": RENTED, "出租屋": RENTED,
    "流动": "流动人口", "外来人口": "流动人口", "中共党员": "党员",
}
_LONG_DIGITS = re.compile(r"\d(?:[\d\s-]{5,})\d")


def tag_named(word: str) -> str | None:
    """The ledger tag a word means (独居 -> 独居老人, 低保 -> 低保/困难), or None."""
    word = word.strip()
    return word if word in LEDGER_TAGS else TAG_ALIASES.get(word)


def mask_phone(text: str) -> str:
    """Mobile numbers as bot.privacy masks them; landlines and other long numbers keep only
    their first three and last four digits (nothing else here needs more)."""
    def hide(match: re.Match[str]) -> str:
        digits = re.sub(r"\D", "", match.group())
        return digits[:3] + "*" * max(len(digits) - 7, 1) + digits[-4:] if len(digits) >= 7 else match.group()

    return _LONG_DIGITS.sub(hide, mask(text)).strip()


# ---- places and scope --------------------------------------------------------------------------

@dataclass(frozen=True)
class Stairwell:
    name: str  # Room.stairwell / Household.stairwell, e.g. "3幢1单元"
    grid: str | None
    topic: str  # its group's topic ("" when it has no group): a grant may name the topic

    def as_room(self) -> Room:
        """A stand-in room for the scope rule (Room.covered_by reads stairwell, grid, topic)."""
        return Room(id="", topic=self.topic, stairwell=self.name, grid=self.grid)

    @property
    def parts(self) -> tuple[int | None, int | None]:
        return stairwell_parts(self.name)


def stairwells(session: Session) -> dict[str, Stairwell]:
    """Every stairwell the bot knows: its groups', and those only the ledger has (imported)."""
    known: dict[str, Stairwell] = {}
    for room in session.exec(select(Room).where(col(Room.stairwell).is_not(None)).order_by(col(Room.id))).all():
        assert room.stairwell is not None
        known.setdefault(room.stairwell, Stairwell(room.stairwell, room.grid, room.topic))
    rows = session.exec(select(Household.stairwell, func.min(Household.grid)).group_by(col(Household.stairwell))).all()
    for name, grid in rows:
        known.setdefault(name, Stairwell(name, grid, ""))
    return known


def visible_stairwells(session: Session, caller: Caller, roles: frozenset[str] = LEDGER_ROLES) -> list[Stairwell]:
    """The stairwells whose ledger ``caller`` may see (holding one of ``roles``), in name order."""
    mine = [s for s in stairwells(session).values() if caller.covers(s.as_room(), roles)]
    return sorted(mine, key=lambda s: (s.parts[0] or 0, s.parts[1] or 0, s.name))


def grid_of(session: Session, stairwell: str) -> str | None:
    place = stairwells(session).get(stairwell)
    return place.grid if place else None


@dataclass(frozen=True)
class Resolved:
    stairwell: Stairwell | None
    problem: str | None  # one polite line when no single stairwell fits


def resolve_flat(session: Session, caller: Caller, ref: FlatRef, here: Room | None) -> Resolved:
    """The caller's stairwell a flat reference is in: the group's own when asked in a stairwell
    group, else the only one of theirs that fits, else the only one where that flat is recorded."""
    mine = [s for s in visible_stairwells(session, caller) if ref.fits(s.parts)]
    if here is not None and here.stairwell and any(s.name == here.stairwell for s in mine):
        return Resolved(next(s for s in mine if s.name == here.stairwell), None)
    if len(mine) == 1:
        return Resolved(mine[0], None)
    if not mine:
        anywhere = [s for s in stairwells(session).values() if ref.fits(s.parts)]
        named = ref.building is not None or ref.unit is not None or ref.either is not None
        if anywhere and named:
            return Resolved(None, "这户不在您负责的楼道，只能查看本楼道（网格员：本网格）的底账。")
        return Resolved(None, "没有找到这个楼道，请写明楼栋单元，例如：3幢1单元502。")
    recorded = [s for s in mine if find(session, s.name, ref.flat) is not None]
    if len(recorded) == 1:
        return Resolved(recorded[0], None)
    return Resolved(None, f"您负责{len(mine)}个楼道，请写明楼栋单元，例如：{mine[0].name}{ref.flat}。")


# ---- households --------------------------------------------------------------------------------

def find(session: Session, stairwell: str, flat: str) -> Household | None:
    return session.exec(select(Household).where(Household.stairwell == stairwell, Household.flat == flat)).first()


def flat_label(household: Household) -> str:
    return f"{household.stairwell}{household.flat}"


def get_or_add(session: Session, place: Stairwell, flat: str, now: datetime) -> Household:
    """The household, created on first mention by its trio (a flat the ledger did not have)."""
    household = find(session, place.name, flat)
    if household is None:
        household = new_household(place, flat, now)
        session.add(household)
        session.flush()
    return household


def new_household(place: Stairwell, flat: str, now: datetime) -> Household:
    building, unit = place.parts
    return Household(
        stairwell=place.name, grid=place.grid, flat=flat, updated_at=now,
        building=f"{building}幢" if building is not None else place.name, unit=f"{unit}单元" if unit is not None else "",
    )


def touch(session: Session, household: Household, actor: str, now: datetime, today: date) -> None:
    """A change by its trio is also a confirmation: the flat was just checked."""
    household.updated_at, household.updated_by, household.last_confirmed = now, actor, today
    session.add(household)


def members(session: Session, household_id: int) -> list[HouseholdMember]:
    return list(session.exec(
        select(HouseholdMember).where(HouseholdMember.household_id == household_id).order_by(col(HouseholdMember.id))
    ).all())


def tags(session: Session, household_id: int) -> list[HouseholdTag]:
    return sort_tags(session.exec(select(HouseholdTag).where(HouseholdTag.household_id == household_id)).all())


def sort_tags(rows: Iterable[HouseholdTag]) -> list[HouseholdTag]:
    """In LEDGER_TAGS order, as the sheet's columns."""
    return sorted(rows, key=lambda t: LEDGER_TAGS.index(t.tag) if t.tag in LEDGER_TAGS else len(LEDGER_TAGS))


def sort_tag_names(names: Iterable[str]) -> list[str]:
    return sorted(names, key=lambda t: LEDGER_TAGS.index(t) if t in LEDGER_TAGS else len(LEDGER_TAGS))


def set_tag(session: Session, household_id: int, tag: str, confirmed: date | None, note: str = "",
            tenants: int | None = None, landlord: str | None = None) -> HouseholdTag:
    row = session.get(HouseholdTag, (household_id, tag)) or HouseholdTag(household_id=household_id, tag=tag)
    row.confirmed_at = confirmed
    row.note = note or row.note
    if tag == RENTED:
        row.tenants = tenants if tenants is not None else row.tenants
        row.landlord = mask_phone(landlord) if landlord else row.landlord
    session.add(row)
    return row


def drop_tag(session: Session, household_id: int, tag: str) -> bool:
    row = session.get(HouseholdTag, (household_id, tag))
    if row is not None:
        session.delete(row)
    return row is not None


def set_member(session: Session, household_id: int, name: str, relation: str, phone: str | None) -> HouseholdMember:
    row = session.exec(select(HouseholdMember).where(
        HouseholdMember.household_id == household_id, HouseholdMember.name == name)).first()
    row = row or HouseholdMember(household_id=household_id, name=name)
    row.relation = relation or row.relation
    row.phone = mask_phone(phone) if phone else row.phone
    session.add(row)
    return row


def drop_member(session: Session, household_id: int, name: str) -> bool:
    result = session.exec(delete(HouseholdMember).where(
        col(HouseholdMember.household_id) == household_id, col(HouseholdMember.name) == name))
    return bool(result.rowcount)


def in_stairwells(session: Session, names: Iterable[str]) -> list[Household]:
    names = list(names)
    if not names:
        return []
    return list(session.exec(
        select(Household).where(col(Household.stairwell).in_(names)).order_by(col(Household.stairwell), col(Household.flat))
    ).all())


def stale(session: Session, names: Iterable[str], today: date, days: int) -> list[Household]:
    """Flats never confirmed, or confirmed more than ``days`` ago: never-confirmed first."""
    names = list(names)
    if not names:
        return []
    cutoff = today - timedelta(days=days)
    rows = session.exec(select(Household).where(
        col(Household.stairwell).in_(names),
        or_(col(Household.last_confirmed).is_(None), col(Household.last_confirmed) < cutoff),
    )).all()
    return sorted(rows, key=lambda h: (h.last_confirmed is not None, h.last_confirmed or today, h.stairwell, h.flat))


def tagged(session: Session, names: Iterable[str], wanted: Iterable[str]) -> list[tuple[Household, HouseholdTag]]:
    """Households of these stairwells carrying any of these tags (the 战时 check-on lists)."""
    names, wanted = list(names), list(wanted)
    if not names or not wanted:
        return []
    stmt = (
        select(Household, HouseholdTag)
        .join(HouseholdTag, col(HouseholdTag.household_id) == col(Household.id))
        .where(col(Household.stairwell).in_(names), col(HouseholdTag.tag).in_(wanted))
        .order_by(col(Household.stairwell), col(Household.flat))
    )
    return [(h, t) for h, t in session.exec(stmt).all()]


def is_empty(session: Session) -> bool:
    return session.exec(select(Household.id).limit(1)).first() is None


def audit(session: Session, actor_id: str, action: str, now: datetime, household_id: int | None = None,
          detail: str = "") -> None:
    session.add(LedgerAudit(at=now, actor_id=actor_id, action=action, household_id=household_id,
                            detail=mask_phone(detail)[:200]))  # what was typed, numbers masked


# ---- the demo ledger ---------------------------------------------------------------------------
DEMO_FILE = Path(__file__).with_name("ledger_demo.yaml")


def seed_demo(session: Session, now: datetime, today: date) -> int:
    """The demo community's dozen households (config ``ledger.demo``), only into an empty ledger:
    a ledger someone has started keeping is never touched. Returns how many were added."""
    if not is_empty(session):
        return 0
    places = stairwells(session)
    rows = load_unique(DEMO_FILE.read_text(encoding="utf-8"))
    # An empty ledger: every row is new, so they are built directly and written in two flushes
    # (looking each one up first made this most of a start's cost).
    households = []
    for row in rows:
        place = places.get(row["stairwell"]) or Stairwell(row["stairwell"], None, "")
        household = new_household(place, str(row["flat"]), now)
        ago = row.get("confirmed")
        household.last_confirmed = None if ago is None else today - timedelta(days=ago)
        households.append((row, household))
    session.add_all(household for _, household in households)
    session.flush()  # their ids
    for row, household in households:
        assert household.id is not None
        confirmed = household.last_confirmed or today
        for name, relation, *phone in row.get("members", []):
            session.add(HouseholdMember(household_id=household.id, name=name, relation=relation,
                                        phone=mask_phone(phone[0]) if phone else None))
        for tag, note in (row.get("tags") or {}).items():
            session.add(HouseholdTag(household_id=household.id, tag=tag, confirmed_at=confirmed, note=note or ""))
        if "rented" in row:
            landlord = row["rented"].get("landlord")
            session.add(HouseholdTag(household_id=household.id, tag=RENTED, confirmed_at=confirmed,
                                     note=row["rented"].get("note") or "", tenants=row["rented"].get("tenants"),
                                     landlord=mask_phone(landlord) if landlord else None))
    session.flush()
    return len(rows)
