"""WeChat 接龙 (group sign-up lists): each copy of the list is the whole list again with one
line added at the end, so only that last line is what the sender says.

"接龙 崇明大米 25斤一袋 … 1. 小刘 1袋 2. 孙伯 2袋 五楼楼道灯坏了好几天了 3. 何婆婆 1袋" from 何婆婆
says "何婆婆 1袋": 孙伯's line about the light is his (already a ticket), never hers. The
organiser's first copy ("#接龙 周六楼道大扫除 自愿参加 1. 小刘") is a call to sign up, no report.
"""
from __future__ import annotations

import re

_HEADER = re.compile(r"^\s*#?\s*接龙")
_ITEM = re.compile(r"^\s*(\d{1,3})\s*[.、．)）]\s*(.*)$")


def own_line(text: str) -> str:
    """The sender's own line of a 接龙 list (its last numbered line, without the number); any
    other text unchanged."""
    lines = text.splitlines()
    if len(lines) < 2 or not _HEADER.match(lines[0]):
        return text
    items = [m for m in map(_ITEM.match, lines[1:]) if m is not None]
    if not items:
        return text
    return items[-1].group(2).strip()
