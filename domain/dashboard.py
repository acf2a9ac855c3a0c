"""The staff console's 统计 page: the month's figures (the very ones /统计 and report --month give:
storage.stats), a twelve-month trend, the stairwell-by-month table, categories and 走访覆盖率,
all counted by the database and limited to the caller's scopes (a stairwell, a grid, "*")."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from common.tz import SHANGHAI
from domain.visits import visit_coverage
from storage import stats as figures
from storage.stats import Period, Stats
from storage.visits import Coverage

TREND_MONTHS = 12
RATES = ("响应率", "按时办结率", "办结率", "满意率")  # the four the console charts


def month_period(year: int, month: int) -> Period:
    start = datetime(year, month, 1, tzinfo=SHANGHAI)
    return start, datetime(year + month // 12, month % 12 + 1, 1, tzinfo=SHANGHAI)


def months_up_to(year: int, month: int, count: int = TREND_MONTHS) -> list[Period]:
    """``count`` calendar months ending with ``year-month``, oldest first."""
    index = year * 12 + month - 1
    return [month_period(i // 12, i % 12 + 1) for i in range(index - count + 1, index + 1)]


def month_key(period: Period) -> str:
    return f"{period[0]:%Y-%m}"


@dataclass
class Dashboard:
    month: str  # 2026-11
    stats: Stats  # the month, as /统计 2026-11 for the same caller
    trend: list[Stats]  # TREND_MONTHS months ending with it
    places: dict[str, list[Stats]]  # stairwell -> the same months
    categories: list[tuple[str, str, int]]  # (stairwell, category, tickets) in the month
    visits: list[Coverage]  # 走访覆盖率 of the month, per stairwell with a ledger

    @property
    def months(self) -> list[str]:
        return [f"{s.start:%Y-%m}" for s in self.trend]

    def series(self) -> dict[str, list[float | None]]:
        """Per rate, one percentage per month (None: nothing to divide), for the chart."""
        return {
            rate: [None if (v := s.rates()[rate]) is None else round(v * 100, 1) for s in self.trend]
            for rate in RATES
        }

    def category_totals(self) -> list[tuple[str, int]]:
        """Categories over every stairwell in scope, most first."""
        totals: dict[str, int] = {}
        for _, category, n in self.categories:
            totals[category] = totals.get(category, 0) + n
        return sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))


def dashboard(session: Session, year: int, month: int, scopes: tuple[str, ...] | None, now: datetime) -> Dashboard:
    """Everything the 统计 page shows for ``year-month``, limited to ``scopes`` (None: all)."""
    periods = months_up_to(year, month)
    start, end = periods[-1]
    return Dashboard(
        month=f"{year:04d}-{month:02d}",
        stats=figures.compute(session, start, end, scopes=scopes, now=now),
        trend=figures.monthly(session, periods, scopes),
        places=figures.by_place(session, periods, scopes),
        categories=figures.categories(session, start, end, scopes),
        visits=visit_coverage(session, start, scopes),
    )
