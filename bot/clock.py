"""One injectable clock, so SLAs, quiet hours and schedules can be tested frozen."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from common.tz import SHANGHAI

__all__ = ["SHANGHAI", "Clock", "FrozenClock"]


class Clock:
    """The real clock: aware UTC datetimes."""

    def now(self) -> datetime:
        return datetime.now(timezone.utc)

    def local(self) -> datetime:
        return self.now().astimezone(SHANGHAI)


class FrozenClock(Clock):
    """A clock that only moves when told to."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            start = start.replace(tzinfo=SHANGHAI)
        self._now = start.astimezone(timezone.utc)

    def now(self) -> datetime:
        return self._now

    def advance(self, **kwargs: float) -> None:
        self._now += timedelta(**kwargs)

    def set(self, when: datetime) -> None:
        if when.tzinfo is None:
            when = when.replace(tzinfo=SHANGHAI)
        self._now = when.astimezone(timezone.utc)
