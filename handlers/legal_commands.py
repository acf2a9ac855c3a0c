"""The legal adviser's commands: /咨询 lists open questions, /答复 L5 answers one.

The answer goes where the question was asked (the group, @-ing the resident, or
privately) and closes the record.
"""
from __future__ import annotations

import re

from sqlmodel import col, select

from bot.commands import command
from bot.context import Context
from bot.privacy import mask, mask_flats
from handlers.deadlines import format_due
from storage import directory
from storage.models import AuditEntry, Consultation, Room

ADVISERS = {"lawyer", "grid"}  # the grid worker co-runs the legal-aid group
_REF = re.compile(r"^\s*[Ll#＃]?\s*(\d{1,9})(?!\d)\s*(.*)$", re.S)
LIST_LIMIT = 15


def _room(ctx: Context, record: Consultation) -> Room | None:
    return ctx.session.get(Room, record.room_id) if record.room_id else None


def _in_scope(ctx: Context, record: Consultation) -> bool:
    room = _room(ctx, record)
    if room is None:  # a private question belongs to every adviser
        return True
    return ctx.caller.covers(room, ADVISERS)


@command("咨询", roles=ADVISERS, usage="/咨询", help="查看待答复的法律咨询")
async def open_questions(ctx: Context, args: str) -> None:
    stmt = select(Consultation).where(Consultation.status == "待答复").order_by(col(Consultation.id))
    rows = [r for r in ctx.session.exec(stmt).all() if _in_scope(ctx, r)]
    if not rows:
        ctx.reply("目前没有待答复的法律咨询。", mention=False)
        return
    lines = [f"待答复的法律咨询（{len(rows)}件）："]
    for r in rows[:LIST_LIMIT]:
        room = _room(ctx, r)
        urgent = "【急】" if r.urgent else ""
        place = room.topic if room else "私聊"
        lines.append(f"L{r.id} {urgent}{r.category} · {place} · {format_due(r.created_at)}\n  {r.text[:60]}")
        ctx.session.add(AuditEntry(at=ctx.now, actor_id=ctx.caller.person_id, action="查看咨询", subject=f"L{r.id}"))
    lines.append("答复请发：/答复 L编号 内容")
    ctx.private(ctx.caller.person_id, "\n".join(lines))  # residents' questions never go to a whole group
    if ctx.room is not None:
        ctx.reply("待答复清单已私信发给您。")


@command("答复", roles={"lawyer"}, usage="/答复 L5 内容", help="答复一件法律咨询")
async def answer_command(ctx: Context, args: str) -> None:
    match = _REF.match(args)
    if not match:
        ctx.reply("请写上咨询编号和答复，例如：/答复 L5 可以先协商，协商不成可申请劳动仲裁。", mention=False)
        return
    number, answer = int(match.group(1)), mask(match.group(2).strip())
    record = ctx.session.get(Consultation, number)
    if record is None or not _in_scope(ctx, record):
        ctx.reply(f"没有找到法律咨询 L{number}，请核对编号。", mention=False)
        return
    if record.status != "待答复":
        ctx.reply(f"L{number} 已经答复过了。", mention=False)
        return
    if not answer:
        ctx.reply(f"请写上答复内容，例如：/答复 L{number} 内容", mention=False)
        return
    record.status, record.answer = "已答复", answer
    record.answered_by, record.answered_at = ctx.caller.person_id, ctx.now
    ctx.session.add(record)
    text = f"您咨询的问题 L{number}，法律顾问{ctx.caller.name}答复：{answer}\n如需进一步帮助，可拨打12348公共法律服务热线。"
    room = _room(ctx, record)
    name = directory.person_name(ctx.session, record.asker_id)
    if room is not None and name:
        ctx.to_room(room, f"@{name} {mask_flats(mask(text))}", mentions=(record.asker_id,))
    else:
        ctx.private(record.asker_id, text)
    if ctx.room is None or room is None or ctx.room.id != room.id:
        ctx.reply(f"L{number} 已答复并告知居民。", mention=False)
