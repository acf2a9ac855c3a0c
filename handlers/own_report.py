"""What residents say back about the bot's own handling of their report (blind replay s30h): an
elderly resident who thinks the ticket number is a bill ("编号是什么意思 我要去哪里交钱吗"), someone
who posted in the wrong group ("发错群了 这个怎么撤回啊"), someone upset that the group saw they
reported, and "@楼道通 闭嘴". One short line each (or none), never a ticket or a voice on one.
"""
from __future__ import annotations

import re
from datetime import timedelta

from bot.context import Context
from handlers.petitions import own_open_tickets

# "编号是什么意思 我要去哪里交钱吗", "你说的1号是啥意思", "群里说我是1号 是要排队吗 我要带户口本去社区吗"
ASKS_ABOUT_NUMBER = re.compile(
    r"(?:编号|[#＃]?\d{1,6}号)\S{0,4}(?:是什么意思|是啥意思|啥意思|什么意思|是啥|是什么)"
    r"|(?:编号|[#＃]?\d{1,6}号)[^。！!？?]{0,12}?(?:交钱|付钱|付款|排队|带户口本|去社区)"
)
# "哎呀发错群了 本来是发给我老公的 这个怎么撤回啊"
WRONG_GROUP = re.compile(r"(?:怎么|咋|如何)(?:撤回|撤销|删掉|收回)")  # (asked: "发错群了" alone is often about any line)
# "你怎么在群里说出来了 我不想让楼上知道是我说的"
DID_NOT_WANT_IT_SEEN = re.compile(r"(?:怎么|咋)\S{0,2}在群里(?:说|发)出来|不想(?:让\S{0,6})?(?:知道|晓得)是我(?:说|报|反映)的")
JUST_REPORTED = timedelta(minutes=10)  # "发错群了" this soon after one's report is about that report
# "@楼道通 闭嘴 问你了吗", "别插话": nothing to answer
SHUSH = re.compile(r"闭嘴|别(?:说话|插嘴|插话|吵)了?|没(?:人)?问你|问你了吗|少(?:管|插嘴)")


def applies(text: str) -> bool:
    """Whether the line is one of these (the dispatcher's fast path asks)."""
    return any(p.search(text) for p in (ASKS_ABOUT_NUMBER, WRONG_GROUP, DID_NOT_WANT_IT_SEEN, SHUSH))


def on_own_report(ctx: Context, text: str) -> bool:
    """Answer it; False when it is not about a report of the sender's (left to the other steps)."""
    if SHUSH.search(text):
        return True  # said nothing back: quiet is what was asked for
    mine = own_open_tickets(ctx, limit=1)
    if not mine:
        return False
    number = mine[0].id
    if ASKS_ABOUT_NUMBER.search(text):
        ctx.reply(f"#{number} 是您反映问题的登记编号，不收任何费用，也不用排队、不用去哪里办手续；工作人员会跟进，"
                  "有进展会告诉您。让您为这个交钱的都不要信。")
        return True
    if WRONG_GROUP.search(text) and ctx.now - mine[0].created_at <= JUST_REPORTED:  # the report just made
        ctx.reply(f"发错了的话，发送 /撤销 {number} 就能撤回这件事的登记。")
        return True
    if DID_NOT_WANT_IT_SEEN.search(text):
        ctx.private(ctx.caller.person_id, "抱歉让您为难了。以后可以直接私聊我反映，群里不会出现您的名字；"
                                          f"不想再跟进 #{number} 的话，发送 /撤销 {number} 即可。")
        return True
    return False
