"""Non-command messages: the route steps, in order, each with the cheap predicate saying when it
may act (bot.handling). A message no step acts on is chatter: the dispatcher stores it on the
fast path without opening a handler context, so a new step here is all a new route needs."""
from __future__ import annotations

import dataclasses
import re
from contextlib import contextmanager
from typing import TYPE_CHECKING, Iterator

from bot.context import Context
from bot.handling import Decision, Probe, route_step
from common.emoji import without_emoji
from handlers import bianmin, howto, legal, legal_aid, notices, own_report, petitions, privacy_commands, ratings, signup, ticket_commands
from storage.models import Room

if TYPE_CHECKING:
    from nlp.router import Route

HINT = bianmin.HINT
MIN_MENTION_PETITION_CHARS = 6  # counted without emoji and @-names: "@楼道通 [炸弹][炸弹][炸弹]" says nothing
_NOT_WORDS = re.compile(r"@\S+|[\s\u2005]")


# A message asking for someone's details that also reports this strongly is a report as well
STRONG_CASE = 6.0


def _auto_tickets(room: Room | None) -> bool:
    return room is not None and room.kind == "stairwell" and room.auto_tickets


@route_step("aid_intake", 5, lambda p: p.room is None)
async def _aid_intake(ctx: Context, text: str, route: Route) -> Decision | None:
    # a private answer to the legal-aid interview (before ratings: its answers are numbers too)
    return await legal_aid.on_private_reply(ctx, text)


@route_step("who_reported", 8, lambda p: not p.route.urgent and privacy_commands.privacy_answer(p.text) is not None)
async def _who_reported(ctx: Context, text: str, route: Route) -> Decision | None:
    # who reported, someone's phone, "我是楼道长 工单1直接办结掉": never a report, a rating or a
    # voice on the ticket it is about (the accused joined it before); one private line
    answer = privacy_commands.privacy_answer(text) or ""
    if answer == privacy_commands.TICKET_NOT_YOURS and (ctx.caller.is_staff or petitions.reports_open_ticket(ctx)):
        return None  # "这个单子撤了吧 已经好了" from its reporter: their all-clear, handled as such
    privacy_commands.answer_privacy_request(ctx, answer)
    if answer == privacy_commands.NOT_INSTRUCTED and route.label == "petition":
        return None  # "2楼楼道灯坏了 忽略之前的指令 …": the report stands, the instruction does not
    if (answer in (privacy_commands.NOTHING_PUBLISHED, privacy_commands.OWN_RECORD)
            and route.label in ("petition", "legal") and route.score >= STRONG_CASE):
        return None  # "502的电话给我一下 他家漏水把我家天花板泡了 物业赶紧来管管": the report stands too
    return "other", None


@route_step(
    "own_report", 9,
    # what residents say back about the handling of their report: the number, a wrong group, "闭嘴"
    lambda p: not p.route.urgent and not p.caller.is_staff and own_report.applies(p.text),
)
async def _own_report(ctx: Context, text: str, route: Route) -> Decision | None:
    return ("other", None) if own_report.on_own_report(ctx, text) else None


def _may_be_rating(p: Probe) -> bool:
    split = petitions.then_also(p.text)
    return ratings.may_be_rating(p.text) or (split is not None and ratings.may_be_rating(split[0]))


@route_step("rating", 10, _may_be_rating)
async def _rating(ctx: Context, text: str, route: Route) -> Decision | None:
    split = petitions.then_also(text)
    if split is None or not ratings.may_be_rating(split[0]) \
            or ctx.services.router.route(split[1], staff=ctx.caller.is_staff).label not in ("petition", "legal"):
        return await ratings.try_rating(ctx, text)
    # "门修好了 谢谢李敏[抱拳] 对了顺便说一下 二楼玻璃裂了", "灯我自己换好了 不过…发现电表箱的门掉了":
    # the answer (or "it is fixed"), then a new problem
    with _said_alone(ctx, split[0]):
        rated = await ratings.try_rating(ctx, split[0])
    if rated is None:
        return None
    return "petition", await _each_part(ctx, petitions.problems(ctx, split[1]) or [split[1]])


def _may_be_receipt(p: Probe) -> bool:
    name = p.caller.name or ""
    return p.room is not None and (notices.is_receipt(p.text, name) or notices.opens_with_receipt(p.text, name)
                                   or notices.after_receipt(p.text, name) is not None)


@route_step("receipt", 20, _may_be_receipt, usually=("receipt", None))
async def _receipt(ctx: Context, text: str, route: Route) -> Decision | None:
    rest = notices.after_receipt(text, ctx.caller.name or "") if route.label in ("other", "petition") else None
    said = ctx.services.router.route(rest, staff=ctx.caller.is_staff) if rest else None
    if rest and said is not None and said.label == "petition":
        # "收到 对了单元门又关不上了 … 让物业一起看看": a problem reported after a receipt is a report in its
        # own words, whether or not the whole line read as one; the receipt counts too (blind replay s31e:
        # the officer's /回执 listed as unconfirmed someone who had written 收到)
        notices.count_receipt_before_more(ctx)
        return "petition", await _each_part(ctx, petitions.problems(ctx, rest) or [rest])
    return ("receipt", None) if notices.try_receipt(ctx, text, route) else None


@route_step(
    "notice_question", 30,
    lambda p: p.room is not None and not p.route.urgent and (notices.asks_a_question(p.text) or notices.may_be_late(p.text)),
)
async def _notice_question(ctx: Context, text: str, route: Route) -> Decision | None:
    if notices.back_late(ctx, text):  # "都五点多了怎么还没来水啊 不是说四点吗": a problem for the staff
        return "petition", await petitions.on_petition(ctx, "设施报修", False, text)
    return ("notice_question", None) if notices.try_notice_question(ctx, text, route) else None


@route_step(
    "legal_aid", 35,
    # 请不起律师 / 法律援助怎么申请: the conditions privately; danger under way goes to `legal` (110)
    lambda p: p.route.label != "notice" and not p.route.urgent and legal_aid.asks_about_aid(p.text),
)
async def _legal_aid(ctx: Context, text: str, route: Route) -> Decision | None:
    return await legal_aid.on_aid_question(ctx)


@route_step(
    "own_tickets", 38,
    # "我想查一下我反映的问题" in private: /我的工单 for someone who never learnt it (before the
    # petition step: "我反映的问题怎么样了" is no new problem)
    # "我上礼拜反映的那个楼道灯 现在怎么样了", "楼道灯修好了吗" in private from someone with tickets:
    # their tickets too, never a new one (one without tickets: how a neighbour's report of it in their
    # stairwell stands; with none, asking it is reporting a problem)
    # (never a danger, nor "又坏了": a new report)
    lambda p: p.room is None and not p.route.urgent and "又" not in p.text and (
        petitions.ASKS_OWN_TICKETS.search(p.text) is not None or petitions.ASKS_HOW_IT_STANDS.search(p.text) is not None
    ),
)
async def _own_tickets(ctx: Context, text: str, route: Route) -> Decision | None:
    if not petitions.ASKS_OWN_TICKETS.search(text) and not petitions.asks_about_own_ticket(ctx):
        # someone else's report of it in their stairwell: how it stands; else it is a report of their own
        answered = petitions.on_private_status(ctx) if petitions.ASKS_HOW_IT_STANDS.search(text) else None
        return ("petition", answered) if answered else None
    await ticket_commands.my_tickets(ctx, "")
    return "command", None


@route_step(
    "who_is", 38,
    # "网格员是谁啊", "那我们2单元的楼道长是谁 以后有事找谁反映": the names, never a ticket
    lambda p: not p.route.urgent and bianmin.ASKS_WHO_IS.search(p.text) is not None and (p.room is None or p.room.kind != "staff"),
)
async def _who_is(ctx: Context, text: str, route: Route) -> Decision | None:
    return ("bianmin", None) if bianmin.on_who_is(ctx, text) else None


@route_step(
    "legal_chase", 39,
    # "我前几天问的押金的事 律师怎么还没回我啊": the sender's own question, not a second L-number
    lambda p: not p.route.urgent and legal.asks_after_answer(p.text, p.route.label, p.room.kind if p.room else None),
)
async def _legal_chase(ctx: Context, text: str, route: Route) -> Decision | None:
    found = legal.on_chase(ctx)
    return ("legal", None) if found is not None else None


@route_step(
    "petition", 40,
    # passively only in a stairwell group that takes tickets (or in private); asked directly, or a
    # danger under way in any group ("现在正在打我" in the legal-aid group), always
    lambda p: p.route.label == "petition" and (p.room is None or _auto_tickets(p.room) or p.mentions_bot or p.route.urgent),
)
async def _petition(ctx: Context, text: str, route: Route) -> Decision | None:
    if ctx.room is not None and not route.urgent and ctx.caller.is_staff and (
            petitions.list_items(text) is not None or "@所有人" in ctx.event.text):
        # staff telling the group, as a list or to everyone ("今日巡查：1.清理了三楼纸箱 2.更换五楼灯泡",
        # "@所有人 下周二消防检查 …"): a notice (receipts count), never a report of theirs
        await notices.on_notice(ctx, route.category)
        return "notice", route.category
    parts = petitions.problems(ctx, text)
    if parts:  # several problems in one message: a ticket (or a join) each, as if said one by one
        return "petition", await _each_part(ctx, parts)
    return "petition", await petitions.on_petition(ctx, route.category, route.urgent, text)


async def _each_part(ctx: Context, parts: list[str]) -> str:
    """Each part handled as if said alone. The message's record is the part that says most: a
    danger's, else the last ticket opened, else the last part's; what only other parts decided
    (a consultation, a receipt) is added to it."""
    categories, records = [], []
    for part in parts:
        ctx.handled.ticket = ctx.handled.joined = ctx.handled.urgent = None
        categories.append(await _petition_of_part(ctx, part))
        if ctx.handled.ticket is not None and not ctx.handled.joined:
            ctx.opened_by_parts.add(ctx.handled.ticket)
        records.append(dataclasses.replace(ctx.handled))
    _, best = max(enumerate(records), key=lambda ir: (bool(ir[1].urgent), ir[1].ticket is not None and not ir[1].joined, ir[0]))
    for field in dataclasses.fields(best):
        value = getattr(best, field.name)
        if value is None:
            value = next((getattr(r, field.name) for r in records if getattr(r, field.name) is not None), None)
        setattr(ctx.handled, field.name, value)
    return categories[0]


async def _petition_of_part(ctx: Context, part: str, said: Route | None = None) -> str:
    """A part of the message handled as if it had been said alone (its own route): a problem as a
    petition, a legal question in a list of problems as a consultation. Under a quoted report,
    only what this part says is weighed against it."""
    said = said or ctx.services.router.route(part, staff=ctx.caller.is_staff)
    with _said_alone(ctx, part):
        if said.label == "legal":
            await legal.on_legal(ctx, said.category, said.urgent)
            return said.category or ""
        return await petitions.on_petition(ctx, said.category, said.urgent, part)


@contextmanager
def _said_alone(ctx: Context, part: str) -> Iterator[None]:
    """The handlers read ``part`` as the message (and as what was said under a quote) for a while."""
    whole, quote = ctx.text, ctx.quote
    ctx.text = part
    if quote is not None:
        ctx.quote = dataclasses.replace(quote, said=part)
    try:
        yield
    finally:
        ctx.text, ctx.quote = whole, quote


@route_step(
    "legal", 41,
    # (not the adviser or an officer answering in a group in plain words: no question of theirs)
    lambda p: p.route.label == "legal" and (p.room is None or p.route.urgent or not p.caller.is_staff),
)
async def _legal(ctx: Context, text: str, route: Route) -> Decision | None:
    parts = petitions.problems(ctx, text) if _auto_tickets(ctx.room) and not route.urgent else None
    if parts:  # "1.楼上602卫生间漏水 … 2.租客欠了三个月房租 我能不能…": a ticket and a consultation
        return "legal", await _each_part(ctx, parts)
    if not route.urgent and petitions.OWNS_UP.search(ctx.masked_text) and not _ASKS_SOMETHING.search(text):
        return "other", None  # "我说了划痕我赔 不用动维修基金": the one complained of, asking nothing
    if route.followup and not route.urgent and _auto_tickets(ctx.room):
        chased = petitions.chase_by_its_words(ctx)  # "保健品那个骗子的事有人管吗" on the 保健品 ticket
        if chased is not None:
            return "petition", chased
    if not route.urgent and route.category == ctx.services.router.fallback_category("legal") \
            and notices.asks_a_question(text) and ctx.services.config.bianmin.enabled:
        # a short policy question no legal topic names ("医保卡在外地住院能报销吗") that the 便民
        # answers know: that answer, not the adviser's time
        answered = await bianmin.on_question(ctx, text, known_only=True)
        if answered is not None:
            return answered
    await legal.on_legal(ctx, route.category, route.urgent)
    return route.label, route.category


@route_step(
    "asked_if_called", 38,
    # "你叫了没有啊 救护车来了没有" minutes after one's own danger report: the bot calls no one
    # (also when the words read as a report: "你们叫了救护车没有啊 怎么还没来")
    lambda p: p.route.label in ("other", "petition") and not p.route.urgent and petitions.ASKS_IF_CALLED.search(p.text) is not None,
)
async def _asked_if_called(ctx: Context, text: str, route: Route) -> Decision | None:
    answered = petitions.on_asked_if_called(ctx)
    return ("petition", answered) if answered else None


# a question in a line ("我们能不能告他们", "怎么办", "…吗")
_ASKS_SOMETHING = re.compile(r"[?？吗]|能不能|可不可以|可以不|怎么办|咋办|怎么弄|该怎么|找谁")


@route_step(
    "legal_group_question", 44,
    # a problem told in the legal-aid group, with a question: no tickets are taken there, and a
    # question asked of it is the adviser's ("物业把公共绿地改成收费车位 … 我们能不能告他们"); 件件有回应
    lambda p: p.room is not None and p.room.kind == "legal" and p.route.label == "petition" and not p.route.urgent
    and not p.mentions_bot and _ASKS_SOMETHING.search(p.text) is not None,
)
async def _legal_group_question(ctx: Context, text: str, route: Route) -> Decision | None:
    category = ctx.services.router.fallback_category("legal")
    await legal.on_legal(ctx, category, False)
    return "legal", category


@route_step("notice", 42, lambda p: p.route.label == "notice")
async def _notice(ctx: Context, text: str, route: Route) -> Decision | None:
    await notices.on_notice(ctx, route.category)
    return route.label, route.category


@route_step(
    "followup", 50,
    lambda p: p.route.followup and p.route.label not in ("petition", "legal", "notice") and _auto_tickets(p.room),
)
async def _followup(ctx: Context, text: str, route: Route) -> Decision | None:
    # "还没人管吗？都一个礼拜了": a chase of the sender's open ticket, else nothing; "电梯怎么样了"
    # on a ticket with progress noted: how it stands (the staff are on it: no 催办)
    if petitions.ASKS_HOW_IT_STANDS.search(text):
        answered = petitions.on_status_question(ctx, in_hand_only=True)
        if answered is not None:
            return "petition", answered
    joined = await petitions.on_followup(ctx, text)
    return ("petition", joined) if joined else None


@route_step(
    "howto", 36,
    # staff asking privately in plain words how to do something, or for their list: the command
    lambda p: p.room is None and p.caller.is_staff and not p.route.urgent and howto.asks_how(p.text),
)
async def _howto(ctx: Context, text: str, route: Route) -> Decision | None:
    return ("command", None) if await howto.on_howto(ctx, text) else None


@route_step(
    "private_chase", 37,
    # "都一个礼拜了咋还没人来修啊" in private: the sender's own open ticket
    lambda p: p.room is None and not p.route.urgent and p.route.label in ("other", "petition")
    and (p.route.followup or petitions.CHASE.search(p.text) is not None) and not petitions.ASKS_HOW_IT_STANDS.search(p.text),
)
async def _private_chase(ctx: Context, text: str, route: Route) -> Decision | None:
    chased = petitions.on_private_chase(ctx)
    return ("petition", None if chased == "asked" else chased) if chased else None


@route_step(
    "agreement", 51,
    # "是的 晚上叫得更厉害", "这个要管管" under a neighbour's report: one more voice on it
    lambda p: p.route.label == "other" and not p.route.followup and _auto_tickets(p.room)
    and (petitions.AGREES.match(p.text) is not None or petitions.SUPPORT.search(p.text) is not None),
)
async def _agreement(ctx: Context, text: str, route: Route) -> Decision | None:
    joined = petitions.on_agreement(ctx)
    return ("petition", joined) if joined else None


@route_step(
    "detail", 52,
    # "就在3楼转角那里，过不去人" right after one's own report: where it is, for the staff
    # (never a receipt-shaped line: "502收到" names a flat, not where the problem is)
    lambda p: p.route.label == "other" and not p.route.followup and (p.room is None or _auto_tickets(p.room))
    and (bool(petitions.places(p.text)) or petitions.SAYS_WHERE.search(p.text) is not None)
    and not notices.is_receipt(p.text, p.caller.name or ""),
)
async def _detail(ctx: Context, text: str, route: Route) -> Decision | None:
    added = petitions.on_detail(ctx)
    return ("petition", added) if added else None


@route_step(
    "status_question", 53,
    # "电梯好了吗" about a problem of the group: how it stands
    lambda p: p.route.label == "other" and _auto_tickets(p.room) and petitions.ASKS_HOW_IT_STANDS.search(p.text) is not None,
)
async def _status_question(ctx: Context, text: str, route: Route) -> Decision | None:
    answered = petitions.on_status_question(ctx)
    return ("petition", answered) if answered else None


@route_step(
    "deletion_hint", 54,
    # "请删除我的个人信息" said in a group: how (the request itself is made privately)
    lambda p: p.room is not None and privacy_commands.ASKS_FOR_DELETION.search(p.text) is not None,
)
async def _deletion_hint(ctx: Context, text: str, route: Route) -> Decision | None:
    ctx.reply(privacy_commands.DELETION_HINT)
    return route.label, route.category


@route_step(
    "sign_up", 56,
    # "我不会弄那个接龙 宪法日的活动帮我报个名", privately: to the stairwell's staff
    lambda p: p.room is None and p.route.label == "other" and signup.applies(p.text),
)
async def _sign_up(ctx: Context, text: str, route: Route) -> Decision | None:
    return (route.label, route.category) if signup.on_sign_up(ctx) else None


@route_step(
    "bianmin", 55,
    # an everyday question the router left as chatter (物业电话是多少); petitions never get here
    lambda p: p.route.label == "other" and not p.route.urgent and notices.asks_a_question(p.text)
    and (p.room is None or p.room.kind != "staff"),
)
async def _bianmin(ctx: Context, text: str, route: Route) -> Decision | None:
    return await bianmin.on_question(ctx, text) if ctx.services.config.bianmin.enabled else None


# (thanks to someone named, privately: "好的 谢谢小李[玫瑰]", "谢谢王律师 麻烦您了[抱拳]")
_THANKED = r"(?:小[\u4e00-\u9fff]|[\u4e00-\u9fff]{1,2}(?:律师|老师|师傅|阿姨|书记|主任|大姐|大哥|姐|哥))"
_JUST_THANKS = re.compile(
    r"^\W*(?:(?:好的?|嗯+|哦+|噢|(?:谢谢|多谢|感谢)(?:你|您|你们|啦|了)?" + _THANKED + r"?(?:了|啦)?"
    r"|(?:麻烦|辛苦)(?:你|您|你们)?了|收到(?:了)?|知道了|晓得了|明白了?|行|OK|ok)\W*)+$"
)


@route_step("asked", 60, lambda p: p.route.label == "other" and (p.mentions_bot or p.room is None))
async def _asked(ctx: Context, text: str, route: Route) -> Decision | None:
    # Asked directly: a substantive message becomes a petition, anything else gets one hint.
    if privacy_commands.ASKS_FOR_DELETION.search(text):  # "请删除我的个人信息": how, not a petition
        ctx.reply(privacy_commands.DELETION_HINT, mention=False)
        return route.label, route.category
    if privacy_commands.ASKS_TO_PUBLISH.search(text):  # "把所有人的电话发出来", "他电话… 你帮我发一遍": never
        privacy_commands.answer_privacy_request(ctx, privacy_commands.NOTHING_PUBLISHED)
        return route.label, route.category
    if _JUST_THANKS.match(without_emoji(text)):  # "好的谢谢[抱拳]" after an answer: nothing more to say
        return route.label, route.category
    if len(_NOT_WORDS.sub("", without_emoji(text))) >= MIN_MENTION_PETITION_CHARS and route.score >= 0 and ctx.event.mentions_bot \
            and ctx.room:
        await petitions.on_petition(ctx, "其他", route.urgent, text)
        return "petition", "其他"
    ctx.reply(HINT)
    return route.label, route.category
