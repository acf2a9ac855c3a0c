"""Who may do what where: role grants checked against a room's stairwell and grid.

This is the only place roles are checked; commands declare what they need.
"""
from __future__ import annotations

from dataclasses import dataclass

from bot.config import ROLE_NAMES
from storage.models import RoleGrant, Room

# The role sets commands and jobs ask for, in one place (admin passes every check anyway).
STAFF = frozenset({"leader", "officer", "support", "grid"})  # a stairwell's staff: tickets, reports, notices
NOTICE_ROLES = STAFF
LEGAL_OFFICERS = frozenset({"judge", "prosecutor", "police"})  # 三官 of 三官一律, each attached to grids
LEGAL_ROLES = LEGAL_OFFICERS | {"lawyer"}  # who may follow and answer a legal consultation
ANY_STAFF = STAFF | LEGAL_ROLES  # staff of any kind: /状态, /成员; not counted as residents in receipts
EMERGENCY_ROLES = frozenset({"grid"})  # /战时
TRIO = frozenset({"leader", "officer", "support"})  # the stairwell's own three, told first in an emergency
ADVISERS = frozenset({"lawyer", "grid"})  # the grid worker co-runs the legal-aid group
CONSULTATION_ROLES = ADVISERS | LEGAL_OFFICERS  # /咨询, /转交: each sees what their role follows
OVERDUE_ROLES = ("officer", "leader", "grid", "admin")  # who may be reminded of overdue tickets


@dataclass(frozen=True)
class Caller:
    """The sender's identity and grants, resolved once per message."""

    person_id: str
    name: str
    grants: tuple[tuple[str, str], ...]  # (role, scope)

    def roles_in(self, room: Room | None) -> frozenset[str]:
        """Roles that apply in ``room``; in a private chat every grant applies."""
        roles = {"resident"}
        for role, scope in self.grants:
            if room is None or grant_covers(scope, room):
                roles.add(role)
        return frozenset(roles)

    @property
    def is_staff(self) -> bool:
        return any(role != "resident" for role, _ in self.grants)

    def covers(self, room: Room, roles: frozenset[str] | set[str]) -> bool:
        """Whether the caller holds one of ``roles`` (or admin) with a scope covering ``room``:
        the one place the stairwell / grid / group scope rule is applied to a caller."""
        return any((role in roles or role == "admin") and grant_covers(scope, room) for role, scope in self.grants)

    def title_in(self, room: Room | None) -> str:
        """How the caller signs a notice in ``room``: their most specific staff title."""
        roles = self.roles_in(room)
        return next((ROLE_NAMES[r] for r in ("grid", "officer", "leader", "support", "lawyer", "judge", "prosecutor", "police", "admin") if r in roles), "")

    @property
    def sees_everything(self) -> bool:
        """An admin of the whole community (their lists are not limited to their own items)."""
        return ("admin", "*") in self.grants

    def scopes(self, roles: frozenset[str]) -> tuple[str, ...]:
        """The scopes in which the caller holds any of ``roles``."""
        return tuple(sorted({scope for role, scope in self.grants if role in roles or role == "admin"}))


def grant_covers(scope: str, room: Room) -> bool:
    return room.covered_by(scope)


def caller_from_grants(person_id: str, name: str, grants: list[RoleGrant]) -> Caller:
    return Caller(person_id, name, tuple((g.role, g.scope) for g in grants))


def allowed(caller: Caller, room: Room | None, needed: frozenset[str]) -> bool:
    """Empty ``needed`` means everyone; admin may do everything. Commands only an admin may use
    (granting roles, binding groups) need an admin of the whole community: an admin limited to
    one stairwell must not be able to make themselves or anyone an admin of everything."""
    if not needed:
        return True
    if needed == {"admin"}:
        return caller.sees_everything
    have = caller.roles_in(room)
    return "admin" in have or bool(have & needed)


def describe_roles(roles: frozenset[str]) -> str:
    return "、".join(ROLE_NAMES[r] for r in sorted(roles) if r in ROLE_NAMES)
