"""The staff console's 底账 and 走访 pages: the households of the stairwells in the caller's
scope, one household (each read audited exactly as chat's /底账 502), and the month's visit
coverage with the households at risk first (the list audited as chat's /走访 本月 audits it), and
in 战时 the people to check on (domain.checkon's list, audited as the list sent in chat).

Scope is storage.ledger's one rule (visible_stairwells): the trio their stairwell, the grid
worker their grid, an admin everything. A household outside it raises OutOfScope (the page: 403).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from domain import checkon
from domain.visits import StairwellMonth, month_bounds, stairwell_month
from storage import ledger
from storage import visits as queries
from storage.ledger import Caller, Stairwell
from storage.models import CheckOn, Emergency, Household, HouseholdMember, HouseholdTag


class OutOfScope(Exception):
    """The household or stairwell asked for is not in the caller's scope."""


@dataclass
class LedgerRow:
    household: Household
    tags: list[str]


@dataclass
class LedgerList:
    stairwells: list[Stairwell]
    rows: dict[str, list[LedgerRow]]  # stairwell name -> its households, by flat


def ledger_list(session: Session, caller: Caller, actor_id: str, now: datetime,
                stairwell: str | None = None) -> LedgerList:
    """The households of the caller's stairwells (or of one of them), with their tags; the read
    is audited as chat's /底账 overview."""
    places = ledger.visible_stairwells(session, caller)
    if stairwell is not None:
        places = [p for p in places if p.name == stairwell]
        if not places:
            raise OutOfScope(stairwell)
    homes = ledger.in_stairwells(session, [p.name for p in places])
    tags = queries.tags_of(session, [h.id for h in homes if h.id is not None])
    rows: dict[str, list[LedgerRow]] = {p.name: [] for p in places}
    for home in homes:
        rows[home.stairwell].append(LedgerRow(home, ledger.sort_tag_names(tags.get(home.id or 0, []))))
    ledger.audit(session, actor_id, ledger.OVERVIEW, now, None, " ".join(p.name for p in places))
    return LedgerList(places, rows)


@dataclass
class HouseholdCard:
    household: Household
    members: list[HouseholdMember]
    tags: list[HouseholdTag]


def household_card(session: Session, caller: Caller, actor_id: str, household_id: int, now: datetime) -> HouseholdCard:
    """One household for the console: LookupError when there is none, OutOfScope when it is not
    the caller's; the read leaves the audit row chat's /底账 502 leaves."""
    household = session.get(Household, household_id)
    if household is None:
        raise LookupError(household_id)
    if household.stairwell not in {p.name for p in ledger.visible_stairwells(session, caller)}:
        raise OutOfScope(household.stairwell)
    ledger.audit(session, actor_id, ledger.READ, now, household.id)
    return HouseholdCard(household, ledger.members(session, household_id), ledger.tags(session, household_id))


@dataclass
class VisitsPage:
    coverage: list[queries.Coverage]  # every stairwell in scope with a ledger
    month: StairwellMonth | None  # the one stairwell asked for: who is left, people at risk first


def visits_page(session: Session, caller: Caller, actor_id: str, at: datetime, at_risk_tags: list[str],
                stairwell: str | None = None) -> VisitsPage:
    """The month holding ``at``: coverage per stairwell in scope; with ``stairwell``, its list of
    households not visited yet (at risk first), each at-risk flat shown audited as /走访 本月."""
    places = [p.name for p in ledger.visible_stairwells(session, caller)]
    coverage = queries.coverage(session, *month_bounds(at), stairwells=places)
    if stairwell is None:
        return VisitsPage(coverage, None)
    if stairwell not in places:
        raise OutOfScope(stairwell)
    month = stairwell_month(session, stairwell, at, at_risk_tags)
    checkon.audit_read(session, actor_id, at, "走访进度", [h.id for h in month.left() if h.id in month.risk])
    return VisitsPage(coverage, month)


@dataclass
class CheckOnRow:
    check: CheckOn
    household: Household
    names: str  # '（王秀英）': whom to ask for at the door, as the chat list names them


@dataclass
class CheckOnList:
    emergency: Emergency
    rows: list[CheckOnRow]  # the caller's stairwells only, by stairwell and flat

    def left(self) -> int:
        return sum(1 for r in self.rows if r.check.contacted_at is None)


def checkon_list(session: Session, caller: Caller, actor_id: str, now: datetime) -> CheckOnList | None:
    """In 战时 (an open emergency of a check-on kind): the households to check on in the caller's
    stairwells and who confirmed them (/已联系); each flat shown audited as the list sent in chat
    (战时名单). None when there is no such emergency."""
    emergency = queries.open_emergency(session)
    if emergency is None or emergency.id is None or emergency.kind is None:
        return None
    places = {p.name for p in ledger.visible_stairwells(session, caller)}
    rows = [CheckOnRow(c, h, checkon.door_names(session, h))
            for c, h in queries.checks(session, emergency.id) if c.stairwell in places]
    checkon.audit_read(session, actor_id, now, "战时名单", [r.household.id for r in rows])
    return CheckOnList(emergency, rows)
