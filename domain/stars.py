"""Star-rated stairwells (星级楼道): a monthly score per stairwell from what the bot knows.

Each term is one function below taking the month (``Month``: the period, its data read once) and a
stairwell, returning a value in [0, 1] with how it was computed, or None when there is nothing to
measure that month. The score is the weighted mean of the terms that have a value, × 100:

    得分 = Σ(权重ᵢ × 指标ᵢ) ÷ Σ(有数据的指标的权重) × 100

so a term without data (no tickets that month, no notices, or 走访覆盖率 before visits are
recorded) is left out and its weight shared by the others in proportion ("未计入"). Stars are the
number of ``stars.thresholds`` the score reaches. Weights and thresholds are config (``stars:``).

Households are the ledger's (/底账) where a stairwell has any, else the residents in its groups;
visit coverage is the share of the ledger's households visited in the month (/走访).
"""
from __future__ import annotations

import csv
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Callable, TextIO

from sqlmodel import Session, col, select

from bot.config import STAR_TERMS, AppConfig
from bot.permissions import ANY_STAFF
from domain.points import hours_label, month_days
from storage import directory, points, visits
from storage import notices as notice_queries
from storage.models import Notice, Person, RoleGrant, Room, RoomMember
from storage.stats import Stats, compute

STAR = "★"


@dataclass(frozen=True)
class Term:
    value: float | None  # 0..1; None: not counted this month
    detail: str  # how it was computed ("3/4"), or why it is not counted


@dataclass
class Month:
    """One month's data for every stairwell, each read once however many terms use it."""

    session: Session
    config: AppConfig
    start: datetime
    end: datetime

    @cached_property
    def rooms(self) -> list[Room]:
        return [r for r in directory.rooms(self.session) if r.kind == "stairwell" and r.stairwell]

    @property
    def stairwells(self) -> list[str]:
        return sorted({r.stairwell for r in self.rooms if r.stairwell})

    @cached_property
    def _tickets(self) -> dict[str, Stats]:
        return {s: compute(self.session, self.start, self.end, scopes=(s,)) for s in self.stairwells}

    def tickets(self, stairwell: str) -> Stats:
        return self._tickets[stairwell]

    @cached_property
    def _receipts(self) -> dict[str, tuple[int, int]]:
        """Per stairwell: (confirmations, residents asked) over the month's tracked notices."""
        by_room = {r.id: r.stairwell for r in self.rooms}
        found: dict[str, tuple[int, int]] = {}
        stmt = select(Notice).where(
            col(Notice.tracked).is_(True), col(Notice.created_at) >= self.start, col(Notice.created_at) < self.end
        )
        for notice in self.session.exec(stmt).all():
            for group in notice_queries.receipts_by_group(self.session, notice, set(ANY_STAFF)):
                stairwell = by_room.get(group.room.id)
                if stairwell:
                    done, asked = found.get(stairwell, (0, 0))
                    found[stairwell] = (done + group.confirmed, asked + group.confirmed + len(group.missing))
        return found

    def receipts(self, stairwell: str) -> tuple[int, int]:
        return self._receipts.get(stairwell, (0, 0))

    @cached_property
    def _minutes(self) -> dict[str, int]:
        return points.minutes_by_stairwell(self.session, *month_days(self.start, self.end))

    def volunteer_minutes(self, stairwell: str) -> int:
        return self._minutes.get(stairwell, 0)

    @cached_property
    def _households(self) -> dict[str, int]:
        """Residents per stairwell (members of its groups holding no staff role), one per household:
        the count where a stairwell keeps no ledger."""
        staff = set(self.session.exec(
            select(RoleGrant.person_id).where(col(RoleGrant.role).in_(sorted(ANY_STAFF | {"admin"})))
        ).all())
        members = self.session.exec(
            select(RoomMember.room_id, RoomMember.person_id)
            .join(Person, col(Person.id) == col(RoomMember.person_id))
            .where(col(Person.deleted).is_(False))
        ).all()
        by_room = {r.id: r.stairwell for r in self.rooms}
        residents: dict[str, set[str]] = {}
        for room_id, person_id in members:
            if room_id in by_room and person_id not in staff:
                residents.setdefault(by_room[room_id] or "", set()).add(person_id)
        return {s: len(people) for s, people in residents.items()}

    @cached_property
    def _coverage(self) -> dict[str, visits.Coverage]:
        return {c.stairwell: c for c in visits.coverage(self.session, self.start, self.end)}

    def coverage(self, stairwell: str) -> visits.Coverage | None:
        return self._coverage.get(stairwell)

    def households(self, stairwell: str) -> int:
        """The ledger's households of the stairwell, else (no ledger kept there) its residents."""
        ledger = self.coverage(stairwell)
        return ledger.total if ledger is not None and ledger.total else self._households.get(stairwell, 0)


def _rate(part: int, whole: int, none: str) -> Term:
    return Term(part / whole, f"{part}/{whole}") if whole else Term(None, none)


# ---- the terms ---------------------------------------------------------------------------------


def response_rate(month: Month, stairwell: str) -> Term:
    stats = month.tickets(stairwell)
    return _rate(stats.responded_in_time, stats.received, "本月无工单")


def on_time_rate(month: Month, stairwell: str) -> Term:
    stats = month.tickets(stairwell)
    return _rate(stats.resolved_on_time, stats.resolved, "本月无办结工单")


def satisfaction(month: Month, stairwell: str) -> Term:
    stats = month.tickets(stairwell)
    return _rate(stats.satisfied, stats.rated, "本月无评价")


def notice_receipt_rate(month: Month, stairwell: str) -> Term:
    return _rate(*month.receipts(stairwell), "本月无通知")


def volunteer_hours_per_household(month: Month, stairwell: str) -> Term:
    households = month.households(stairwell)
    if not households:
        return Term(None, "无住户数据")
    minutes = month.volunteer_minutes(stairwell)
    per_household = minutes / 60 / households
    target = month.config.stars.hours_per_household
    return Term(min(1.0, per_household / target),
                f"{hours_label(minutes)}/{households}户 = {per_household:.2f}小时（满分{target:g}小时）")


def visit_coverage(month: Month, stairwell: str) -> Term:
    ledger = month.coverage(stairwell)
    if ledger is None or not ledger.total:
        return Term(None, "未计入（底账无住户）")
    return _rate(ledger.visited, ledger.total, "")


TERMS: dict[str, Callable[[Month, str], Term]] = {
    "响应率": response_rate,
    "按时办结率": on_time_rate,
    "满意率": satisfaction,
    "通知回执率": notice_receipt_rate,
    "户均志愿时长": volunteer_hours_per_household,
    "走访覆盖率": visit_coverage,
}
assert tuple(TERMS) == STAR_TERMS  # config validates weights against the same names


# ---- the score ---------------------------------------------------------------------------------


@dataclass
class Rating:
    stairwell: str
    terms: dict[str, Term] = field(default_factory=dict)
    score: float | None = None  # 0..100; None: too few terms had data (数据不足)
    stars: int = 0

    def stars_label(self) -> str:
        return STAR * self.stars if self.stars else "—"


def score(terms: dict[str, Term], weights: dict[str, float], min_share: float = 0.0) -> float | None:
    """Weighted mean × 100 over the terms with a value; the others' weight is shared out.
    None when the terms with a value carry less than ``min_share`` of all the weights."""
    counted = [(weights.get(name, 0), term.value) for name, term in terms.items()
               if term.value is not None and weights.get(name, 0) > 0]
    total = sum(w for w, _ in counted)
    if not total or total < min_share * sum(weights.values()):
        return None
    return 100 * sum(w * v for w, v in counted) / total


def stars_for(value: float | None, thresholds: list[float]) -> int:
    return 0 if value is None else sum(1 for t in thresholds if value >= t)


def rate_month(session: Session, config: AppConfig, start: datetime, end: datetime) -> list[Rating]:
    """Every stairwell's rating for [start, end), best first (unrated last, then by name)."""
    month = Month(session, config, start, end)
    weights = config.stars.weights
    ratings = []
    for stairwell in month.stairwells:
        terms = {name: term(month, stairwell) for name, term in TERMS.items()}
        value = score(terms, weights, config.stars.min_weight_share)
        ratings.append(Rating(stairwell, terms, value, stars_for(value, config.stars.thresholds)))
    return sorted(ratings, key=lambda r: (r.score is None, -(r.score or 0), r.stairwell))


def formula(config: AppConfig, ratings: list[Rating]) -> list[str]:
    """The formula as printed in the report: weights, what was left out, the star thresholds."""
    weights = config.stars.weights
    absent = [name for name in STAR_TERMS if weights.get(name, 0) > 0
              and ratings and all(r.terms[name].value is None for r in ratings)]
    lines = [
        "得分 = Σ(权重 × 指标) ÷ Σ(有数据的指标的权重) × 100，指标均为0—1的比例。",
        "权重：" + "、".join(f"{name}{weights.get(name, 0):g}" for name in STAR_TERMS) + "。",
        f"户均志愿时长 = 本月志愿服务小时数 ÷ 住户数 ÷ {config.stars.hours_per_household:g}（最高按1计）；"
        "住户数暂按楼道群中的居民人数计。",
        "某楼道某项无数据时该项不计入，其权重按比例分给其他指标；"
        f"计入的权重不足{config.stars.min_weight_share * 100:.0f}%的楼道不评分（数据不足）。",
    ]
    if absent:
        lines.append("本月所有楼道均未计入：" + "、".join(absent) + "。")
    lines.append("星级：" + "，".join(f"{t:g}分及以上{STAR * (i + 1)}" for i, t in enumerate(config.stars.thresholds)) + "。")
    return lines


def _cell(term: Term) -> str:
    return f"{term.value * 100:.0f}%（{term.detail}）" if term.value is not None else term.detail


def render_markdown(config: AppConfig, ratings: list[Rating], out: TextIO) -> None:
    out.write("\n## 星级楼道\n\n")
    out.writelines(f"{line}\n" for line in formula(config, ratings))
    if not ratings:
        out.write("\n没有楼道群。\n")
        return
    out.write("\n| 排名 | 楼道 | 得分 | 星级 | " + " | ".join(STAR_TERMS) + " |\n")
    out.write("|---" * (4 + len(STAR_TERMS)) + "|\n")
    for place, rating in enumerate(ratings, 1):
        shown = "—" if rating.score is None else f"{rating.score:.1f}"
        cells = [_cell(rating.terms[name]) for name in STAR_TERMS]
        out.write(f"| {place} | {rating.stairwell} | {shown} | {rating.stars_label()} | " + " | ".join(cells) + " |\n")


def render_csv(ratings: list[Rating], out: TextIO) -> None:
    writer = csv.writer(out, lineterminator="\n")
    for place, rating in enumerate(ratings, 1):
        shown = "" if rating.score is None else f"{rating.score:.1f}"
        details = "；".join(f"{name} {_cell(term)}" for name, term in rating.terms.items())
        writer.writerow(["星级楼道", f"{place}. {rating.stairwell}", f"{shown} {rating.stars_label()}".strip(), details])


# ---- the monthly post --------------------------------------------------------------------------


def pioneers(
    session: Session, ratings: list[Rating], start: datetime, end: datetime
) -> tuple[list[Rating], list[points.Hours]]:
    """(先锋楼道, 先锋个人) of a month rated by rate_month: the best-rated stairwells with at least
    one star, and the people with the most volunteer hours that month; ties share the title."""
    rated = [r for r in ratings if r.stars and r.score is not None]
    best = [r for r in rated if r.score == rated[0].score] if rated else []
    hours = points.hours_between(session, *month_days(start, end))
    people = [h for h in hours if h.minutes == hours[0].minutes] if hours else []
    return best, people
