"""Legal questions (法律咨询): a consultation record, one reply, the adviser told."""
from __future__ import annotations

import logging
from functools import lru_cache

from bot.context import Context
from domain import legal_roles
from handlers.legal_commands import notify_followers, sensitive
from nlp.faq import FaqMatcher, legal_faq
from storage.models import Consultation

log = logging.getLogger(__name__)


@lru_cache(maxsize=1)
def _faq_matcher() -> FaqMatcher:
    return FaqMatcher(legal_faq())


async def on_legal(ctx: Context, category: str | None, urgent: bool) -> None:
    faq = _faq_matcher().match(ctx.text)
    record = Consultation(
        room_id=ctx.room.id if ctx.room else None,
        asker_id=ctx.caller.person_id,
        category=category or "其他法律",
        urgent=urgent,
        text=ctx.masked_text,
        faq_id=faq.id if faq else None,
        created_at=ctx.now,
    )
    # 三官一律: fraud and threats to the police officer, lawsuits to the judge, minors to the
    # prosecutor, the rest (and any role the grid lacks) to the legal adviser
    record.role, followers = legal_roles.followers(ctx.session, legal_roles.routed_role(record.text, urgent), ctx.room)
    ctx.session.add(record)
    ctx.session.flush()
    ctx.handled.consultation, ctx.handled.urgent = record.id, urgent
    if record.role == legal_roles.LAWYER:
        adviser = f"法律顾问{followers[0].name}" if followers else "社区法律顾问"
    else:
        adviser = legal_roles.TITLES[record.role]
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
    notify_followers(ctx, record, followers, f"{where} · {record.category} · {ctx.caller.name}")

