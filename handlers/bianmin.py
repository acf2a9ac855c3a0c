"""Everyday questions (便民): 物业电话是多少, 办事大厅几点下班, 老年卡怎么办…

A question the router left as chatter is answered from the community's FAQ (content/bianmin.yaml
and the entries staff add with /便民 添加), once per group in ``bianmin.repeat_minutes``, @-ing
the asker, never opening a ticket. An unknown question stays silent, unless it was asked of the
bot: then one line saying who to ask.
"""
from __future__ import annotations

import re
from datetime import timedelta

from pydantic import ValidationError
from sqlmodel import col, select

from bot.commands import command, said_lately
from bot.config import ROLE_NAMES
from bot.context import Context
from bot.permissions import STAFF
from bot.privacy import mask
from nlp.faq import MAX_EVERYDAY_ANSWER_CHARS, EverydayEntry, FaqMatcher, bianmin_faq, lcut
from storage import directory
from storage.models import AuditEntry, BianminEntry, Room

MAX_QUESTION_CHARS = 40
# Words that say *that* something is asked, not *what*: never a staff entry's keyword.
ASKING = frozenset(
    "请问 问下 问一下 一下 是 的 了 吗 呢 啊 呀 吧 么 嘛 多少 几点 几号 什么 什么时候 时候 怎么 怎样 如何 哪里 哪儿 在哪 在哪里"
    " 哪 谁 有没有 能不能 可以 可不可以 要 我 你 我们 大家 知道 谁知道 现在 今天 还 都 和 跟 去 到 在 有".split()
)


def _keywords(question: str) -> tuple[str, ...]:
    """A staff question's content words (jieba), in order, without the asking words."""
    words: list[str] = []
    for token in lcut(question):
        token = token.strip()
        if token and token not in ASKING and re.search(r"[\u4e00-\u9fffA-Za-z0-9]", token) and token not in words:
            words.append(token)
    return tuple(words) or (question.strip(),)


def _entry(row: BianminEntry) -> EverydayEntry:
    return EverydayEntry(id=f"d{row.id}", keywords=tuple(row.keywords.split()), question=row.question, answer=row.answer)


def _rows_for(ctx: Context, room: Room | None) -> list[BianminEntry]:
    rows = ctx.session.exec(select(BianminEntry).order_by(col(BianminEntry.id))).all()
    return [r for r in rows if r.scope == "*" or room is None or room.covered_by(r.scope)]


def find_answer(ctx: Context, text: str) -> EverydayEntry | None:
    """The FAQ entry answering ``text``: staff entries of this group's grid first, then the file."""
    entries = [_entry(r) for r in _rows_for(ctx, ctx.room)] + list(bianmin_faq())
    return FaqMatcher(entries).match(text)


HINT = "您好，我是楼道通。需要反映问题请直接描述（如“3单元楼道灯坏了”），我会登记并转给楼道工作人员。"
# Asked about the bot itself ("@楼道通 你是机器人吗", "怎么用", "在吗"): who it is, not "答不上来"
ABOUT_THE_BOT = re.compile(
    r"你是(?:谁|啥|什么|哪个|机器人|真人|人)|(?:怎么|咋|如何)(?:用|使用)|有事.{0,4}(?:跟|和|找)你|"
    # "你能干啥呀", "你会做什么", "小楼啊 你在吗"
    r"(?:你|您)(?:能|会|可以)(?:干|做|帮)(?:啥|什么|些什么|点啥|嘛|哪些)|(?:你|您)(?:有)?(?:啥|什么)(?:用|功能)|"
    r"^\W*(?:(?:小楼|楼道通)(?:啊|呀)?\W*)?(?:(?:你|您)好\W*)?(?:(?:你|您)?(?:在吗|在不在)|有人吗|你好|您好)\W*$"
)
# "楼道长是谁啊": the stairwell's staff by name (staff, not residents: their names are public)
ASKS_WHO_IS = re.compile(r"(楼道长|信息员|保障员|网格员)(?:是|叫)(?:谁|哪个|哪位|啥)")


def _who_is(ctx: Context, title: str) -> str | None:
    role = next((r for r, name in ROLE_NAMES.items() if name == title), None)
    people = directory.responsible_staff(ctx.session, ctx.room) if ctx.room is not None else []
    named = [p.name for p in people if role in {g.role for g in directory.grants_for(ctx.session, p.id)}]
    if named:
        return f"本楼道的{title}是{'、'.join(named)}，有事直接在群里说就行，我会转告。"
    if people:  # "那我们2单元的楼道长是谁 以后有事找谁反映": none yet; who follows this stairwell
        roles = {g.role for g in directory.grants_for(ctx.session, people[0].id)}
        other = next((ROLE_NAMES[r] for r in ("officer", "leader", "grid", "admin") if r in roles), "")
        return f"本楼道暂时没有{title}，由{other}{people[0].name}跟进，有事直接在群里说就行，我会转告。"
    return None


# "李敏这几天不在 楼里有事找谁啊": everyone who follows this stairwell, less whom the asker named
ASKS_WHOM_TO_ASK = re.compile(r"(?:有事|有问题|有啥事|遇到事|出了?事)\S{0,6}?(?:找|问|联系)(?:谁|哪个|哪位)")
_STAIRWELL_TITLES = ("leader", "officer", "support", "grid")


def _whom_to_ask(ctx: Context, text: str) -> str | None:
    if ctx.room is None:
        return None
    found: list[str] = []
    for role in _STAIRWELL_TITLES:
        found += [f"{ROLE_NAMES[role]}{p.name}" for p in directory.people_with_roles(ctx.session, {role}, ctx.room)
                  if p.name not in text and not any(p.name in f for f in found)]
    if not found:
        return None
    return f"本楼道有事可以找{'、'.join(found[:4])}，也可以直接在群里说，我会转告。"


def on_who_is(ctx: Context, text: str) -> bool:
    """"请问咱们这片的网格员是谁啊" in a group or in private: the names (staff names are public)."""
    asked = ASKS_WHO_IS.search(text)
    answer = _who_is(ctx, asked.group(1)) if asked else None
    if answer is None:
        return False
    ctx.reply(answer)
    return True


def who_to_ask(ctx: Context) -> str:
    """One line for an unknown question asked of the bot: the stairwell's staff, else the hotline."""
    hotline = ctx.services.config.bianmin.hotline
    people = directory.responsible_staff(ctx.session, ctx.room) if ctx.room is not None else []
    if people:
        person = people[0]
        roles = {g.role for g in directory.grants_for(ctx.session, person.id)}
        title = next((ROLE_NAMES[r] for r in ("officer", "leader", "grid", "admin") if r in roles), "")
        return f"这个问题我还答不上来，可以问问{title}{person.name}，或拨打{hotline}。"
    return f"这个问题我还答不上来，可以问问社区工作人员，或拨打{hotline}。"


async def on_question(ctx: Context, text: str, known_only: bool = False) -> tuple[str, str | None] | None:
    """Answer an everyday question once; None when it is not one (later steps may act).
    ``known_only``: only from the answers kept (no "who to ask" line, no hint)."""
    entry = find_answer(ctx, text)
    asked_bot = ctx.event.mentions_bot
    if entry is None and known_only:
        return None
    if entry is None:
        who = ASKS_WHO_IS.search(text)
        answer = _who_is(ctx, who.group(1)) if who and (asked_bot or ctx.room is None) else None
        if answer is None and asked_bot and ASKS_WHOM_TO_ASK.search(text):
            answer = _whom_to_ask(ctx, text)
        if answer is None and asked_bot and ABOUT_THE_BOT.search(text):
            answer = HINT
        if answer is not None:
            ctx.reply(answer)
            return "bianmin", None
        if asked_bot and ctx.room is not None:
            ctx.reply(who_to_ask(ctx))
            return "bianmin", None
        return None
    where = ctx.room.id if ctx.room is not None else f"p:{ctx.caller.person_id}"
    window = timedelta(minutes=ctx.services.config.bianmin.repeat_minutes)
    # Asked again soon in the same group: the answer is just above (asked of the bot: answer again)
    if said_lately(ctx, f"bianmin:{where}:{entry.id}", window) and not asked_bot:
        return None
    ctx.reply(entry.answer)
    return "bianmin", entry.id


# ---- /便民: staff keep the community's own answers ---------------------------------------------

_ADD = re.compile(r"^(?:添加|增加|新增)\s*(.+?)\s*[|｜]\s*(.+)$", re.S)
_DELETE = re.compile(r"^(?:删除|删掉|去掉)\s*[#＃]?\s*(\d{1,9})\s*$")
USAGE = "/便民 | /便民 添加 问题 | 答案 | /便民 删除 编号"


def _scope_for(ctx: Context) -> str:
    """An entry serves where its author works: their scope covering this group (a stairwell
    before a grid before "*"); added privately, their only scope, else everywhere."""
    scopes = [s for s in ctx.caller.scopes(STAFF) if s != "*"]
    if ctx.room is not None:
        scopes = [s for s in scopes if ctx.room.covered_by(s)]
        ranked = [s for s in (ctx.room.stairwell, ctx.room.grid, ctx.room.topic) if s in scopes]
        return ranked[0] if ranked else "*"
    return scopes[0] if len(scopes) == 1 else "*"


def _may_edit(ctx: Context, row: BianminEntry) -> bool:
    return ctx.caller.sees_everything or row.scope in ctx.caller.scopes(STAFF)


@command("便民", roles=STAFF, usage=USAGE, help="便民问答：查看、添加、删除居民常问的问题")
async def bianmin_command(ctx: Context, args: str) -> None:
    args = args.strip()
    if not args:
        _list(ctx)
        return
    added, deleted = _ADD.match(args), _DELETE.match(args)
    if added:
        _add(ctx, added.group(1).strip(), added.group(2).strip())
    elif deleted:
        _delete(ctx, int(deleted.group(1)))
    else:
        ctx.reply(f"用法：{USAGE}\n例如：/便民 添加 社区食堂几点开门 | 每天11:00—13:00，在党群服务中心一楼", mention=False)


def _list(ctx: Context) -> None:
    rows = [r for r in _rows_for(ctx, ctx.room) if _may_edit(ctx, r) or r.scope == "*"]
    lines = ["便民问答（居民在群里问到时，我会@提问人回答一次）："]
    lines += [f"{r.id}. {r.question} → {r.answer[:30]}" for r in rows] or ["（还没有在群里添加的问答）"]
    lines.append("内容文件中的常用问答：" + "；".join(e.question for e in bianmin_faq()))
    lines.append("添加：/便民 添加 问题 | 答案；删除：/便民 删除 编号")
    ctx.reply("\n".join(lines), mention=False)


def _add(ctx: Context, question: str, answer: str) -> None:
    question, answer = mask(question), mask(answer)  # a mobile number stays masked, like any staff text
    if len(question) > MAX_QUESTION_CHARS or len(answer) > MAX_EVERYDAY_ANSWER_CHARS:
        ctx.reply(f"问题请在{MAX_QUESTION_CHARS}字以内、答案在{MAX_EVERYDAY_ANSWER_CHARS}字以内。", mention=False)
        return
    keywords = _keywords(question)
    try:
        EverydayEntry(id="new", keywords=keywords, question=question, answer=answer)
    except ValidationError:
        ctx.reply(f"问题和答案都不能为空。用法：{USAGE}", mention=False)
        return
    row = BianminEntry(scope=_scope_for(ctx), question=question, answer=answer, keywords=" ".join(keywords),
                       author_id=ctx.caller.person_id, created_at=ctx.now)
    ctx.session.add(row)
    ctx.session.flush()
    ctx.session.add(AuditEntry(at=ctx.now, actor_id=ctx.caller.person_id, action="添加便民问答", subject=f"{row.id}"))
    where = "全部群" if row.scope == "*" else row.scope
    ctx.reply(f"已添加便民问答 {row.id}（{where}）：{question}\n关键词：{'、'.join(keywords)}", mention=False)


def _delete(ctx: Context, number: int) -> None:
    row = ctx.session.get(BianminEntry, number)
    if row is None or not _may_edit(ctx, row):
        ctx.reply(f"没有找到便民问答 {number}，发送 /便民 查看编号。", mention=False)
        return
    ctx.session.delete(row)
    ctx.session.add(AuditEntry(at=ctx.now, actor_id=ctx.caller.person_id, action="删除便民问答", subject=f"{number}"))
    ctx.reply(f"已删除便民问答 {number}：{row.question}", mention=False)
