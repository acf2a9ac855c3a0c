"""Non-command messages: pending conversations first, then the router's one decision."""
from __future__ import annotations

from bot.context import Context
from handlers import legal, notices, petitions, ratings

HINT = "您好，我是楼道通。需要反映问题请直接描述（如“3单元楼道灯坏了”），我会登记并转给楼道工作人员。"
MIN_MENTION_PETITION_CHARS = 6


async def route_message(ctx: Context, text: str) -> tuple[str, str | None]:
    hit = await ratings.try_rating(ctx, text)
    if hit:
        return hit
    if notices.try_receipt(ctx, text):
        return "receipt", None
    route = ctx.services.router.route(text, staff=ctx.caller.is_staff)
    if notices.try_notice_question(ctx, text, route):
        return "notice_question", None
    label, category = route.label, route.category
    room = ctx.room
    if label == "petition":
        passive_ok = room is None or (room.kind == "stairwell" and room.auto_tickets)
        if passive_ok or ctx.event.mentions_bot:
            category = await petitions.on_petition(ctx, category, route.urgent, text)
    elif label == "legal":
        await legal.on_legal(ctx, category, route.urgent)
    elif label == "notice":
        await notices.on_notice(ctx, category)
    elif route.followup and room is not None and room.kind == "stairwell" and room.auto_tickets:
        # "还没人管吗？都一个礼拜了": a chase of the sender's open ticket, else nothing
        joined = await petitions.on_followup(ctx, text)
        if joined:
            return "petition", joined
    if label == "other" and (ctx.event.mentions_bot or room is None):
        # Asked directly: a substantive message becomes a petition, anything else gets one hint.
        if len(text) >= MIN_MENTION_PETITION_CHARS and route.score >= 0 and ctx.event.mentions_bot and room:
            await petitions.on_petition(ctx, "其他", route.urgent, text)
            return "petition", "其他"
        ctx.reply(HINT)
    return label, category
