"""The community's time zone: all local times (SLAs, quiet hours, schedules, dates typed in chat)."""
from __future__ import annotations

from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")
