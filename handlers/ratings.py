"""The follow-up rating (回访): after /办结 each reporter answers in the same group (or privately
for a private petition) — in words (满意 / 还行 / 还是没修好 …) or with 1, 2 or 3.

Nothing is kept in memory: the pending question is "a ticket resolved within the rating window
that this person reported in this room and has not rated since", so it survives a restart.
Every reporter (a neighbour who joined counts) rates for themself; any reporter's 不满意 reopens
the ticket, even after another said 满意. Anyone else's "满意" (or a reporter's with nothing
pending) stays chatter. With several tickets pending the answer names one (“#3 满意”), else
the bot asks which, in one line.

A reporter may also rate privately: in a private chat the question is any ticket of theirs
awaiting a rating, wherever it was reported (asked which when several). A statement that the
problem is still there ("还是没修好", "又坏了", "没人来过") is a 不满意 from a reporter with a
rating pending, unless it names another thing than the ticket's (a new problem: a new ticket).
"""
from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Row
from sqlmodel import col, select

from bot.context import Context
from common.emoji import without_emoji
from handlers import legal
from handlers.petitions import (
    RESOLVED_LOOKED_AT, objects_of, on_said_fixed, open_in_room, own_open_tickets, recently_resolved, same_object, same_place_in, without_own_flat,
)
from handlers.privacy_commands import reachable
from handlers.ticket_commands import followers
from storage import tickets
from storage.messages import talk_since
from storage.outbox import excerpt
from storage.models import Ticket, TicketReporter

SATISFIED, BASIC, UNSATISFIED = tickets.RATINGS
_DIGITS = {"1": SATISFIED, "2": BASIC, "3": UNSATISFIED}
_ADVERB = "(?:很|非常|十分|特别|挺|蛮|超|超级|太|相当|真|比较|都|还|也|算|还算|总体|整体|这回|这次|这下|现在)*"  # "这回满意[强]"
# The whole answer (after emoji, punctuation and polite words are gone) is one of these.
_STILL = r"(?:还是|仍然|依然|依旧|照样|照旧|还)"
_SUBJECT = r"(?:(?!满意|不错|还行|还可以)[\u4e00-\u9fff0-9]){0,16}?"  # "灯", "晚上", "楼道灯"; never a rating
# Saying the problem is still there, or back: a 不满意 when it is about the ticket's own thing.
_STATEMENT = (
    r"(?:还是|仍然|依然|依旧|根本|压根|从来|一直)?(?:没有?|未|没能)(?:人来(?:修|看|管|处理|清|弄|搬|收|拿|换)?过?|人(?:冲|扫|打扫|清理|冲洗)过|人管过?|修好|修过?|解决"
    r"|处理好|处理过?|弄好|搞定|好|效果|用|改善|变化)"
    # "师傅根本没来过", "物业的人压根没上门": nobody came, whatever /办结 says
    r"|(?:师傅|工人|电工|物业|物业的人|修的人|你们的人|人)?(?:根本|压根|从来|一直|都|也|还)?(?:就)?没(?:有)?(?:来过?|上门|上过门|露面|见(?:有|到|过)?人(?:来过?)?)"
    # a subject first: "6楼那个灯还没修好呢", "等了一天师傅根本没来过"
    rf"|{_SUBJECT}(?:还|还是|仍然|依然)?(?:没有?|没能)(?:修好|弄好|处理好|好)"
    rf"|{_SUBJECT}(?:师傅|工人|电工|物业的人|物业|修的人|你们的人)(?:根本|压根|从来|一直|都|也|还)?(?:就)?没(?:有)?(?:来过?|上门|上过门|露面)"
    # "灯还是不亮", "门禁还是坏的", "灯又坏了": a short subject first
    rf"|{_SUBJECT}{_STILL}(?:关不上|打不开|锁不上|关不严|合不上|不热|坏的|坏着|坏了|碎的|碎着|破的|裂的|裂着|断的|不行|不亮|不响|不通|老样子|那样|一样|没用|没修好|没好|在漏水?|漏水?|在[滴渗]水?|[滴渗]水?|堵着?"
    r"|黑的?|臭(?:得(?:不行|要命|很|厉害|受不了))?|(?:那股|一股|有)[\u4e00-\u9fff]{0,4}味道?|吵|脏|不干净|乱|不能用|不好使|用不了|堆着|占着|在那儿?|湿的?|湿着|晃的?|在晃|松的?|闪|在闪|叫|在叫|嚎)"
    rf"|{_SUBJECT}又(?:开始)?(?:坏|不亮|不行|不响|不通|漏水?|[滴渗]水?|堵|停|黑|臭|吵|叫|嚎|出问题|推进来|堆上|堆满|放回来)"
    r"|(?:跟|和)没(?:弄|修|管|处理|换|说)(?:过)?(?:一样|差不多)"  # "还是叫 跟没弄一样"
    r"|(?:修了)?(?:跟|和)没修(?:一样|差不多)|(?:师傅|工人|物业|他们)?(?:换|弄|搞|补|刷)了(?:也)?(?:跟|和)没(?:换|弄|搞|补|刷)(?:一样|差不多)|等于没修|白修|一点(?:都|也)?没(?:变|改|好)|问题(?:还在|依旧|依然|没解决)"
)
_FIXED_SUBJECT = r"(?:(?![没未不还]|满意)[\u4e00-\u9fff]){0,4}?"  # "灯", "门禁"; never a negation or a rating
_FIXED = (r"(?:(?:已经|都|全|现在)?(?:修好|弄好|换好|装好|解决|搞定|处理好|清理好|清理干净|清干净|清走|搬走|拉走|拖走|挪走|开走|空出来|腾出来|不漏|亮|可以"
          r"|没问题|没事|干净|安静|通|不臭|不吵|好使|能用|能刷|能开|能进|能坐|正常|灵|有水|有电|来电|来水|放心|安心|搬上(?:来|去|楼)"
          r"|不晃|不松|稳|牢|结实|不响|不堵|不滴|不冒|不闪|能推出去|能出去|能进出|能上下|不淌|不冒火|不冒烟|不喷)(?:了|嘞|咯|啦)"
          # a danger stopped at its source: "总阀关掉了", "闸已经拉了"
          r"|(?:总阀|阀门|总闸|电闸|闸)\S{0,2}(?:关掉|关好|关上|拉下来|拉)了"  # "扶手不晃了[强]"
          r"|好用(?:了|多了)?"  # "坡道好用 我自己能推出去了[强]"
          r"|已经关(?:掉|好|上)?了"  # "(阀门)已经关了": what a danger's report asked for is done
          # a fraud stopped in time: "拦住了拦住了 银行的人报了警 钱没转出去"
          r"|拦住了|(?:钱)?(?:还)?没(?:转|汇)(?:出去|成|走)|没上当|追回来了"
          # a false alarm owned up to: "搞错了 是隔壁在烧香", "… 不好意思啊 不用管了"
          r"|(?<![你们])(?:我)?(?:搞|弄|看|听|想|闻)错了|误会(?:了|一场)|不用(?:你们)?管了"
          # "救护车来了 把师傅接走了 人是清醒的": the danger is in hand
          r"|(?:救护车|120|民警|警察|消防车?)\S{0,2}(?:来了|到了)|(?:把\S{0,4})?(?:接走|送走|送医院)了|人(?:是|还)?清醒(?:的)?"
          # "我不是报修 我就是说说 …明天自己换个灯泡就好了": no report meant
          r"|我?(?:不是|没)(?:要|想)?(?:报修|投诉|反映|报)|(?:我)?(?:就是|只是)?(?:随口|随便)?说说(?:而已)?|不用(?:登记|报|派人|来人)了?"
          # a danger's all-clear: "没得事了", "孩子没事", "人好好的", "虚惊一场"
          r"|亮堂堂的?|亮堂了|没得事了?|冇事(?:啦|了)?|虚惊一场|有惊无险|平安无事|(?:人)?(?:找到|找着|找回来)了|(?:孩子|人|老人|娃|宝宝|大家|都)(?:都)?(?:没事|好好的|平安)(?![吧吗])"
          # "不用了 我们自己协商好了": a dispute settled between neighbours
          r"|(?:(?:跟|和|同)[\u4e00-\u9fff]{1,4}?)?(?:上楼|下楼|当面|私下|自己|已经)*(?:协商|商量|沟通|谈|说|讲)好了|私了了|和好了|不用(?:你们)?(?:处理|来)了"
          # at last: "不过总算是通了", "终于修好了"
          r"|(?:不过|但是?|好在)?(?:总算|终于)(?:是)?(?:修好|弄好|通|好|解决|清走|搬走|收走|来电|来水|亮)(?:了|嘞|啦)"
          # help found elsewhere: "不用麻烦你们了", "我儿子中午回来弄好了"
          r"|不用(?:再)?麻烦(?:你们|大家|社区|师傅)?(?:了|啦)"
          r"|[\u4e00-\u9fff]{0,6}?(?:回来|过来|上来)(?:给我|帮我|帮忙)?(?:修好|弄好|搞好|通好|换好|装好|搬好)(?:了|嘞|啦)"
          # ("阿拉自家跟楼上讲好了": with whom, then settled)
          # "干净多了", "安静多了": better than before
          r"|(?:干净|整洁|亮堂|清爽|通畅|顺畅|安静|宽敞|敞亮|好走|方便|好|快|顺|灵)多了"  # "抬杆快多了"
          # "清得很干净", "修得挺快": how it was done
          r"|(?:清|扫|弄|搞|收拾|打扫|修|处理|换|办)得(?:很|挺|真|非常|特别|蛮|好)?(?:干净|好|快|及时|利索|彻底|到位))")
# (rating, words, a statement about the problem rather than a rating word)
_WORDS: tuple[tuple[str, str, bool], ...] = (
    (UNSATISFIED, rf"{_ADVERB}(?:不太|不是很|不怎么|不)满意|差评|(?:很|太|非常|真)?差劲?", False),
    (UNSATISFIED, _STATEMENT, True),
    # "太慢了 不过总算是通了": done, but slowly
    (BASIC, rf"{_ADVERB}(?:基本满意|比较满意|还算满意|一般般?|还行|还可以|凑合|马马虎虎|过得去|中评|慢了点|有点慢|(?:太|好|真)慢)", False),
    (SATISFIED, rf"{_ADVERB}满意|五星好评|好评|五星|满分|(?:很|挺|非常|特别|真|太)(?:好|棒)|(?:很|挺|真|还挺)?不错", False),
    # saying it is fixed: "修好了", "师傅来过了，灯修好了[强]" (a statement: about the ticket's thing)
    # (never when the same breath says it is broken again: "弄得好好的又坏了")
    (SATISFIED, rf"(?!.*(?:又(?:坏|不|漏|停|堵|黑|臭|吵|出)|还是|仍然|依然|没(?:修|好|弄|人)))"
                rf"{_FIXED_SUBJECT}{_FIXED}", True),
)
_PARTICLES = "(?:了|的|啦|哈|呀|啊|哦|吧|呢|嘛|嘞|咯|嗯|嗯嗯|哈哈|过)*"
# Polite words around an answer: "满意，谢谢！", "谢谢师傅，很满意", "辛苦了，满意".
_POLITE = (
    r"(?:(?:谢谢|感谢|多谢|谢啦|辛苦|麻烦|点赞|给力|嗯嗯|嗯|好的|可以可以|可以)[\u4e00-\u9fff]{0,6}?"
    r"|(?:终于|总算)?(?:问题|灯|门|车)?(?:已经)?(?:解决|修好|弄好|处理好|清理好?|搞定|清走|搬走|拖走|拉走|挪走|好)了)"
)
# Thanks alone, from a reporter just asked to rate ("好的 谢谢你们[玫瑰]", "辛苦了"): elderly residents
# answer so, and an officer on the phone would note 满意. Thanks to someone named ("谢谢王阿姨") is
# not this: it is said to a neighbour.
_THANKS = re.compile(
    r"(?:好的|好了|好|嗯嗯?|哦|行|收到了?|知道了|晓得了|那就好|那太好了|太好了)*(?:(?:(?:真是|真的|实在)?(?:太|非常|十分|万分)?(?:谢谢|感谢)|多谢|谢啦|谢了|辛苦|麻烦)"
    r"(?:你们|您|你|侬|大家|师傅们?|社区|工作人员|物业|领导)?(?:了|啦|啊|呀|哈|咯)*){1,3}"
    # a season's greeting after the thanks: "好的 谢谢你们[玫瑰] 元宵节快乐"
    r"(?:(?:祝)?(?:大家|你们|您)?(?:元宵节?|新年|春节|过年|节日|中秋节?|国庆节?|端午节?|冬至|周末|元旦)(?:快乐|好)|新年好|过年好)?"
)
_MISTAKEN = re.compile(r"[搞弄看听想闻]错了")
_YOU_GOT_IT_WRONG = re.compile(r"你们?(?:是不是)?(?:搞|弄|修|换)错了")
_PUT_RIGHT = re.compile(r"\d|[一二三四五六七八九十]+(?:楼|层|单元|幢|栋)|不是\S{0,12}?是|是\S{0,16}?不是")
# A thumbs-up alone ("👍", "[强][强]"), from a reporter just asked to rate: as thanks alone, a 满意
_THUMBS_UP = re.compile(r"(?:👍(?:[\U0001f3fb-\U0001f3ff])?|👌|\[(?:强|赞|OK|ok|好的|棒|鼓掌)\]|\s)+")
THANKS_WINDOW = timedelta(days=1)  # thanks this long after the resolution still answers its question
# A danger's all-clear from its reporter ("门开了 人没事 … 虚惊一场") comes when it is over, an hour later
# or more: all this while it is about that danger
ALL_CLEAR_WINDOW = timedelta(hours=6)
_ASKED = re.compile(r"[?？吗]")  # a question, not an answer
_NOISE = re.compile(r"[\s。.!！~～,，、;；:：\u2005…]+")
_FULL_WIDTH = str.maketrans("１２３＃", "123#")
# A ticket named in the answer: "#3 满意", "3号满意", "工单3 满意".
_TICKET = re.compile(r"^(?:工单)?[#＃](\d{1,9})(?:号)?|^(?:工单)(\d{1,9})号?|^(\d{1,9})号(?:工单)?")
_LEADING_NUMBER = re.compile(r"^(\d{1,9})(?=\D)")
# The rating digit set apart, then a reason in words of its own: "3 还是有一层冰", "1，师傅很耐心"
_DIGIT_THEN_REASON = re.compile(
    r"^\s*([123])[\s,，。.:：]+(?![个天小楼栋幢号单层点周月次户室年岁])(?!.*\d\s*[、.])([\u4e00-\u9fff].*)$", re.S
)  # (never "1 个小时了 还没人来", "2 栋的垃圾桶满了", "1、垃圾没清 2、灯没修")
_ANSWER = re.compile(
    rf"^(?:{_POLITE}){{0,3}}(?P<word>{'|'.join(f'(?P<r{i}>{w})' for i, (_, w, _) in enumerate(_WORDS))}){_PARTICLES}"
    rf"(?:{_POLITE})?$"
)


@dataclass(frozen=True)
class Answer:
    rating: str
    ticket: int | None = None  # the ticket number the answer names, if any
    number: int | None = None  # a bare leading number: a ticket number or the rating digit again
    statement: bool = False  # "还是没修好": a 不满意 only when about the ticket's own thing
    thanks: bool = False  # only thanks: a 满意 for a question just asked, never a rating changed
    every: bool = False  # "两个都满意": for every ticket of theirs awaiting it


# "两个都满意", "两件都挺好的": one answer for each of their tickets awaiting a rating
_EVERY = re.compile(r"^\W*(?:这|那)?(?:两|三|几|俩)(?:个|件|张|单|处)?(?:问题|单子|工单|事情?|地方)?(?:都|全|全都)(?=\S)")


_REPEATED = re.compile(r"(\D{2,4}?)\1+")  # "没事了没事了", "好了好了", "可以可以": said once


def _squeeze(text: str) -> str:
    text = without_emoji(text.translate(_FULL_WIDTH))
    return _REPEATED.sub(r"\1", _NOISE.sub("", text).lower())


_CLAUSE_END = re.compile(r"(?<=[了嘞啊呀嘛哦吧])(?=[\u4e00-\u9fff\d])")


def _one_clause(text: str) -> Answer | None:
    """'不满意，灯只亮了一天又坏了' / '灯修好了，满意': one clause is the answer, the others its
    reason; clauses that answer alike ("还是没修好，晚上还是不亮") are one answer; clauses that
    disagree (or a bare number among words) are not a clear answer."""
    clauses: list[str] = []
    for part in (_squeeze(part) for part in _NOISE.split(text.strip())):
        if clauses and _TICKET.fullmatch(clauses[-1]):
            clauses[-1] += part  # "#2 不满意，…": the number belongs to its answer
        elif part:
            clauses.append(part)
    clauses = [c for c in clauses if not c.isdigit()]
    answers = [a for a in map(_parse, clauses) if a is not None]
    words = [a for a in answers if not a.statement]
    if words and all(a.rating == SATISFIED for a in answers if a.statement):
        # "换是换好了 就是胶没打好 基本满意吧": saying it was fixed, then rating it: the rating counts
        answers = words
    first = answers[0] if answers else None
    if first is None or any((a.rating, a.ticket, a.number) != (first.rating, first.ticket, first.number) for a in answers):
        return None
    # a rating word anywhere makes it a rating, not only a statement about the problem
    return Answer(first.rating, first.ticket, first.number, all(a.statement for a in answers))


def _word(text: str) -> tuple[str, bool] | None:
    if text in _DIGITS:
        return _DIGITS[text], False
    match = _ANSWER.match(text)
    if match is None:
        return None
    return next((rating, statement) for i, (rating, _, statement) in enumerate(_WORDS) if match.group(f"r{i}"))


# "师傅没来过 是我自己修好的", "师傅还没来 不过灯已经亮了": nobody came, but it is no complaint.
_FIXED_ANYWAY = re.compile(
    r"自己[\u4e00-\u9fff]{0,4}?(?:修|弄|搞|处理|换|通|装)|(?:不过|但是?|现在)(?:已经)?\S{0,3}(?:亮了|好了|修好|通了|不漏了|能用了|正常了)"
)


_STILL_BROKEN = re.compile(r"还是|也没|没(?:弄|修|搞|换)好|还在|仍然|依然|不亮|不行|没用")


# "这叫修好了", "这也算修好了？": said of a fix that did not hold, it means the opposite
_SCORN = re.compile(
    r"这(?:也|就|能)?(?:叫|算)(?:是)?(?:修好|弄好|处理好|解决|办好|办结|办完|完成|搞好|粉刷好|刷好|补好|修补好|装好|换好|擦干净|清好|清理好|清干净|清理干净|打扫干净|搬走|搞定)了?(?:吗|嘛|么)?[?？!！]*"
    # "没见有人来啊 … 怎么就办结了": closed, and nothing was done; "办结了？我家还在往下滴啊"
    r"|怎么(?:就|都)?(?:办结|结案|完成|处理完|解决)了?(?:呢|啊|呀)?[?？!！]*"
    r"|(?:就|这就)算(?:是)?(?:办结|完事|解决|处理好?)了?(?:吗|呢)?[?？!！]*"  # "就通知一下就算办结了？"
    r"|^\W*(?:这就|这样就|就这样)?(?:办结|结案|修好|解决|处理好)了(?:啊|呀)?[?？]+(?=\W*\S)"
)

# Sarcasm about a fix that did not hold ("办结得倒是快 今早门口照样两袋 呵呵 真是办得好啊", "呵呵 喷完药蟑螂
# 更多了 … 真是谢谢你们了啊"): a sneer and the problem still there, or worse, is a 不满意
_ASKED_AT_END = re.compile(r"(?:了没有?|没有|了没)[啊呀吧呢哦]?\W*$")
_SNEER = re.compile(r"呵呵|倒是(?:挺|蛮|很)?快|真是(?:谢谢|办得好|厉害|能干|太好了)|谢谢你们了啊|好一个")
_STILL_OR_WORSE = re.compile(r"照样|照旧|还是|仍然|依然|更多了?|更[多大厉严]|又[来有堆满臭]|根本没|一点没|跟没\S{1,2}一样")


def parse_answer(text: str) -> Answer | None:
    """'1' / '１' / '满意，谢谢！' / '非常满意[强]' / '还是没修好' / '#3 满意' -> the answer;
    anything else (a question, a longer story) is not an answer to the rating question."""
    every = _EVERY.match(text)
    if every is not None:  # "两个都满意 谢谢[抱拳]": a rating word, for each of them
        found = _answer(text[every.end():])
        return dataclasses.replace(found, every=True) if found is not None and not found.statement else None
    return _answer(text)


def _answer(text: str) -> Answer | None:
    if _SNEER.search(text) and _STILL_OR_WORSE.search(text):
        return Answer(UNSATISFIED, statement=True)
    text = _SCORN.sub("没修好，", text)
    if _ASKED.search(text) or _ASKED_AT_END.search(text):
        return None  # "下水道通了没有啊": asked, not told
    body = _squeeze(text)
    # unpunctuated voice-to-text: a particle also ends a clause ("还是不亮啊骗人的嘛", "修好嘞亮堂堂的")
    found = _parse(body) or _one_clause(text) or (
        _one_clause(_CLAUSE_END.sub(" ", text)) if not _NOISE.search(text.strip()) else None)  # no punctuation at all
    if (found is not None and found.statement and found.rating == UNSATISFIED and _FIXED_ANYWAY.search(body)
            and not _STILL_BROKEN.search(body)):
        return None
    if found is not None and found.statement and found.rating == UNSATISFIED and _YOU_GOT_IT_WRONG.search(body):
        # "你们搞错了吧 我说的是二楼 … 二楼还是黑的": the wrong thing was fixed: a 不满意, wherever it says
        return dataclasses.replace(found, statement=False)
    if found is not None and found.statement and _MISTAKEN.search(body) and _PUT_RIGHT.search(body):
        return None  # "搞错了 是5楼不是4楼": the report put right, not a false alarm
    if found is None and (_THANKS.fullmatch(body) or _THUMBS_UP.fullmatch(text.strip())):
        return Answer(SATISFIED, thanks=True)
    digit = _DIGIT_THEN_REASON.match(text.translate(_FULL_WIDTH))
    if found is None and digit and _word(_squeeze(digit.group(2))) is None:  # "3 还是有一层冰": the digit, and why
        return Answer(_DIGITS[digit.group(1)])
    if found is not None and found.statement and digit and _DIGITS[digit.group(1)] == found.rating:
        # "3 还是有味道 一进单元门就闻到": the digit rates; the words (whatever they name) say why
        return dataclasses.replace(found, statement=False)
    return found


def _parse(body: str) -> Answer | None:
    named = _TICKET.match(body)
    if named:
        number = int(next(g for g in named.groups() if g))
        word = _word(body[named.end():])
        return Answer(word[0], ticket=number, statement=word[1]) if word else None
    word = _word(body)
    if word:
        return Answer(word[0], statement=word[1])
    lead = _LEADING_NUMBER.match(body)
    if lead:  # "1 满意", "12 满意": the rating digit again, or a ticket number
        rest = _word(body[lead.end():])
        return Answer(rest[0], number=int(lead.group(1)), statement=rest[1]) if rest else None
    return None


def parse_rating(text: str) -> str | None:
    """The rating in an answer, or None (the dispatcher's fast path asks this)."""
    answer = parse_answer(text)
    return answer.rating if answer else None


def _choose(answer: Answer, pending: list[tickets.PendingRating]) -> tickets.PendingRating | list[int] | None:
    """The pending ticket the answer is for; the numbers to ask about when it is unclear."""
    wanted = answer.ticket
    if wanted is None and answer.number is not None:
        if any(p.ticket.id == answer.number for p in pending):
            wanted = answer.number
        elif _DIGITS.get(str(answer.number)) != answer.rating:
            return None  # "12 满意" with no #12 pending, or "1 不满意": not a clear answer
    if wanted is not None:
        return next((p for p in pending if p.ticket.id == wanted), None)
    # Already rated: only a change to 不满意 (the problem came back) still counts.
    open_ = [p for p in pending if p.given is None or (answer.rating == UNSATISFIED and p.given != UNSATISFIED)]
    if len(open_) == 1:
        return open_[0]
    unrated = [p for p in open_ if p.given is None]  # "不满意" after one was rated 满意: the other one
    if len(unrated) == 1:
        return unrated[0]
    return [p.ticket.id for p in open_ if p.ticket.id is not None] or None


def mixed_answers(text: str) -> list[tuple[str, Answer]] | None:
    """'灯修好了满意 水管那个还在滴 根本没弄好': answers that differ, each with its words (clauses
    that answer alike go together), for a reporter with several tickets to rate; else None."""
    if _ASKED.search(text):
        return None
    parts: list[tuple[str, Answer]] = []
    for clause in (_squeeze(c) for c in _NOISE.split(text.strip())):
        answer = _parse(clause) if clause else None
        if answer is None:
            return None  # words that answer nothing: a story, not two answers
        if parts and parts[-1][1].rating == answer.rating:
            parts[-1] = (f"{parts[-1][0]} {clause}", parts[-1][1])
        else:
            parts.append((clause, answer))
    return parts if len(parts) > 1 else None


def may_be_rating(text: str) -> bool:
    """Whether the text may answer a rating question (the dispatcher's fast path asks this)."""
    return parse_rating(text) is not None or mixed_answers(text) is not None


def _pending(ctx: Context) -> list[tickets.PendingRating]:
    """The caller's tickets awaiting their rating here (privately: anywhere)."""
    room_id = ctx.room.id if ctx.room else None
    me = ctx.caller.person_id
    window = timedelta(days=ctx.services.config.tickets.rating_days)
    # Only a question put to them: not one about what they reported before asking for deletion.
    # Privately, any ticket of theirs awaiting a rating (the group's too): people rate in private.
    pending = tickets.pending_ratings(
        ctx.session, room_id, me, ctx.now, window, asked=lambda t: reachable(ctx.session, me, t) is not None,
        any_room=ctx.room is None, stairwell=ctx.room.stairwell if ctx.room else None,
    )
    if ctx.room is not None:  # a private report is rated in private (the group never learns who made it)
        pending = [p for p in pending if p.ticket.room_id is not None or not _reported_privately(ctx, p.ticket)]
    return pending


def _rate_each(ctx: Context, parts: list[tuple[str, Answer]]) -> tuple[str, str | None] | None:
    """Each answer for the one ticket awaiting a rating its words name; nothing unless every
    answer names a different one."""
    pending = [p for p in _pending(ctx) if p.given is None]
    chosen: list[tuple[tickets.PendingRating, Answer]] = []
    for words, answer in parts:
        named = [p for p in pending if _about(ctx, p.ticket, words)]
        if len(named) != 1 or any(named[0] is c for c, _ in chosen):
            return None
        chosen.append((named[0], answer))
    for each, answer in chosen:
        rate(ctx, each.ticket, answer.rating)
    return "rating", None


async def try_rating(ctx: Context, text: str) -> tuple[str, str | None] | None:
    answer = parse_answer(text)
    if answer is None:
        parts = mixed_answers(text)
        return _rate_each(ctx, parts) if parts else None
    me = ctx.caller.person_id
    pending = _pending(ctx)
    if answer.statement and answer.rating != UNSATISFIED:
        # "师傅来修好了 没事了" from someone with an open ticket of their own here (privately: any of
        # theirs) is about that one (rating an older, resolved ticket with it was a wrong guess); its
        # staff are told. With several it could be about, nobody can tell which: chatter ("谢谢你们 修得真快").
        mine = (tickets.reported_by(ctx.session, open_in_room(ctx), me) if ctx.room is not None
                else own_open_tickets(ctx))
        own = [t for t in mine if _about(ctx, t, text)]
        fresh = [t for t in mine if t.urgent and ctx.now - t.created_at <= ALL_CLEAR_WINDOW]
        # Minutes after their own danger report the all-clear is about it ("已经关了 没事了"), also
        # when it names something else ("没事了 是502烧菜烧糊了 窗户开了"), unless it then answers a
        # rating ("灯修好了 谢谢").
        if fresh and (len(own) > 1 or (
                not own and not any(p.given is None and _about(ctx, p.ticket, text) for p in pending))):
            own = fresh[:1]
        if len(own) == 1:
            return "petition", on_said_fixed(ctx, own[0])
        if own:
            return None
        if not mine and legal.on_all_clear(ctx):  # "钱没转 没事了" after one's own fraud alarm
            return "legal", None
        if _MISTAKEN.search(text) or "不用管了" in text:
            return None  # a false alarm owned up to is about an open report, never a rating
    if not pending and answer.statement and answer.rating == UNSATISFIED and ctx.room is not None:
        # a neighbour who did not report it: "我家还在滴呢"; the reporter, past the rating window
        return _still_there(ctx) or _own_still_broken(ctx)
    if answer.thanks:  # a first answer to a question asked today; with several, nobody can tell which
        pending = [p for p in pending if p.given is None and p.ticket.resolved_at is not None
                   and ctx.now - p.ticket.resolved_at <= THANKS_WINDOW]
        if len(pending) != 1 or _thanks_for_something_else(ctx, pending[0].ticket):
            return None
    if answer.statement:  # "电梯又坏了" after the light was fixed: a new problem, not a rating
        pending = [p for p in pending if _about(ctx, p.ticket, text)]
        if "又" in ctx.masked_text and not _STILL_BROKEN.search(ctx.masked_text):
            # "门禁又坏了" after its 满意: broken again, a new report ("还是没解决，又堆上了": never fixed)
            pending = [p for p in pending if p.given is None]
    chosen = _choose(answer, pending) if pending else None
    if chosen is None:
        return None
    if isinstance(chosen, list) and answer.every:  # "两个都满意": each of them
        for each in (p for p in pending if p.ticket.id in chosen and p.given is None):
            rate(ctx, each.ticket, answer.rating)
        return "rating", None
    if isinstance(chosen, list):
        shown = "、".join(f"#{n}" for n in sorted(chosen))
        ctx.reply(f"您有{len(chosen)}件待评价：{shown}，请写明编号，例如“#{min(chosen)} {answer.rating}”。")
        return "rating_ask", None  # nothing rated yet
    if answer.rating != UNSATISFIED and chosen.given is not None:
        return None  # said again: chatter
    rate(ctx, chosen.ticket, answer.rating, thanked=answer.thanks)
    return "rating", chosen.ticket.category


def _reported_privately(ctx: Context, ticket: tickets.Ticket) -> bool:
    """Whether the caller reported ``ticket`` in private (not joined it from a group)."""
    me = ctx.caller.person_id
    return ticket.reporter_id == me or bool(tickets.private_reporters(ctx.session, ticket.id or 0, [me]))


def _thanks_for_something_else(ctx: Context, ticket: tickets.Ticket) -> bool:
    """Thanks answers the rating question only when nothing else was said to the group since it
    was asked (a neighbour's help, a notice, the ack of a new report of the sender's own)."""
    if ctx.room is None or ticket.resolved_at is None:
        return False  # privately the bot is the only one speaking
    return talk_since(ctx.session, ctx.room.id, ctx.caller.person_id, ticket.resolved_at, ctx.message_db_id)


def _about(ctx: Context, ticket: tickets.Ticket | Row, text: str) -> bool:
    """Whether a statement is about the ticket's thing: it names nothing else, and no other place."""
    objects = objects_of(ctx.services.router)
    named = objects(text)
    # the thing by the lexicon, or its word in the ticket's text ("还在滴" is a leak: "…漏水…")
    router = ctx.services.router
    if named and not same_object(objects(ticket.text), named) and not any(
            o.lstrip("~*") in ticket.text for o in named if len(o.lstrip("~*")) >= 2) \
            and not router.symptoms(text) & router.symptoms(ticket.text):  # "…接头松了 现在不滴了" of a leak
        return False
    return same_place_in(ticket.text, text)


# "灯又坏了": broken again, a new report ("老伴又是摸黑上的楼" says how it still is)
BROKEN_AGAIN = re.compile(r"又(?:坏|不亮|不行|不响|不通|漏|滴|渗|堵|停|黑了|臭|吵|出问题|堆|掉|裂|断)")
_STILL_THERE = re.compile(r"还(?:在|是)|仍然|依然|依旧|照样|照旧|没(?:修|弄|处理)好|没解决|问题还在")


def _still_there(ctx: Context) -> tuple[str, str | None] | None:
    """A neighbour (no rating of theirs pending) saying the problem of a ticket of this group
    resolved this week is still there ("我家还在滴呢", naming its thing): it is reopened, with
    them as one more reporter, and its staff are told. Naming nothing of a resolved ticket, it
    stays chatter (a guess would reopen the wrong one)."""
    if not _STILL_THERE.search(ctx.masked_text) or BROKEN_AGAIN.search(ctx.masked_text):
        return None  # "三楼的灯又坏了" after the fix: broken again, a new report (a new ticket)
    if not objects_of(ctx.services.router)(ctx.masked_text):
        return None  # (before the query: most such lines name nothing)
    ticket = recently_resolved(ctx, without_own_flat(ctx.masked_text))
    if ticket is None or ticket.id is None:
        return None
    tickets.add_reporter(ctx.session, ticket, ctx.caller.person_id)
    return _still_broken(ctx, ticket, "邻居反映问题仍在")


def _still_broken(ctx: Context, ticket: tickets.Ticket, note: str) -> tuple[str, str | None]:
    """Said to be still there: noted, one line to the group, reopened for its staff."""
    assert ticket.id is not None
    tickets.add_event(ctx.session, ticket.id, ctx.now, ctx.caller.person_id, "追加", ctx.masked_text)
    ctx.handled.ticket, ctx.handled.joined = ticket.id, True
    ctx.reply(f"抱歉，#{ticket.id}（{ticket.category}）的问题还没解决好，已重新交给工作人员继续处理。")
    _reopen(ctx, ticket, note, f"反映问题仍在：{excerpt(ctx.masked_text, f'/进度 {ticket.id}')}")
    return "petition", ticket.category


OWN_REOPEN_WINDOW = timedelta(days=30)  # the reporter's "还没修好呢" after its rating window still reopens


def _own_still_broken(ctx: Context) -> tuple[str, str | None] | None:
    """The reporter's "还没修好呢 晚上还是黑的" about their ticket here resolved this month (the
    rating window past, closed as 未评价): it is reopened and its staff are told. Their newest
    such ticket, about the same problem if the line names one; "又坏了" is a new report."""
    if BROKEN_AGAIN.search(ctx.masked_text) or ctx.room is None:
        return None
    mine = select(Ticket).join(TicketReporter, col(TicketReporter.ticket_id) == col(Ticket.id)).where(
        TicketReporter.person_id == ctx.caller.person_id, Ticket.room_id == ctx.room.id,
        col(Ticket.status).in_(tickets.RESOLVED_STATUSES), col(Ticket.resolved_at) >= ctx.now - OWN_REOPEN_WINDOW,
    ).order_by(col(Ticket.id).desc()).limit(RESOLVED_LOOKED_AT)
    names = objects_of(ctx.services.router)(ctx.masked_text)
    ticket = next((t for t in ctx.session.exec(mine).all() if not names or _about(ctx, t, ctx.masked_text)), None)
    return _still_broken(ctx, ticket, "居民反映问题仍在") if ticket is not None else None


def _reopen(ctx: Context, ticket: tickets.Ticket, note: str, said: str) -> None:
    """Back to work with its assignee (a 重开 event with ``note``); its staff hear what was ``said``."""
    ticket.closed_at = None
    tickets.set_status(ctx.session, ticket, "处理中", at=ctx.now, actor_id=ctx.caller.person_id, action="重开", note=note)
    for person_id in followers(ctx, ticket):
        ctx.private(person_id, f"【工单 #{ticket.id} 重开】{ctx.caller.name}{said}，请继续跟进：/工单 {ticket.id}")


def rate(ctx: Context, ticket: tickets.Ticket, rating: str, *, thanked: bool = False) -> None:
    """Record one reporter's rating: 不满意 reopens; otherwise the ticket keeps the least satisfied
    answer its reporters gave for this resolution."""
    assert ticket.id is not None
    me = ctx.caller.person_id
    ctx.handled.ticket, ctx.handled.rating = ticket.id, rating
    tickets.add_event(ctx.session, ticket.id, ctx.now, me, "评价", rating)
    if rating == UNSATISFIED:
        # Reopened: back to work with its assignee; the 不满意 stays on record until rated again.
        ticket.rating = rating
        ctx.reply(f"抱歉没让您满意，#{ticket.id} 已重新交给工作人员继续处理。")
        _reopen(ctx, ticket, "居民评价不满意", "评价“不满意”")
        return
    first = ticket.status == "已办结"
    ticket.rating = rating if first else tickets.worst_rating(ticket.rating, rating)
    ticket.status = "已回访"
    ticket.closed_at = ctx.now if first else ticket.closed_at
    ctx.session.add(ticket)
    if thanked:  # they said thanks, not a rating: say what was noted, and that more is welcome
        ctx.reply(f"不客气！#{ticket.id} 已记为“{rating}”，完成回访；还有问题随时说。")
    else:
        ctx.reply(f"谢谢您的评价（{rating}），#{ticket.id} 已完成回访。")
