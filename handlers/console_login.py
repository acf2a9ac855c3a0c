"""/登录: a one-time link to the staff console (员工后台), sent only in a private chat."""
from __future__ import annotations

from bot.commands import command
from bot.context import Context
from bot.permissions import ANY_STAFF
from storage import console as logins

MINUTES = int(logins.TOKEN_LIFETIME.total_seconds() // 60)
STORED = "（链接只随这条消息发出，不留存；如果这里没有链接，请重新发送 /登录）"


@command(
    "登录",
    roles=ANY_STAFF,
    private_only=True,  # a link in a group (even a staff group) would log in whoever taps it first
    usage="/登录",
    help="获取员工后台的登录链接（仅私聊）",
)
async def login_link(ctx: Context, args: str) -> None:
    web = ctx.services.config.web
    if not web.console:
        ctx.reply("员工后台未开启（配置 web.console）。", mention=False)
        return
    token = logins.issue_token(ctx.session, ctx.caller.person_id, ctx.now)
    head = f"员工后台登录链接（{MINUTES}分钟内有效，只能用一次，请勿转发）：\n"
    # The outbox row and the message log keep STORED; only the message sent carries the token
    # (bot.sealed). Sent after a restart lost the real text, STORED itself says to ask again.
    ctx.private(ctx.caller.person_id, head + STORED, sealed=f"{head}{web.base_url()}/staff/login/{token}")
