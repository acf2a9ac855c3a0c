"""Staff asking the bot in plain words, privately, how to do something ("怎么派单啊 我刚来不太会弄",
"办结怎么弄啊"), or for what a command shows ("怎么看我手上的单子", "我有哪些单子超期了"): the
command's usage, or the command itself run for them. Found in blind replay s30d: a new officer got
the residents' "需要反映问题请直接描述" line for every question.

A list is shown by running its command through bot.commands.run_command, which checks the
caller's roles as it does for a typed command; a command that changes a ticket ("帮我把1号单子办结了")
is never run from plain words: its exact form is shown to copy.
"""
from __future__ import annotations

import re

from bot.commands import find, run_command
from bot.context import Context

# What is asked about, by the command it needs (first match wins)
_ASKS_FOR = (
    # "我有哪些单子超期了", "超期的单子有哪些": /工单 超期
    (re.compile(r"(?:单子|工单|单)\S{0,6}(?:超期|逾期|过期)|(?:超期|逾期)\S{0,4}(?:单子|工单|的单)"), "/工单 超期"),
    # "怎么看我手上的单子", "我手里有几个单子"
    (re.compile(r"(?:怎么|咋|如何|在哪)\S{0,2}(?:看|查)\S{0,6}(?:单子|工单)|我(?:手上|手里|这边)的?(?:单子|工单)|我有(?:哪些|几个|多少)\S{0,2}(?:单子|工单)"
                # "我手上有哪些单子啊", "我休假回来了 这几天楼里有啥单子", "昨晚群里出什么事了 我睡着了没看到"
                r"|(?:手上|手里)有(?:哪些|几个|多少|啥|什么)\S{0,2}(?:单子|工单)|(?:这几天|最近|楼里)\S{0,4}有(?:啥|什么|哪些)\S{0,2}(?:单子|工单)"
                r"|群里\S{0,4}(?:出什么事|出了什么事|有什么事|发生了什么)"),
     "/工单"),
)
# "怎么派单啊", "办结怎么弄", "延期怎么写": the usage of the command named
_HOW = re.compile(r"怎么|咋|如何|怎样|是不是要|要写什么|格式|会不会弄|不会弄|不太会")
_NAMED = re.compile(r"(派单|办结|处理|延期|通知|回执|工单|定时|统计|走访|底账|转给别人|转派|转给)")
_NAMED_AS = {"转给别人": "派单", "转派": "派单", "转给": "派单"}  # "她手上的单子怎么转给别人": /派单
# "帮我把1号单子办结了 灯已经换好了": the exact command to send (never done from plain words)
_DO_FOR_ME = re.compile(r"(?:帮我|给我|替我)(?:把)?\s*#?(\d{1,6})\s*号?(?:单子|工单|单)?(派单|办结|处理|延期)(?:了|掉|一下)?\s*(.*)$")


def asks_how(text: str) -> bool:
    """Whether a staff member's private line asks how to use the bot (the dispatcher's fast path asks)."""
    return (any(p.search(text) for p, _ in _ASKS_FOR) or _DO_FOR_ME.search(text) is not None
            or (_HOW.search(text) is not None and _NAMED.search(text) is not None))


async def on_howto(ctx: Context, text: str) -> bool:
    """Answer it; False when the line asks nothing this knows."""
    todo = _DO_FOR_ME.search(text)
    if todo:
        number, name, note = todo.group(1), todo.group(2), todo.group(3).strip(" ，,。")
        ctx.reply(f"请直接发指令：/{name} {number} {note or '说明'}（我不会替您从聊天里改工单）。", mention=False)
        return True
    for asked, command in _ASKS_FOR:
        if asked.search(text):
            await run_command(ctx, command)
            return True
    named = _NAMED.search(text)
    if named and _HOW.search(text):
        name = _NAMED_AS.get(named.group(1), named.group(1))
        usages = list(dict.fromkeys(c.usage for c in find(name)))
        if usages:
            helps = {c.usage: c.help for c in find(name)}
            ctx.reply("；".join(f"{u}（{helps[u]}）" for u in usages) + "。发送 /帮助 查看全部指令。", mention=False)
            return True
    return False
