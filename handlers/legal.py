"""Legal questions (法律咨询): a consultation record, one reply, the adviser told."""
from __future__ import annotations

import logging
from functools import lru_cache

from bot.context import Context
from handlers.legal_commands import sensitive
from storage import directory
from storage.models import AuditEntry, Consultation

log = logging.getLogger(__name__)


@lru_cache(maxsize=1)
def _faq_matcher():
    try:
        from handlers.faq import FaqMatcher, load_faq
    except ImportError:  # the FAQ is optional content
        return None
    return FaqMatcher(load_faq())


def lawyers_for(ctx: Context) -> list:
    lawyers = directory.people_with_roles(ctx.session, {"lawyer"}, ctx.room)
    if not lawyers:  # a stairwell group: any adviser of the grid, else any adviser
        lawyers = directory.people_with_roles(ctx.session, {"lawyer"}, None)
    return lawyers


async def on_legal(ctx: Context, category: str | None, urgent: bool) -> None:
    matcher = _faq_matcher()
    faq = matcher.match(ctx.text) if matcher else None
    record = Consultation(
        room_id=ctx.room.id if ctx.room else None,
        asker_id=ctx.caller.person_id,
        category=category or "其他法律",
        urgent=urgent,
        text=ctx.masked_text,
        faq_id=faq.id if faq else None,
        created_at=ctx.now,
    )
    ctx.session.add(record)
    ctx.session.flush()
    ctx.handled.consultation, ctx.handled.urgent = record.id, urgent
    lawyers = lawyers_for(ctx)
    adviser = f"法律顾问{lawyers[0].name}" if lawyers else "社区法律顾问"
    # a person in danger or a fraud under way: what to do now comes first (config `dangers:`)
    danger = ctx.services.router.route(ctx.text, staff=ctx.caller.is_staff).danger if urgent else None
    lines = [f"【紧急】{ctx.services.config.danger_advice(danger or 'violence')}"] if urgent else []
    lines.append(f"您的法律问题已登记（编号 L{record.id}），{adviser}会尽快答复；也可拨打12348公共法律服务热线。")
    reference = f"初步参考：{faq.answer}（依据：{faq.law}；仅供参考）" if faq else ""
    # A sensitive case (violence at home, debts, health…) gets its reference privately, like its answer.
    private = bool(reference) and ctx.room is not None and (urgent or sensitive(record.category, record.text))
    lines += [reference] if reference and not private else []
    ctx.reply("\n".join(lines))
    if private:
        ctx.private(ctx.caller.person_id, reference)
    where = ctx.room.topic if ctx.room else "私聊"
    for person in lawyers:
        ctx.private(
            person.id,
            f"【法律咨询 L{record.id}{' 紧急' if urgent else ''}】{where} · {record.category} · {ctx.caller.name}\n"
            f"问题：{record.text}\n答复请发：/答复 L{record.id} 内容",
        )
        ctx.session.add(AuditEntry(at=ctx.now, actor_id=person.id, action="咨询通知", subject=f"L{record.id}"))
