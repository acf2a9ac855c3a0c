"""Ticket commands for staff and residents."""
from __future__ import annotations

from bot.commands import command
from bot.context import Context
from handlers.deadlines import format_due
from storage import tickets

STAFF = {"leader", "officer", "support", "grid"}


@command("我的工单", usage="/我的工单", help="查看我反映的问题")
async def my_tickets(ctx: Context, args: str) -> None:
    rows = tickets.list_tickets(
        ctx.session, statuses=tickets.STATUSES, reporter_id=ctx.caller.person_id, limit=10
    )
    if not rows:
        ctx.reply("您目前没有反映过的问题。")
        return
    lines = [f"#{t.id} {t.category} {t.status}（{format_due(t.due_at)}前答复）" for t in rows]
    ctx.reply("您的工单：\n" + "\n".join(lines))
