"""Notices posted as plain messages.

The message row already records route=notice. A resident's notice is only
logged (the bot never re-broadcasts residents' texts).
"""
from __future__ import annotations

from bot.context import Context


async def on_notice(ctx: Context, category: str | None) -> None:
    return None
