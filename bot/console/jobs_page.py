"""定时: the timed notices in the caller's scope (as /任务 lists them) with the next run, the groups
and a preview; pause, resume or cancel through the chat command itself (/任务 暂停|恢复|取消 N),
run as the staff member in a private chat.

Below them the system's jobs, as ``python -m bot schedules`` lists them (schedules.scheduler.listing:
legal pushes, campaigns, reminders, polls closing): next run, targets, preview. An admin sees all;
other staff those reaching a group they look after. They are read only: they come from config.yaml
(schedules, campaigns) and are set again from it at every start; no chat command pauses them."""
from __future__ import annotations

import secrets

from aiohttp import web
from sqlmodel import Session

from bot.console.actions import run_as
from bot.console.auth import checked_form, staff_of
from bot.console.keys import stairwell_of
from bot.console.notices_page import local_time
from bot.console.render import error_page, render
from bot.permissions import Caller
from common.tz import SHANGHAI
from handlers.notices import covered_rooms
from handlers.schedule_commands import targets_of, visible
from nlp.when import WEEKDAY_NAMES
from schedules.scheduler import TIMED_PREFIX, listing, short
from storage import timed

ACTIONS = {"pause": "暂停", "resume": "恢复", "cancel": "取消"}


def setup(app: web.Application) -> None:
    app.router.add_get("/jobs", jobs_page)
    app.router.add_post(r"/jobs/{id:\d{1,9}}/{action:pause|resume|cancel}", change)


async def _page(request: web.Request, caller: Caller, answers: list[str] | None = None) -> web.StreamResponse:
    app = stairwell_of(request)
    with Session(app.engine) as db:
        rows = [
            {
                "id": n.id, "when": local_time(n.due_at), "paused": n.status == timed.PAUSED,
                "repeat": f"每周{WEEKDAY_NAMES[n.due_at.astimezone(SHANGHAI).weekday()]}" if n.weekly else "一次",
                "targets": targets_of(db, n), "preview": short(n.text, 60), "author": n.author_name,
                "mine": caller.sees_everything or n.author_id == caller.person_id,
            }
            for n in visible(db, caller)
        ]
        topics = {r.topic for r in covered_rooms(db, caller)}
    system = [
        {"id": job_id, "when": when, "targets": targets, "preview": preview}
        for job_id, when, targets, preview in listing(app.engine, app.config, app.clock.now().astimezone(SHANGHAI))
        if not job_id.startswith(TIMED_PREFIX)  # the timed notices: the table above
        and (caller.sees_everything or topics & set(targets.split("、")))
    ]
    return render(request, "jobs.html", {"rows": rows, "system": system, "answers": answers or [],
                                         "nonce": secrets.token_hex(8)})


async def jobs_page(request: web.Request) -> web.StreamResponse:
    return await _page(request, await staff_of(request))


async def change(request: web.Request) -> web.StreamResponse:
    caller = await staff_of(request)
    form = await checked_form(request)
    verb = ACTIONS.get(request.match_info["action"])
    if verb is None:
        raise error_page(request, 404, "没有这个操作。")
    text = f"/任务 {verb} {request.match_info['id']}"
    outcome = await run_as(stairwell_of(request), caller, text, nonce=str(form.get("nonce", "")) or None)
    return await _page(request, caller, outcome.answers)
