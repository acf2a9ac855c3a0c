"""工单: the tickets in the caller's scope, one ticket with its history and the chat's actions."""
from __future__ import annotations

from aiohttp import web

from bot.console.auth import staff_of
from bot.console.render import render


def setup(app: web.Application) -> None:
    app.router.add_get("/tickets", ticket_list)


async def ticket_list(request: web.Request) -> web.StreamResponse:
    caller = await staff_of(request)
    return render(request, "tickets.html", {"caller": caller, "rows": []})
