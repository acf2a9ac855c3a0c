"""The follow-up rating (回访): after /办结 a reporter answers 1, 2 or 3 in the same group.

Nothing is kept in memory: the pending question is "a ticket in 已办结 that this
person reported in this room, resolved within 7 days", so it survives a restart.
Anyone else's "1" (or a reporter's "1" with nothing pending) stays chatter.
"""
from __future__ import annotations

import re

from bot.context import Context
from handlers.privacy_commands import reachable
from handlers.ticket_commands import followers
from storage import tickets

_ANSWERS = {
    "1": "满意", "2": "基本满意", "3": "不满意",
    "满意": "满意", "基本满意": "基本满意", "不满意": "不满意", "非常满意": "满意",
}
_NOISE = re.compile(r"[\s。.!！~～,，、\u2005👍🙏]+")
_FULL_WIDTH = str.maketrans("１２３", "123")


def parse_rating(text: str) -> str | None:
    """'1' / '１' / '满意！' -> the rating; anything longer is not an answer to the question."""
    return _ANSWERS.get(_NOISE.sub("", text.translate(_FULL_WIDTH)))


async def try_rating(ctx: Context, text: str) -> tuple[str, str | None] | None:
    rating = parse_rating(text)
    if rating is None:
        return None
    room_id = ctx.room.id if ctx.room else None
    me = ctx.caller.person_id
    # Only a question put to them: not one about what they reported before asking for deletion.
    ticket = tickets.awaiting_rating(
        ctx.session, room_id, me, ctx.now, asked=lambda t: reachable(ctx.session, me, t) is not None
    )
    if ticket is None or ticket.id is None:
        return None
    ticket.rating = rating
    ctx.handled.ticket, ctx.handled.rating = ticket.id, rating
    tickets.add_event(ctx.session, ticket.id, ctx.now, me, "评价", rating)
    if rating == "不满意":
        # Reopened: back to work with its assignee; the 不满意 stays on record until rated again.
        tickets.set_status(ctx.session, ticket, "处理中", at=ctx.now, actor_id=me, action="重开", note="居民评价不满意")
        ctx.reply(f"抱歉没让您满意，#{ticket.id} 已重新交给工作人员继续处理。")
        for person_id in followers(ctx, ticket):
            ctx.private(person_id, f"【工单 #{ticket.id} 重开】{ctx.caller.name}评价“不满意”，请继续跟进：/工单 {ticket.id}")
    else:
        ticket.status, ticket.closed_at = "已回访", ctx.now
        ctx.session.add(ticket)
        ctx.reply(f"谢谢您的评价（{rating}），#{ticket.id} 已完成回访。")
    return "rating", ticket.category
