"""最美 elections (/评选) and quick polls (/投票 发起), votes by a bare number or /投票, results.

A bare "2" (or "B" in a quick poll) counts as a vote only in a group where a poll is open and
only within its candidates: anything else ("502", "2楼", "3幢502收到", "2个人") stays chatter.
It runs after the rating step, so a reporter answering "1" to a rating question rates.
One vote per resident per poll across all its groups; a change replaces it (storage.polls).
"""
from __future__ import annotations

import re
import unicodedata
from datetime import datetime, time, timedelta

from sqlmodel import select

from bot.clock import SHANGHAI
from bot.commands import command
from bot.context import Context
from bot.handling import Decision, route_step
from bot.permissions import STAFF
from bot.privacy import mask
from common.emoji import without_emoji
from domain.polls import add_trigger, announcement, deadline_label, results
from handlers.notices import CONFIRMERS, SCOPE_WORDS, ask_confirmation, covered_rooms, resolve_targets
from nlp.when import WhenError, find_date, parse_when
from storage import polls
from storage.models import Poll, Room, RoomMember

ELECTION_USAGE = "/评选 [本楼|网格|全部] 最美家庭 候选 3幢502王家 3幢601李家 截止 12月20日"
QUICK_USAGE = "/投票 发起 [本楼|网格|全部] 充电棚位置 A 北门 B 东门 [截止 12月5日]"
VOTE_USAGE = "/投票 2（或 /投票 P3 2）"
QUICK_DAYS = 3  # a quick poll without 截止 runs this long
MAX_DAYS = 60
MAX_TITLE = 30
MAX_OPTION = 30
# "2", "2号", "#2", "投2号", "我选B", "b。": a whole message that is one small number or letter.
_BARE_VOTE = re.compile(r"^(?:我?(?:投|选)给?)?\s*[#]?\s*([0-9]{1,2}|[A-Ha-h])\s*号?\s*(?:一票)?\s*[。.!！]?$")
_POLL_ID = re.compile(r"^\s*[Pp]\s*(\d{1,9})\s*(.*)$")




def parse_vote(text: str) -> str | None:
    match = _BARE_VOTE.match(without_emoji(unicodedata.normalize("NFKC", text)).strip())  # "2[强]", "2👍"
    return match.group(1).upper() if match else None


def choice_of(poll: Poll, token: str) -> int | None:
    """The 1-based option ``token`` names in ``poll``, or None (out of range, letter vs number)."""
    count = len(polls.options(poll))
    if poll.letters:
        index = polls.LETTERS.find(token) + 1 if token.isalpha() else 0
    else:
        index = int(token) if token.isdigit() else 0
    return index if 1 <= index <= count else None


def record_vote(ctx: Context, poll: Poll, choice: int) -> None:
    """Store the vote and tell the voter privately (the group sees nothing)."""
    assert poll.id is not None
    me = ctx.caller.person_id
    cast = polls.vote(ctx.session, poll.id, me, choice, ctx.room.id if ctx.room else None, ctx.now)
    picked = f"{polls.label(poll, choice)} {polls.options(poll)[choice - 1]}"
    if cast.outcome == "new":
        text = f"已收到您在“{poll.title}”中的投票：{picked}。{deadline_label(poll)}前可改投。"
    elif cast.outcome == "changed":
        text = f"已改投：“{poll.title}”改为 {picked}（原投{polls.label(poll, cast.before or 1)}），只计最后一票。"
    else:
        text = f"您已投 {picked}，不用重复投。"
    ctx.private(me, text)


@route_step("vote", 15, lambda p: p.room is not None and parse_vote(p.text) is not None, usually=("vote", None))
async def _bare_vote(ctx: Context, text: str, route) -> Decision | None:
    """A bare number in a group with an open poll, within its candidates; else not a vote."""
    token = parse_vote(text)
    if ctx.room is None or token is None:
        return None
    for poll in polls.open_in_room(ctx.session, ctx.room.id, ctx.now)[:1]:  # the newest poll there
        choice = choice_of(poll, token)
        if choice is not None:
            record_vote(ctx, poll, choice)
            return "vote", None
    return None


# ---- opening a poll ------------------------------------------------------------------------

def parse_deadline(text: str, now: datetime) -> datetime:
    """'12月20日' -> the end of that day; '12月20日 18点' -> 18:00. WhenError with one line."""
    found = find_date(text, now)
    if found is None:
        raise WhenError("没看懂截止日期，例如：截止 12月20日（或 12月20日 18点）。")
    try:
        at = parse_when(text[found.start:], now).at
    except WhenError:
        at = datetime.combine(found.day + timedelta(days=1), time(0), SHANGHAI)  # through that whole day
    if at <= now:
        raise WhenError("截止时间已经过去了，请写将来的日期。")
    if at - now > timedelta(days=MAX_DAYS):
        raise WhenError(f"截止日期请写今后{MAX_DAYS}天以内的日期（不写年份的日期指今后最近的那一天）。")
    return at


def _split(words: str) -> list[str]:
    return [w for w in re.split(r"[\s,，、；;]+", words) if w]


def parse_election(content: str, now: datetime) -> tuple[str, list[str], datetime]:
    """'最美家庭 候选 甲 乙 截止 12月20日' -> (title, candidates, closes_at); ValueError: one line."""
    body, sep, deadline = content.rpartition("截止")
    if not sep:
        raise ValueError(f"请写明截止日期。用法：{ELECTION_USAGE}")
    title, sep, names = body.partition("候选")
    title = title.strip(" ：:")
    if not sep or not title:
        raise ValueError(f"请写明评选名称和候选。用法：{ELECTION_USAGE}")
    candidates = _split(names)
    return title, numbered_options(candidates) or candidates, parse_deadline(deadline.strip(" ：:"), now)


# An option numbered by whoever opened the poll: "1 周六", "1.周六", "2、周日", "①周六".
_MARKS = "12345678①②③④⑤⑥⑦⑧"
# A digit stands alone or before a stop ("1号", "2楼" are options, not numbers).
_NUMBER_MARK = re.compile(r"^(?:([1-8])(?:[.．、:：)）](.*))?|([①-⑧])(.*))$")


def numbered_options(words: list[str]) -> list[str] | None:
    """'1 周六 2 周日' / '1.周六 2.周日' / '①周六 ②周日': the options numbered 1, 2, … in order
    (residents then answer "1", as asked); None when they are not numbered so."""
    choices: list[str] = []
    n = 0
    while n < len(words):
        match = _NUMBER_MARK.match(words[n])
        if not match or _MARKS.index(match.group(1) or match.group(3)) % 8 + 1 != len(choices) + 1:
            return None
        text = match.group(2) or match.group(4)
        if not text:  # "1 周六": the option is the next word
            n += 1
            if n == len(words):
                return None
            text = words[n]
        choices.append(text)
        n += 1
    return choices if len(choices) >= 2 else None


def parse_quick(content: str, now: datetime) -> tuple[str, list[str], datetime]:
    """'充电棚位置 A 北门 B 东门 [截止 …]' (or '… 1 北门 2 东门') -> (title, options, closes_at)."""
    body, sep, deadline = content.rpartition("截止")
    if not sep:
        body = content
    closes = parse_deadline(deadline.strip(" ：:"), now) if sep else now + timedelta(days=QUICK_DAYS)
    title, *rest = _split(body) or [""]
    numbered = numbered_options(rest)
    if numbered is not None:
        return title.strip(" ：:"), numbered, closes
    choices = []
    for word in rest:
        stripped = re.sub(r"^[A-Ha-h](?:[.．、:：]|(?=[^\x00-\x7f]))", "", word)
        if stripped and not re.fullmatch(r"[A-Ha-h]", word):
            choices.append(stripped)
    return title.strip(" ：:"), choices, closes


def _check(title: str, choices: list[str], usage: str) -> str | None:
    if not title:
        return f"请写明名称。用法：{usage}"
    if len(choices) < 2 or len(choices) > (len(polls.LETTERS) if "发起" in usage else polls.MAX_OPTIONS):
        return f"请列出2个以上选项（快速投票最多{len(polls.LETTERS)}个，评选最多{polls.MAX_OPTIONS}个）。用法：{usage}"
    if len(title) > MAX_TITLE or any(len(c) > MAX_OPTION for c in choices):
        return f"名称请在{MAX_TITLE}字以内，每个选项{MAX_OPTION}字以内。"
    return None


async def _open(ctx: Context, args: str, *, kind: str, usage: str, letters: bool) -> None:
    first = args.split(" ", 1)[0]
    if ctx.room is None and first not in SCOPE_WORDS and not any(
        first in (r.topic, r.stairwell, r.grid) for r in covered_rooms(ctx.session, ctx.caller)
    ):
        ctx.reply(f"私聊中请写明在哪些群发起（本楼、网格、全部或群名）。用法：{usage}", mention=False)
        return
    rooms, content, error = resolve_targets(ctx, args)
    if error:
        said = error.split("。")[0].replace("通知内容", "内容").replace("发通知", "发起")  # /通知's wording
        ctx.reply(f"{said}。用法：{usage}", mention=False)
        return
    try:
        title, choices, closes = (parse_quick if letters else parse_election)(content, ctx.now)
        if letters:  # options the author numbered are answered with their numbers, as they asked
            letters = numbered_options(_split(content.rpartition("截止")[0] or content)[1:]) is None
    except ValueError as exc:  # WhenError is one
        ctx.reply(str(exc), mention=False)
        return
    problem = _check(title, choices, usage)
    if problem:
        ctx.reply(problem, mention=False)
        return
    spec = {"kind": kind, "title": title, "choices": choices, "letters": letters, "closes": closes.isoformat()}
    if len(rooms) == 1 and rooms[0] == ctx.room:
        _start(ctx, spec, rooms)
        return
    preview = Poll(id=0, kind=kind, title=title, options="\n".join(choices), letters=letters, room_ids="",
                   author_id="", created_at=ctx.now, closes_at=closes)
    ask_confirmation(ctx, rooms, announcement(preview).replace("（P0）", ""), kind="poll",
                     extra={"poll": spec})


def _start(ctx: Context, spec: dict, rooms: list[Room]) -> None:
    closes = datetime.fromisoformat(spec["closes"])
    if closes <= ctx.now:
        ctx.reply("截止时间已经过去了，请重新发起。", mention=False)
        return
    poll = polls.create(
        ctx.session, kind=spec["kind"], title=mask(spec["title"]), choices=[mask(c) for c in spec["choices"]],
        letters=spec["letters"], room_ids_=[r.id for r in rooms], author_id=ctx.caller.person_id, now=ctx.now,
        closes_at=closes,
    )
    assert poll.id is not None
    text = announcement(poll)
    for room in rooms:
        ctx.to_room(room, text)
    scheduler = ctx.services.scheduler
    if scheduler is not None:  # the id only; a lost job is caught up by polls_due at start
        poll_id = poll.id
        ctx.after_commit.append(lambda: add_trigger(scheduler, poll_id, closes))
    ctx.reply(f"{spec['kind']} P{poll.id} 已在{len(rooms)}个群发起，{deadline_label(poll)}截止；"
              f"/投票 结果 P{poll.id} 查看票数。", mention=False)


CONFIRMERS["poll"] = lambda ctx, pending, rooms: _start(ctx, pending["poll"], rooms)


@command("评选", roles=STAFF, usage=ELECTION_USAGE, help="发起“最美”评选，居民回复编号投票")
async def election_command(ctx: Context, args: str) -> None:
    await _open(ctx, args, kind="评选", usage=ELECTION_USAGE, letters=False)


@command("投票", roles=STAFF, usage=QUICK_USAGE, help="发起快速投票（A、B、C作答）", pattern=r"^\s*发起")
async def quick_poll_command(ctx: Context, args: str) -> None:
    await _open(ctx, args.strip().removeprefix("发起").strip(), kind="投票", usage=QUICK_USAGE, letters=True)


# ---- results ---------------------------------------------------------------------------------

def _staff_polls(ctx: Context, *, open_only: bool) -> list[Poll]:
    mine = {r.id for r in covered_rooms(ctx.session, ctx.caller)}
    return polls.in_rooms(ctx.session, mine, open_only=open_only, now=ctx.now)


@command("投票", roles=STAFF, usage="/投票 结果 P3", help="查看评选或投票的票数", pattern=r"^\s*结果")
async def results_command(ctx: Context, args: str) -> None:
    match = _POLL_ID.match(args.strip().removeprefix("结果"))
    mine = _staff_polls(ctx, open_only=False)
    if match is None:
        if not mine:
            ctx.reply("您负责的群里还没有评选或投票。", mention=False)
            return
        lines = [f"P{p.id} {p.title}（{'进行中' if polls.is_open(p, ctx.now) else '已截止'}）" for p in mine]
        ctx.reply("最近的评选和投票：\n" + "\n".join(lines) + "\n查看票数：/投票 结果 P编号", mention=False)
        return
    poll = next((p for p in mine if p.id == int(match.group(1))), None)
    if poll is None:
        ctx.reply("没有找到这个编号的评选或投票，或它不在您负责的群里。", mention=False)
        return
    ctx.reply(results(ctx.session, poll, final=not polls.is_open(poll, ctx.now)), mention=False)


# ---- voting by command -----------------------------------------------------------------------

def _my_rooms(ctx: Context) -> set[str]:
    stmt = select(RoomMember.room_id).where(RoomMember.person_id == ctx.caller.person_id)
    return set(ctx.session.exec(stmt).all())


# A vote is secret: every answer to it (even "请投1到2之间") goes to the voter alone.
@command("投票", usage=VOTE_USAGE, help="给评选或投票投一票（截止前可改投）", pattern=r"^(?!\s*(?:发起|结果))",
         answer="secret")
async def vote_command(ctx: Context, args: str) -> None:
    text = unicodedata.normalize("NFKC", args).strip()
    named = _POLL_ID.match(text)
    token = parse_vote(named.group(2) if named else text)
    where = {ctx.room.id} if ctx.room else _my_rooms(ctx)
    if token is None:
        ctx.reply(f"请写上编号，例如：{VOTE_USAGE}", mention=False)
        return
    if named:
        poll = ctx.session.get(Poll, int(named.group(1)))
        if poll is None or not where & set(polls.room_ids(poll)):
            ctx.reply("没有找到这个编号的评选或投票，或它不在您所在的群里。", mention=False)
            return
        if not polls.is_open(poll, ctx.now):
            ctx.reply(f"“{poll.title}”已截止，不再计票。", mention=False)
            return
    else:
        open_ = polls.in_rooms(ctx.session, where, open_only=True, now=ctx.now)
        if not open_:
            ctx.reply("现在没有进行中的评选或投票。", mention=False)
            return
        if ctx.room is None and len(open_) > 1:
            shown = "、".join(f"P{p.id} {p.title}" for p in open_)
            ctx.reply(f"有{len(open_)}个投票在进行：{shown}，请写明编号，例如：/投票 P{open_[0].id} {token}", mention=False)
            return
        poll = open_[0]
    choice = choice_of(poll, token)
    if choice is None:
        last = polls.label(poll, len(polls.options(poll))).rstrip("号")
        first = "A" if poll.letters else "1"
        ctx.reply(f"“{poll.title}”请投{first}到{last}之间的选项。", mention=False)
        return
    record_vote(ctx, poll, choice)
