"""The one way a cron trigger is made, for config's checks and for the jobs (imports no config)."""
from __future__ import annotations

from apscheduler.triggers.cron import CronTrigger

from common.tz import SHANGHAI


def cron(**fields: object) -> CronTrigger:
    """APScheduler cron fields, in Asia/Shanghai time."""
    return CronTrigger(timezone=SHANGHAI, **fields)
