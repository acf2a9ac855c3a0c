"""WeChat's quoted reply: 「张阿姨：三楼灯坏了」, a dashed line, then what the sender says.

A quote of the bot's own message (its notice, its /办结 line) or a command typed under a quote
says only what follows the dashes: "收到" under a quoted notice is a receipt, "满意" under the
quoted /办结 a rating, "/处理1 …" a command. A quote of a neighbour's message stays: "我家门口也是"
under their report means that report.
"""
from __future__ import annotations

import re

SHORT_ANSWER = 8  # characters (emoji codes and punctuation not counted)
_ANSWER_FIRST = re.compile(r"^\W*(?:不满意|基本满意|满意|收到|[123](?!\d))")  # "不满意 还是没人收"
_WORDS = re.compile(r"[\u4e00-\u9fff0-9A-Za-z]")
_QUOTED = re.compile(r"^\s*「(?P<who>[^：:」\n]{1,24})[：:](?P<quoted>.*?)」\s*\n\s*(?:[-－—]\s*){3,}\n?(?P<said>.*)$", re.S)


def unquoted(text: str, bot_name: str) -> str:
    """``text`` without a quote of the bot's own message, or above a command."""
    match = _QUOTED.match(text)
    if match is None:
        return text
    said = match.group("said").strip()
    if said.startswith(("/", "／")):
        return said
    if said and match.group("who").strip().lstrip("@") == bot_name and (
            len(_WORDS.findall(said)) <= SHORT_ANSWER or _ANSWER_FIRST.match(said)):
        # a short answer to the bot's line ("收到", "满意[强]", "2", "几点来水啊"); a longer one
        # keeps the quote, whose ticket number says what "什么时候来修啊 门还是关不上" chases
        return said
    return text
