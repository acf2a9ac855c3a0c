"""Pages: Jinja2 templates (aiohttp_jinja2) on ``templates/base.html``, static files under /staff/static/.

``render(request, "x.html", {...})`` adds what every page needs: the caller (when staff_of ran),
the CSRF token for its forms (``{{ csrf }}``; a form posts it as the field ``csrf``), the
navigation and the current path. Templates extend ``base.html`` and fill ``title`` and ``content``.
Scripts must be files under ``static/`` (the pages' Content-Security-Policy forbids inline
scripts); data for a chart goes in a ``<script type="application/json">`` block or data- attributes.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aiohttp_jinja2
import jinja2
from aiohttp import web

from bot.console.keys import CALLER, SESSION

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
# The navigation, in order: (label, path). Pages not built yet answer 404.
NAV: tuple[tuple[str, str], ...] = (
    ("工单", "/staff/tickets"),
    ("统计", "/staff/stats"),
    ("通知", "/staff/notices"),
    ("定时", "/staff/jobs"),
    ("底账", "/staff/ledger"),
    ("走访", "/staff/visits"),
)


def setup(app: web.Application) -> None:
    aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
    )
    app.router.add_static("/static/", STATIC, name="static")


def base_context(request: web.Request) -> dict[str, Any]:
    session = request.get(SESSION)
    return {
        "caller": request.get(CALLER),
        "csrf": session.get("csrf", "") if session is not None else "",
        "nav": NAV,
        "path": request.path,
    }


def render(request: web.Request, template_name: str, context: dict[str, Any], *, status: int = 200) -> web.Response:
    """The page ``template_name`` with ``context`` (plus the base context), as text/html."""
    return aiohttp_jinja2.render_template(template_name, request, {**base_context(request), **context}, status=status)


def error_page(request: web.Request, status: int, message: str) -> web.HTTPException:
    """An error to raise: JSON for a client that asks for it, else a Chinese page."""
    if "application/json" in request.headers.get("Accept", ""):
        return _status(status, json.dumps({"error": message}, ensure_ascii=False), "application/json")
    html = aiohttp_jinja2.render_string("error.html", request, {**base_context(request), "status": status, "message": message})
    return _status(status, html, "text/html")


def _status(status: int, body: str, content_type: str) -> web.HTTPException:
    cls = {400: web.HTTPBadRequest, 403: web.HTTPForbidden, 404: web.HTTPNotFound, 429: web.HTTPTooManyRequests}.get(
        status, web.HTTPBadRequest
    )
    return cls(text=body, content_type=content_type)
