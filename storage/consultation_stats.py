"""Legal consultations per role (三官一律) for a period, for the monthly report.

The cohort is the consultations received in [start, end); each counts for the role that follows
it now (after any /转交). 已答复 and 待答复 are their state now; 平均答复 is the mean hours from
receipt to the first answer of those answered.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from storage.models import Consultation

ROLE_ORDER = ("lawyer", "judge", "prosecutor", "police")


@dataclass(frozen=True)
class RoleFigures:
    role: str
    received: int
    answered: int
    open: int
    urgent: int
    mean_hours: float | None


def by_role(session: Session, start: datetime, end: datetime) -> list[RoleFigures]:
    """One row per role with consultations in the period, in ROLE_ORDER (unknown roles last)."""
    stmt = select(Consultation).where(col(Consultation.created_at) >= start, col(Consultation.created_at) < end)
    grouped: dict[str, list] = {}
    for c in session.exec(stmt).all():
        grouped.setdefault(c.role, []).append((c.role, c.status, c.urgent, c.created_at, c.answered_at))
    out = []
    for role in sorted(grouped, key=lambda r: (ROLE_ORDER.index(r) if r in ROLE_ORDER else len(ROLE_ORDER), r)):
        rows = grouped[role]
        waits = [(a - c).total_seconds() / 3600 for _, s, _, c, a in rows if s == "已答复" and a is not None]
        out.append(RoleFigures(
            role=role,
            received=len(rows),
            answered=sum(1 for r in rows if r[1] == "已答复"),
            open=sum(1 for r in rows if r[1] == "待答复"),
            urgent=sum(1 for r in rows if r[2]),
            mean_hours=sum(waits) / len(waits) if waits else None,
        ))
    return out
