"""Ticket commands: staff follow a petition to the end, residents follow their own.

Lifecycle: 已受理 → 已分派 → 处理中 → 已办结 → 已回访 (or 已撤销 by the resident).
Roles are checked by the router; here we only check that the ticket is in the
caller's scope (staff) or is the caller's own (residents).
"""
from __future__ import annotations

import re
from datetime import timedelta
from typing import Awaitable, Callable

from sqlmodel import select

from bot.commands import command
from bot.context import Context
from bot.permissions import STAFF, caller_from_grants
from bot.privacy import mask, mask_flats
from domain.deadlines import add_working_days, format_due
from domain.people import resolve_person
from handlers.privacy_commands import reachable
from nlp.when import WhenError, parse_duration
from storage import directory, tickets
from storage.models import AuditEntry, Person, Room, Ticket

OUT_OF_SCOPE = "不在您负责的范围内"
NUMBER_ARG = r"^\s*[#＃]?\s*\d+"
LIST_LIMIT = 20
NOTES_SHOWN = 8  # the latest staff notes /进度 shows
RATE_PROMPT = "请回复评价：1 满意，2 基本满意，3 不满意（直接回复“满意”“还行”“没修好”也可以）。"
TicketStep = Callable[[Context, Ticket, str], Awaitable[None]]
OWN_ONLY = "抱歉，只能查询您本人反映的工单，请核对编号。"


# ---- small shared helpers -------------------------------------------------------------

def ticket_room(ctx: Context, ticket: Ticket) -> Room | None:
    return ctx.session.get(Room, ticket.room_id) if ticket.room_id else None


def where(ctx: Context, ticket: Ticket) -> str:
    room = ticket_room(ctx, ticket)
    return room.topic if room else "私聊"


def staff_scopes(ctx: Context) -> tuple[str, ...]:
    return ctx.caller.scopes(frozenset(STAFF))


def load_ticket(ctx: Context, number: int | None, usage: str) -> Ticket | None:
    """The ticket named by ``number`` if it is in the caller's scope; otherwise one polite line."""
    if number is None:
        ctx.reply(f"请写上工单编号，例如：{usage}", mention=False)
        return None
    ticket = ctx.session.get(Ticket, number)
    if ticket is None or not tickets.in_scope(ticket, staff_scopes(ctx), ticket_room(ctx, ticket)):
        shown = f"工单 #{number}" if number else "这个编号的工单"  # an over-long number is not echoed
        ctx.reply(f"没有找到{shown}，或它{OUT_OF_SCOPE}，请核对编号。", mention=False)
        return None
    return ticket


def open_ticket(ctx: Context, args: str, usage: str, *, need_note: bool = True,
                missing: str = "说明") -> tuple[Ticket, str] | None:
    """Parse '#12 说明', load an open ticket in scope, and require a note (``missing`` names it) when asked."""
    number, rest = tickets.parse_number(args)
    if number is None:
        number, rest = _spaced_number(ctx, args, number, rest)
    if number is None and _asked_about_place_led_number(ctx, args, usage):
        return None
    ticket = load_ticket(ctx, number, usage)
    if ticket is None:
        return None
    if ticket.status not in tickets.OPEN_STATUSES:
        ctx.reply(f"工单 #{ticket.id} 目前{ticket.status}，不能再操作。", mention=False)
        return None
    if need_note and not rest:
        ctx.reply(f"请写上{missing}，例如：{usage}", mention=False)
        return None
    return ticket, mask(rest)


_SPACED_NUMBER = re.compile(r"^\s*[#＃]?\s*([0-9]{1,9})\s+(\S.*)$", re.S)  # ASCII digits only ("١" is no number)


def _spaced_number(ctx: Context, args: str, number: int | None, rest: str) -> tuple[int | None, str]:
    """'/办结 1 单元门锁已更换': the space says 1 is the number (not '1单元'), when ticket #1 is open
    in the caller's scope; else what parse_number read."""
    match = _SPACED_NUMBER.match(args.translate(tickets.WIDE_DIGITS))
    if match is None:
        return number, rest
    ticket = ctx.session.get(Ticket, int(match.group(1)))
    if (ticket is None or ticket.status not in tickets.OPEN_STATUSES
            or not tickets.in_scope(ticket, staff_scopes(ctx), ticket_room(ctx, ticket))):
        return number, rest
    return ticket.id, match.group(2).strip()


def _asked_about_place_led_number(ctx: Context, args: str, usage: str) -> bool:
    """'/办结1楼上总阀已换': '1楼' reads as a floor, but an open ticket #1 in scope makes it likely the
    number. Closing the wrong ticket would ask its reporters to rate work never done, so ask, naming
    the exact line that acts; without such a ticket it is a floor and the usual reply follows."""
    guess = tickets.place_led_number(args)
    if guess is None:
        return False
    number, rest = guess
    ticket = ctx.session.get(Ticket, number)
    if (ticket is None or ticket.status not in tickets.OPEN_STATUSES
            or not tickets.in_scope(ticket, staff_scopes(ctx), ticket_room(ctx, ticket))):
        return False
    ctx.reply(f"是指工单 #{number} 吗？请在编号前加 #：{usage.split()[0]} #{number} {mask(rest)}", mention=False)
    return True


def with_open_ticket(usage: str, missing: str = "说明") -> Callable[[TicketStep], Callable[[Context, str], Awaitable[None]]]:
    """Staff steps on one open ticket: parse '#12 说明' and load the ticket before the body runs."""

    def wrap(body: TicketStep) -> Callable[[Context, str], Awaitable[None]]:
        async def handler(ctx: Context, args: str) -> None:
            found = open_ticket(ctx, args, usage, missing=missing)
            if found is not None:
                ctx.handled.ticket = found[0].id
                await body(ctx, *found)

        return handler

    return wrap


def step(ctx: Context, ticket: Ticket, status: str, action: str, note: str) -> None:
    tickets.set_status(ctx.session, ticket, status, at=ctx.now, actor_id=ctx.caller.person_id, action=action, note=note)


def followers(ctx: Context, ticket: Ticket) -> list[str]:
    """Who hears about a ticket's changes: its assignee, else the stairwell's responsible staff."""
    if ticket.assignee_id:
        return [ticket.assignee_id]
    home = ticket_room(ctx, ticket) or directory.stairwell_room(ctx.session, ticket.stairwell)  # a private one's stairwell
    return [p.id for p in directory.responsible_staff(ctx.session, home)]


def reporters(ctx: Context, ticket: Ticket) -> list[Person]:
    """The reporters who may be named: not those who asked for deletion after reporting it."""
    assert ticket.id is not None
    people = (reachable(ctx.session, pid, ticket) for pid in tickets.reporter_ids(ctx.session, ticket.id))
    return [p for p in people if p is not None]


def tell_reporters(ctx: Context, ticket: Ticket, text: str) -> None:
    """@ the reporters in the ticket's group (or write to them privately for a private petition).

    The whole group reads the group post: flat numbers in it are masked; a private message keeps them.
    """
    people = reporters(ctx, ticket)
    room = ticket_room(ctx, ticket)
    assert ticket.id is not None
    # those who joined it in a private chat hear privately: the group never learns they reported it
    private = tickets.private_reporters(ctx.session, ticket.id, [p.id for p in people]) if room is not None else set()
    for person in people:
        if room is None or person.id in private:
            ctx.private(person.id, text)
    if room is None:
        return
    shown = [p for p in people if p.id not in private]
    if people and not shown:
        return  # every reporter joined privately: nothing in the group names it as theirs
    people = shown
    names = " ".join(f"@{p.name}" for p in people)
    ctx.to_room(room, f"{names} {mask_flats(text)}".strip(), mentions=tuple(p.id for p in people))


def audit(ctx: Context, actor_id: str, action: str, subject: str) -> None:
    ctx.session.add(AuditEntry(at=ctx.now, actor_id=actor_id, action=action, subject=subject))


def staff_answer(ctx: Context, text: str, ticket: Ticket | None = None) -> None:
    """Answer the staff member; skipped when the group already saw the outcome in its room."""
    if ticket is not None and ctx.room is not None and ctx.room.id == ticket.room_id:
        return
    ctx.reply(text, mention=False)


def private_to_caller(ctx: Context, text: str) -> None:
    """Ticket details never go to a residents' group: staff commands answer privately (bot.commands)."""
    ctx.reply(text, mention=False)


def line(ctx: Context, t: Ticket) -> str:
    late = " · 已超期" if t.status in tickets.OPEN_STATUSES and t.due_at < ctx.now else ""
    who = f" · {directory.person_name(ctx.session, t.assignee_id)}" if t.assignee_id else ""
    urgent = "【急】" if t.urgent else ""
    place = t.stairwell or where(ctx, t)
    return f"#{t.id} {urgent}{place} · {t.category} · {t.status}{who} · {format_due(t.due_at)}前{late}"


# ---- staff ---------------------------------------------------------------------------


def _filters(ctx: Context, words: list[str]) -> tuple[dict, str | None]:
    """'/工单 3幢1单元楼道群 处理中 超期' -> list_tickets keyword arguments, or the unknown word."""
    found: dict = {"statuses": tickets.OPEN_STATUSES}
    for word in words:
        if word in ("超期", "逾期"):
            found["overdue_at"] = ctx.now
        elif word in tickets.STATUSES:
            found["statuses"] = (word,)
        elif word in ("全部", "所有"):
            found["statuses"] = tickets.STATUSES
        else:
            room = ctx.session.exec(
                select(Room).where((Room.topic == word) | (Room.stairwell == word))
            ).first()
            if room is None:
                return found, word
            found["room_id"] = room.id
    return found, None


@command(
    "工单",
    roles=STAFF,
    usage="/工单 [群名|状态|超期] 或 /工单 编号",
    help="查看负责范围内的工单，或一件工单的详情",
)
async def tickets_command(ctx: Context, args: str) -> None:
    number, _ = tickets.parse_number(args)
    if number is not None:
        await ticket_detail(ctx, number)
        return
    found, unknown = _filters(ctx, args.split())
    if unknown:
        ctx.reply(f"没有“{unknown[:12]}”这个筛选条件，可按群名、状态（如处理中）或“超期”筛选。", mention=False)
        return
    asked = ctx.session.get(Room, found["room_id"]) if "room_id" in found else None
    if asked is not None and not ctx.caller.covers(asked, STAFF):
        ctx.reply(f"{asked.topic}{OUT_OF_SCOPE}，可查看您负责的楼道的工单。", mention=False)
        return
    rows = tickets.list_tickets(ctx.session, scopes=staff_scopes(ctx), limit=LIST_LIMIT + 1, **found)
    if not rows:
        ctx.reply("没有符合条件的工单。", mention=False)
        return
    head = f"工单（{'、'.join(args.split()) or '未办结'}）："
    more = f"\n仅显示前{LIST_LIMIT}件，可加条件筛选。" if len(rows) > LIST_LIMIT else ""
    body = "\n".join(line(ctx, t) for t in rows[:LIST_LIMIT])
    private_to_caller(ctx, f"{head}\n{body}{more}\n详情：/工单 编号")


async def ticket_detail(ctx: Context, number: int) -> None:
    ticket = load_ticket(ctx, number, "/工单 12")
    if ticket is None:
        return
    assert ticket.id is not None
    named = reporters(ctx, ticket)
    unnamed = set(tickets.reporter_ids(ctx.session, ticket.id)) - {p.id for p in named}  # asked for deletion
    names = [p.name for p in named]
    late = "（已超期）" if ticket.status in tickets.OPEN_STATUSES and ticket.due_at < ctx.now else ""
    lines = [
        f"工单 #{ticket.id} · {ticket.category} · {ticket.status}{' · 紧急' if ticket.urgent else ''}",
        f"群：{where(ctx, ticket)} · 反映人：{'、'.join(n for n in names if n) or '（已删除）'}（{ticket.reporters}人）",
        f"受理：{format_due(ticket.created_at)} · 截止：{format_due(ticket.due_at)}{late}",
        f"跟进：{directory.person_name(ctx.session, ticket.assignee_id) or '未分派'}"
        + (f" · 评价：{ticket.rating}" if ticket.rating else ""),
        f"内容：{ticket.text}",
        "记录：",
    ]
    for event in tickets.history(ctx.session, ticket.id):
        shown = event.actor_id not in unnamed and directory.person_name(ctx.session, event.actor_id)
        actor = "系统" if event.actor_id == tickets.SYSTEM else (shown or "居民")
        note = f"：{event.note}" if event.note else ""
        lines.append(f"{format_due(event.at)} {event.action} {actor}{note}")
    audit(ctx, ctx.caller.person_id, "查看工单", f"#{ticket.id}")  # every read of the full text
    private_to_caller(ctx, "\n".join(lines))


def assignee_check(ctx: Context, ticket: Ticket) -> Callable[[Person], str | None]:
    """Only staff whose grant covers the ticket's stairwell or grid (or "*") may follow it up."""
    where = tickets.place(ticket, ticket_room(ctx, ticket))

    def check(person: Person) -> str | None:
        grants = directory.grants_for(ctx.session, person.id)
        if caller_from_grants(person.id, person.name, grants).covers(where, STAFF):  # admin counts too
            return None
        return f"只能派给负责该楼道的楼道长、信息员、保障员或网格员，“{person.name[:12]}”不在其中。"

    return check


def _overdue_now(ctx: Context, ticket: Ticket) -> str:
    # Handed over after its due date: the overdue check reminds once per due date, and that
    # reminder went to the previous follower; the new one is told here.
    return "（已超期，请尽快处理）" if ticket.due_at < ctx.now else ""


def release_tickets(ctx: Context, person: Person) -> list[int]:
    """The open tickets ``person`` follows but whose stairwell their grants no longer cover (a role
    taken back): unassigned, so the followers are the stairwell's staff again. Their numbers."""
    still = caller_from_grants(person.id, person.name, directory.grants_for(ctx.session, person.id))
    released: list[int] = []
    for ticket in tickets.assigned_open(ctx.session, person.id):
        assert ticket.id is not None
        if still.covers(tickets.place(ticket, ticket_room(ctx, ticket)), STAFF):
            continue
        ticket.assignee_id = None
        step(ctx, ticket, "已受理" if ticket.status == "已分派" else ticket.status, "收回", f"{person.name}不再负责该楼道")
        released.append(ticket.id)
    return released


@command("派单", roles=STAFF, usage="/派单 12 @姓名", help="把工单派给某人跟进")
@with_open_ticket("/派单 12 @周建国", missing="跟进人")
async def assign_command(ctx: Context, ticket: Ticket, rest: str) -> None:
    token = re.split(r"[\s\u2005]+", rest.strip())[0]
    person, error = resolve_person(ctx, token, assignee_check(ctx, ticket))
    if person is None:
        ctx.reply(error or f"请写上跟进人，例如：/派单 {ticket.id} @周建国", mention=False)
        return
    ticket.assignee_id = person.id
    step(ctx, ticket, "已分派", "分派", person.name)
    ctx.private(
        person.id,
        f"【派单 #{ticket.id}{' 紧急' if ticket.urgent else ''}】{ctx.caller.name}请您跟进："
        f"{where(ctx, ticket)} · {ticket.category}\n"
        f"内容：{ticket.text}\n截止：{format_due(ticket.due_at)}{_overdue_now(ctx, ticket)}\n"
        f"进展 /处理 {ticket.id} 说明 · 办结 /办结 {ticket.id} 说明",
    )
    audit(ctx, person.id, tickets.NOTIFIED, f"#{ticket.id}")
    ctx.reply(f"工单 #{ticket.id} 已派给{person.name}跟进，已私信告知。", mention=False)


@command("处理", roles=STAFF, usage="/处理 12 说明", help="记录工单的处理进展")
@with_open_ticket("/处理 12 已联系物业，明天清理")
async def progress_command(ctx: Context, ticket: Ticket, note: str) -> None:
    if ticket.assignee_id is None:
        ticket.assignee_id = ctx.caller.person_id  # whoever works on it follows it up
    step(ctx, ticket, "处理中", "处理", note)
    # The reporters hear each step where they reported it (the group, @-ing them, flats masked).
    tell_reporters(ctx, ticket, f"您反映的问题 #{ticket.id}（{ticket.category}）有新进展：{note}")
    staff_answer(ctx, f"工单 #{ticket.id} 的进展已记录，已告知反映人。", ticket)


@command("办结", roles=STAFF, usage="/办结 12 说明", help="办结工单并请居民评价")
@with_open_ticket("/办结 12 纸箱已清理完毕")
async def resolve_command(ctx: Context, ticket: Ticket, note: str) -> None:
    ticket.resolved_at = ctx.now
    step(ctx, ticket, "已办结", "办结", note)
    tell_reporters(ctx, ticket, f"您反映的问题 #{ticket.id}（{ticket.category}）已办结：{note}\n{RATE_PROMPT}")
    staff_answer(ctx, f"工单 #{ticket.id} 已办结，已请居民评价。", ticket)


POSTPONE_USAGE = "/延期 12 3天 等待配件"


@command("延期", roles=STAFF, usage="/延期 12 3天 原因", help="延长工单的答复期限（3天、三天、一周、48小时）")
@with_open_ticket(POSTPONE_USAGE)
async def postpone_command(ctx: Context, ticket: Ticket, rest: str) -> None:
    try:
        span = parse_duration(rest)
    except WhenError as error:
        ctx.reply(str(error), mention=False)
        return
    if not span.rest:
        ctx.reply(f"请写上延期原因，例如：{POSTPONE_USAGE}", mention=False)
        return
    base = max(ticket.due_at, ctx.now)  # an overdue ticket is extended from now
    rules = ctx.services.config.tickets
    if span.unit == "工作日":
        ticket.due_at = add_working_days(base, span.amount, rules.workday_end_hour)
    else:
        ticket.due_at = base + (timedelta(hours=span.amount) if span.unit == "小时" else timedelta(days=span.amount))
    note = f"{span.label()}，新期限{format_due(ticket.due_at)}：{span.rest}"
    tickets.add_event(ctx.session, ticket.id or 0, ctx.now, ctx.caller.person_id, "延期", note)
    ctx.session.add(ticket)
    tell_reporters(
        ctx, ticket, f"您反映的问题 #{ticket.id} 需要多一些时间处理，预计{format_due(ticket.due_at)}前答复，感谢理解。"
    )
    staff_answer(ctx, f"工单 #{ticket.id} 已延期至{format_due(ticket.due_at)}。", ticket)


# ---- residents -----------------------------------------------------------------------


def own_ticket(ctx: Context, args: str, usage: str) -> Ticket | None:
    """A ticket the caller opened or joined; anything else gets the same line (no existence leak)."""
    number, _ = tickets.parse_number(args)
    if number is None:
        ctx.private(ctx.caller.person_id, f"请写上工单编号，例如：{usage}")  # privately: the group needs no lesson
        return None
    ticket = ctx.session.get(Ticket, number)
    if ticket is None or not tickets.is_reporter(ctx.session, number, ctx.caller.person_id):
        ctx.private(ctx.caller.person_id, OWN_ONLY)  # privately: asking after someone's ticket is told alone
        return None
    return ticket


@command("我的工单", usage="/我的工单", help="查看我反映的问题")
async def my_tickets(ctx: Context, args: str) -> None:
    rows = tickets.list_tickets(
        ctx.session, statuses=tickets.STATUSES, reporter_id=ctx.caller.person_id, limit=10
    )
    if not rows:
        ctx.reply("您目前没有反映过的问题。")
        return
    listing = "您的工单：\n" + "\n".join(short_status(ctx, t) for t in rows)
    if ctx.room is not None and any(_not_of_this_group(ctx, t) for t in rows):
        # A ticket told privately or in another group is never shown here: the list goes privately.
        ctx.private(ctx.caller.person_id, listing)
        ctx.reply("您的工单已私信发给您。")
        return
    ctx.reply(listing)


def _not_of_this_group(ctx: Context, ticket: Ticket) -> bool:
    assert ctx.room is not None and ticket.id is not None
    me = ctx.caller.person_id
    return ticket.room_id != ctx.room.id or bool(tickets.private_reporters(ctx.session, ticket.id, [me]))


def short_status(ctx: Context, t: Ticket) -> str:
    if t.status in tickets.OPEN_STATUSES:
        return f"#{t.id} {t.category}：{t.status}，预计{format_due(t.due_at)}前答复"
    if t.status == "已办结":
        return f"#{t.id} {t.category}：已办结，待您评价（回复“满意”“基本满意”或“不满意”）"
    if t.status == tickets.CLOSED_UNRATED:
        return f"#{t.id} {t.category}：已办结，{t.rating or tickets.UNRATED}，已关闭"
    rating = f"，评价{t.rating}" if t.status == "已回访" and t.rating else ""
    return f"#{t.id} {t.category}：{t.status}{rating}"


@command("进度", usage="/进度 12", help="查询我反映的问题的进度", pattern=NUMBER_ARG)
async def progress_query(ctx: Context, args: str) -> None:
    ticket = own_ticket(ctx, args, "/进度 12")
    if ticket is None:
        return
    ctx.handled.ticket = ticket.id
    text = short_status(ctx, ticket)
    if ticket.status in tickets.OPEN_STATUSES and ticket.assignee_id:
        text += f"，由{directory.person_name(ctx.session, ticket.assignee_id)}跟进"
    steps = [f"{format_due(e.at)} {e.action}：{e.note}" for e in tickets.notes(ctx.session, ticket.id or 0) if e.note]
    if steps:  # what the staff wrote, as the reporters were told it (flats masked in a group)
        text += "。\n处理记录：\n" + "\n".join(steps[-NOTES_SHOWN:])
        ctx.reply(mask_flats(text) if ctx.room is not None else text)
        return
    ctx.reply(text + "。")


@command("撤销", usage="/撤销 12", help="撤销我反映的、尚未办结的问题", pattern=NUMBER_ARG)
async def withdraw_command(ctx: Context, args: str) -> None:
    ticket = own_ticket(ctx, args, "/撤销 12")
    if ticket is None:
        return
    assert ticket.id is not None
    if ticket.status not in tickets.OPEN_STATUSES:
        ctx.reply(f"工单 #{ticket.id} 已{ticket.status.lstrip('已')}，无需撤销。")
        return
    me = ctx.caller.person_id
    staff_note = f"【工单 #{ticket.id} 撤销】{ctx.caller.name}撤销了反映"
    if ticket.reporters > 1:  # neighbours still want it handled: only this resident leaves it
        tickets.remove_reporter(ctx.session, ticket, me)
        tickets.add_event(ctx.session, ticket.id, ctx.now, me, "撤销", "退出反映，工单继续处理")
        ctx.reply(f"已撤销您对 #{ticket.id} 的反映；其他邻居反映的问题会继续处理。")
        staff_note += f"，仍有{ticket.reporters}人反映，请继续处理。"
    else:
        ticket.closed_at = ctx.now
        tickets.set_status(ctx.session, ticket, "已撤销", at=ctx.now, actor_id=me, action="撤销")
        ctx.reply(f"已撤销工单 #{ticket.id}，如有需要可随时再反映。")
        staff_note += "，工单已关闭。"
    for person_id in followers(ctx, ticket):
        ctx.private(person_id, staff_note)
