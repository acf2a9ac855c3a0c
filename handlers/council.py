"""同心网格议事会 (the grid council): the month's agenda from the 小、急、难 tickets, decisions with an
owner and a date, done decisions told to the groups concerned, and residents' proposed topics.

The grid worker runs it (/议事会, /议程, /议题 采纳|不采纳); residents propose (/议题 内容) and are
told privately what became of it. Decisions show in the linked ticket's history and in the
reporters' /进度 (a 议事会 step); undone decisions stay on the next months' agendas.
"""
from __future__ import annotations

import re
from datetime import date

from sqlmodel import col, select

from domain.deadlines import format_day
from bot.commands import command
from bot.context import Context
from bot.permissions import Caller
from bot.privacy import mask, mask_flats
from nlp.when import WhenError, find_date
from storage import council, directory, tickets
from storage.models import CouncilItem, CouncilTopic, Room, RoomMember, Ticket

COUNCIL_ROLES = frozenset({"grid"})  # the grid worker (and admins) run the council
COUNCIL_USAGE = "/议事会 议程｜/议事会 决定 2 由物业本月15日前清理楼道堆物｜/议事会 完成 2"
DECIDE_EXAMPLE = "/议事会 决定 {n} 由物业本月15日前清理楼道堆物"
AGENDA_USAGE = "/议程 添加 内容｜/议程 删除 编号"
TOPIC_USAGE = "/议题 小区充电桩不够"
MAX_TOPIC = 200
MAX_PENDING_TOPICS = 3  # per resident: a flood of topics costs the grid worker nothing
# Who usually carries out a council decision; other owners are read up to 负责/牵头/a space.
OWNERS = sorted(
    ("物业", "物业公司", "物业服务中心", "居委会", "社区", "社区居委会", "业委会", "网格员", "楼道长", "信息员",
     "保障员", "城管", "街道", "供电公司", "自来水公司", "燃气公司", "派出所", "社区民警", "志愿者", "业主"),
    key=len, reverse=True,
)
_BEFORE = re.compile(r"^\s*(?:之前|以前|前)?\s*(?:完成)?")
_OWNER_END = re.compile(r"(\S{1,12}?)(?:负责|牵头|来|去|于|在|[，,、；;]|\s|$)")


# ---- which grid ----------------------------------------------------------------------------

def _known_grids(ctx: Context) -> list[str]:
    return sorted({r.grid for r in directory.rooms(ctx.session) if r.grid})


def _my_grids(ctx: Context, caller: Caller | None = None) -> set[str]:
    """The grids in which the caller runs the council (an admin of everything: all of them)."""
    scopes = (caller or ctx.caller).scopes(COUNCIL_ROLES)
    known = _known_grids(ctx)
    return set(known) if "*" in scopes else {s for s in scopes if s in known}


_GRID_NAME = re.compile(r"网格[A-Za-z0-9一二三四五六七八九十]{1,3}|第?[一二三四五六七八九十0-9]{1,3}网格")


def _grid(ctx: Context, args: str) -> tuple[str | None, str]:
    """(grid, the rest): a grid named first, else this group's, else the caller's only one."""
    word, _, rest = args.strip().partition(" ")
    mine = _my_grids(ctx)
    if word in _known_grids(ctx):
        if word not in mine:
            ctx.reply(f"抱歉，{word}不在您负责的范围内。", mention=False)
            return None, args
        return word, rest.strip()
    if _GRID_NAME.fullmatch(word):  # "网格Z": a grid that does not exist, not this group's agenda
        shown = "、".join(sorted(mine)) or "（无）"
        ctx.reply(f"没有找到“{word}”（您负责：{shown}），请核对网格名称。", mention=False)
        return None, args
    if ctx.room is not None and ctx.room.grid in mine:
        return ctx.room.grid, args.strip()
    if len(mine) == 1:
        return next(iter(mine)), args.strip()
    shown = "、".join(sorted(mine)) or "（无）"
    ctx.reply(f"请写明网格（您负责：{shown}），例如：/议事会 议程 {next(iter(sorted(mine)), '网格A')}", mention=False)
    return None, args


def _item(ctx: Context, number_text: str, usage: str) -> tuple[CouncilItem, str] | None:
    """The agenda item numbered first in ``number_text``, if it is in the caller's grids."""
    number, rest = tickets.parse_number(number_text)
    if number is None:
        ctx.reply(f"请写上议程编号，例如：{usage}", mention=False)
        return None
    item = ctx.session.get(CouncilItem, number) if number else None
    if item is None or item.status == council.DELETED or item.grid not in _my_grids(ctx):
        ctx.reply("没有找到这个编号的议程，或它不在您负责的网格，请用 /议事会 议程 核对编号。", mention=False)
        return None
    return item, rest


# ---- the agenda ------------------------------------------------------------------------------

def _line(ctx: Context, item: CouncilItem, month: str) -> str:
    tag = {"议题": "【居民议题】", "添加": ""}.get(item.source, "")
    line = f"{item.id}. {tag}{item.title}"
    if item.status in (council.DECIDED, council.DONE) and item.due_on is not None:
        late = "，已超期" if item.status == council.DECIDED and item.due_on < ctx.now else ""
        state = "已完成" if item.status == council.DONE else f"{format_day(item.due_on)}前{late}"
        line += f" —— 决定：由{item.owner}{item.decision}（{state}）"
    if item.month < month:
        line = f"{item.id}. 【{item.month[5:].lstrip('0')}月决定未完成】" + line.split(". ", 1)[1]
    return line


def show_agenda(ctx: Context, grid: str) -> None:
    added = council.refresh(ctx.session, grid, ctx.now, ctx.caller.person_id)
    month = council.month_of(ctx.now)
    items = council.agenda(ctx.session, grid, ctx.now)
    head = f"{grid} {month[:4]}年{int(month[5:])}月议事会议程（草案）"
    lines = [head + (f"，新增小急难{added}件：" if added else "：")]
    lines += [_line(ctx, item, month) for item in items] or ["（暂无议题）"]
    waiting = council.pending_topics(ctx.session, {grid})
    if waiting:
        lines.append(f"另有{len(waiting)}条居民议题待定：/议题 列表")
    lines.append(f"修改：{AGENDA_USAGE}；会后：/议事会 决定 编号 由谁某日前做什么；办完：/议事会 完成 编号")
    ctx.reply("\n".join(lines), mention=False)


@command("议程", roles=COUNCIL_ROLES, usage=AGENDA_USAGE, help="修改本月议事会议程（添加、删除）")
async def agenda_command(ctx: Context, args: str) -> None:
    verb, _, rest = args.strip().partition(" ")
    if verb == "添加":
        grid, title = _grid(ctx, rest)
        if grid is None:
            return
        if not title:
            ctx.reply("请写上议题内容，例如：/议程 添加 电动车楼道充电隐患", mention=False)
            return
        item = council.add(ctx.session, grid, mask(title)[:MAX_TOPIC], ctx.now, ctx.caller.person_id)
        ctx.reply(f"已加入{grid}本月议程，编号 {item.id}。", mention=False)
    elif verb == "删除":
        found = _item(ctx, rest, "/议程 删除 2")
        if found is None:
            return
        item = found[0]
        if item.status != council.PENDING:
            ctx.reply(f"议程 {item.id} {item.status}，不能删除。", mention=False)
            return
        item.status = council.DELETED
        ctx.session.add(item)
        ctx.reply(f"已从议程删除 {item.id}：{item.title}", mention=False)
    else:
        ctx.reply(f"用法：{AGENDA_USAGE}（查看议程：/议事会 议程）", mention=False)


# ---- decisions -----------------------------------------------------------------------------

def parse_decision(text: str, today_now) -> tuple[str | None, date | None, str]:
    """'由物业本月15日前清理楼道堆物' -> ('物业', 12-15, '清理楼道堆物'). WhenError for a past date."""
    found = find_date(text, today_now)
    rest = text
    if found is not None:
        after = _BEFORE.sub("", text[found.end:], count=1)
        rest = f"{text[:found.start]} {after}"
    owner = None
    if (m := re.search(r"由\s*", rest)) is not None:
        tail = rest[m.end():]
        known = next((w for w in OWNERS if tail.startswith(w)), None)
        if known is not None:
            owner, rest = known, rest[:m.start()] + " " + tail[len(known):]
        elif (o := _OWNER_END.match(tail)) is not None:
            owner, rest = o.group(1), rest[:m.start()] + " " + tail[o.end():]
    elif (o := re.match(r"\s*(\S{1,12}?)\s*负责", rest)) is not None:
        owner, rest = o.group(1), rest[o.end():]
    action = re.sub(r"\s+", "", re.sub(r"^[\s，,、:：]*(?:负责|牵头)?", "", rest)).strip("，,。；;")
    return owner, found.day if found else None, action


def _tell_ticket(ctx: Context, item: CouncilItem, note: str) -> None:
    if item.ticket_id is not None and ctx.session.get(Ticket, item.ticket_id) is not None:
        tickets.add_event(ctx.session, item.ticket_id, ctx.now, ctx.caller.person_id, "议事会", note)


def _decide(ctx: Context, rest: str) -> None:
    found = _item(ctx, rest, DECIDE_EXAMPLE.format(n=2))
    if found is None:
        return
    item, phrase = found
    example = DECIDE_EXAMPLE.format(n=item.id)
    if item.status == council.DONE:
        ctx.reply(f"议程 {item.id} 已完成，不能再改决定。", mention=False)
        return
    try:
        owner, due, action = parse_decision(mask(phrase), ctx.now)
    except WhenError as exc:
        ctx.reply(f"{exc} 例如：{example}", mention=False)
        return
    missing = [what for what, value in (("由谁负责", owner), ("哪天前完成", due)) if not value]
    if missing:
        ctx.reply(f"请写明{'、'.join(missing)}，例如：{example}", mention=False)
        return
    assert owner is not None and due is not None
    action = action or "办理"
    council.decide(ctx.session, item, decision=action, owner=owner, due=due, now=ctx.now)
    _tell_ticket(ctx, item, f"议事会决定：由{owner}{due.month}月{due.day}日前{action}")
    ctx.reply(f"已记录议程 {item.id} 的决定：由{owner}{due.month}月{due.day}日前{action}。"
              f"办完后发送 /议事会 完成 {item.id}，群里会收到一句告知。", mention=False)


def _groups_concerned(ctx: Context, item: CouncilItem) -> list[Room]:
    """The ticket's group, else the proposer's group, else the grid's stairwell groups."""
    room_id = None
    if item.ticket_id is not None:
        ticket = ctx.session.get(Ticket, item.ticket_id)
        room_id = ticket.room_id if ticket else None
    elif item.topic_id is not None:
        topic = ctx.session.get(CouncilTopic, item.topic_id)
        room_id = topic.room_id if topic else None
    room = ctx.session.get(Room, room_id) if room_id else None
    if room is not None:
        return [room]
    return [r for r in directory.rooms(ctx.session) if r.grid == item.grid and r.kind == "stairwell"]


def _complete(ctx: Context, rest: str) -> None:
    found = _item(ctx, rest, "/议事会 完成 2")
    if found is None:
        return
    item = found[0]
    if item.status != council.DECIDED or item.due_on is None:
        state = "已完成" if item.status == council.DONE else "还没有决定"
        ctx.reply(f"议程 {item.id} {state}。" + ("" if item.status == council.DONE else
                  f"先记录决定：{DECIDE_EXAMPLE.format(n=item.id)}"), mention=False)
        return
    council.complete(ctx.session, item, ctx.now)
    _tell_ticket(ctx, item, f"议事会决定已完成：由{item.owner}{item.decision}")
    rooms = _groups_concerned(ctx, item)
    line = mask_flats(f"【议事会】{item.owner}已{item.decision}（网格议事会决定事项，已完成）。")
    for room in rooms:
        ctx.to_room(room, line)
    ctx.reply(f"议程 {item.id} 已完成，已告知{len(rooms)}个群：{'、'.join(r.topic for r in rooms) or '（无）'}。",
              mention=False)


@command("议事会", roles=COUNCIL_ROLES, usage=COUNCIL_USAGE, help="网格议事会：议程、决定、完成")
async def council_command(ctx: Context, args: str) -> None:
    verb, _, rest = args.strip().partition(" ")
    if verb in ("", "议程"):
        grid, _ = _grid(ctx, rest)
        if grid is not None:
            show_agenda(ctx, grid)
    elif verb == "决定":
        _decide(ctx, rest)
    elif verb == "完成":
        _complete(ctx, rest)
    else:
        ctx.reply(f"用法：{COUNCIL_USAGE}", mention=False)


# ---- residents' topics -----------------------------------------------------------------------

_STAFF_TOPIC_VERBS = r"^\s*(?:采纳|不采纳|婉拒|拒绝|列表)"


def _proposer_grid(ctx: Context) -> tuple[str | None, str | None]:
    """(grid, room id) a resident's topic belongs to: this group's, else their first group's."""
    if ctx.room is not None:
        return ctx.room.grid, ctx.room.id
    stmt = select(Room).join(RoomMember, col(RoomMember.room_id) == Room.id).where(
        RoomMember.person_id == ctx.caller.person_id, Room.grid.is_not(None)  # type: ignore[union-attr]
    )
    room = ctx.session.exec(stmt.order_by(Room.id)).first()
    return (room.grid, room.id) if room else (None, None)


def _short(text: str, limit: int = 20) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


@command("议题", usage=TOPIC_USAGE, help="向网格议事会提议题", pattern=r"^(?!\s*(?:采纳|不采纳|婉拒|拒绝|列表))")
async def propose_command(ctx: Context, args: str) -> None:
    text = mask(args.strip())
    if not text:
        ctx.reply(f"请写上您想提的议题，例如：{TOPIC_USAGE}")
        return
    if len(text) > MAX_TOPIC:
        ctx.reply(f"议题请在{MAX_TOPIC}字以内，写清要商量的事就好。")
        return
    grid, room_id = _proposer_grid(ctx)
    if grid is None:
        ctx.reply(f"请在您所在的楼道群里发送：{TOPIC_USAGE}")
        return
    mine = [t for t in council.pending_topics(ctx.session, {grid}) if t.proposer_id == ctx.caller.person_id]
    if len(mine) >= MAX_PENDING_TOPICS:
        ctx.reply(f"您已有{len(mine)}条议题等网格员处理，处理后再提新的吧。")
        return
    topic = council.propose(ctx.session, grid=grid, room_id=room_id, proposer_id=ctx.caller.person_id, text=text,
                            now=ctx.now)
    ctx.reply(f"已收到您的议题（T{topic.id}），网格员会考虑列入议事会议程，结果会私信告诉您。")
    room = ctx.session.get(Room, room_id) if room_id else None
    where = f"（{room.topic}，{ctx.caller.name}）" if room else f"（{ctx.caller.name}）"
    for person in directory.people_with_roles(ctx.session, COUNCIL_ROLES, room):
        ctx.private(person.id, f"新议题 T{topic.id}{where}：{text}\n采纳：/议题 采纳 {topic.id}；"
                               f"不采纳：/议题 不采纳 {topic.id} 原因")


def _topic(ctx: Context, rest: str, usage: str) -> tuple[CouncilTopic, str] | None:
    number, reason = tickets.parse_number(rest.strip().lstrip("Tt"))
    topic = ctx.session.get(CouncilTopic, number) if number else None
    if topic is None or topic.grid not in _my_grids(ctx):
        ctx.reply(f"没有找到这个编号的议题，或它不在您负责的网格。用法：{usage}", mention=False)
        return None
    if topic.status != council.TOPIC_PENDING:
        ctx.reply(f"议题 T{topic.id} {topic.status}。", mention=False)
        return None
    return topic, reason


@command("议题", roles=COUNCIL_ROLES, usage="/议题 列表｜/议题 采纳 3｜/议题 不采纳 3 原因",
         help="处理居民提的议题", pattern=_STAFF_TOPIC_VERBS)
async def topic_staff_command(ctx: Context, args: str) -> None:
    verb, _, rest = args.strip().partition(" ")
    if verb == "列表":
        waiting = council.pending_topics(ctx.session, _my_grids(ctx))
        lines = [f"T{t.id} {t.grid}：{t.text}" for t in waiting] or ["没有待定的居民议题。"]
        ctx.reply("\n".join(lines), mention=False)
        return
    if verb == "采纳":
        found = _topic(ctx, rest, "/议题 采纳 3")
        if found is None:
            return
        topic = found[0]
        item = council.add(ctx.session, topic.grid, topic.text, ctx.now, ctx.caller.person_id, source="议题",
                           topic_id=topic.id)
        council.settle_topic(ctx.session, topic, council.TOPIC_ACCEPTED, ctx.now)
        ctx.private(topic.proposer_id, f"您提的议题“{_short(topic.text)}”已列入{topic.grid}本月议事会议程，"
                                       "商量的结果会在群里告知，谢谢您的建议！")
        ctx.reply(f"已采纳 T{topic.id}，列入本月议程，编号 {item.id}。", mention=False)
        return
    found = _topic(ctx, rest, "/议题 不采纳 3 原因")
    if found is None:
        return
    topic, reason = found
    if not reason:
        ctx.reply(f"请写上不采纳的原因（会转告提议的居民），例如：/议题 不采纳 {topic.id} 已在物业整改计划中", mention=False)
        return
    council.settle_topic(ctx.session, topic, council.TOPIC_DECLINED, ctx.now, mask(reason)[:MAX_TOPIC])
    ctx.private(topic.proposer_id, f"您提的议题“{_short(topic.text)}”这次没有列入议事会议程。"
                                   f"网格员说明：{mask(reason)}。谢谢您的建议！")
    ctx.reply(f"已答复 T{topic.id} 的提议人。", mention=False)
