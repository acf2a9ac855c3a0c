"""General and administrative commands: help, status, groups and roles."""
from __future__ import annotations

from bot import commands
from bot.commands import command
from bot.context import Context
from storage import outbox as outbox_queries
from storage import tickets
from storage.state import get_flag

STAFF = {"leader", "officer", "support", "grid", "lawyer"}


@command("帮助", aliases=("help", "菜单"), usage="/帮助", help="查看您可以使用的指令")
async def help_command(ctx: Context, args: str) -> None:
    lines = ["可用指令："]
    for cmd in commands.visible_to(ctx):
        lines.append(f"{cmd.usage}  {cmd.help}")
    ctx.reply("\n".join(lines), mention=False)


@command("状态", roles=STAFF, usage="/状态", help="查看机器人运行状态")
async def status_command(ctx: Context, args: str) -> None:
    counts = outbox_queries.counts_by_status(ctx.session)
    open_tickets = len(tickets.list_tickets(ctx.session, limit=10_000))
    emergency = get_flag(ctx.session, "emergency")
    lines = [
        f"运行正常。未办结工单 {open_tickets} 件；待发消息 {counts.get('queued', 0)} 条，"
        f"发送失败 {counts.get('failed', 0)} 条。",
        f"战时模式：{'开启（' + emergency.get('reason', '') + '）' if emergency else '关闭'}",
    ]
    ctx.reply("\n".join(lines), mention=False)
