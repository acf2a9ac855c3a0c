"""WeChat's quoted reply: 「张阿姨：三楼灯坏了」, a dashed line, then what the sender says.

A quote of the bot's own message (its notice, its /办结 line) or a command typed under a quote
says only what follows the dashes: "收到" under a quoted notice is a receipt, "满意" under the
quoted /办结 a rating, "/处理1 …" a command; under the bot's line about one ticket ("…编号 #1…"),
whatever is said is about that ticket (``Quote.ticket``). A quote of a neighbour's message stays:
"我家门口也是" under their report means that report (``Quote.text``: the report it answers).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

SHORT_ANSWER = 8  # characters (emoji codes and punctuation not counted)
# "不满意 还是没人收", "502收到 我替我妈回一下"
_ANSWER_FIRST = re.compile(r"^\W*(?:\d{1,2}[-－]?\d{2,3}\s*)?(?:不满意|基本满意|满意|收到|[123](?!\d))")
_WORDS = re.compile(r"[\u4e00-\u9fff0-9A-Za-z]")
_QUOTED = re.compile(r"^\s*「(?P<who>[^：:」\n]{1,24})[：:](?P<quoted>.*?)」\s*\n\s*(?:[-－—]\s*){3,}\n?(?P<said>.*)$", re.S)
_TICKET_NO = re.compile(r"[#＃](\d{1,9})")


@dataclass(frozen=True)
class Quote:
    """What a quoted reply answers: the bot's line about ticket ``ticket``, or a neighbour's ``text``."""

    ticket: int | None = None
    text: str = ""
    said: str = ""  # what the sender says under it


def quote_of(text: str, bot_name: str) -> Quote | None:
    match = _QUOTED.match(text)
    if match is None or not match.group("said").strip():
        return None
    if match.group("who").strip().lstrip("@") == bot_name:
        numbers = set(_TICKET_NO.findall(match.group("quoted")))
        return Quote(ticket=int(numbers.pop()), said=match.group("said").strip()) if len(numbers) == 1 else None
    return Quote(text=match.group("quoted").strip(), said=match.group("said").strip())


def unquoted(text: str, bot_name: str) -> str:
    """``text`` without a quote of the bot's own message, or above a command."""
    match = _QUOTED.match(text)
    if match is None:
        return text
    said = match.group("said").strip()
    if said.startswith(("/", "／")):
        return said
    if said and match.group("who").strip().lstrip("@") == bot_name and (
            len(_WORDS.findall(said)) <= SHORT_ANSWER or _ANSWER_FIRST.match(said)
            or len(set(_TICKET_NO.findall(match.group("quoted")))) == 1):
        # a short answer to the bot's line ("收到", "满意[强]", "2", "几点来水啊"), or anything said
        # under its line about one ticket ("都三天了 还是没人来修": ``Quote.ticket`` says which)
        return said
    return text
