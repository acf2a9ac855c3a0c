"""The staff console (员工后台): pages for staff under ``/staff/``, on the app's web server.

Wiring: ``setup_console(web_app, app)`` mounts a sub-application at ``/staff/`` on the app's
aiohttp application (bot.webserver; the same server as the web chat, or alone when the
transport is wechaty or the webhook bridge) and calls ``setup(sub_app)`` of every module in
PAGES, which adds its routes (paths relative to /staff/).

What a page module uses (the core's interface, kept stable):

- ``stairwell_of(request)`` (bot.console.keys; also ``request.config_dict[STAIRWELL]``, and the
  plain string key ``"stairwell"``): the running ``bot.app.Stairwell``: ``.engine``, ``.config``,
  ``.clock``, ``.services``, ``.on_event``.
- ``await auth.staff_of(request)``: the logged-in staff member as a ``bot.permissions.Caller``
  (grants re-read each request); redirects to the login page, 403 for residents. Scope rules are
  bot.permissions' (``caller.scopes(STAFF)``, ``caller.covers(room, roles)``), as in chat.
- ``await auth.checked_form(request)``: a POSTed form whose CSRF token matched (else 403);
  ``auth.csrf_token(request)`` for forms rendered by hand (``render`` passes it as ``csrf``).
- ``render.render(request, "page.html", {...})``: a template extending ``base.html``;
  ``render.error_page(request, status, message)`` returns an exception to raise.
- ``actions.run_as(app, caller, "/处理 12 说明")``: a chat command run as the staff member in a
  private chat, through the dispatcher (the one code path of chat commands): what the group and
  others get is queued exactly as if typed; the answers to the caller come back for the page.
- Reads of residents' full texts are audited (storage.console.audit, as chat reads are).

Core code here never imports a transport.
"""
from __future__ import annotations

import importlib
import warnings
from typing import TYPE_CHECKING

from aiohttp import web

from bot.console import auth, render
from bot.console.keys import STAIRWELL, stairwell_of

if TYPE_CHECKING:
    from bot.app import Stairwell

__all__ = ["PAGES", "STAIRWELL", "setup_console", "stairwell_of"]

# The page modules, each with setup(sub_app: web.Application) -> None.
PAGES: tuple[str, ...] = (
    "bot.console.tickets_page",
    "bot.console.stats_page",
    "bot.console.notices_page",
    "bot.console.jobs_page",
    "bot.console.ledger_page",
)

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)


@web.middleware
async def security_headers(request: web.Request, handler) -> web.StreamResponse:
    """No framing, no inline scripts, no Referer (a login link never leaks), pages never cached."""
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        _protect(request, exc)
        raise
    _protect(request, response)
    return response


def _protect(request: web.Request, response: web.StreamResponse) -> None:
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    if not request.path.startswith("/staff/static/"):
        response.headers.setdefault("Cache-Control", "no-store")


async def home(request: web.Request) -> web.StreamResponse:
    raise web.HTTPFound("/staff/tickets")


def setup_console(web_app: web.Application, app: "Stairwell") -> None:
    """Mount the console at /staff/ on ``web_app`` (before the server starts)."""
    sub = web.Application(middlewares=[security_headers])
    sub[STAIRWELL] = app
    with warnings.catch_warnings():  # the plain name too, for pages written against it
        warnings.simplefilter("ignore")
        sub["stairwell"] = app
    render.setup(sub)
    auth.setup(sub, app.config.web)
    sub.router.add_get("/", home)
    for name in PAGES:
        importlib.import_module(name).setup(sub)
    web_app.add_subapp("/staff/", sub)
