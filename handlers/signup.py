"""Signing up for an activity through the bot (blind replay s31b): an elderly resident who cannot
use a WeChat 接龙 asks privately "我不会弄那个接龙 宪法日的活动帮我报个名". The request goes to
whoever looks after their stairwell (its 信息员 and 楼道长, else the grid worker), who add them to
the list; the resident is told who. Never a ticket: nothing is broken.
"""
from __future__ import annotations

import re

from bot.config import ROLE_NAMES
from bot.context import Context
from storage import directory
from storage.outbox import excerpt

ASKS_TO_SIGN_UP = re.compile(
    r"(?:帮|给|替)(?:我|我家|我们)\S{0,6}?(?:报(?:个|一下)?名|接(?:个|一下)?龙|写上|加上去?)"
    r"|不会(?:弄|用|玩|搞)?\S{0,4}接龙|(?:我|我们)(?:也)?(?:要|想)报(?:个)?名"
)


def applies(text: str) -> bool:
    """Whether the line asks to be signed up (the dispatcher's fast path asks)."""
    return ASKS_TO_SIGN_UP.search(text) is not None


def on_sign_up(ctx: Context) -> bool:
    """Pass the request to the stairwell's staff; False when nobody looks after the stairwell."""
    home = directory.home_stairwell(ctx.session, ctx.caller.person_id)
    staff = [p for p in directory.responsible_staff(ctx.session, home) if p.id != ctx.caller.person_id]
    if not staff:
        return False
    words = excerpt(ctx.masked_text, "")
    for person in staff:
        ctx.private(person.id, f"【代报名】{ctx.caller.name}：{words}\n请帮他/她登记（接龙或活动名单），并告诉本人。")
    ctx.reply(f"好的，已转告{_title(ctx, staff[0].id)}{staff[0].name}帮您报名，登记好了会告诉您。", mention=False)
    return True


def _title(ctx: Context, person_id: str) -> str:
    """'信息员' for the stairwell's 信息员 (the first title they hold that residents know)."""
    roles = directory.roles_of(ctx.session, person_id)
    return next((ROLE_NAMES[r] for r in ("officer", "leader", "grid") if r in roles), "工作人员")
