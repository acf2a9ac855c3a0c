"""The one place jobs find the running app: jobs get plain ids, never live objects."""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.services import Services

_current: "Services | None" = None


def install(services: "Services | None") -> None:
    global _current
    _current = services


def services() -> "Services":
    if _current is None:
        raise RuntimeError("no running Stairwell app: jobs run only inside `python -m bot run`")
    return _current
