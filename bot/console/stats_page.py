"""统计: the month's figures (the ones /统计 and report --month give), a 12-month trend chart
(Apache ECharts, served from static/vendor), categories, stairwells by month, the 小急难 list for
the grid council, and the month's report as xlsx and csv, all limited to the caller's scopes."""
from __future__ import annotations

from urllib.parse import quote

from aiohttp import web
from sqlmodel import Session

from bot.console.auth import staff_of
from bot.console.keys import stairwell_of
from bot.console.render import error_page, render
from bot.permissions import STAFF
from domain.dashboard import RATES, Dashboard, dashboard
from handlers.report import csv_for_excel, hot_rows, metric_rows, parse_month, pct, render_xlsx, visit_rows


def setup(app: web.Application) -> None:
    app.router.add_get("/stats", stats_page)
    app.router.add_get("/stats/report.xlsx", export_xlsx)
    app.router.add_get("/stats/report.csv", export_csv)


async def _board(request: web.Request) -> tuple[Dashboard, str]:
    caller = await staff_of(request)
    app = stairwell_of(request)
    month = request.query.get("month") or f"{app.clock.local():%Y-%m}"
    bounds = parse_month(month)
    if bounds is None:
        raise error_page(request, 400, "月份格式不对，请写成 YYYY-MM，例如 2026-11。")
    with Session(app.engine) as db:
        board = dashboard(db, bounds[0].year, bounds[0].month, caller.scopes(STAFF), app.clock.now())
    return board, app.config.community.name


async def stats_page(request: web.Request) -> web.StreamResponse:
    board, community = await _board(request)
    # series as [name, data] pairs: a JSON object's keys would come out sorted (tojson), not in RATES' order
    chart = {"months": board.months, "series": list(board.series().items()), "categories": board.category_totals()[:10]}
    year, month = board.month.split("-")
    return render(request, "stats.html", {
        "board": board, "community": community, "title": f"{year}年{int(month)}月",
        "metrics": metric_rows(board.stats), "hot": hot_rows(board.stats), "visits": visit_rows(board.visits),
        "rates": RATES, "pct": pct, "chart": chart,
        "places": [(p, [(s.received, pct(s.rates()["响应率"]), pct(s.rates()["办结率"])) for s in months])
                   for p, months in board.places.items()],
    })


def _download(body: bytes, content_type: str, name: str) -> web.Response:
    return web.Response(body=body, content_type=content_type, headers={
        "Content-Disposition": f"attachment; filename=\"{name}\"; filename*=UTF-8''{quote(name)}",
    })


async def export_xlsx(request: web.Request) -> web.StreamResponse:
    board, community = await _board(request)
    body = render_xlsx(board.stats, community, board.month, board.visits, board.places)
    return _download(body, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                     f"report-{board.month}.xlsx")


async def export_csv(request: web.Request) -> web.StreamResponse:
    board, _ = await _board(request)
    response = _download(csv_for_excel(board.stats, board.visits), "text/csv", f"report-{board.month}.csv")
    response.charset = "utf-8"
    return response

