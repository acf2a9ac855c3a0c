"""通知: the latest notices to the caller's groups with their receipts per group (who has not
confirmed: names only, as /回执), and composing a notice or a timed notice. Sending goes through
the chat commands themselves (/通知, /定时, then /确认), run as the staff member in a private chat
(bot.console.actions.run_as): the same preview, the same checks, the same sending."""
from __future__ import annotations

import secrets
from datetime import datetime

from aiohttp import web
from sqlmodel import Session

from bot.console.actions import run_as
from bot.console.auth import checked_form, staff_of
from bot.console.keys import stairwell_of
from bot.console.render import render
from common.tz import SHANGHAI
from bot.permissions import Caller
from handlers.notices import NAMES_SHOWN, covered_rooms, notices_in_scope

def local_time(at: datetime) -> str:
    return f"{at.astimezone(SHANGHAI):%Y-%m-%d %H:%M}"


SCOPE_CHOICES = ("网格", "全部")  # besides the group names: what /通知 understands in a private chat
MAX_CONTENT = 500


def setup(app: web.Application) -> None:
    app.router.add_get("/notices", notices_page)
    app.router.add_post("/notices/send", send)
    app.router.add_post("/notices/confirm", confirm)


async def _page(request: web.Request, caller: Caller, answers: list[str] | None = None,
                pending: bool = False, status: int = 200) -> web.StreamResponse:
    app = stairwell_of(request)
    with Session(app.engine) as db:
        notices = notices_in_scope(db, caller)
        groups = [r.topic for r in covered_rooms(db, caller)]
    return render(request, "notices.html", {
        "notices": notices, "groups": groups, "scopes": SCOPE_CHOICES, "answers": answers or [],
        "pending": pending, "nonce": secrets.token_hex(8), "shown": NAMES_SHOWN, "local": local_time,
    }, status=status)


async def notices_page(request: web.Request) -> web.StreamResponse:
    return await _page(request, await staff_of(request))


def _command(form, groups: list[str]) -> str | None:
    """The chat command the compose form stands for, or None when a field is missing or unknown."""
    target = str(form.get("target", "")).strip()
    content = " ".join(str(form.get("content", "")).split())[:MAX_CONTENT]
    when = " ".join(str(form.get("when", "")).split())[:40]
    if not content or (target not in SCOPE_CHOICES and target not in groups):
        return None
    return f"/定时 {when} {target} {content}" if when else f"/通知 {target} {content}"


async def send(request: web.Request) -> web.StreamResponse:
    """A preview (several groups, or a group named from a private chat, always ask for /确认)."""
    caller = await staff_of(request)
    form = await checked_form(request)
    app = stairwell_of(request)
    with Session(app.engine) as db:
        groups = [r.topic for r in covered_rooms(db, caller)]
    text = _command(form, groups)
    if text is None:
        return await _page(request, caller, ["请选择发送范围并填写通知内容。"], status=400)
    outcome = await run_as(app, caller, text, nonce=str(form.get("nonce", "")) or None)
    return await _page(request, caller, outcome.answers, pending=any("/确认" in a for a in outcome.answers))


async def confirm(request: web.Request) -> web.StreamResponse:
    caller = await staff_of(request)
    form = await checked_form(request)
    outcome = await run_as(stairwell_of(request), caller, "/确认", nonce=str(form.get("nonce", "")) or None)
    return await _page(request, caller, outcome.answers)
