"""Emoji as WeChat sends them: codes in brackets ("[强]", "[玫瑰]") and Unicode pictographs.

One definition for every handler that reads a message without them (a receipt "收到[强]", a vote
"2👍", a rating "满意[玫瑰]", a mention that says nothing but "[炸弹][炸弹]")."""
from __future__ import annotations

import re

CODE = re.compile(r"\[[^\[\]\s]{1,4}\]")  # "[强]", "[OK]", "[抱拳]"
PICTOGRAPH = re.compile("[\u2600-\u27bf\U0001f000-\U0001faff\ufe0f\u200d]")  # "👍", "🙏", "❤️"


def without_emoji(text: str) -> str:
    """``text`` with every emoji code and pictograph taken out (nothing else changed)."""
    return PICTOGRAPH.sub("", CODE.sub("", text))
