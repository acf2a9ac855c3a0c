"""The campaign calendar: cron campaigns from config and lunar ones (重阳) computed per year."""
from __future__ import annotations

from datetime import datetime, time

from lunardate import LunarDate

from bot.config import Campaign, ScheduleConfig
from common.tz import SHANGHAI
from schedules.timing import allowed_time
from schedules.triggers import cron


def lunar_runs(campaign: Campaign, after: datetime, years: int = 2) -> list[datetime]:
    """The next ``years`` occurrences of a lunar-dated campaign after ``after``."""
    assert campaign.lunar is not None
    out: list[datetime] = []
    year = after.astimezone(SHANGHAI).year
    while len(out) < years:
        day = LunarDate(year, campaign.lunar.month, campaign.lunar.day).to_solar_date()
        when = datetime.combine(day, time(campaign.lunar.hour, campaign.lunar.minute), SHANGHAI)
        if when > after:
            out.append(when)
        year += 1
    return out


def campaign_runs(config: ScheduleConfig, start: datetime, end: datetime) -> list[tuple[datetime, str]]:
    """Every (send time, campaign id) in [start, end), after quiet-hour and holiday deferral."""
    runs: list[tuple[datetime, str]] = []
    for campaign in config.campaigns:
        if not campaign.enabled:
            continue
        if campaign.lunar is not None:
            fire_times = [t for t in lunar_runs(campaign, start, years=3) if t < end]
        else:
            assert campaign.cron is not None  # config: exactly one of cron and lunar
            trigger = cron(**campaign.cron.fields())
            fire_times, previous, now = [], None, start
            while True:
                fire = trigger.get_next_fire_time(previous, now)
                if fire is None or fire >= end:
                    break
                fire_times.append(fire)
                previous, now = fire, fire
        for fire in fire_times:
            runs.append((allowed_time(fire, config.quiet_hours, config.skip_holidays), campaign.id))
    return sorted(runs)
