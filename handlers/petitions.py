"""Petitions (诉求): open a numbered ticket, acknowledge once, tell the responsible staff."""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Callable, Iterator, Mapping

from sqlalchemy import Row, bindparam, exists, true, union_all
from sqlalchemy import select as core_select
from sqlmodel import col, func, select

from bot.config import ROLE_NAMES
from bot.privacy import mask, mask_flats
from bot.context import Context
from common.emoji import without_emoji
from common.numerals import cn_number
from domain.checkon import audit_read, petition_mark
from domain.deadlines import due_at, format_day, format_due
from nlp.segment import content_words
from nlp.router import FLAT_ALSO, ITEM_ALSO, ME_TOO_TROUBLE, ME_TOO_WHO, SIGHTING, TROUBLE_AGAIN, Route, default_router
from storage import directory, tickets
from storage.messages import last_from_others
from storage.visits import PACKED_PETITION_HOMES, PetitionHome, petition_homes_params, unpack_homes
from storage.outbox import excerpt
from storage.models import AuditEntry, Person, Room, Ticket, TicketEvent, TicketReporter
from storage.state import EMERGENCY_FLAG, StateFlag
from storage.tables import table_of

if TYPE_CHECKING:
    from nlp.router import Route

log = logging.getLogger(__name__)

# Dangers a neighbour's "me too" may share with an ordinary report just above (water, not fire or gas)
MILD_DANGERS = frozenset({"flood"})
_NOT_WORD = re.compile(r"[^\w]|_")
THROTTLED = "限流"  # audit action: the sender was told once that they are over the ticket limit
MAX_ASK = 3  # a follow-up that fits up to this many open tickets asks which; more: silence
CHASE_QUIET = timedelta(hours=1)  # a second 催办 of one ticket within this pings no one again
# A follow-up that names nothing must ask about the handling itself to chase the sender's ticket:
# nobody came or acts, how long it has been, when it will be done ("还没人管吗？都一个礼拜了").
CHASE = re.compile(
    r"没人(?:修|管|处理|来|理|弄|清|问|打电话|联系|回复|回电话?|说一声|吭声|告诉)|(?:[一两二三四五六七八九十几]{1,2}|好几|\d+)天了(?:也|都|还)|有人管|有没有人(?!能|可以|有空|愿意|帮|陪|带|送)|管不管|怎么还没|咋还没|还没(?:修|处理|解决|人|弄好|清|搬|挪|拿走)"
    r"|都(?:快要?|已经|有)?(?:[一两二三四五六七八九十几]{1,2}|好几|半|\d+)?(?:个多?|多个?)?(?:天|周|礼拜|星期|月)了"
    r"|催(?:一下|催|办)|进展|什么时候(?:来|修|处理|弄|管)|啥子?时候(?:来|修|处理|弄|管)|还不(?:清|修|管|处理|弄|来|收|搬)"
    r"|还是(?:老样子|一样|那样)|(?:说了|沟通了?|上门了?)(?:也)?没(?:用|效果)"  # "昨晚又跺了 还是老样子"
    r"|(?:也|都|还)没(?:个|点)?动静|有人联系了?没|有没有人联系|联系了没|管了没有?|管没管"  # "三楼的呢 也没动静啊"
    # "还在滴", "说好的十点收 现在都十二点多了还在哗啦啦", "物业说的来查也没来"
    r"|还在(?:往下)?(?:滴|渗|漏|响|吵|闹|哗啦啦)|说好(?:的)?\S{0,8}?(?:现在|结果)|(?:说|讲)(?:的|好的?)?(?:来查|来修|来看|来弄)\S{0,2}也没来"
    r"|不是说\S{0,8}(?:吗|嘛)"  # "线都拖到楼梯上了 不是说周五清理吗"
    r"|能不能(?:帮忙)?管(?:管|一管|一下)?|(?:快|赶紧|帮忙|给)(?:点)?管(?:管|一管|一下)"  # "@楼道通 能不能管管"
    r"|(?:还|到底)(?:修|管|弄)不(?:修|管|弄)|能不能快点(?:修|弄|来|处理)"  # "电梯到底还修不修了"
)
# "我家也是", "+1", "同楼上" standing alone (not "我也是要去的"): the sender has the same problem as a
# report made shortly before; nothing names it, so only a fresh ticket can be meant.
ME_TOO = re.compile(
    r"^\W*(?:" + ME_TOO_WHO + r"(?:(?:也是|也一样|也这样|同样|一样)(?:的|这样)?(?=$|\W)|" + ME_TOO_TROUBLE + ")"
    r"|(?:同楼上|同上|[+＋]1|加一|(?:一样|同样)的?(?:情况|问题))(?=$|\W)|" + FLAT_ALSO + ")|" + SIGHTING
)
ME_TOO_WINDOW = timedelta(days=1)
URGENT_CHASED_WITHIN = timedelta(hours=12)  # a vague "有人管吗" this soon after a danger is about it
DANGER_ME_TOO_WINDOW = timedelta(minutes=30)  # "我家也闻到了" this soon after a neighbour's alarm is that danger
_ABOUT_REPAIR = re.compile(r"没(?:有)?修|修好|来修|维修|修一下|修不修")
_CLAUSES = re.compile(r"[\s，,。！!？?；;]+")
PLUS_ONE_FIRST = re.compile(r"^\W*(?:[+＋]1|加一|同楼上|同上)(?=$|\W)")
# "我屋头关起窗子都闻得到": how strong the smell or noise is, not a window that is the problem
SHUT_WINDOWS = re.compile(r"[关开][起着上了紧]*(?:门)?窗(?:子|户)?|窗(?:子|户)?(?:都|也)?不敢开")  # ("开窗都闻得到")
# The one complained of, owning up: "纸箱是我家装修拆出来的 下午就搬走 不好意思哈", "是我家的车 马上挪"
OWNS_UP = re.compile(
    r"(?:是我家|是我们家|是我的|我家的)\S{0,12}(?:马上|下午|晚上|明天|等下|等会|一会儿?|今天)?\S{0,3}(?:就)?(?:搬走|拿走|清走|收走|挪走|挪开|扔掉|处理掉|收拾)"
    r"|不好意思(?:哈|啊|了)?(?:\W|\[[^\]]{1,6}\])*$"
    # the one complained of, arguing back: "是说我吧 楼下又没有充电桩 不在楼道充去哪充"
    r"|^\W*(?:是说我|说的是我|说我)(?:家|们家)?(?:吧|吗|呢|啊|是吧)|(?:不在|不让在?)楼道\S{0,6}(?:去哪|在哪|上哪)"
    r"|凭什么(?:就)?(?:我家|我们家|我|说我|不让我)|别人家\S{0,8}不也"  # "凭什么就我家不能放 别人家鞋柜不也摆在门口"
    # the one complained of, apologising: "楼下邻居实在对不起 是我家乐乐 … 以后九点以后不让他拍了"
    r"|(?:对不起|抱歉|不好意思|给大家添麻烦)[^。！!？?]{0,24}(?:是我家|是我们家|我家的|我们家的)"
    r"|(?:是我家|是我们家)[^。！!？?]{0,24}(?:对不起|抱歉|不好意思|以后\S{0,8}(?:不让|不会|注意|一定))"
    # the renovating owner (blind replay s30f): telling ahead, owning up, promising, paying
    r"|敬请谅解|请(?:大家|各位)?(?:多多)?(?:谅解|包涵|见谅)|给大家添麻烦了|是我(?:家)?(?:放|堆|弄|扔|喂|养|挂)的"
    r"|是我们?(?:不对|的错|没做好)|我来(?:出钱|赔|修|负责)|(?:划痕|损失|费用)\S{0,2}我(?:来)?(?:赔|出)"
    r"|我(?:已经)?(?:让|叫|请|约|找)了?\S{0,4}(?:师傅|工人|保洁|装修队|施工队)[^。！!？?]{0,16}?(?:封|扫|擦|清|搬|收拾|保护|铺)"
)
# A guess at who did it ("是不是对门那家拿的", "我怀疑是对门601拿的"), first in the line
ACCUSES = re.compile(r"^\W*(?:是不是|会不会|肯定是|一定是|我怀疑(?:是)?|怀疑是|估计是|八成是)\S{0,10}?(?:拿|偷|干|弄|搞|顺|扔|堆)的")
# Neighbours arguing over whose fault it is ("你家不漏 难道是天上漏下来的？", "别乱说", "懒得跟你讲"): no
# report and no more of one ("难道没人管吗" is still a chase)
RETORT = re.compile(
    r"难道(?:是|还是)?(?:天上|我|自己|我家|我们家|地上|楼下)|你(?:家|们家)(?:又)?不(?:漏|吵|响|臭)\W"
    r"|(?:别|不要|少)(?:乱说|瞎说|胡说|冤枉)|懒得(?:跟|和|理)你|关你(?:什么|啥|屁)事"
    # the accused denying or arguing: "我家水管好好的 … 不是我家漏的", "我是按规定时间装的 … 装修哪有不吵的"
    r"|不是我家(?:漏|吵|堆|弄|放|扔)的|按规定(?:的)?时间|(?:装修|小孩|孩子)哪有不(?:吵|闹|响)"
)
# Staff in a group telling what is being done ("已经跟物业说过了", "我下午带物业上去看看", "维修师傅明天上午去",
# "大家放心"): their commands do the handling, the line is no report and no one more voice on one
STAFF_ON_IT = re.compile(
    r"(?:已经|早就|刚)(?:跟|和|给|向)\S{0,6}(?:说|讲|联系|反映|打电话)(?:过)?了"
    r"|(?:我|我们)\S{0,8}(?:带|叫|喊|找|联系|约)(?:了)?\S{0,3}(?:物业|师傅|工人|电工|维修)\S{0,6}(?:去|来|上去|过去|看看|上门)"
    r"|(?:维修)?师傅\S{0,6}(?:明天|今天|下午|上午|马上|一会儿?|晚点|晚上)\S{0,4}(?:去|来|上门|过来|上去|到)"
    r"|大家放心|我(?:马上|这就|现在)?(?:过去|上去|下去|过来)看(?:看|一下)?"
    r"|已经登记了|(?:下午|明天|今天|马上|等下|一会儿?)(?:就)?(?:让|叫|安排|派)\S{0,4}(?:师傅|工人|电工)"
    # "今天我跟物业去查一下楼道充电的事" (blind replay s31l)
    r"|我\S{0,4}(?:跟|和|找)(?:物业|师傅|网格员|社区)\S{0,2}(?:去)?(?:查|看|处理|清|弄)(?:一下|一查|看)?"  # "下午让维修师傅上去看看"
    # "高师傅 这个是2单元的 我跟网格员说一下", "我是网格员赵磊 … 有事直接在群里说 我都能看到"
    r"|我(?:来|去|马上)?(?:跟|和|给|向)\S{0,6}(?:说|讲|联系|反映)(?:一下|一声)|有事(?:直接)?(?:在群里)?(?:说|找我|联系我)|我都能看到"
    # what was found and done (blind replay s30d/e): "我刚上去看了 是…接头松了 已经让他家先别用水了",
    # "民警来了 人跑了 电工明早来接线", "我已经打了燃气公司电话 他们说二十分钟到"
    r"|我(?:刚|刚才|已经)?(?:上去|下去|过去|去)?看(?:了|过了)|已经(?:让|叫|请|通知|打了?)\S{0,8}"
    r"|(?:民警|警察|电工|师傅|物业|燃气公司|抢修)(?:的人)?(?:已经)?(?:来了|来过了|到了|在了|说)"
    r"|(?:明早|明天|今晚|马上|一会儿?)\S{0,2}(?:来|过来|上门)\S{0,2}(?:接|修|换|看|处理)"
)
# A neighbour offering a hand ("我家有梯子 明天我帮忙看看是灯泡坏了还是开关的问题"): no one more reporter
OFFERS_HELP = re.compile(r"我(?:家|这)?有(?:梯子|工具|灯泡|备用)|我(?:明天|等下|下午|晚上)?(?:来|去)?帮(?:忙|你|您|大家)?(?:看看|修|换|弄|瞧瞧)")
# Someone of the property company or the office saying so ("张阿姨您好 我是物业小刘 已经登记了"): staff
# in what they say, whatever role the bot knows them by
SAYS_STAFF = re.compile(r"我是(?:物业|居委|社区|网格)|(?:物业|居委)的?小?[\u4e00-\u9fff]{0,2}(?:这边|在这)")


def staff_on_it(ctx: Context) -> bool:
    """Staff (or someone saying they are the property company's) telling what is being done."""
    return (ctx.caller.is_staff or SAYS_STAFF.search(ctx.masked_text) is not None) and STAFF_ON_IT.search(ctx.masked_text) is not None


_ASKS = re.compile(r"[?？吗呢]")
# Still broken, in the words a fault is told ("那个门还是关不上"): of one's own open ticket, a chase
STILL_BROKEN = re.compile(r"还是(?:关不上|打不开|锁不上|不亮|不热|坏的|没水|没电|这样|这个样子|老样子)")  # "[图片] 你们看 还是这样"  # a question, not a statement (staff asking which ticket get asked back)
# "这个要管管" / "是该管管了" under a neighbour's report: support for it, not a report of its own
# (a hazard someone reports draws "这个要管管 上次隔壁小区就着火了", which is about that report).
SUPPORT = re.compile(r"(?:要|该|得|必须|应该|早该|真该|是该)(?:好好)?管(?:管|一管|一下)|早该管")
# "是的 晚上叫得更厉害" / "对 我也听到了" right under a neighbour's report: agreeing with it.
AGREES = re.compile(r"^\W*(?:是的|是啊|是呀|对的?|对啊|对呀|对对对?|确实|没错|就是(?:的|啊|呀)?|可不是(?:嘛|吗)?)+(?:\W|$)")
# "灯修好没有啊" / "处理了吗": a question about how a problem stands (a statement that it is broken
# again is a new report, or a rating of the resolved ticket by its reporter).
STATUS_QUESTION = re.compile(
    r"(?:修|弄|处理|解决|搞|清理?|换|搬|拉|收|运|拿|挪|通|疏通|调|查|看)(?:好|完|走|掉|干净)?(?:了没有?|没有?|了吗|吗|了没呢?)(?![几多两一三])"  # not "才修好没几天"
    r"|(?:监控|录像)\S{0,4}(?:调|查|看)\S{0,2}(?:了吗|没有?|了没)"  # "监控调了没有 有结果没"
    r"|(?:怎么|咋)样了|有(?:结果|消息)了?[吗没]"
)
# "电梯好了吗" / "灯修好没有": how a problem of the group stands, asked in its words
ASKS_HOW_IT_STANDS = re.compile(
    r"好了(?:吗|没有?|没呢)|(?:什么|啥)时候(?:才|能)?(?:来|过来|上门)(?:修|装|换|弄|看)?"
    r"|(?:几点|什么时候|啥时候|多久)(?:才|能|可以)?(?:来|通|恢复|有)(?:水|电|气)|能(?:坐|用|走|进)了?吗|" + STATUS_QUESTION.pattern  # "几点来水啊"
)  # "那玻璃什么时候来装啊": when, of a ticket whose staff noted progress, is how it stands
# "我想查一下我反映的问题", "我报修的事怎么样了": the sender's own tickets (/我的工单, unnamed)
ASKS_OWN_TICKETS = re.compile(r"我\S{0,4}(?:反映|报修|报|提)(?:的|过的)\S{0,2}(?:问题|事情?|工单)")
RESOLVED_RECENTLY = timedelta(days=7)
RESOLVED_LOOKED_AT = 10  # the group's latest resolved tickets a status question is matched against
# "就在信箱对面那里", "在楼梯拐角": where, in words rather than a flat or floor
SAYS_WHERE = re.compile(r"^\W*(?:[\u4e00-\u9fff]{1,3}?(?=就在))?(?:就|是)?在\S{0,8}?(?:那里|那儿|这里|这儿|那边|这边|旁边|对面|门口|拐角|转角|边上|下面|上面|后面|前面|里面)")
DETAIL_WINDOW = timedelta(minutes=30)  # "就在3楼" this long after one's own report still belongs to it
# "不对 是5楼不是4楼", "打错了 是楼上602漏到我家502": the reporter putting the report's place right
CORRECTS = re.compile(r"不对(?!劲|头|称|付)|[打说写搞弄记看]错了?|更正|纠正|口误|不是\S{1,12}?\s*(?:是|而是)|(?:是|应该是)\S{1,16}?\s*不是")
_CORRECTION_WORDS = re.compile(r"不对(?:不对)?(?!劲|头|称|付)|[打说写搞弄记看]错了?|更正一下|纠正一下|更正|纠正|口误|sorry|抱歉|不好意思")
_WRONG_CLAUSE = re.compile(r"(?:而)?不是[^\s，,。；;！!]{1,16}")
ME_TOO_RIGHT_AFTER = timedelta(minutes=10)  # with several reports that day, "+1" means the one just above


def _handler_label(ctx: Context, staff: list) -> str:
    if not staff:
        return "社区工作人员"
    first = staff[0]
    roles = directory.roles_of(ctx.session, first.id)
    title = next((ROLE_NAMES[r] for r in ("officer", "leader", "grid") if r in roles), "工作人员")
    return f"{title}{first.name}"


# Where in the building a report is: a flat (402, 3-302, 502室), a floor (3楼, 五楼, 5层), a unit, a
# building, a numbered thing (1号电梯). Two reports naming different ones are different problems.
HOTLINES = frozenset({"110", "119", "120", "122"})  # "已经打了110" names no flat
_FLAT = re.compile(r"(?<![\d.:：/年月-])(?:\d{1,2}\s*[-－]\s*)?(\d{1,2})(0[1-9]|1[0-2])(?![\d.:：年月日号点时分元块米斤岁%])")
# "5-02" (floor-room, the room in two digits): flat 502; "3-302" is the building and the flat, above
_FLOOR_ROOM = re.compile(r"(?<![\d.:：/年月-])(\d{1,2})\s*[-－]\s*(0[1-9]|1[0-2])(?![\d.:：年月日号点时分元块米斤岁%-])")
# "5楼2号" (floor, then the door on it): flat 502
_FLOOR_AND_DOOR = re.compile(r"(?<![\d号])(\d{1,2})\s*楼\s*([1-9])\s*号(?![楼\d])")
_FLOOR = re.compile(r"(?<![\d号])(\d{1,2}|[一二三四五六七八九十]{1,3})\s*(?:楼|层)(?!梯|道|房|主|长|号)")
_UNIT = re.compile(r"(\d{1,2}|[一二三四五六七八九十]{1,3})\s*单元")
_BUILDING = re.compile(r"(\d{1,3})\s*(?:号楼|幢|栋)")
_NUMBERED = re.compile(r"(\d{1,2})\s*号(?!楼|\d)")
_ZONE = re.compile(r"(?<![A-Za-z])([A-Za-z])\s*区")  # a garage's or a courtyard's zone: "地库C区"


@lru_cache(maxsize=4096)  # every petition compares itself with its group's open tickets' texts
def places(text: str) -> Mapping[str, int]:
    """{"flat": 402, "floor": 4, "unit": 2, "building": 3, "no": 1, "zone": ord("C")}, for what the text names
    (remembered: read it, never change it)."""
    found: dict[str, int] = {}
    flat = next(_flat_matches(text), None)
    if flat:
        found["flat"] = int(flat.group(1) + flat.group(2))
        found["floor"] = int(flat.group(1))
    floor = _FLOOR.search(text)
    if floor and "floor" not in found:
        found["floor"] = cn_number(floor.group(1))
    for key, pattern in (("unit", _UNIT), ("building", _BUILDING), ("no", _NUMBERED)):
        match = pattern.search(text)
        if match:
            found[key] = cn_number(match.group(1))
    zone = _ZONE.search(text)
    if zone:
        found["zone"] = ord(zone.group(1).upper())
    return found


def same_place(a: Mapping[str, int], b: Mapping[str, int]) -> bool:
    """Compatible places: every kind both name is the same (an unnamed one matches anything)."""
    return all(a[key] == b[key] for key in a.keys() & b.keys())


def _flat_matches(text: str) -> Iterator[re.Match[str]]:
    """The flats a text names, in its order (an emergency number is none)."""
    text = _FLOOR_AND_DOOR.sub(lambda m: f"{m.group(1)}0{m.group(2)}", text)
    found = [m for m in _FLAT.finditer(text) if m.group(1) + m.group(2) not in HOTLINES]
    found += _FLOOR_ROOM.finditer(text)
    return iter(sorted(found, key=lambda m: m.start()))


@lru_cache(maxsize=4096)
def flats_named(text: str) -> frozenset[int]:
    """Every flat a text names (a leak names two: "我家302也被502漏下来的水泡了")."""
    return frozenset(int(m.group(1) + m.group(2)) for m in _flat_matches(text))


_FLOOR_SPAN = re.compile(
    r"(?<![\d号])(\d{1,2}|[一二三四五六七八九十]{1,3})\s*(?:楼|层)?\s*(?:到|至|和|跟|与|-|~|—)\s*"
    r"(\d{1,2}|[一二三四五六七八九十]{1,3})\s*(?:楼|层)(?!梯|道|房|主|长|号)"
)


MAX_SPAN_FLOORS = 6  # "一到五楼的墙上": a whole stairwell's flights are one stretch


def floor_span(text: str) -> range | None:
    """The floors of a stretch a text names ("二楼到三楼那段扶手": 2–3), or None."""
    match = _FLOOR_SPAN.search(text)
    if match is None:
        return None
    low, high = sorted((cn_number(match.group(1)), cn_number(match.group(2))))
    return range(low, high + 1) if high - low <= MAX_SPAN_FLOORS else None


def _within_span(old_text: str, new_text: str, old: Mapping[str, int], new: Mapping[str, int]) -> bool:
    """A floor inside the stretch the other text names is the same place ("三楼那一截" of
    "二楼到三楼那段扶手"); every other kind of place must still agree."""
    spans = floor_span(old_text), floor_span(new_text)
    if spans == (None, None) or not same_place(_without(old, "floor"), _without(new, "floor")):
        return False
    if "floor" not in old or "floor" not in new:
        return True
    old_span, new_span = spans[0] or range(old["floor"], old["floor"] + 1), spans[1] or range(new["floor"], new["floor"] + 1)
    return bool(set(old_span) & set(new_span))


def same_place_in(old_text: str, new_text: str) -> bool:
    """Whether two texts name compatible places; a flat both name makes them one place whichever
    each names first (the leak's source in one report, the flat it reaches in the other)."""
    old, new = places(old_text), places(new_text)
    if same_place(old, new) or _within_span(old_text, new_text, old, new):
        return True
    if not flats_named(old_text) & flats_named(new_text):
        return False
    return same_place(_without(old, "flat", "floor"), _without(new, "flat", "floor"))


def _without(place: Mapping[str, int], *kinds: str) -> dict[str, int]:
    return {k: v for k, v in place.items() if k not in kinds}


def _families(objects: frozenset[str] | set[str]) -> set[str]:
    return {o.lstrip("*~").split("/")[0] for o in objects}


def same_object(old: frozenset[str], new: frozenset[str]) -> bool:
    """Same thing: a shared specific object ("灯", "噪音/装修"); when one report names only a
    family ("吵死了"), a shared family. Two reports naming different specific things never match."""
    specific_old = {o for o in old if not o.startswith("*")}
    specific_new = {o for o in new if not o.startswith("*")}
    if specific_old & specific_new:
        return True
    if specific_old and specific_new:
        return False
    return bool(_families(old) & _families(new))


def objects_of(router) -> Callable[[str], frozenset[str]]:
    """The router's object finder; a router without one (a test's scripted router) borrows the
    lexicon's, so one-problem-one-ticket holds whatever routes the message."""
    return getattr(router, "objects", None) or default_router().objects


def symptoms_of(router) -> Callable[[str], frozenset[str]]:
    """The router's symptom finder ("~漏水" even beside a thing), or the lexicon's."""
    return getattr(router, "symptoms", None) or default_router().symptoms


def only_symptoms_of(router, named: frozenset[str], text: str) -> bool:
    """Whether ``named`` is symptoms alone ("楼上漏下来的水"), every one of them in ``text``."""
    return bool(named) and all(o.startswith("~") for o in named) and named <= symptoms_of(router)(text)


def same_problem(existing: Ticket | Row, new_text: str, new_urgent: bool, router) -> bool:
    """A new report joins an open ticket only when it is about the same object (the thing broken,
    the behaviour complained of: lexicon `objects`) in a compatible place, and never an urgent
    report into an ordinary ticket (the danger gets its own ticket, advice and 2-hour limit)."""
    if new_urgent and not existing.urgent:
        return False
    objects = objects_of(router)
    old_objects, new_objects = objects(existing.text), objects(new_text)
    if not same_place_in(existing.text, new_text) and not _one_of_the_stairwell(existing.text, new_text, old_objects, new_objects):
        return False
    if not old_objects and not new_objects:  # nothing named ("我孙子不见了 七岁…"): only the same words again
        return gist(existing.text) == gist(new_text)
    return same_object(old_objects, new_objects) or same_symptom(existing.text, new_text, router)


# Things a stairwell has one of: the floor a report names is where the teller is, not the
# thing ("电梯又坏了 停在二楼" and "…抬下八楼的 能不能快点修" are one lift)
STAIRWELL_WIDE = frozenset({"电梯", "门禁"})


def _one_of_the_stairwell(old_text: str, new_text: str, old: frozenset[str], new: frozenset[str]) -> bool:
    shared = {o for o in old & new if not o.startswith("*")}
    return bool(shared) and shared <= STAIRWELL_WIDE and same_place(
        _without(places(old_text), "flat", "floor"), _without(places(new_text), "flat", "floor"))


def same_symptom(old_text: str, new_text: str, router) -> bool:
    """One report names only a symptom ("502漏下来的水"), the other names it with a thing
    ("5-02家卫生间漏水 墙皮都鼓起来了", where the wall is what shows it), both of one flat: the
    same trouble."""
    if not flats_named(old_text) & flats_named(new_text):
        return False  # "楼上漏水了" is not the roof tank's leak: only one flat's leak is known as one
    objects = objects_of(router)
    return only_symptoms_of(router, objects(new_text), old_text) or only_symptoms_of(router, objects(old_text), new_text)


def open_in_room(ctx: Context) -> list[Row]:
    """Open tickets of this group, newest first (candidates for a repeat or a follow-up), as
    plain rows: the one a message joins becomes a Ticket in _join_existing."""
    assert ctx.room is not None
    return tickets.open_in_room(ctx.session, ctx.room.id)


def _answer_if_resolved(ctx: Context) -> str | None:
    """A question whether a problem is fixed, about a ticket of this group resolved this week:
    its resolution note is the answer. Returns that ticket's category, or None."""
    if not STATUS_QUESTION.search(ctx.masked_text):
        return None
    return _tell_if_resolved(ctx)


def _tell_if_resolved(ctx: Context) -> str | None:
    """The resolution of this group's ticket of the same problem resolved this week, if any."""
    done = recently_resolved(ctx)
    if done is None:
        return None
    _tell_resolved(ctx, done)
    return done.category


# "我家还在滴呢 302卫生间顶上一片湿的": the speaker's own flat, where the problem reaches them (a
# neighbour's flat is never the reporter's): no other place than the report's
OWN_FLAT = re.compile(r"((?:我家|我们家|俺家|我屋头|阿拉屋里)[^，,。！!？?]{0,8}?)([0-9]{3,4})(?![0-9])")


def without_own_flat(text: str) -> str:
    return OWN_FLAT.sub(lambda m: m.group(1) + " ", text)


def _resolved_this_week(ctx: Context) -> list[Ticket]:
    """This group's tickets resolved in the last week, newest first (at most RESOLVED_LOOKED_AT)."""
    assert ctx.room is not None
    return list(ctx.session.exec(
        select(Ticket)
        .where(Ticket.room_id == ctx.room.id, col(Ticket.status).in_(tickets.RESOLVED_STATUSES),
               col(Ticket.resolved_at) >= ctx.now - RESOLVED_RECENTLY)
        .order_by(col(Ticket.id).desc())
        .limit(RESOLVED_LOOKED_AT)
    ).all())


def recently_resolved(ctx: Context, text: str | None = None) -> Ticket | None:
    """The newest ticket of this group resolved in the last week about the same problem (as
    ``text`` tells it; default: the message)."""
    said = ctx.masked_text if text is None else text
    return next((t for t in _resolved_this_week(ctx) if same_problem(t, said, False, ctx.services.router)), None)


def _resolved_sharing(ctx: Context, words: set[str]) -> Ticket | None:
    """The one ticket resolved this week whose report or 办结 note shares a word with ``words``."""
    if not words:
        return None
    found = [t for t in _resolved_this_week(ctx)
             if words & content_words(f"{t.text} {tickets.last_note(ctx.session, t.id or 0, '办结') or ''}")]
    return found[0] if len(found) == 1 else None


def _tell_resolved(ctx: Context, ticket: Ticket) -> None:
    assert ticket.id is not None and ticket.resolved_at is not None
    note = tickets.last_note(ctx.session, ticket.id, "办结")
    ctx.handled.ticket, ctx.handled.joined = ticket.id, False
    ctx.reply(
        f"这个问题（#{ticket.id} {ticket.category}）已于{format_day(ticket.resolved_at)}办结"
        + (f"：{mask_flats(note)}" if note else "")
        + "。如果还没解决，请说一下现在的情况，我们重新跟进。"
    )


def _route(ctx: Context, text: str):
    """The router's answer for this text (remembered by the dispatcher: no second pass)."""
    return ctx.services.router.route(text, staff=ctx.caller.is_staff)


async def on_petition(ctx: Context, category: str | None, urgent: bool, text: str) -> str:
    """Open a ticket, or join the open one of the same problem; returns the ticket's category."""
    room = ctx.room
    category = category or "其他"
    route = _route(ctx, text)
    standing = _standing(ctx)
    urgent = urgent or standing.emergency
    now = ctx.now
    # Over the per-sender limit nothing more is said (not even "已补充到您的工单"), except in a danger.
    if not urgent and not ctx.opened_by_parts and _throttled(ctx, standing):
        return category  # (a list's items are one message: its sixth item is no flood)
    if room is not None and not urgent and ASKS_HOW_IT_STANDS.search(ctx.masked_text):
        # "楼道灯修好了吗" while its ticket is in hand: how it stands, not one more reporter (with
        # no progress yet, the question chases it, as below)
        answered = on_status_question(ctx, in_hand_only=True)
        if answered is not None:
            return answered
    if room is not None and not urgent and staff_on_it(ctx):
        return category  # staff telling the group what is being done: their commands act
    if not urgent and ACCUSES.match(ctx.masked_text):
        # "是不是对门那家拿的 我看他家老太太…": a guess at a neighbour is no report; privately, from the
        # reporter of one open ticket, it is more on that one for the staff (never said in the group)
        mine = _mine(ctx, stairwell_open_tickets(ctx, directory.home_stairwell(ctx.session, ctx.caller.person_id))) \
            if room is None else []
        if len(mine) == 1:
            _join_existing(ctx, mine[0])
            return mine[0].category
        return category
    if room is not None and not urgent and (OWNS_UP.search(ctx.masked_text) or RETORT.search(ctx.masked_text)
                                            or OFFERS_HELP.search(ctx.masked_text) or _another_units_question(ctx)):
        # "纸箱是我家装修拆出来的 下午就搬走 不好意思哈": the one complained of, no voice on it (nor
        # the reporter's retort to them);
        # "2单元电梯修好了吗" asked in 1单元's group: not this group's problem
        return category
    candidates = standing.open_tickets
    # A private report is filed under the sender's stairwell, and joins a ticket its group already has
    home = directory.home_stairwell(ctx.session, ctx.caller.person_id) if room is None else room
    if room is None:
        candidates = stairwell_open_tickets(ctx, home)
    if ctx.opened_by_parts:  # "1.闭门器坏了 … 3.天台门锁坏了": each item of a list its own ticket
        candidates = [t for t in candidates if t.id not in ctx.opened_by_parts]
    if room is not None and not urgent and ctx.caller.is_staff and not _ASKS.search(ctx.masked_text) and any(
            same_problem(t, ctx.masked_text, False, ctx.services.router) for t in candidates):
        # staff telling the group what was done about an open ticket ("已经让302把车推下去了 以后不准在
        # 楼道充电"): no voice on it and nothing to answer (their commands do the handling)
        return category
    quoted = _quoted_report(ctx, candidates) if room is not None and not urgent else None
    if quoted is not None:  # under the quoted report (or the bot's line about it): more on that ticket
        said = mask(ctx.quote.said) if ctx.quote else ctx.masked_text
        chase = ME_TOO.search(said) is None and (
            CHASE.search(said) is not None or ASKS_HOW_IT_STANDS.search(said) is not None
            or (route.followup and bool(_mine(ctx, [quoted]))))
        _join_existing(ctx, quoted, followup=chase)
        return quoted.category
    more = _more_of_own_danger(ctx, candidates) if room is not None and urgent else None
    if more is not None:  # "叫他也不太应" a minute after one's own "老伴在楼梯上摔倒了 起不来": the same danger
        if not _throttled(ctx, standing):  # (its repeats are held back past the limit, as below)
            _join_existing(ctx, more, danger=route.danger)
        return more.category
    corrected = _corrected(ctx, _own_fresh(ctx, candidates)) if not urgent else None
    if corrected is not None:  # "打错了 是楼上602漏到我家502": the report's place put right
        return corrected
    supported = (
        _report_supported(ctx, candidates) if room is not None and not urgent and SUPPORT.search(ctx.masked_text)
        else None
    )
    if supported is not None:
        _join_existing(ctx, supported)  # a second voice on the report just above, chasing nothing
        return supported.category
    if room is not None and urgent and ME_TOO.search(ctx.masked_text):
        # "我家也闻到烧焦味了" minutes under a neighbour's smoke report: the same danger, not a
        # second alarm (a different danger still gets its own ticket)
        danger_above = _report_supported(ctx, [t for t in candidates if t.urgent])
        if danger_above is None:  # a 接龙 copy or a word posted in between: the one such danger of the last minutes
            alike = [t for t in _fresh_from_others(ctx, candidates, DANGER_ME_TOO_WINDOW)
                     if t.urgent and t.category == (route.category or t.category)]
            danger_above = alike[0] if len(alike) == 1 else None
        if danger_above is not None:
            _join_existing(ctx, danger_above, danger=route.danger)
            return danger_above.category
        if route.danger in MILD_DANGERS and objects_of(ctx.services.router)(ctx.masked_text):
            # "我家的车库也进水了" under "地下车库一下雨就积水": that water (naming nothing: no guess)
            fresh = _me_too_of(ctx, candidates)
            if fresh is not None:
                _join_existing(ctx, fresh)
                return fresh.category
    if room is not None and not urgent and AGREES.match(ctx.masked_text):
        agreed = on_agreement(ctx)  # "是的 我早上下楼差点被绊倒" under the clutter report
        if agreed is not None:
            return agreed
    if (
        room is not None and not urgent and not objects_of(ctx.services.router)(ctx.masked_text)
        and ((route.followup and not ctx.event.mentions_bot) or CHASE.search(ctx.masked_text))
    ):
        # "还没人管吗 都五天了" names nothing: it chases the sender's ticket or opens none; asked
        # directly ("@楼道通 能不能管管"), or telling a problem of its own ("卖保健品骗老人 能不能
        # 管管"), with no ticket of theirs to chase, it is a new one
        replied = len(ctx.replies)
        own_problem = _problem_told(ctx, has_own=bool(_mine(ctx, candidates)))
        chaseable = candidates
        if own_problem:  # only a ticket that shares its words is chased ("摆摊的又来了" → the 摆摊 ticket)
            chaseable = [t for t in candidates if own_problem & content_words(t.text)]
            if not chaseable and TROUBLE_AGAIN.search(ctx.masked_text):
                # "昨晚又叫到两点多 今晚又开始了": the trouble back, in other words, from a reporter of one open ticket
                mine = _mine(ctx, candidates)
                chaseable = mine if len(mine) == 1 else []
        joined = await on_followup(ctx, text, chaseable)
        if joined or len(ctx.replies) > replied or not (ctx.event.mentions_bot or own_problem):
            return joined or category
    if room is not None and not urgent and ME_TOO.search(ctx.masked_text):
        # "我家302也被楼上漏水泡了" minutes under a neighbour's leak report: their own flat, the same leak
        fresh = _me_too_of(ctx, candidates)
        if fresh is not None:
            _join_existing(ctx, fresh)
            return fresh.category
    # (where, told in words, minutes later: "就在四楼到五楼转角那 挡着半边楼梯" of one's own report)
    window = DETAIL_WINDOW if SAYS_WHERE.search(ctx.masked_text) else REST_OF_REPORT_WINDOW
    rest = _rest_of_own_report(ctx, candidates, window) if room is not None and not urgent else None
    if rest is not None:  # "消防通道都堵赛了" seconds after one's own "5楼2号门口堆了好多纸箱子": more of it
        _join_existing(ctx, rest)
        return rest.category
    if ctx.services.config.tickets.merge_open_tickets:
        matches = _narrow(ctx, [t for t in candidates if same_problem(t, ctx.masked_text, urgent, ctx.services.router)])
        if 1 < len(matches) <= MAX_ASK and not urgent:
            _ask_which(ctx, matches)
            return category
        if matches:  # one, or so many that the newest is the best guess
            existing = matches[0]
            if urgent and tickets.is_reporter(ctx.session, existing.id, ctx.caller.person_id) and _throttled(ctx, standing):
                # Their danger was answered and its alert sent: the same sender repeating it is held
                # back like any report past the limit (60 repeats were 180 urgent rows jumping every
                # queue, ahead of another group's first danger line).
                return existing.category
            # "我家也是": joins, chases nothing; nor does a new voice's "都十一点半了还在叫" (how it
            # goes on, no chase words: the ticket was not theirs to chase)
            chase = route.followup and not ME_TOO.search(ctx.masked_text) and (
                CHASE.search(ctx.masked_text) is not None or ASKS_HOW_IT_STANDS.search(ctx.masked_text) is not None
                or bool(_mine(ctx, [existing])))
            _join_existing(ctx, existing, followup=chase, danger=route.danger if urgent else None)
            return existing.category
    if room is not None and route.followup and not urgent:
        answered = _answer_if_resolved(ctx)  # "灯修好没有啊" after it was fixed: the answer, not a new ticket
        if answered is not None:
            return answered
    chased = _own_ticket_chased(ctx, candidates, route) if room is not None and not urgent else None
    if chased is not None:  # "前几天说的那个扶手 到现在还是晃的 有人管没有" from its reporter
        _join_existing(ctx, chased, followup=True)
        return chased.category
    own = _named_by(ctx, _mine(ctx, candidates)) if room is None and not urgent else []
    if len(own) == 1:  # "楼上漏水的事 我家402天花板也湿了" in private from a reporter of the group's leak: more on it
        _join_existing(ctx, own[0])
        return own[0].category
    if not urgent and _sent_already_elsewhere(ctx, candidates):
        return category  # the same report again, in the group and in private (a flood): logged only
    # A private report's staff are its stairwell's (they follow it up and may act on it), while
    # nothing goes to the group: room_id stays empty.
    group = home
    ticket = Ticket(
        room_id=room.id if room else None,
        stairwell=group.stairwell if group else None,
        grid=group.grid if group else None,
        reporter_id=ctx.caller.person_id,
        category=category,
        urgent=urgent,
        text=ctx.masked_text,
        created_at=now,
        due_at=due_at(now, category, urgent, ctx.services.config.tickets),
    )
    staff = directory.responsible_staff(ctx.session, group)
    told = told_at_once(ctx, staff, group) if urgent else staff
    # Each one told gets the resident's words: logged (个人信息保护法) with the ticket
    tickets.open_ticket(ctx.session, ticket, note=category, notified=[p.id for p in told])
    assert ticket.id is not None
    ctx.handled.ticket, ctx.handled.joined, ctx.handled.urgent = ticket.id, False, urgent
    # In a danger the advice comes first, in the same message as the ticket number.
    first = f"【紧急】{ctx.services.config.danger_advice(route.danger)}\n" if urgent else ""
    # someone in despair, the danger over ("前天一时想不开吃了安眠药 … 现在没事了 心里还是堵得慌"): a word
    # of care and the helpline besides the number (in a danger the advice already gives it)
    care = "\n心里难受的时候可以随时拨打心理援助热线12356，也可以跟我们说说。" if not urgent and "#轻生" in route.keywords else ""
    ctx.reply(
        f"{first}已收到您反映的问题，编号 #{ticket.id}（{category}），"
        f"由{_handler_label(ctx, staff)}跟进，{format_due(ticket.due_at)}前答复。{care}"
    )
    where = room.topic if room else (f"私聊（{group.topic}）" if group else "私聊")
    mark, household = _at_risk(ctx, ticket, standing.homes)
    for person in told:
        if household is not None:
            audit_read(ctx.session, person.id, now, "工单关注", [household])
        ctx.private(
            person.id,
            f"【新工单 #{ticket.id}{' 紧急' if urgent else ''}】{where} · {category} · {ctx.caller.name}\n{mark}"
            f"内容：{excerpt(ticket.text, f'/进度 {ticket.id}')}\n截止：{format_due(ticket.due_at)}\n"
            f"指派 /派单 {ticket.id} @姓名 · 进展 /处理 {ticket.id} 说明 · 办结 /办结 {ticket.id} 说明",
        )
    if urgent:  # the staff group sees every urgent ticket at once (WeCom, when configured)
        ctx.services.to_staff_channel(
            ctx.session, key=f"urgent:{ticket.id}",
            # No resident's words here: the shared staff group gets the facts, officers the text.
            text=f"【紧急工单 #{ticket.id}】{where} · {category} · 截止{format_due(ticket.due_at)}",
        )
    log.info("ticket #%s opened (%s, urgent=%s)", ticket.id, category, urgent)
    return category


# "四楼的灯不亮了还有楼梯口堆了好多旧家具过不去人": two problems joined by "and also"
# (a bare 还有 only before a place: "纸箱子 旧沙发 还有腌菜的坛子" lists one pile, "冒火花了 还有烧焦的味道"
# tells more of one danger); "灯我自己换好了 不过换灯的时候发现电表箱的门掉了": one done, one found
_AND_ALSO = re.compile(
    r"(?:然后|对了)?还有就是|还有(?:一|个)(?:件|个)?事|另外(?:还有)?|再就是|再一个|对了还有|(?:对了)?顺便(?:说|反映|提)一下"
    r"|还有(?=[一二三四五六七八九十\d]+楼|楼梯|楼道|门口|楼下|楼上|单元门|车棚|地下|电梯|走廊|过道|顶楼|天台|我家门口)"
    r"|(?:不过|但是)(?=\S{0,8}?(?:发现|看到|注意到))"
    r"|(?:我)?(?:还)?想(?:问问|问一下|咨询一下)"  # "昨晚警察来过了 人没事 想问问离婚的话孩子抚养权一般怎么判"
)
# A numbered list, as people type one: "1.闭门器坏了 2.五楼堆了垃圾 3.天台门锁坏了", "1、… 2、…",
# "一是… 二是… 三是…", "一个是… 还有一个是…", "第一… 第二…" (blind replay s31e)
_LIST_ITEM = re.compile(
    r"(?:^|(?<=[\s，,。；;：:！!]))(?:"
    # ("1.5楼灯不亮 2.3楼堆了旧家具": an item and its floor; "物业费1.5元" is no item)
    r"(?P<digit>[1-9])\s*(?:[、)）]|[.．](?:(?!\d)|(?=\d{1,2}\s*(?:楼|层|单元|幢|栋|号楼))))|[（(](?P<paren>[1-9])[)）]|(?P<circled>[①②③④⑤⑥⑦⑧⑨])"
    r"|第(?P<nth>[一二三四五六七八九])(?:个|点|件)?(?:是|，|,|、|\s)|(?P<cn>[一二三四五六七八九])(?:是|、)"
    r"|(?P<first>一个是)|(?P<other>(?:还有|另外)(?:一个|一件)(?:是|就是)?|另一个是))"
)
_CN_DIGIT = {c: i + 1 for i, c in enumerate("一二三四五六七八九")}
_CIRCLED = {c: i + 1 for i, c in enumerate("①②③④⑤⑥⑦⑧⑨")}


def _item_number(m: re.Match[str]) -> int:
    if m.group("digit") or m.group("paren"):
        return int(m.group("digit") or m.group("paren"))
    if m.group("circled"):
        return _CIRCLED[m.group("circled")]
    if m.group("nth") or m.group("cn"):
        return _CN_DIGIT[m.group("nth") or m.group("cn")]
    return 1 if m.group("first") else 2


def list_items(text: str) -> list[str] | None:
    """The items of a numbered list counting 1, 2, … (the words before the first are its
    preamble: "给楼道长提几个事："); None when the text is no such list."""
    marks = list(_LIST_ITEM.finditer(text))
    bullets = all(m.group("first") or m.group("other") for m in marks)  # "一个是… 一个是… 还有一个是…"
    if len(marks) < 2 or not bullets and [_item_number(m) for m in marks] != list(range(1, len(marks) + 1)):
        return None
    ends = [m.start() for m in marks[1:]] + [len(text)]
    return [text[m.end():end].strip(" ，,。；;") for m, end in zip(marks, ends, strict=True)]


def then_also(text: str) -> tuple[str, str] | None:
    """(what comes first, the rest) of a message that goes on "还有就是…", "不过…发现…"; None."""
    parts = [p.strip(" ，,。") for p in _AND_ALSO.split(text, maxsplit=1)]
    return (parts[0], parts[1]) if len(parts) == 2 and all(parts) else None


_CLAUSE = re.compile(r"[\s，,。；;！!]+")
_TOO = re.compile(r"^(?:旁边|隔壁|对面|楼下|楼上)?\S{0,10}?也(?:坏|不|用不了|没|漏|堵|掉|裂|断|停|黑|臭|松|晃)")


def _another_thing_too(ctx: Context, text: str) -> list[str] | None:
    """"地库C区的灯又坏了好几个 旁边那两个汽车充电桩也用不了 扫码没反应": a later clause saying
    another thing is broken too (也) starts a second report; [before, from it on], or None."""
    clauses = [c for c in _CLAUSE.split(text) if c]
    objects = objects_of(ctx.services.router)
    for i in range(1, len(clauses)):
        if not _TOO.match(clauses[i]):
            continue
        before, after = " ".join(clauses[:i]), " ".join(clauses[i:])
        told, too = _families(objects(before)), _families(objects(clauses[i]))
        if told and too and not told & too:
            return [before, after]
    return None


def problems(ctx: Context, text: str) -> list[str] | None:
    """The reports one message makes, each a part of it said as if alone: a numbered list's items,
    or clauses joined by "and also" ("二楼那个灯坏了一个礼拜了还有就是一楼楼梯底下有人拉电线给电动车
    充电"), each about a different thing; None for one problem told at length ("灯坏了还有点闪" is
    one light). A list's item that is no report of its own (a legal question is; chatter is not)
    stays with the item before it. The dangers among them come first."""
    router, objects = ctx.services.router, objects_of(ctx.services.router)
    items = list_items(text)
    listed = items is not None
    parts = items if items is not None else [p.strip(" ，,。") for p in _AND_ALSO.split(text)]
    if len(parts) == 1:
        parts = _another_thing_too(ctx, text) or parts
    parts = [p for p in parts if len(p) > 3]  # (a connective left alone: "不过 | 我想问一下 | …")
    if len(parts) < 2:
        return None
    kept: list[tuple[str, Route, set[str]]] = []
    for part in parts:
        said = router.route(part, staff=ctx.caller.is_staff)
        things = _families(objects(part)) or ({said.category or ""} if said.label == "petition" else set())
        # a chase or a word on the quoted report may come first: "四楼的灯到现在还没人修 都两天了 还有就是…",
        # "「王奶奶：楼道里堆满了纸箱」纸箱是该清清了 还有…"
        about_open = not kept and (said.followup or ctx.quote is not None) and bool(things)
        if listed and kept and things and things <= kept[-1][2] and same_place_in(kept[-1][0], part):
            kept[-1] = (f"{kept[-1][0]} {part}", kept[-1][1], kept[-1][2])  # "1. 3楼灯坏了 2. 3楼那个声控灯也不亮了"
            continue
        if listed and (said.label in ("petition", "legal") or _families(objects(part))):
            pass  # a list's item naming a thing ("5楼灯不亮", "③地下室的灯一直亮着没人关"): its own report
        elif (said.label not in ("petition", "legal") and not about_open) or len(part) < 6:
            if not listed or not kept:
                return None  # "…还有点闪": more of the one problem (a list's chatter item joins the one before)
            kept[-1] = (f"{kept[-1][0]} {part}", kept[-1][1], kept[-1][2])
            continue
        if kept and (not things or things & kept[-1][2]) and not listed:
            return None  # the same kind of thing again: one problem told at length
        kept.append((part, said, things))
    if len(kept) < 2:
        return None
    return [part for part, _, _ in sorted(kept, key=lambda k: not k[1].urgent)]


def _at_risk(ctx: Context, ticket: Ticket, homes: list[PetitionHome]) -> tuple[str, int | None]:
    """'【重点关注】502 独居老人' when the petition comes from a flat tagged 独居老人 or 残疾 (config
    visits.petition_mark_tags; rule in domain.checkon.petition_mark), kept as a 关注 event on the
    ticket so /工单 shows it too (residents' /进度 does not); and the household's id. ``homes``:
    the standing's households of the stairwell."""
    stairwell = ctx.room.stairwell if ctx.room is not None else None
    mark = petition_mark(ctx.session, ctx.services.config, stairwell, _flat_named(ctx), ctx.caller.name, homes)
    if mark is None or ticket.id is None:
        return "", None
    tickets.add_event(ctx.session, ticket.id, ctx.now, tickets.SYSTEM, "关注", mark[1])
    return f"【重点关注】{mark[1]}\n", mark[0]


# "你叫了没有啊 救护车来了没有", "帮我叫了吗": whether the bot called for help (it cannot)
ASKS_IF_CALLED = re.compile(
    r"(?:你|您|小楼)?(?:帮我)?(?:叫|报)(?:了)?(?:救护车|120|110|119|警)?(?:了)?(?:没有?|吗|没啊)"
    r"|打(?:了)?(?:120|110|119|急救|报警)(?:电话)?(?:了)?(?:没有?|吗)"  # (never "疫苗打了吗")
    r"|(?:救护车|警察|消防车?|民警|医生)(?:来了)?(?:没有?|吗)|(?:救护车|警察|消防车)\S{0,4}(?:怎么)?还没(?:来|到)"
)
CALLED_WINDOW = timedelta(hours=2)


def on_asked_if_called(ctx: Context) -> str | None:
    """Asked, after one's own danger report, whether the bot called 120 or 110: it never pretends
    it did. It says to call now, and the staff the danger reached hear the question at once.
    Returns the ticket's category; None without a recent urgent ticket of the sender's."""
    rows = [t for t in own_open_tickets(ctx, since=ctx.now - CALLED_WINDOW) if t.urgent]
    if not rows:
        return None
    ticket = tickets.attached(ctx.session, rows[0])
    assert ticket.id is not None
    tickets.add_event(ctx.session, ticket.id, ctx.now, ctx.caller.person_id, "催办")
    ctx.handled.ticket, ctx.handled.joined, ctx.handled.urgent = ticket.id, True, True
    kind = ctx.services.router.route(ticket.text).danger  # the numbers of the danger reported
    ctx.reply(f"我没法替您打电话，请您马上自己拨打{ctx.services.config.danger_numbers(kind)}。工作人员已收到 #{ticket.id}，正在联系您。")
    home = ctx.room if ctx.room is not None and ticket.room_id == ctx.room.id else directory.stairwell_room(ctx.session, ticket.stairwell)
    for person in told_at_once(ctx, _following(ctx, ticket), home):
        ctx.private(person.id, f"【紧急 #{ticket.id}】{ctx.caller.name}在问有没有人叫了急救/报警，请马上电话联系。")
    return ticket.category


def told_at_once(ctx: Context, staff: list, group: Room | None) -> list:
    """An urgent ticket reaches the stairwell trio (楼道长, 信息员, 保障员) and the grid worker at
    once, not only whoever follows ordinary tickets (``group``: the stairwell it is filed under)."""
    people = list(staff)
    if group is not None:
        for person in directory.people_with_roles(ctx.session, {"leader", "officer", "support", "grid"}, group):
            if all(p.id != person.id for p in people):
                people.append(person)
    return people


@dataclass(frozen=True)
class _Standing:
    """What a petition asks first, in one statement (four round trips on PostgreSQL before)."""

    emergency: bool  # 战时: every report is urgent
    recent: int  # the sender's reports in the throttle window: tickets opened (受理), words added (追加)
    warned: int  # throttle warnings the sender got in the quiet period
    open_tickets: list[Row]  # the group's open tickets and its stairwell's private ones, newest first
    homes: list[PetitionHome]  # households of the group's stairwell: the flat named, or the sender's name


# Built once: constructing a statement like this costs ~0.35 ms of SQLAlchemy's Python per call,
# eight times what running it costs (every petition asks it). The sender's standing is one row;
# the group's open tickets are joined to it (none: one row of NULLs).
_COUNTS = select(
    exists().where(col(StateFlag.name) == EMERGENCY_FLAG).label("emergency"),
    select(func.count()).select_from(TicketEvent).where(
        TicketEvent.actor_id == bindparam("sender"), col(TicketEvent.action).in_(("受理", "追加")),
        col(TicketEvent.at) >= bindparam("reports_since"),
    ).scalar_subquery().label("recent"),
    select(func.count()).select_from(AuditEntry).where(
        AuditEntry.actor_id == bindparam("sender"), AuditEntry.action == THROTTLED,
        col(AuditEntry.at) >= bindparam("warned_since"),
    ).scalar_subquery().label("warned"),
    PACKED_PETITION_HOMES.label("homes"),  # the households a new ticket may be marked from (_at_risk)
).subquery("standing")
_T, _TR, _TE = table_of(Ticket), table_of(TicketReporter), table_of(TicketEvent)
# Each open ticket says whether the sender reported or joined it ("mine": the sender's own reports
# are chased and narrowed to, no query of their own) and what the sender added to it within a day
# ("said", the notes joined by NOTE_SEP: a flood of one line is one line, no query either).
NOTE_SEP = "\x1f"
_OPEN_COLUMNS = (
    _T,
    exists().where(_TR.c.ticket_id == _T.c.id, _TR.c.person_id == bindparam("sender")).label("mine"),
    core_select(func.aggregate_strings(_TE.c.note, NOTE_SEP)).where(
        _TE.c.ticket_id == _T.c.id, _TE.c.actor_id == bindparam("sender"), _TE.c.action == "追加",
        _TE.c.at >= bindparam("said_since"),
    ).scalar_subquery().label("said"),
)
# The group's open tickets, and those its stairwell's residents reported privately (one problem, one
# ticket): a UNION ALL, so each half uses its own index (an OR in the join scanned every open ticket).
_TICKETS = union_all(
    core_select(*_OPEN_COLUMNS).where(_T.c.room_id == bindparam("room_id"), _T.c.status.in_(tickets.OPEN_STATUSES)),
    core_select(*_OPEN_COLUMNS).where(_T.c.room_id.is_(None), _T.c.stairwell == bindparam("stairwell"),
                                      _T.c.status.in_(tickets.OPEN_STATUSES)),
).subquery("open_tickets")
_STANDING = (
    core_select(_COUNTS, _TICKETS)
    .select_from(_COUNTS.outerjoin(_TICKETS, true()))
    .order_by(_TICKETS.c.id.desc())
)


def _standing(ctx: Context) -> _Standing:
    rules = ctx.services.config.tickets.throttle
    ctx.session.flush()  # a Core read: the session's pending changes first
    stairwell = ctx.room.stairwell if ctx.room is not None else None
    rows = ctx.session.connection().execute(_STANDING, {
        "sender": ctx.caller.person_id,
        "reports_since": ctx.now - timedelta(minutes=rules.window_minutes),
        "warned_since": ctx.now - timedelta(minutes=rules.quiet_minutes),
        "said_since": ctx.now - REPEAT_WINDOW,
        "room_id": ctx.room.id if ctx.room is not None else None,
        **petition_homes_params(stairwell, _flat_named(ctx), ctx.caller.name,
                                list(ctx.services.config.visits.petition_mark_tags)),
    }).all()
    first = rows[0]
    return _Standing(
        bool(first.emergency), int(first.recent), int(first.warned), [r for r in rows if r.id is not None],
        unpack_homes(first.homes),
    )


def _flat_named(ctx: Context) -> str | None:
    flat = places(ctx.masked_text).get("flat")
    return str(flat) if flat else None


TOLD_AT_LENGTH = 24  # characters: a chase this long with no topic word tells a story of its own
_NOT_TOLD = re.compile(r"[\W\d*]+")


def _problem_told(ctx: Context, *, has_own: bool = True) -> set[str]:
    """The words of a problem a line with chasing words ("能不能管管") tells of its own, one the
    facility words do not know ("小区门口天天有人卖保健品骗老人 社区能不能管管"): without the
    chasing words it is still a petition that a topic word placed. Empty for a chase that names
    nothing ("我上个礼拜说的那个事情到底怎么样了 怎么还没人管": no topic)."""
    router = ctx.services.router
    rest = CHASE.sub(" ", ctx.masked_text)
    route = router.route(rest, staff=ctx.caller.is_staff)
    # no topic word, but a story of its own from someone with nothing to chase ("这个159****6666天天
    # 给我打电话 说是医保中心的 … 吓得我都不敢接电话了 能不能管管")
    story = not has_own and len(_NOT_TOLD.sub("", rest)) >= TOLD_AT_LENGTH
    if route.label != "petition" and not story:
        return set()
    if route.category == router.fallback_category("petition") and not story:
        return set()
    return content_words(rest) or {route.category or ""}


def _throttled(ctx: Context, standing: _Standing) -> bool:
    """Past the per-sender limit of reports (new tickets and additions to open ones): one polite
    line, then silence for the quiet period."""
    rules = ctx.services.config.tickets.throttle
    now, sender = ctx.now, ctx.caller.person_id
    recent, warned = standing.recent, standing.warned
    if recent < rules.max_tickets and not warned:
        return False
    if not warned:
        ctx.session.add(AuditEntry(at=now, actor_id=sender, action=THROTTLED, subject=ctx.room.id if ctx.room else "私聊"))
        ctx.reply("您短时间内反映的问题较多，已登记的都在处理中，请稍后再补充；紧急情况请直接拨打119/110。")
    log.info("petition from %s not ticketed: throttled", sender)
    return True


def on_detail(ctx: Context) -> str | None:
    """A place given right after one's own report ("就在3楼转角那里"): added to that ticket (the
    staff get it as a 追加 line) when the sender opened exactly one ticket in this group in the
    last DETAIL_WINDOW. Returns the ticket's category, or None (chatter)."""
    if ctx.room is None:  # in private: the sender's reports, private or in a group
        own = own_open_tickets(ctx, since=ctx.now - DETAIL_WINDOW, limit=2)
    else:
        own = _own_fresh(ctx, open_in_room(ctx))
    if len(own) > 1:  # "台阶就在进门左手边第二级那里" after one's own two-item report: the 台阶's
        named = objects_of(ctx.services.router)(ctx.masked_text)
        own = [t for t in own if named and same_object(objects_of(ctx.services.router)(t.text), named)]
    if len(own) != 1:
        return None
    return _corrected(ctx, own) or _joined(ctx, own[0])


def _own_fresh(ctx: Context, candidates: list[Row], window: timedelta = DETAIL_WINDOW) -> list[Row]:
    """The sender's own reports (not joined) of the last ``window`` among ``candidates``."""
    return [t for t in candidates if t.reporter_id == ctx.caller.person_id and ctx.now - t.created_at <= window]


def _quoted_report(ctx: Context, candidates: list[Row]) -> Row | None:
    """The open ticket a quoted reply answers: the one the bot's quoted line names ("…编号 #1…"),
    or the one whose report is quoted, when what is said under it is about it (a "+1", a chase,
    its thing or nothing else named); else None."""
    quote = ctx.quote
    if quote is None:
        return None
    if quote.ticket is not None:
        found = [t for t in candidates if t.id == quote.ticket]
    else:
        quoted = gist(mask(quote.text))
        found = [t for t in candidates if quoted and gist(t.text) == quoted]
    if len(found) != 1:
        return None
    said = mask(quote.said)
    objects = objects_of(ctx.services.router)
    named = {o for o in objects(said) if not o.startswith("*")}
    about = not named or same_object(objects(found[0].text), frozenset(named)) or ME_TOO.search(said) is not None \
        or _MINE_TOO.search(said) is not None  # "我家402卫生间顶上也被泡了 墙皮都起泡了" under the leak
    return found[0] if about else None


_MINE_TOO = re.compile(r"(?:我|我们|俺|咱|阿拉)\S{0,12}也")


def _more_of_own_danger(ctx: Context, candidates: list[Row]) -> Row | None:
    """The sender's own danger report of the last minutes that a danger line naming nothing else
    goes on with; None when it names another thing (a fire after one's gas report is its own)."""
    own = [t for t in _own_fresh(ctx, candidates) if t.urgent]
    if len(own) != 1:
        return None
    objects = objects_of(ctx.services.router)
    named = objects(ctx.masked_text)
    return own[0] if not named or same_object(objects(own[0].text), named) else None


def _joined(ctx: Context, row: Row) -> str:
    _join_existing(ctx, row)
    return row.category


def _corrected(ctx: Context, own: list[Row]) -> str | None:
    """"不对 是5楼不是4楼" minutes after one's own report: its place put right (the category), else None."""
    if len(own) != 1:
        return None
    right = corrected_place(own[0].text, ctx.masked_text)
    return _correct_place(ctx, own[0], right) if right is not None else None


def corrected_place(report: str, said: str) -> str | None:
    """The report's text with its place put right, when ``said`` corrects it ("不对 是5楼不是4楼"
    of "4楼楼道灯坏了": "5楼 楼道灯坏了"), so later words about 5楼 find the ticket; else None."""
    if CORRECTS.search(said) is None:
        return None
    right = _WRONG_CLAUSE.sub(" ", _CORRECTION_WORDS.sub(" ", said))
    right = re.sub(r"^[\W是]*(?:应该是|而是|是)?", "", right.strip()).strip(" ，,。")
    told, had = places(right), places(report)
    if not told or same_place(_without(had, "no"), told) and told.items() <= had.items():
        return None  # no place, or the same one: a detail, not a correction
    rest = _FLOOR_AND_DOOR.sub(lambda m: f"{m.group(1)}0{m.group(2)}", report)
    if "flat" in told or "floor" in told:
        flats = _FLAT.sub(lambda m: m.group(0) if m.group(1) + m.group(2) in HOTLINES else "", rest)
        rest = _FLOOR.sub("", _FLOOR_ROOM.sub("", flats))
    for key, pattern in (("unit", _UNIT), ("building", _BUILDING), ("no", _NUMBERED), ("zone", _ZONE)):
        if key in told:
            rest = pattern.sub("", rest)
    return f"{right} {rest.strip()}"


def _correct_place(ctx: Context, row: Row, text: str) -> str:
    """The reporter's own ticket now reads with the right place (the words as said go to its
    history and to its staff, as any addition does)."""
    ticket = tickets.attached(ctx.session, row)
    assert ticket.id is not None
    ticket.text = text
    ctx.session.add(ticket)
    tickets.add_event(ctx.session, ticket.id, ctx.now, ctx.caller.person_id, tickets.ADDED, ctx.masked_text)
    ctx.handled.ticket, ctx.handled.joined, ctx.handled.urgent = ticket.id, True, ticket.urgent
    ctx.reply(f"好的，工单 #{ticket.id} 的位置已更正，正在处理中。")
    words = excerpt(ctx.masked_text, f"/进度 {ticket.id}")
    for person in _following(ctx, ticket):
        ctx.private(person.id, f"【工单 #{ticket.id} 位置更正】{ctx.caller.name}：{words}")
    return ticket.category


REST_OF_REPORT_WINDOW = timedelta(minutes=2)  # a line this soon after one's own report may be the rest of it


PLACE_GENERICS = frozenset({"*通道"})  # generic "things" that are where, not what


def _rest_of_own_report(ctx: Context, candidates: list[Row], window: timedelta = REST_OF_REPORT_WINDOW) -> Row | None:
    """The sender's own report of this group minutes ago that a line naming no other specific
    thing, and no other place, goes on with ("消防通道都堵赛了人都过不去" after "5楼2号门口堆了好多纸箱子
    旧家具"); "电梯也坏了" names another thing: a report of its own."""
    assert ctx.room is not None
    own = [t for t in _own_fresh(ctx, candidates, window) if t.room_id == ctx.room.id]
    if len(own) != 1 or not same_place_in(own[0].text, ctx.masked_text):
        return None
    objects = objects_of(ctx.services.router)
    # (a generic thing of another kind is another report: "厨房灯泡坏了" after one's gas report; a
    # passage named is where the report's thing is: "消防通道都堵赛了" after the boxes)
    named = objects(ctx.masked_text) - PLACE_GENERICS
    had = objects(own[0].text)
    return own[0] if named <= had or _families(named) <= _families(had) else None


def _report_just_above(ctx: Context, fresh: list[Row], within: timedelta = ME_TOO_RIGHT_AFTER) -> list[Row]:
    """The ticket of the message right above a "+1" (a neighbour's report in the last ``within``,
    nobody else having spoken since); otherwise none: a guess would join the wrong one."""
    assert ctx.room is not None
    above = last_from_others(ctx.session, ctx.room.id, ctx.caller.person_id, ctx.now - within)
    if above is None or above.route != "petition":
        return []
    newest = max(fresh, key=lambda t: t.created_at)
    return [newest] if tickets.is_reporter(ctx.session, newest.id, above.sender_id) else []


def _fresh_from_others(ctx: Context, candidates: list[Row], within: timedelta) -> list[Row]:
    """Open tickets opened ``within`` the last while that the sender is not a reporter of."""
    fresh = [t for t in candidates if ctx.now - t.created_at <= within]
    mine = {t.id for t in _mine(ctx, fresh)}
    return [t for t in fresh if t.id not in mine]


def _report_supported(ctx: Context, candidates: list[Row]) -> Row | None:
    """The neighbour's report right above a "这个要管管" (minutes ago, nobody else spoke since)."""
    fresh = _fresh_from_others(ctx, candidates, ME_TOO_RIGHT_AFTER)
    above = _report_just_above(ctx, fresh) if fresh else []
    return above[0] if above else None


def on_said_fixed(ctx: Context, row: Row) -> str:
    """"已经关了 没事了" / "师傅来修好了" from a reporter of an open ticket: its staff hear it at
    once (those an urgent ticket alerted too: a gas alarm raised minutes ago is over); closing it
    stays theirs (/办结). Returns the ticket's category."""
    ticket = tickets.attached(ctx.session, row)
    assert ticket.id is not None
    tickets.add_event(ctx.session, ticket.id, ctx.now, ctx.caller.person_id, "追加", ctx.masked_text)
    ctx.handled.ticket, ctx.handled.joined = ticket.id, True
    staff = _following(ctx, ticket)
    if ticket.urgent:
        staff = told_at_once(ctx, staff, ctx.room)
    ctx.reply(f"好的，已转告工作人员（#{ticket.id}），核实后会办结。")
    words = excerpt(ctx.masked_text, f"/进度 {ticket.id}")
    for person in staff:
        ctx.private(person.id, f"【工单 #{ticket.id} 居民说已解决】{ctx.caller.name}：{words}\n核实后请 /办结 {ticket.id} 说明")
    return ticket.category


_THAT_MATTER = re.compile(r"那个|那件|那桩|的事|这个事")  # "开药那个", "漏水的事": a matter both know


def on_status_question(ctx: Context, *, in_hand_only: bool = False) -> str | None:
    """"电梯好了吗" naming the thing of one open ticket of this group: how it stands (its progress
    notes were posted to the group already); of one resolved this week: when and how (``in_hand_only``:
    only an open ticket with a progress note). Returns the ticket's category when it answered."""
    router = ctx.services.router
    named = objects_of(router)(ctx.masked_text)
    candidates = open_in_room(ctx)
    if named:  # (a leak asked about, "漏水的事怎么样了", is the ticket whose report shows it: "墙皮都泡起来了")
        matches = _narrow(ctx, [t for t in candidates if same_problem(t, ctx.masked_text, False, router)
                                or only_symptoms_of(router, named, t.text)])
    else:
        # "王奶奶咋样了 找着人没": no thing named, but someone (or somewhere) one open ticket names
        words = content_words(ctx.masked_text)
        flats = flats_named(ctx.masked_text)  # "502那个怎么样了": the ticket naming 502
        matches = [t for t in candidates if words & content_words(t.text) or flats & flats_named(t.text)]
        if not matches and _THAT_MATTER.search(ctx.masked_text):
            # "开药那个怎么样了" of one's own "…帮我去社区医院开一点": a word's character in it
            mine = _mine(ctx, candidates)
            matches = [t for t in mine if any(ch in t.text for w in words for ch in w)] if len(mine) == 1 else []
        if not matches and STATUS_QUESTION.search(ctx.masked_text):
            matches = _only_own(ctx, candidates)
        if not matches:  # "那个睡在楼道里的老大爷后来怎么样了": one resolved this week, by its words or its 办结 note
            done = _resolved_sharing(ctx, words)
            if done is not None:
                _tell_resolved(ctx, done)
                return done.category
        if len(matches) != 1:
            return None
    if not matches and STATUS_QUESTION.search(ctx.masked_text):
        # "监控调了没有 有结果没", "锁换了吗" from the reporter of one open ticket here: that one
        matches = _only_own(ctx, candidates)
    if len(matches) == 1:
        row = matches[0]
        note = tickets.last_note(ctx.session, row.id, "处理")
        if in_hand_only and not note:
            return None
        if not note and ((row.due_at is not None and ctx.now > row.due_at) or CHASE.search(ctx.masked_text)):
            # past its time with nothing done ("二楼那个灯修好了吗 昨晚我又摸黑上楼的"), or asked with
            # chasing words ("电梯好了吗 周末是不是没人修"): a chase
            _join_existing(ctx, row, followup=True)
            return row.category
        ctx.handled.ticket, ctx.handled.joined = row.id, False
        ctx.reply(
            f"#{row.id}（{row.category}）正在处理中" + (f"，最新进展：{mask_flats(note)}" if note else "")
            + f"，预计{format_due(row.due_at)}前答复。"
        )
        return row.category
    return None if matches else _tell_if_resolved(ctx)


def _only_own(ctx: Context, open_here: list[Row]) -> list[Row]:
    """The sender's one open ticket of ``open_here`` (this group's), if they have just one (else none)."""
    mine = _mine(ctx, open_here)
    return mine if len(mine) == 1 else []


_STAIRWELL_OPEN = core_select(_TICKETS).order_by(_TICKETS.c.id.desc())


def stairwell_open_tickets(ctx: Context, home: Room | None) -> list[Row]:
    """Open tickets of ``home``, the sender's stairwell (its group's and its residents' private ones),
    newest first; none when the sender has no one stairwell (what a private message may be about)."""
    if home is None:
        return []
    ctx.session.flush()
    return list(ctx.session.connection().execute(_STAIRWELL_OPEN, {
        "room_id": home.id, "stairwell": home.stairwell, "sender": ctx.caller.person_id,
        "said_since": ctx.now - REPEAT_WINDOW,
    }).all())


def on_private_status(ctx: Context) -> str | None:
    """"楼道灯修好了吗" in private from someone with no ticket of theirs on it: how their stairwell's
    open ticket of that thing stands (no one's words, no notes), never a new ticket."""
    if not objects_of(ctx.services.router)(ctx.masked_text):
        return None
    home = directory.home_stairwell(ctx.session, ctx.caller.person_id)
    matches = [t for t in stairwell_open_tickets(ctx, home) if same_problem(t, ctx.masked_text, False, ctx.services.router)]
    if len(matches) != 1:
        return None
    row = matches[0]
    ctx.handled.ticket, ctx.handled.joined = row.id, False
    ctx.reply(f"这个问题已有人反映（#{row.id} {row.category}），正在处理中，预计{format_due(row.due_at)}前答复。")
    return row.category


_BACK_THEN = re.compile(r"上次|上回|上礼拜|上星期|上周|之前|前几天|前两天|那个|反映的|报的|报修的|说的")


_ASKS_HOW_HANDLED = re.compile(r"(?:监控|录像)\S{0,4}(?:调|查|看)")


def asks_about_own_ticket(ctx: Context) -> bool:
    """A status question asked privately ("我上礼拜反映的那个楼道灯 现在怎么样了", "楼道灯修好了吗")
    about a ticket of the sender's: it points back, or names the thing of one of theirs."""
    mine = tickets.list_tickets(ctx.session, statuses=tickets.STATUSES, reporter_id=ctx.caller.person_id, limit=10)
    if not mine:
        return False
    objects = objects_of(ctx.services.router)
    named = objects(_ASKS_HOW_HANDLED.sub(" ", ctx.masked_text))
    if not named:
        # "监控看了没有" from someone with one open ticket: that one (how it is looked into is no thing of its own)
        return bool(_BACK_THEN.search(ctx.masked_text)) or len([t for t in mine if t.status in tickets.OPEN_STATUSES]) == 1
    return any(same_object(objects(t.text), named) for t in mine)


def reports_open_ticket(ctx: Context) -> bool:
    """Whether the sender reported (or joined) an open ticket here (privately: any of theirs)."""
    if ctx.room is not None:
        return bool(_mine(ctx, open_in_room(ctx)))
    return bool(own_open_tickets(ctx, limit=1))


def on_agreement(ctx: Context) -> str | None:
    """"是的 晚上叫得更厉害" right under a neighbour's report (minutes ago, nobody else spoke
    since): one more voice on it, as "我家也是" is; naming another thing, it is not about that
    report and stays chatter. Returns the ticket's category when it joined."""
    row = _report_supported(ctx, open_in_room(ctx))
    if row is None:
        return None
    objects = objects_of(ctx.services.router)
    named = objects(SHUT_WINDOWS.sub(" ", ctx.masked_text))
    # a vague word agrees with the report above ("是的 早就该管了 天天闻着那个味道" under the batteries
    # charging); a specific other thing does not ("是的 电梯也坏了")
    vague = all(o.startswith("*") for o in named)
    if named and not same_object(objects(row.text), named) and not vague:
        return None
    _join_existing(ctx, row)
    return row.category


async def on_followup(ctx: Context, text: str, candidates: list[Row] | None = None) -> str | None:
    """A follow-up the router calls chatter ("还没人管吗？都一个礼拜了"): it joins the sender's
    one open ticket in this group (or the one open ticket its words name); else nothing is said.
    Returns the ticket's category when it joined."""
    if ctx.room is None:
        return None
    if candidates is None:
        candidates = open_in_room(ctx)
    objects = objects_of(ctx.services.router)
    named = objects(CHASE.sub(" ", ctx.masked_text))  # the chase's own words name nothing ("也没动静")
    matches: list[Row] = []  # "又在楼下碰到张阿姨了", "快递还没来": follow-up words about nothing of ours
    quoted = _quoted_report(ctx, candidates)
    if quoted is not None:  # under the bot's quoted line about #1: #1
        matches = [quoted]
    elif named:
        matches = [t for t in candidates if same_problem(t, ctx.masked_text, False, ctx.services.router)]
        if not matches:
            matches = _chased_in_a_clause(ctx, _mine(ctx, candidates))
    elif CHASE.search(ctx.masked_text) or TROUBLE_AGAIN.search(ctx.masked_text) or STILL_BROKEN.search(ctx.masked_text):
        # "昨晚楼上又蹦到十一点", "那个门还是关不上 昨天晚上冻得我一宿没睡着": the sender's own ticket
        matches = _mine(ctx, candidates)
        if not matches:  # a neighbour's "302门口那个到底有人管没有": the one ticket naming that flat
            flats = flats_named(ctx.masked_text)
            matches = [t for t in candidates if flats & flats_named(t.text)] if flats else []
        if not matches and CHASE.search(ctx.masked_text):
            # "@楼道通 大半夜的 你们工作人员知道了没有啊 有人管吗" while a danger of tonight is open: that one
            recent = [t for t in candidates if t.urgent and ctx.now - t.created_at <= URGENT_CHASED_WITHIN]
            matches = recent if len(recent) == 1 else []
    if not matches:
        items = _list_items_named(ctx, candidates)
        if items:  # "1和3我家也是" under a neighbour's list: a voice on each of those tickets
            for ticket in items:
                _join_existing(ctx, ticket)
            return items[0].category
    if not matches and ME_TOO.search(ctx.masked_text):
        fresh = _me_too_of(ctx, candidates)
        if fresh is None:
            return None
        matches = [fresh]
    matches = _narrow(ctx, matches)
    if 1 < len(matches) <= MAX_ASK:
        _ask_which(ctx, matches)
        return None
    if len(matches) != 1:
        return _answer_if_resolved(ctx)
    _join_existing(ctx, matches[0], followup=not ME_TOO.search(ctx.masked_text))
    return matches[0].category


_ITEM_ALSO = re.compile(ITEM_ALSO)


def _list_items_named(ctx: Context, candidates: list[Row]) -> list[Row]:
    """The tickets a neighbour's "2也是" / "1和3我家也是" names: items of the newest list another
    reporter posted today (the tickets one message opened, in their order)."""
    named = _ITEM_ALSO.match(ctx.masked_text)
    if named is None:
        return []
    lists: dict[tuple[str, datetime], list[Row]] = {}
    for t in _fresh_from_others(ctx, candidates, ME_TOO_WINDOW):
        lists.setdefault((t.reporter_id, t.created_at), []).append(t)
    posted = [sorted(group, key=lambda t: t.id) for group in lists.values() if len(group) > 1]
    if not posted:
        return []
    newest = max(posted, key=lambda group: group[0].created_at)
    numbers = [int(n) for n in named.groups() if n]
    return [newest[n - 1] for n in numbers if n <= len(newest)]


def _another_units_question(ctx: Context) -> bool:
    """A status question naming a unit other than this group's ("2单元电梯修好了吗" in 1单元's group)."""
    assert ctx.room is not None
    asked = places(ctx.masked_text).get("unit")
    mine = places(ctx.room.stairwell or "").get("unit")
    return asked is not None and mine is not None and asked != mine and ASKS_HOW_IT_STANDS.search(ctx.masked_text) is not None


def own_open_tickets(ctx: Context, *, since: datetime | None = None, limit: int = MAX_ASK + 1) -> list[Row]:
    """The sender's open tickets in any group or in private (reported or joined), newest first;
    ``since``: only those opened since then. What a private chase, place or all-clear is about."""
    table = table_of(Ticket)
    mine = core_select(table).join(TicketReporter, col(TicketReporter.ticket_id) == table.c.id).where(
        col(TicketReporter.person_id) == ctx.caller.person_id, table.c.status.in_(tickets.OPEN_STATUSES),
    )
    if since is not None:
        mine = mine.where(table.c.created_at >= since)
    return list(ctx.session.connection().execute(mine.order_by(table.c.id.desc()).limit(limit)).all())


def on_private_chase(ctx: Context) -> str | None:
    """"都一个礼拜了咋还没人来修啊" in private: the sender's one open ticket is chased (several: asked
    which); none: None."""
    rows = own_open_tickets(ctx)
    told = objects_of(ctx.services.router)(CHASE.sub(" ", ctx.masked_text))
    if told:  # "我家楼上602天天半夜打麻将 … 能不能管管": only a ticket of the thing it tells is chased
        rows = [t for t in rows if same_object(objects_of(ctx.services.router)(t.text), told)]
    if 1 < len(rows) <= MAX_ASK:
        _ask_which(ctx, rows)
        return "asked"
    if len(rows) != 1:
        return None
    # minutes after the report it is more about it, not a chase ("已受理0天" was no news to anyone)
    _join_existing(ctx, rows[0], followup=ctx.now - rows[0].created_at > DETAIL_WINDOW)
    return rows[0].category


def _me_too_of(ctx: Context, candidates: list[Row]) -> Row | None:
    """"我家也是", "402也在滴", "我家302也被楼上漏水泡了" (their own flat, not the reporter's):
    another's fresh report of the same thing (or the trouble it names), when there is just one
    (never asked which: a "+1" is not worth a question)."""
    objects = objects_of(ctx.services.router)
    named = objects(SHUT_WINDOWS.sub(" ", ctx.masked_text))
    vague = all(o.startswith("*") for o in named)  # under a danger, "我屋头也闻到糊臭味了" is that danger
    if PLUS_ONE_FIRST.match(ctx.masked_text) and not _AND_ALSO.search(ctx.masked_text):
        # "+1 昨天我搬婴儿车上去差点卡住", "+1 整栋都停了 电梯也停了": the report right above, and
        # what it did to them (never "+1 还有三楼的灯也坏了": another problem)
        # (blind replay s31b) a "+1" answers the last word, whatever it was: under a 接龙 or a
        # group-buy it is a sign-up, never a voice on an older report
        # an hour later it is still that report's when it is the day's only one (several: only minutes later)
        today = _fresh_from_others(ctx, candidates, ME_TOO_WINDOW)
        within = ME_TOO_WINDOW if len(today) == 1 else ME_TOO_RIGHT_AFTER
        above = _report_just_above(ctx, today, within) if today else []
        return above[0] if above else None
    fresh = [t for t in _fresh_from_others(ctx, candidates, ME_TOO_WINDOW)
             if not named or same_object(objects(t.text), named) or only_symptoms_of(ctx.services.router, named, t.text)
             or (t.urgent and (vague or not objects(t.text)))]  # (posers at the doors name no thing: "我家也来敲了")
    if len(fresh) > 1:  # several this day: only the report just above, if it is the last word
        fresh = _report_just_above(ctx, fresh)
    return fresh[0] if len(fresh) == 1 else None


def _narrow(ctx: Context, matches: list[Row]) -> list[Row]:
    """Of several open tickets a message fits, those naming the very same thing ("楼道灯" over
    "路灯" for "楼道灯还是不亮"), then the sender's own; newest first."""
    if len(matches) > 1:
        objects = objects_of(ctx.services.router)
        said = {o for o in objects(ctx.masked_text) if not o.startswith("*")}
        exact = [t for t in matches if said & objects(t.text)]
        matches = exact or matches
    if len(matches) > 1:
        mine = _mine(ctx, matches)
        matches = mine or matches
    if len(matches) > 1 and _ABOUT_REPAIR.search(ctx.masked_text):
        # "那个扶手到现在还没修 都摔人了": the repair, not the fall it caused
        repairs = [t for t in matches if t.category == "设施报修" and not t.urgent]
        matches = repairs if len(repairs) == 1 else matches
    return matches


def _ask_which(ctx: Context, matches: list[Row]) -> None:
    """No telling which open ticket a message means: ask once rather than guess."""
    numbers = "、".join(f"#{t.id}" for t in sorted(matches, key=lambda t: t.id or 0))
    ctx.reply(f"您说的是哪一个问题？{numbers} 都在处理中，可发 /进度 编号 查看进展；如是新问题，请说明具体位置。")


def _mine(ctx: Context, rows: list[Row]) -> list[Row]:
    """Those of ``rows`` the sender reported or joined, in their order: the standing's rows say so
    themselves (its ``mine`` column), others are looked up in one query."""
    if all("mine" in getattr(r, "_fields", ()) for r in rows):
        return [r for r in rows if r.mine]
    return tickets.reported_by(ctx.session, rows, ctx.caller.person_id)


def _join_existing(ctx: Context, row: Row, *, followup: bool = False, danger: str | None = None) -> None:
    if ctx.room is not None and staff_on_it(ctx):
        return  # "是的 这个灯我昨天也看到了 已经跟物业说过了": staff on it, no one more voice
    ticket = tickets.attached(ctx.session, row)
    assert ticket.id is not None
    if _said_already(ctx, ticket, row):  # the same line again (a flood): logged, nothing more for anyone
        ctx.handled.ticket, ctx.handled.joined, ctx.handled.urgent = ticket.id, True, ticket.urgent
        return
    joined = tickets.join(ctx.session, ticket, ctx.caller.person_id, ctx.now, ctx.masked_text,
                          chase=followup, chased_since=ctx.now - CHASE_QUIET)
    new_reporter, chased_lately = joined.new_reporter, joined.chased_lately
    if new_reporter and ctx.room is None and ticket.room_id is not None:  # a group's ticket, joined privately
        tickets.mark_private_reporter(ctx.session, ticket.id, ctx.caller.person_id, ctx.now)
    ctx.handled.ticket, ctx.handled.joined, ctx.handled.urgent = ticket.id, True, ticket.urgent
    first = f"【紧急】{ctx.services.config.danger_advice(danger)}\n" if ticket.urgent and danger else ""
    staff = _following(ctx, ticket)
    if followup:
        others = f"已有{ticket.reporters}人反映，" if new_reporter else ""
        ctx.reply(
            f"{first}已帮您催办工单 #{ticket.id}（{ticket.category}），{others}{_handler_label(ctx, staff)}会尽快处理，"
            f"有进展会告诉您。"
        )
    elif new_reporter:
        ctx.reply(
            f"{first}这个问题已有邻居反映，编号 #{ticket.id}（{ticket.category}），"
            f"已有{ticket.reporters}人反映，正在处理中，有进展会在群里告知。"
        )
    else:
        ctx.reply(f"{first}已补充到您的工单 #{ticket.id}，正在处理中。")
    if chased_lately:
        return  # staff heard this chase within the hour: one line per hour is enough
    days = max(0, (ctx.now - ticket.created_at).days)
    words = excerpt(ctx.masked_text, f"/进度 {ticket.id}")
    line = (
        f"【催办 #{ticket.id}】{ticket.category} · 已受理{days}天 · {ctx.caller.name}：{words}"
        if followup else f"【工单 #{ticket.id} 追加】{ctx.caller.name}：{words}"
    )
    for person in staff:
        ctx.private(person.id, line)


def _own_ticket_chased(ctx: Context, candidates: list[Row], route: "Route") -> Row | None:
    """The one open ticket of the sender's own that a chasing line names, days later and in other
    words than the report ("五楼那家还在滴 也没人来看看" on "5-02家卫生间漏水…"). None: no chase,
    or nothing (or several) of theirs it names."""
    if not (route.followup or CHASE.search(ctx.masked_text)) or ME_TOO.search(ctx.masked_text):
        return None
    mine = _named_by(ctx, _mine(ctx, candidates))
    if not mine:
        mine = _chased_in_a_clause(ctx, _mine(ctx, candidates))
    return mine[0] if len(mine) == 1 else None


def _chased_in_a_clause(ctx: Context, mine: list[Row]) -> list[Row]:
    """Those of the sender's own tickets a chasing clause of the line names, when the whole line
    names something else too ("还在滴 卫生间吊顶都塌下来一块了 502到现在地漏也没修": the leak is still
    there, the rest is what came of it or its cause; "嗡嗡声真不是我家 … 还在响 … 电表箱那边")."""
    clauses = [c for c in _CLAUSES.split(ctx.masked_text) if c]
    if not mine or not any(CHASE.search(c) for c in clauses):
        return []
    router, objects = ctx.services.router, objects_of(ctx.services.router)
    return [t for t in mine if any(
        same_problem(t, c, False, router) or only_symptoms_of(router, objects(c), t.text) for c in clauses)]


def chase_by_its_words(ctx: Context) -> str | None:
    """A chase the router read as something else ("保健品那个骗子的事有人管吗" reads as a legal
    question) that names one open ticket of the group: that ticket is chased, by whoever asks.
    Returns its category; None when it names none (or several)."""
    if ctx.room is None:
        return None
    named = _named_by(ctx, open_in_room(ctx))
    if len(named) != 1:
        return None
    _join_existing(ctx, named[0], followup=True)
    return named[0].category


def _named_by(ctx: Context, rows: list[Row]) -> list[Row]:
    """Those of ``rows`` a chasing line names: the thing it names ("还在滴": a leak) by the lexicon
    or as a word of the ticket's text; naming no thing the lexicon knows ("那个扶手"), any of its
    words (the chasing words aside) in the ticket's text ("扶手" in "三楼楼梯扶手松了")."""
    objects = objects_of(ctx.services.router)
    things = objects(ctx.masked_text)
    if things:
        named = {o.lstrip("~*") for o in things}
        return [t for t in rows if same_object(objects(t.text), things) or _shares_words(named, t.text)]
    said = content_words(CHASE.sub(" ", ctx.masked_text))
    return [t for t in rows if _shares_words(said, t.text)]


def _shares_words(words: set[str], text: str) -> bool:
    """One of ``words`` is in ``text``, as a word or inside one ("扶手" in "三楼楼梯扶手松了")."""
    return any(word in text for word in words if len(word) >= 2)


REPEAT_WINDOW = timedelta(days=1)


def _said_already(ctx: Context, ticket: Ticket, row: Row) -> bool:
    """This reporter sent these very words on this ticket within a day: the report itself or an
    addition. Twenty copies of one complaint are one complaint (no reply, no staff line, and no
    count towards the sender's limit of reports). A row of the standing brings its additions."""
    me, since = ctx.caller.person_id, ctx.now - REPEAT_WINDOW
    words = gist(ctx.masked_text)  # "楼道灯坏了!!! 黑漆漆的!!!" is "楼道灯坏了 黑漆漆的" again
    if ticket.reporter_id == me and gist(ticket.text) == words and ticket.created_at >= since:
        return True
    if "said" in getattr(row, "_fields", ()):
        notes = row.said.split(NOTE_SEP) if row.said else []
    else:
        notes = list(ctx.session.exec(select(TicketEvent.note).where(
            TicketEvent.ticket_id == ticket.id, TicketEvent.actor_id == me, TicketEvent.action == "追加",
            col(TicketEvent.at) >= since,
        )).all())
    return any(gist(note or "") == words for note in notes)


def _sent_already_elsewhere(ctx: Context, candidates: list[Row]) -> bool:
    """The sender's open ticket with these very words, within a day, reported in private (or,
    said privately, reported anywhere): the same complaint sent both ways is one complaint. In a
    group the candidates (its first query) already hold its stairwell's private tickets."""
    since, words = ctx.now - REPEAT_WINDOW, gist(ctx.masked_text)
    if ctx.room is not None:
        mine = [t for t in candidates
                if t.room_id is None and t.reporter_id == ctx.caller.person_id and t.created_at >= since]
    else:
        mine = own_open_tickets(ctx, since=since)
    return any(gist(t.text) == words for t in mine)


def gist(text: str) -> str:
    """A message's words alone: no emoji, punctuation or spacing (a flood varies only those)."""
    return _NOT_WORD.sub("", without_emoji(text)).lower()


def _following(ctx: Context, ticket: Ticket) -> list[Person]:
    """Who follows a ticket up: its assignee first once it was dispatched (/派单: named to the
    resident, and told of a chase even when not one of the group's staff), then the group's staff."""
    if ctx.room is not None and ticket.room_id == ctx.room.id:
        home: Room | None = ctx.room
    elif ticket.room_id:  # a group's ticket chased in private: that group's staff, not only the grid's
        home = ctx.session.get(Room, ticket.room_id)
    else:
        home = directory.stairwell_room(ctx.session, ticket.stairwell)
    staff = directory.responsible_staff(ctx.session, home)
    if ticket.assignee_id is None:
        return staff
    assignee = next((p for p in staff if p.id == ticket.assignee_id), None) or ctx.session.get(Person, ticket.assignee_id)
    return [assignee, *(p for p in staff if p.id != ticket.assignee_id)] if assignee is not None else staff
