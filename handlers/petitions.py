"""Petitions (诉求): open a numbered ticket, acknowledge once, tell the responsible staff."""
from __future__ import annotations

import logging
import re

from bot.context import Context
from handlers.deadlines import due_at, format_due
from bot.config import ROLE_NAMES
from storage import directory, tickets
from storage.outbox import excerpt
from storage.models import AuditEntry, Ticket

log = logging.getLogger(__name__)

SAFETY_FIRST = "如有危险请先拨打119/110，并远离现场。"


def _handler_label(ctx: Context, staff: list) -> str:
    if not staff:
        return "社区工作人员"
    first = staff[0]
    roles = [g.role for g in directory.grants_for(ctx.session, first.id)]
    title = next((ROLE_NAMES[r] for r in ("officer", "leader", "grid") if r in roles), "工作人员")
    return f"{title}{first.name}"


def emergency_active(ctx: Context) -> bool:
    from storage.state import get_flag  # local: keeps this module's imports about tickets

    return get_flag(ctx.session, "emergency") is not None


# Place words every report shares; they say nothing about whether two reports are one problem.
GENERIC_BIGRAMS = frozenset(
    "楼道 道里 里的 单元 小区 楼下 楼上 家里 我家 我们 大家 好几 几天 天了 没人 一下 请问 麻烦 谢谢 物业 还是 还没"
    " 已经 现在 一个 这个 那个 什么 怎么 可以 没有 不是 时候 今天 昨天 晚上 早上 里面 上面 下面 好多 很多 了好 了很"
    " 又坏 坏了 了一 的时 停了 又停 不亮 亮了 不了 坏掉 掉了 堵了 了吧 了啊 了没 人管 有人 道有 水了 也没 灯不".split()
)
# "1号电梯" and "2号电梯", "3楼" and "5楼": numbered places that differ are different problems.
_NUMBERED = re.compile(r"(\d+)\s*(号楼|号|楼|幢|栋|单元|层)")
SHORT_REPORT = 12  # CJK characters: a short report names little more than the thing that is wrong


def _bigrams(text: str) -> set[str]:
    chars = [c for c in text if "\u4e00" <= c <= "\u9fff"]
    return {a + b for a, b in zip(chars, chars[1:])} - GENERIC_BIGRAMS


def same_problem(existing: Ticket, new_text: str, new_urgent: bool) -> bool:
    """A new report joins an open ticket of its category only if it is about the same thing:
    telling character pairs in common (one is enough when a report is short, like "电梯坏了"),
    and never an urgent report into an ordinary ticket (the danger must get its own ticket,
    its safety line and its 2-hour limit)."""
    if new_urgent and not existing.urgent:
        return False
    old_places, new_places = dict(_NUMBERED.findall(existing.text)), dict(_NUMBERED.findall(new_text))
    if any(unit in old_places.values() and (num, unit) not in old_places.items() for num, unit in new_places.items()):
        return False
    old, new = _bigrams(existing.text), _bigrams(new_text)
    needed = 1 if min(len(old), len(new)) + 1 <= SHORT_REPORT else 2
    return len(old & new) >= needed


async def on_petition(ctx: Context, category: str | None, urgent: bool, text: str) -> None:
    room = ctx.room
    category = category or "其他"
    urgent = urgent or emergency_active(ctx)
    now = ctx.now
    if room is not None and ctx.services.config.tickets.merge_open_tickets:
        for existing in tickets.open_in_category(ctx.session, room.id, category):
            if same_problem(existing, ctx.masked_text, urgent):
                _join_existing(ctx, existing, text)
                return
    ticket = Ticket(
        room_id=room.id if room else None,
        stairwell=room.stairwell if room else None,
        grid=room.grid if room else None,
        reporter_id=ctx.caller.person_id,
        category=category,
        urgent=urgent,
        text=ctx.masked_text,
        created_at=now,
        due_at=due_at(now, category, urgent, ctx.services.config.tickets),
    )
    ctx.session.add(ticket)
    ctx.session.flush()
    assert ticket.id is not None
    tickets.add_reporter(ctx.session, ticket, ctx.caller.person_id)
    ticket.reporters = 1
    tickets.add_event(ctx.session, ticket.id, now, ctx.caller.person_id, "受理", category)
    ctx.handled.ticket, ctx.handled.joined, ctx.handled.urgent = ticket.id, False, urgent
    staff = directory.responsible_staff(ctx.session, room)
    urgent_note = f"【紧急】{SAFETY_FIRST}" if urgent else ""
    ctx.reply(
        f"{urgent_note}已收到您反映的问题，编号 #{ticket.id}（{category}），"
        f"由{_handler_label(ctx, staff)}跟进，{format_due(ticket.due_at)}前答复。"
    )
    where = room.topic if room else "私聊"
    for person in staff:
        ctx.private(
            person.id,
            f"【新工单 #{ticket.id}{' 紧急' if urgent else ''}】{where} · {category} · {ctx.caller.name}\n"
            f"内容：{excerpt(ticket.text, f'/进度 {ticket.id}')}\n截止：{format_due(ticket.due_at)}\n"
            f"指派 /派单 {ticket.id} @姓名 · 进展 /处理 {ticket.id} 说明 · 办结 /办结 {ticket.id} 说明",
        )
        ctx.session.add(AuditEntry(at=now, actor_id=person.id, action="工单通知", subject=f"#{ticket.id}"))
    if urgent:  # the staff group sees every urgent ticket at once (WeCom, when configured)
        ctx.services.to_staff_channel(
            ctx.session, key=f"urgent:{ticket.id}",
            # No resident's words here: the shared staff group gets the facts, officers the text.
            text=f"【紧急工单 #{ticket.id}】{where} · {category} · 截止{format_due(ticket.due_at)}",
        )
    log.info("ticket #%s opened (%s, urgent=%s)", ticket.id, category, urgent)


def _join_existing(ctx: Context, ticket: Ticket, text: str) -> None:
    assert ticket.id is not None
    new_reporter = tickets.add_reporter(ctx.session, ticket, ctx.caller.person_id)
    ctx.handled.ticket, ctx.handled.joined, ctx.handled.urgent = ticket.id, True, ticket.urgent
    tickets.add_event(ctx.session, ticket.id, ctx.now, ctx.caller.person_id, "追加", ctx.masked_text)
    if new_reporter:
        ctx.reply(
            f"这个问题已有邻居反映，编号 #{ticket.id}（{ticket.category}），"
            f"已有{ticket.reporters}人反映，正在处理中，有进展会在群里告知。"
        )
    else:
        ctx.reply(f"已补充到您的工单 #{ticket.id}，正在处理中。")
    for person in directory.responsible_staff(ctx.session, ctx.room):
        ctx.private(person.id, f"【工单 #{ticket.id} 追加】{ctx.caller.name}：{excerpt(ctx.masked_text, f'/进度 {ticket.id}')}")
