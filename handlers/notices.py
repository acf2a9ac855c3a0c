"""Notices: /通知 with preview and /确认, plain notices, receipts (回执) and emergency mode (战时)."""
from __future__ import annotations

import re
import unicodedata
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Callable

from sqlmodel import Session

from bot.commands import command
from bot.context import Context
from bot.permissions import ANY_STAFF, EMERGENCY_ROLES, NOTICE_ROLES, Caller
from bot.privacy import mask, mask_flats
from common.emoji import without_emoji
from domain.notices import send_notice
from handlers.petitions import objects_of
from common.tz import SHANGHAI
from nlp.router import pattern
from nlp.segment import content_words
from nlp.when import WhenError, find_date, parse_time_of_day
from storage import directory
from storage import notices as queries
from storage.models import Notice, Room
from storage.state import EMERGENCY_FLAG, clear_flag, get_flag, set_flag

if TYPE_CHECKING:
    from nlp.router import Route

CONFIRM_WINDOW = timedelta(minutes=2)
# Receipts as people write them: 收到 / 收到了，谢谢 / 好嘞 / 知道了 / OK / 👌 / [强] / 502收到 / 3-302已收到.
_RECEIPT_WORD = (
    r"(?:已经?|都)?收到(?:了|啦|咯|收到)*|收悉|已阅|阅|已读|已知悉|知悉|好的?|好嘞|好勒|好滴|好哒|好哦|好吧|好好"
    r"|嗯+|知道(?:了|啦|咯)?|晓得(?:了|啦)?|明白(?:了|啦)?|了解(?:了)?|清楚了|okay|ok+(?:了|啦|哒|的)?|好的收到"
    r"|(?:谢谢|感谢|多谢)(?:提醒|通知)|(?:我|都)?(?:记下|记住|看到|看见)(?:了|啦)?"  # "好的好的我记下了", "看到了 收到"
    r"|1"  # "收到请回复1": a bare "1" (an open poll's vote and a pending rating are asked first)
)
_THANKS = r"(?:谢谢|感谢|多谢|辛苦)[\u4e00-\u9fff]{0,5}?(?:了|啦)?|(?:想|考虑|安排)得(?:真|很|太|好)?周到|费心了|有心了"
# a good wish after the receipt: "收到了[抱拳]早点睡"
_WISHES = r"(?:大家|您|你们)?(?:早点睡|早点休息|晚安|早安|注意安全|注意身体|保重)(?:哈|啊|呀)?"
_RECEIPT = re.compile(rf"^(?:{_RECEIPT_WORD})+(?:{_THANKS}|{_WISHES})*$")
_THANKS_ONLY = re.compile(rf"^(?:{_THANKS})+$")
# Who answers, first or last: a flat ("502收到", "3-302已收到", "3单元502 收到", "收到 502室"),
# a floor ("5楼收到", "六楼收到"), "我家" / "我们也", or the sender's own name ("王大爷收到").
_FLAT = (
    r"(?:\d{1,3}(?:-|幢|栋|号楼))?(?:\d{1,2}-|(?:\d{1,2}|[一二三四五六七八九十]{1,2})单元)?\d{3,4}(?:室|号|户)?|\d{1,2}-\d{2}"  # "6-02收到": floor 6, door 02
    r"|(?:\d{1,3}(?:幢|栋|号楼))?(?:(?:\d{1,2}|[一二三四五六七八九十]{1,2})单元)?(?:\d{1,2}|[一二三四五六七八九十]{1,3})(?:楼|层)(?:[东西南北中]?[户边]|\d{3,4}(?:室|号|户)?|\d{1,2}(?:号|室|户))?"  # "五楼2号已收到"
)
_FLAT_AROUND = re.compile(rf"^(?:{_FLAT})(?:家属|家人|家里人|家里|家|的)?|(?:{_FLAT})$")  # "502家属收到"
_WHO_FIRST = re.compile(r"^(?:我们?|咱们?|俺|阿拉|侬)?(?:家|屋里|屋头)?(?:也|都)?(?=[\u4e00-\u9fffa-z])")  # "阿拉屋里收到了"
_SHORT_NAME_FIRST = re.compile(r"^(?:(?![没未不还])[\u4e00-\u9fff]){1,3}?(?=(?:已经?|都)?收到)")
_APPROVAL_CODE = re.compile(r"\[(?:强|ok|OK|Ok|抱拳|好的|握手|玫瑰|爱心|微笑|胜利|合十|拳头|OK啦|耶|赞)\]")
_APPROVAL_EMOJI = re.compile("[👌👍🙏🌹✌🤝❤💪✅✔🫡😊🙂🤗💐]")
_RECEIPT_NOISE = re.compile(r"[\s!！。.~～,，、:：;；\u2005…]+")
QUESTION = re.compile(
    r"[?？]|吗|(?<![这那])么|嘛|呢|(?<![这那前过好])几|什么|啥|哪|怎|谁|多少|多久|是否|能不能|可不可以|会不会|有没有|要不要"
    r"|(?<=[\u4e00-\u9fff])(?<![都也])(?:不|没|没有)[\s~～。.!！]*$"  # "电梯还能用不", "通知发了没": asked at the end (not "水带都没有")
    r"|([\u4e00-\u9fff])[不没]\1"  # "发不发", "给不给", "来没来": asked as A-not-A
)
# "谁的钥匙掉在2楼楼梯口了 谁丢的？" asks about no notice (the router's own lost-and-found cue).
lost_and_found = pattern("失物")
SCOPE_WORDS = {"本楼", "本群", "网格", "全部"}
# Other ways of writing a scope, as a word of its own ("/定时 明天9点 所有群 停水"): they used to
# be taken as the start of the text and sent to this group alone.
SCOPE_ALIASES = {"全部群": "全部", "所有群": "全部", "全部的群": "全部", "所有的群": "全部", "本单元": "本楼"}
_LIST = re.compile(r"[,，、]")


def covered_rooms(session: Session, caller: Caller) -> list[Room]:
    """Groups in which the caller holds a staff role."""
    staff = NOTICE_ROLES | {"admin"}
    return [r for r in directory.rooms(session) if r.kind != "unbound" and caller.covers(r, staff)]


def resolve_targets(ctx: Context, args: str) -> tuple[list[Room], str, str | None]:
    """(rooms, content, error). The first word may name the scope or groups, else: this group."""
    word, _, rest = args.strip().partition(" ")
    word = SCOPE_ALIASES.get(word, word)
    mine = covered_rooms(ctx.session, ctx.caller)
    all_rooms = [r for r in directory.rooms(ctx.session) if r.kind != "unbound"]

    def naming(words: str) -> list[Room] | None:
        """The groups a word names ('3幢1单元楼道群,3幢2单元楼道群'), None unless it names only groups."""
        names = [n for n in _LIST.split(words) if n]
        found = [r for r in all_rooms if r.topic in names or r.stairwell in names or r.grid in names]
        known = {n for r in found for n in (r.topic, r.stairwell, r.grid)}
        return found if names and all(n in known for n in names) else None

    if word in SCOPE_WORDS:
        content = rest.strip()
        if word in ("本楼", "本群"):
            rooms = [ctx.room] if ctx.room else []
            if not rooms:
                return [], content, "私聊中请写明群名或“网格”“全部”。"
        elif word == "网格":
            grids = {ctx.room.grid} if ctx.room and ctx.room.grid else set(ctx.caller.scopes(frozenset(NOTICE_ROLES)))
            rooms = [r for r in mine if r.grid in grids]
        else:
            rooms = mine
    else:
        names = [n for n in _LIST.split(word) if n]
        named = [r for r in all_rooms if r.topic in names or r.stairwell in names or r.grid in names]
        while named and (more := naming(rest.strip().partition(" ")[0])) is not None:
            # several groups separated by spaces: "3幢1单元楼道群 3幢2单元楼道群 内容"
            named += [r for r in more if r not in named]
            rest = rest.strip().partition(" ")[2]
        if named and (rest.strip() or naming(word) is not None):  # only group names: no text is an error
            rooms, content = named, rest.strip()
        elif ctx.room is not None:
            rooms, content = [ctx.room], args.strip()
        else:
            return [], args, "请写明发给哪个群，如：/通知 3幢1单元楼道群 内容"
    outside = [r.topic for r in rooms if r not in mine]
    if outside:
        return [], content, f"抱歉，您不能向{'、'.join(outside)}发通知。"
    if not rooms:
        return [], content, "没有找到可发送的群。"
    if not content:
        return [], content, "通知内容不能为空。用法：/通知 [本楼|网格|全部|群名] 内容"
    return rooms, mask(content), None  # staff texts are masked like residents' (stored, queued, sent)


@command("通知", roles=NOTICE_ROLES, usage="/通知 [本楼|网格|全部|群名] 内容", help="发通知（多个群需 /确认）")
async def notice_command(ctx: Context, args: str) -> None:
    rooms, content, error = resolve_targets(ctx, args)
    if error:
        ctx.reply(error, mention=False)
        return
    if len(rooms) == 1 and rooms[0] == ctx.room:
        notice_id = _send(ctx, content, rooms)
        ctx.reply(f"通知 N{notice_id} 已发出，/回执 {notice_id} 查看确认情况。", mention=False)
        return
    ask_confirmation(ctx, rooms, content)


# Other commands that preview a send to several groups (/定时) are confirmed by /确认 as well.
CONFIRMERS: dict[str, Callable[[Context, dict, list[Room]], None]] = {}


def ask_confirmation(ctx: Context, rooms: list[Room], content: str, *, kind: str = "notice",
                     what: str = "", extra: dict | None = None) -> None:
    """Keep the send pending for 2 minutes and show what /确认 will do."""
    pending = {"kind": kind, "text": content, "rooms": [r.id for r in rooms],
               "expires": (ctx.now + CONFIRM_WINDOW).isoformat(), **(extra or {})}
    set_flag(ctx.session, f"pending-notice:{ctx.caller.person_id}", pending, ctx.now)
    names = "、".join(r.topic for r in rooms)
    ctx.reply(f"将向{len(rooms)}个群{what}发送：{names}\n内容：{content}\n请在2分钟内回复 /确认 发送（/取消 不发）。",
              mention=False)


@command("取消", roles=NOTICE_ROLES, usage="/取消", help="取消刚才预览、尚未确认的发送")
async def cancel_command(ctx: Context, args: str) -> None:
    key = f"pending-notice:{ctx.caller.person_id}"
    if get_flag(ctx.session, key) is None:
        ctx.reply("没有待确认的发送。", mention=False)
        return
    clear_flag(ctx.session, key)
    ctx.reply("已取消，刚才预览的内容不会发送。", mention=False)


@command("确认", roles=NOTICE_ROLES, usage="/确认", help="确认发送刚才预览的通知")
async def confirm_command(ctx: Context, args: str) -> None:
    key = f"pending-notice:{ctx.caller.person_id}"
    pending = get_flag(ctx.session, key)
    if not pending:
        ctx.reply("没有待确认的通知。", mention=False)
        return
    clear_flag(ctx.session, key)
    if datetime.fromisoformat(pending["expires"]) < ctx.now:
        ctx.reply("确认已超时（2分钟），请重新发送 /通知。", mention=False)
        return
    rooms = [r for r in (ctx.session.get(Room, rid) for rid in pending["rooms"]) if r is not None]
    confirm = CONFIRMERS.get(pending.get("kind", "notice"))
    if confirm is not None:
        confirm(ctx, pending, rooms)
        return
    notice_id = _send(ctx, pending["text"], rooms)
    ctx.reply(f"通知 N{notice_id} 已排队发往{len(rooms)}个群，/回执 {notice_id} 查看确认情况。", mention=False)


def _send(ctx: Context, text: str, rooms: list[Room]) -> int:
    """Send now; returns the notice number."""
    notice_id, _ = send_notice(
        ctx.services, ctx.session, author_id=ctx.caller.person_id, author_name=ctx.caller.name,
        title=ctx.caller.title_in(ctx.room), text=text, rooms=rooms,
    )
    ctx.posted_to.update(r.id for r in rooms)  # those groups see the notice itself
    return notice_id


# Staff chasing a receipt in the group ("@陈先生 停水通知看到了回个收到哈"): about a notice, not one
CHASES_RECEIPT = re.compile(r"回(?:个|复|一下|一声)*(?:个)?(?:收到|1)|(?:看到|收到)(?:了)?(?:的)?(?:请|麻烦)?回(?:复|个)|记得回(?:复|个)?")


async def on_notice(ctx: Context, category: str | None) -> None:
    """A plain message that routed to notice: staff notices are tracked; residents' only logged."""
    if ctx.room is None:
        return
    staff = ctx.caller.covers(ctx.room, NOTICE_ROLES)
    if staff and "@" in ctx.event.text and CHASES_RECEIPT.search(ctx.masked_text):
        return  # the receipt it asks for still counts for the notice it chases
    queries.create_notice(
        ctx.session, author_id=ctx.caller.person_id, text=ctx.masked_text, rooms=[ctx.room], at=ctx.now,
        source="plain" if staff else "resident", tracked=staff,
        emergency=staff and get_flag(ctx.session, EMERGENCY_FLAG) is not None,
    )


def _without_who(body: str, name: str) -> str:
    """The receipt without who gives it: a flat or floor, '我家', the sender's own name."""
    name = _RECEIPT_NOISE.sub("", name).lower()
    for _ in range(2):  # "5楼王大爷收到": a place and a name
        if name and len(name) >= 2:
            body = body.removeprefix(name).removesuffix(name)
        body = _FLAT_AROUND.sub("", body)
    short = _SHORT_NAME_FIRST.match(body)  # "901孙 已收到" (a 接龙 line: flat, the sender's surname, receipt)
    if short and name and short.group(0)[0] in name:
        body = body[short.end():]
    return _WHO_FIRST.sub("", body)


def is_receipt(text: str, name: str = "") -> bool:
    """'收到' / '收到，谢谢' / '好嘞' / 'OK' / '👌' / '[强]' / '[OK]' / '502收到' / '5楼收到' /
    '收到[强]' / '王大爷收到' (``name``: the sender's); never a question, never '没收到'."""
    if QUESTION.search(text):
        return False
    approving = bool(_APPROVAL_CODE.search(text) or _APPROVAL_EMOJI.search(text))
    body = without_emoji(unicodedata.normalize("NFKC", text))
    body = _without_who(_RECEIPT_NOISE.sub("", body).lower(), name)
    if not body:  # only emoji (and perhaps a flat number): an approving one is a receipt
        return approving
    # "谢谢楼道长[抱拳]" thanks for the notice; "谢谢" alone is chatter
    return bool(_RECEIPT.match(body) or (approving and _THANKS_ONLY.match(body)))


def opens_with_receipt(text: str, name: str = "") -> bool:
    """'收到，我们提前储水' / '好的，明天一早就挪车': a receipt first, then more (not a question);
    or for someone first, then the receipt ('帮我妈回一下 601收到')."""
    if QUESTION.search(text):
        return False
    if after_receipt(text, name) is not None:
        return True
    first, _, last = _RECEIPT_NOISE.sub(" ", text.strip()).rpartition(" ")
    return bool(first) and _FOR_SOMEONE.fullmatch(first.replace(" ", "")) is not None and is_receipt(last, name)


def after_receipt(text: str, name: str = "") -> str | None:
    """What follows a receipt ("收到 对了单元门又关不上了" -> "对了单元门又关不上了"), or None."""
    parts = _RECEIPT_NOISE.split(text.strip(), maxsplit=1)
    # (a bare "1" with more after it opens a numbered list: "1、四楼水管井在滴水 2、…")
    if len(parts) == 2 and parts[1] and not parts[0].isdigit() and is_receipt(parts[0], name):
        return parts[1]
    return None


# Answering for someone ("帮我妈回一下", "替老人确认"), then the receipt
_FOR_SOMEONE = re.compile(
    r"(?:我)?(?:替|帮|代)(?:我)?(?:家)?(?:妈|爸|母亲|父亲|老妈|老爸|爸妈|爷爷|奶奶|外婆|外公|姥姥|姥爷|家里|家里人|老人|老人家|婆婆|公公|老公|老婆|丈母娘|岳父|家婆)"
    r"(?:回|确认|说|报)(?:复)?(?:一下|一声|个)?(?:哈|啊)?"
)


def try_receipt(ctx: Context, text: str, route: Route) -> bool:
    """A receipt within 24 h of a tracked notice to this group counts for it (silently)."""
    if ctx.room is None:
        return False
    name = ctx.caller.name or ""
    if not is_receipt(text, name):
        # "收到，另外楼道灯又坏了" is still a petition: a receipt with more only when the rest is chatter
        if not opens_with_receipt(text, name) or route.label != "other":
            return False
    return count_receipt_before_more(ctx)


def count_receipt_before_more(ctx: Context) -> bool:
    """A receipt for the group's latest tracked notice (also "收到 另外楼道的水管一直在滴": the notice
    was received, and the rest is handled as said alone); False when there is none to count for."""
    assert ctx.room is not None
    notice = queries.latest_tracked_notice(ctx.session, ctx.room.id, ctx.now)
    if notice is None:
        return False
    _count_receipt(ctx, notice)
    return True


def _count_receipt(ctx: Context, notice: Notice) -> None:
    """This sender confirmed ``notice`` (the author's own "OK" confirms nothing; staff's are not counted)."""
    assert ctx.room is not None
    if notice.author_id == ctx.caller.person_id:
        return
    ctx.handled.notice_receipt = notice.id  # a receipt for this notice, from anyone
    if not ctx.caller.covers(ctx.room, ANY_STAFF):  # only residents' are counted
        queries.add_receipt(ctx.session, notice, ctx.caller.person_id, ctx.room.id, ctx.now)


def _receipt_then_question(text: str, name: str) -> bool:
    """'收到 明天几点来水啊？': the notice was received, and something about it asked."""
    return after_receipt(text, name) is not None


# ---- questions about a recent notice ---------------------------------------------------

QUESTION_WINDOW = timedelta(days=3)
QUESTION_MAX_CHARS = 40  # a longer message is a story or a complaint: normal routing
# Information a notice gives (time, place, duration): asked for, the notice is the answer even
# when the router leans to a petition or a legal question ("停水几点到几点？").
_ASKS_FOR_INFO = re.compile(
    r"几点|几号|几时|几天|什么时候|啥时候|何时|多久|多长时间|哪里|哪儿|在哪|哪个|什么地方|啥地方|到几|从几"
    r"|(?:也|还|会|要)(?:停|断|关)(?:吗|不|么)|停不停"  # "停电那天电梯也停吗"
)
_COMPLAINT = re.compile(r"坏|漏|堵|臭|吵|修|没人|还没|又|投诉|赔")
_STOPPED_AGAIN = re.compile(r"又(?=停)")
def asks_a_question(text: str) -> bool:
    """Question-shaped and short: '停水几点到几点？', '充电棚在哪？' (the dispatcher's fast path asks)."""
    return len(text) <= QUESTION_MAX_CHARS and bool(QUESTION.search(text))


# A question names the service coming back, the notice its stop: "几点来电" after "停电检修".
_ASKED_AS = {"停到": ("停水", "停电", "停运", "停气", "停梯", "停用"), "停多久": ("停水", "停电", "停运", "停气", "停梯", "停用"),
             "来电": ("停电", "断电", "供电"), "有电": ("停电", "断电", "供电"), "来水": ("停水", "断水", "供水"),
             "有水": ("停水", "断水", "供水"), "来气": ("停气", "燃气", "供气"), "通气": ("停气", "燃气", "供气"),
             # "怎么没水了 我头洗了一半": the stop itself, asked in plain words
             "没水": ("停水", "断水", "供水"), "没电": ("停电", "断电", "供电"), "没气": ("停气", "燃气", "供气"),
             "电梯停": ("停梯", "停运", "电梯"), "也停": ("停水", "停电", "停运", "停气", "停梯", "停用"),
             # "讲座在哪里啊" after "…请王律师讲继承和赡养 欢迎大家来听"
             "讲座": ("讲座", "宣讲", "讲", "来听", "课"), "活动": ("活动", "来听", "参加"),
             # "那晚上几点到几点能扔啊" after "…垃圾定时定点投放"
             **{word: ("投放", "垃圾") for word in ("扔", "丢垃圾", "倒垃圾")},
             # "要带什么东西 户口本要不要带" after "…请携带身份证、医保卡"
             **{word: ("带", "携带") for word in ("要带", "带什么", "带啥", "带哪些", "要不要带")},
             # "那种小摔炮在楼道里也不能放吗" after "楼道内禁止燃放烟花爆竹"
             **{word: ("烟花", "爆竹", "鞭炮", "燃放") for word in ("摔炮", "鞭炮", "炮仗", "放炮", "烟花", "爆竹", "小炮")},
             # "地库怎么进不去了" after "…地下车库清洗" (blind replay s31c)
             "地库": ("地下车库", "车库"), "车库": ("地库", "地下车库"),
             # "保障员哪天来啊" after "…保障员王师傅周五上午挨家上门走访" (titles are no content words)
             **{title: (title,) for title in ("保障员", "楼道长", "信息员", "网格员", "志愿者", "师傅", "律师")},
             # "几号开始清啊" after "…11月20日起集中清理楼道电动车"
             **{word: ("清理", "清运", "清走", "清除", "清出", "拖走", "整治") for word in ("清啊", "清呀", "开始清", "来清", "清理")},
             # "那周六上午能不能装啊 … 打几个孔" after "…装修施工时间…"
             **{word: ("装修", "施工") for word in ("能装", "能不能装", "可以装", "打孔", "打几个孔", "钻孔")}}
# Asked past the time a notice gave: "都五点多了怎么还没来水啊 不是说四点吗" is a problem, not a question
_NOT_BACK = re.compile(r"(?:还没|还是没|咋还没)(?:来|有|通)?(?:水|电|气)|不是说\S{0,6}(?:[点时]|来水|来电|好)")
# A stop announced for this thing ("电梯维保 暂停使用"): "电梯怎么不动了" is asked about it
_STOP = re.compile(r"停|维保|检修|暂停|维修|施工|关闭")
_ASKS_HELP = re.compile(r"帮(?:帮|忙|我|一下)|找个?人|[上下](?:不去|不了楼)")  # "电梯停了我下不去 能不能找个人帮帮忙"


def may_be_late(text: str) -> bool:
    """'都六点半了还是没来水 说好五点的': a stopped service not back, told (the dispatcher's fast path asks)."""
    return _NOT_BACK.search(text) is not None


def back_late(ctx: Context, text: str) -> bool:
    """The service a recent notice stopped is not back when it said: a problem for the staff
    (before the end it announced, "我家怎么还没水" is the stop itself: the notice answers it)."""
    if ctx.room is None or _NOT_BACK.search(text) is None:
        return False
    notice = notice_asked_about(ctx.session, ctx.room.id, text, ctx.now)
    return notice is not None and not still_announced(notice, ctx.now)


# The end of an announced stop: "7月6日上午8点到下午5点主管道维修停水" (到 / 至 / ~ / - then a time)
_UNTIL = re.compile(r"(?:到|至|~|～|—|-)\s*((?:上午|中午|下午|晚上|傍晚)?\s*(?:\d{1,2}|[一二三四五六七八九十]{1,3})(?:[点时:：](?:半|\d{2}|[一二三四五]十分?)?))")


def still_announced(notice: Notice, now: datetime) -> bool:
    """Whether ``now`` is before the end of the stop ``notice`` announced, on the day it names
    (or the day it was sent); False when it names no end."""
    until = _UNTIL.search(notice.text)
    if until is None:
        return False
    sent = notice.created_at if notice.created_at.tzinfo else notice.created_at.replace(tzinfo=now.tzinfo)
    try:
        clock, _ = parse_time_of_day(until.group(1))
        day = find_date(notice.text[:until.start()], sent)
    except WhenError:  # "3点" alone, or a date already past when it was sent: no end known
        return False
    on = day.day if day is not None else sent.astimezone(SHANGHAI).date()
    return now < datetime.combine(on, clock, tzinfo=SHANGHAI)


def notice_asked_about(session: Session, room_id: str, text: str, now: datetime) -> Notice | None:
    """The newest tracked notice to this group in the last 3 days sharing a content word with ``text``."""
    asked = content_words(text)
    asked |= {also for word, alsos in _ASKED_AS.items() if word in text for also in alsos}
    for notice in queries.recent_tracked_notices(session, room_id, now - QUESTION_WINDOW):
        # Both ways round: segmentation may keep "恢复供电" whole in one and split it in the other.
        if any(word in text for word in content_words(notice.text)) or any(word in notice.text for word in asked):
            return notice
    return None


# Grumbling at a notice or at whoever stops things ("凭什么只能这两个时间扔 … 拍脑袋定的吧", "这物业一天到晚
#不知道在干嘛"): no question to answer with the notice again
_GRUMBLE = re.compile(r"凭什么|拍脑袋|瞎搞|乱搞|瞎折腾|不知道(?:在)?干(?:嘛|什么|啥)|一天到晚|吃干饭|有病吧|脑子")


_ABOUT_ME = re.compile(r"说我(?:干什么|干嘛|干啥|呢|吗|啊)|是(?:不是)?(?:在)?说我|说的是我")


def try_notice_question(ctx: Context, text: str, route: Route) -> bool:
    """A question about a recent notice gets the notice's own text, once per person per notice,
    @-ing the asker; no ticket, no legal consultation. A danger never waits for this."""
    if ctx.room is None or route.urgent or not asks_a_question(text) or lost_and_found.search(text):
        return False  # "谁家的快递放我门口了": asked of the neighbours, not about a notice
    if _GRUMBLE.search(text):
        return False
    if _ABOUT_ME.search(text) and route.label == "other":
        # "我又没转账 说我干什么", "快递理赔 是说我吗" (an elderly resident after a campaign): the notice
        # posted again at them would point at them in front of everyone; quiet (a neighbour explains)
        return True
    # "电梯怎么又停了 几点能好啊" while a notice stops it: the stop asked about, no complaint
    complaint = _COMPLAINT.search(_STOPPED_AGAIN.sub("停", text))
    if complaint and _NOT_BACK.search(text) and not back_late(ctx, text):
        complaint = None  # "我家怎么还没水" during the announced stop: the stop asked about
    # (asked under the quoted notice itself: "那我家门口的鞋柜也要搬吗", whatever the router thought)
    quoted_notice = ctx.quote is not None and "通知" in ctx.quote.text[:12]
    asks_info = route.label in ("other", "notice") or quoted_notice or (_ASKS_FOR_INFO.search(text) and not complaint)
    if not asks_info and (route.category != "设施报修" or complaint or _ASKS_HELP.search(text)):
        return False  # "停水了要赔偿吗", "电梯又坏了什么时候修" stay what the router says they are
    notice = notice_asked_about(ctx.session, ctx.room.id, text, ctx.now)
    if notice is None or notice.author_id == ctx.caller.person_id:
        return False
    if not asks_info and not (_STOP.search(notice.text) and _names_its_thing(ctx, text, notice.text)):
        return False  # a fault asked about ("电梯怎么不动了") is the notice's only while it stops that thing
    if _receipt_then_question(text, ctx.caller.name or ""):
        _count_receipt(ctx, notice)  # 收到 before the question: they have it, and ask about it
    key = f"notice-asked:{notice.id}:{ctx.caller.person_id}"
    if get_flag(ctx.session, key) is None:  # asked again: the answer is already above in the chat
        set_flag(ctx.session, key, {}, ctx.now)
        ctx.reply(f"通知原文（N{notice.id}）：{mask_flats(notice.text)}")
    return True


def _names_its_thing(ctx: Context, text: str, notice_text: str) -> bool:
    objects = objects_of(ctx.services.router)
    return bool({o for o in objects(text) if not o.startswith("*")} & objects(notice_text))


def receipts_in_scope(session: Session, caller: Caller, notice: Notice) -> list[queries.GroupReceipts]:
    """The notice's target groups the caller looks after, each with who confirmed and who not
    (/回执 and the console's 通知 page)."""
    mine = {r.id for r in covered_rooms(session, caller)}
    return [g for g in queries.receipts_by_group(session, notice, ANY_STAFF) if g.room.id in mine]


def notices_in_scope(session: Session, caller: Caller, limit: int = 20) -> list[tuple[Notice, list[queries.GroupReceipts]]]:
    """The latest tracked notices to the caller's groups, newest first, with their receipts there."""
    mine = {r.id for r in covered_rooms(session, caller)}
    return [(n, receipts_in_scope(session, caller, n)) for n in queries.sent_to(session, mine, limit)]


NAMES_SHOWN = 40  # a big group's list stays one readable message


def _names(names: list[str]) -> str:
    more = f" 等{len(names)}人" if len(names) > NAMES_SHOWN else ""
    return "、".join(names[:NAMES_SHOWN]) + more


RECEIPT_GROUPS_IN_FULL = 5  # more groups than this: totals and the groups most behind, not every name
RECEIPT_GROUPS_BEHIND = 10  # how many of those groups the summary lists
_RECEIPT_ARGS = re.compile(r"^\s*(?:[Nn#＃]?(\d+)(?=\s|$))?\s*(.*?)\s*$", re.S)


@command("回执", roles=NOTICE_ROLES, usage="/回执 [N] [群名]",
         help="查看通知N的确认情况（不写N：最近一条；写群名：只看那个群的名单）")
async def receipts_command(ctx: Context, args: str) -> None:
    match = _RECEIPT_ARGS.match(args)
    assert match is not None  # every text matches (both parts optional)
    digits, only = match.group(1), match.group(2)
    if digits:
        notice = ctx.session.get(Notice, int(digits)) if len(digits) <= 9 else None
    else:  # "/回执" alone, as officers type it right after a notice: the latest one to their groups
        latest = queries.sent_to(ctx.session, {r.id for r in covered_rooms(ctx.session, ctx.caller)}, 1)
        notice = latest[0] if latest else None
    if notice is None:
        ctx.reply("没有找到这条通知。" if digits else "您负责的群还没有发过通知。", mention=False)
        return
    groups = await ctx.read_apart(lambda session: receipts_in_scope(session, ctx.caller, notice))
    if not groups:
        ctx.reply("这条通知发往的群不在您负责的范围内。", mention=False)
        return
    if only:
        groups = [g for g in groups if only in (g.room.topic or "") or only in (g.room.stairwell, g.room.grid)]
        if not groups:
            ctx.reply(f"通知 N{notice.id} 没有发往“{only}”的群（或不在您负责的范围内）。", mention=False)
            return
    # Names of who has not confirmed go to the asker privately (a staff command), never to a residents' group.
    ctx.reply(_receipts_text(notice.id or 0, groups), mention=False)


def _receipts_text(notice_id: int, groups: list[queries.GroupReceipts]) -> str:
    """Every group with its names, or for a district-wide notice the totals and the groups most
    behind (800 groups' names were ~750 private messages to one officer's phone)."""
    if len(groups) <= RECEIPT_GROUPS_IN_FULL:
        lines = [f"通知 N{notice_id} 回执："]
        for group in groups:
            lines.append(f"{group.room.topic}：已确认{group.confirmed}人；未确认{len(group.missing)}人")
            for label, names in (("已确认", group.done), ("未确认", group.missing)):
                if names:
                    lines.append(f"  {label}：" + _names(names))
        return "\n".join(lines)
    confirmed = sum(g.confirmed for g in groups)
    missing = sum(len(g.missing) for g in groups)
    behind = sorted((g for g in groups if g.missing), key=lambda g: -len(g.missing))  # ties: as listed
    lines = [f"通知 N{notice_id} 回执（{len(groups)}个群）：已确认{confirmed}人；未确认{missing}人；"
             f"{len(groups) - len(behind)}个群已全部确认。"]
    if behind:
        shown = behind[:RECEIPT_GROUPS_BEHIND]
        lines.append("未确认最多的群：" + "；".join(f"{g.room.topic} {len(g.missing)}人" for g in shown)
                     + (f"；另有{len(behind) - len(shown)}个群" if len(behind) > len(shown) else ""))
        example = behind[0].room.stairwell or behind[0].room.topic
        lines.append(f"看一个群的名单：/回执 {notice_id} 群名（如 /回执 {notice_id} {example}）")
    return "\n".join(lines)


@command("战时", roles=EMERGENCY_ROLES, usage="/战时 开启 原因 | /战时 关闭", help="开启或关闭战时（紧急）模式",
         pattern=r"^\s*(开启|关闭)")
async def emergency_command(ctx: Context, args: str) -> None:
    match = re.match(r"^\s*(开启|关闭)[\s,，:：、]*(.*)$", args, re.S)
    assert match  # the command's pattern guarantees it
    action, reason = match.group(1), match.group(2)
    from domain import checkon  # the people to check on (独居老人, 残疾…) in this emergency

    if action == "开启":
        reason = reason.strip()
        if not reason:  # it changes every group's handling at once: said on purpose, with why
            ctx.reply("请写明原因，例如：/战时 开启 寒潮蓝色预警（开启后通知优先发送，新诉求一律按紧急处理）。", mention=False)
            return
        set_flag(ctx.session, EMERGENCY_FLAG, {"reason": reason, "by": ctx.caller.person_id}, ctx.now)
        started = checkon.start(ctx.services, ctx.session, reason=reason, by=ctx.caller.person_id,
                                scopes=ctx.caller.scopes(EMERGENCY_ROLES))
        ctx.reply(
            f"已开启战时模式（{reason}）：通知优先发送，30分钟后向各楼道推送未确认名单，新诉求一律按紧急处理。"
            + checkon.started_line(ctx.services.config, started),
            mention=False,
        )
        scheduler = ctx.services.scheduler
        if scheduler is not None and started.new and started.emergency.check_due_at is not None:
            # plain values: the job store is written after this message's commit
            eid, due = started.emergency.id or 0, started.emergency.check_due_at
            ctx.after_commit.append(lambda: checkon.schedule_followup(scheduler, eid, due))
    else:
        clear_flag(ctx.session, EMERGENCY_FLAG)
        checkon.stop(ctx.session, ctx.now)
        ctx.reply("已关闭战时模式。", mention=False)
