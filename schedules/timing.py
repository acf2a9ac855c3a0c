"""When an automatic push may go out: never in quiet hours, optionally never on a public holiday."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

import chinese_calendar

from bot.clock import SHANGHAI
from bot.config import QuietHours


def in_quiet_hours(when: datetime, quiet: QuietHours) -> bool:
    hour = when.astimezone(SHANGHAI).hour
    if quiet.start > quiet.end:  # spans midnight, e.g. 21..8
        return hour >= quiet.start or hour < quiet.end
    return quiet.start <= hour < quiet.end


def is_holiday(day: date) -> bool:
    """A statutory public holiday (not an ordinary weekend); unknown years have none."""
    try:
        on_holiday, name = chinese_calendar.get_holiday_detail(day)
    except NotImplementedError:
        return False
    return bool(on_holiday and name)


def allowed_time(when: datetime, quiet: QuietHours, skip_holidays: bool = False) -> datetime:
    """``when`` itself if it is allowed, else the next morning (quiet.end o'clock) that is."""
    local = when.astimezone(SHANGHAI)
    for _ in range(60):  # a long holiday is at most a couple of weeks
        if not in_quiet_hours(local, quiet) and not (skip_holidays and is_holiday(local.date())):
            return local
        day = local.date() if local.hour < quiet.end else local.date() + timedelta(days=1)
        local = datetime.combine(day, time(quiet.end), SHANGHAI)
        if skip_holidays and is_holiday(day):
            local = datetime.combine(day + timedelta(days=1), time(quiet.end), SHANGHAI)
    return local
