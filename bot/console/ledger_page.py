"""底账 and 走访: the households of the stairwells in the caller's scope, one household (the read
audited as chat's /底账 502), and the month's visit coverage with the households at risk first;
in 战时, on top of 走访, the people to check on in the caller's stairwells (domain.checkon's list,
confirmed in chat with /已联系; the read audited as the list sent in chat).
A stairwell or household outside the caller's scope: 403."""
from __future__ import annotations

from aiohttp import web
from sqlmodel import Session

from bot.console.auth import staff_of
from bot.console.db import audited_read
from bot.console.keys import stairwell_of
from bot.console.render import error_page, render
from domain.ledger_view import OutOfScope, checkon_list, household_card, ledger_list, visits_page
from domain.visits import month_label
from bot.console.notices_page import local_time
from handlers.report import parse_month, pct

OUT_OF_SCOPE = "这不在您负责的楼道（网格员：本网格）范围内。"


def setup(app: web.Application) -> None:
    app.router.add_get("/ledger", ledger_page)
    app.router.add_get(r"/ledger/{id:\d{1,9}}", household_page)
    app.router.add_get("/visits", visits)


async def ledger_page(request: web.Request) -> web.StreamResponse:
    caller = await staff_of(request)
    app = stairwell_of(request)
    risk = set(app.config.visits.at_risk_tags)
    try:  # the read and its audit row
        found = await audited_read(app, lambda db: ledger_list(db, caller, caller.person_id, app.clock.now(),
                                                               request.query.get("stairwell") or None))
    except OutOfScope:
        raise error_page(request, 403, OUT_OF_SCOPE) from None
    return render(request, "ledger.html", {"found": found, "risk": risk})


async def household_page(request: web.Request) -> web.StreamResponse:
    caller = await staff_of(request)
    app = stairwell_of(request)
    try:
        card = await audited_read(app, lambda db: household_card(db, caller, caller.person_id,
                                                                 int(request.match_info["id"]), app.clock.now()))
    except OutOfScope:
        raise error_page(request, 403, OUT_OF_SCOPE) from None
    except LookupError:
        raise error_page(request, 404, "没有找到这一户。") from None
    return render(request, "household.html", {"card": card, "risk": set(app.config.visits.at_risk_tags)})


async def visits(request: web.Request) -> web.StreamResponse:
    caller = await staff_of(request)
    app = stairwell_of(request)
    now = app.clock.now()
    month = request.query.get("month") or f"{app.clock.local():%Y-%m}"
    bounds = parse_month(month)
    if bounds is None:
        raise error_page(request, 400, "月份格式不对，请写成 YYYY-MM，例如 2026-11。")
    at = now if bounds[0] <= now < bounds[1] else bounds[0]

    def read(db: Session):  # the at-risk list and the 战时 list shown are audited
        page = visits_page(db, caller, caller.person_id, at, app.config.visits.at_risk_tags,
                           request.query.get("stairwell") or None)
        return page, checkon_list(db, caller, caller.person_id, now)

    try:
        page, checks = await audited_read(app, read)
    except OutOfScope:
        raise error_page(request, 403, OUT_OF_SCOPE) from None
    return render(request, "visits.html", {"page": page, "month": month, "label": month_label(at), "pct": pct,
                                           "checks": checks, "local": local_time})
