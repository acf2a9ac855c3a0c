"""What the console's modules share on the application and on each request (aiohttp keys)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

if TYPE_CHECKING:
    from bot.app import Stairwell

STAIRWELL: web.AppKey[Any] = web.AppKey("stairwell")  # the Stairwell app (typed by stairwell_of)
_REQUEST_KEY: Any = getattr(web, "RequestKey", None)  # aiohttp >= 3.13; plain strings before


def _request_key(name: str) -> Any:
    return _REQUEST_KEY(name, object) if _REQUEST_KEY is not None else name


SESSION: Any = _request_key("console.session")  # the loaded aiohttp_session.Session (CSRF token inside)
CALLER: Any = _request_key("console.caller")  # the bot.permissions.Caller staff_of found


def stairwell_of(request: web.Request) -> "Stairwell":
    """The running app (engine, services, clock, dispatcher) for a console request."""
    return request.config_dict[STAIRWELL]
