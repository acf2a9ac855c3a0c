"""Ticket time limits: urgent in hours, utilities in hours, the rest in working days.

Working days skip weekends and Chinese public holidays (with the official
make-up working days), using the chinesecalendar tables and config.yaml's
``holidays:``; for a year neither covers, plain weekends are used.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from bot.config import TicketConfig
from common.tz import SHANGHAI
from schedules.timing import is_workday  # the tables plus config.yaml's holidays: overrides


def add_working_days(start: datetime, days: int, end_hour: int) -> datetime:
    """The end (``end_hour`` local) of the ``days``-th working day after ``start``."""
    local = start.astimezone(SHANGHAI)
    day = local.date()
    counted = 0
    while counted < days:
        day += timedelta(days=1)
        if is_workday(day):
            counted += 1
    return datetime(day.year, day.month, day.day, end_hour % 24, tzinfo=SHANGHAI)


def due_at(created: datetime, category: str, urgent: bool, rules: TicketConfig) -> datetime:
    if urgent:
        return created + timedelta(hours=rules.urgent_hours)
    if category in rules.fast_categories:
        return created + timedelta(hours=rules.fast_hours)
    return add_working_days(created, rules.working_days, rules.workday_end_hour)


def format_day(when: datetime) -> str:
    local = when.astimezone(SHANGHAI)
    return f"{local.month}月{local.day}日"


def format_due(when: datetime) -> str:
    local = when.astimezone(SHANGHAI)
    return f"{local.month}月{local.day}日{local:%H:%M}"
