"""When an automatic push may go out: never in quiet hours, optionally never on a public holiday."""
from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta

import chinese_calendar

from bot.config import Holidays, QuietHours
from common.tz import SHANGHAI

log = logging.getLogger(__name__)
# config.yaml's holidays: (dates off, make-up working days), installed at start by use_holidays.
_overrides = Holidays()


def use_holidays(holidays: Holidays, now: datetime) -> None:
    """Install config's holiday overrides; warn when next year is not covered by any data."""
    global _overrides
    _overrides = holidays
    warning = calendar_warning(now)
    if warning:
        log.warning("%s", warning)


def _from_tables(lookup, day: date, outside):
    """The official tables' answer for ``day``, or ``outside`` for a year they do not cover
    (chinesecalendar raises NotImplementedError there: the expected case, not unfinished work)."""
    try:
        return lookup(day)
    except NotImplementedError:
        return outside


def _library_covers(year: int) -> bool:
    return _from_tables(lambda day: chinese_calendar.is_workday(day) or True, date(year, 1, 1), False)


def calendar_warning(now: datetime) -> str | None:
    """One line for logs and /状态 when this or next year's holidays are unknown (春节 would count
    as working days and automatic pushes would go out on holidays), else None. This year counts
    too: config listing next year's dates must not hide that the running year has none."""
    this = now.astimezone(SHANGHAI).year
    missing = [
        year for year in (this, this + 1)
        if not _library_covers(year) and not any(d.year == year for d in _overrides.days_off)
    ]
    if not missing:
        return None
    years = "和".join(f"{year}年" for year in missing)
    return (f"节假日数据不含{years}：春节等假期会被当作工作日，自动推送也不会避开假期。"
            f"请升级 chinesecalendar，或在 config.yaml 的 holidays: 中写明{years}的放假和调休日期。")


def _overridden(day: date) -> bool | None:
    """config.yaml's word on ``day``: False for a day off, True for a make-up working day, else None."""
    if day in _overrides.days_off:
        return False
    return True if day in _overrides.workdays else None


def is_workday(day: date) -> bool:
    """A working day: config's overrides first, then the official tables, then plain weekdays."""
    override = _overridden(day)
    if override is not None:
        return override
    return bool(_from_tables(chinese_calendar.is_workday, day, day.weekday() < 5))


def in_quiet_hours(when: datetime, quiet: QuietHours) -> bool:
    hour = when.astimezone(SHANGHAI).hour
    if quiet.start > quiet.end:  # spans midnight, e.g. 21..8
        return hour >= quiet.start or hour < quiet.end
    return quiet.start <= hour < quiet.end


def is_holiday(day: date) -> bool:
    """A statutory public holiday (not an ordinary weekend): config's overrides, then the tables."""
    override = _overridden(day)
    if override is not None:
        return not override
    on_holiday, name = _from_tables(chinese_calendar.get_holiday_detail, day, (False, None))
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
