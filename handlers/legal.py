"""Legal questions (法律咨询): a consultation record, one reply, the adviser told."""
from __future__ import annotations

import logging
import re
from datetime import timedelta
from functools import lru_cache

from sqlmodel import col, select

from bot.context import Context
from domain import legal_roles
from handlers.legal_commands import notify_followers, sensitive
from handlers.petitions import REPEAT_WINDOW, gist, told_at_once
from nlp.faq import FaqMatcher, legal_faq
from domain.deadlines import format_day
from storage.models import AuditEntry, Consultation, OutboxItem
from storage.outbox import excerpt

log = logging.getLogger(__name__)


@lru_cache(maxsize=1)
def _faq_matcher() -> FaqMatcher:
    return FaqMatcher(legal_faq())


def _asked_already(ctx: Context) -> int | None:
    """The sender's consultation with these very words within a day (a question sent twice):
    one question, one L-number, one answer."""
    mine = select(Consultation.id, Consultation.text).where(
        Consultation.asker_id == ctx.caller.person_id, col(Consultation.created_at) >= ctx.now - REPEAT_WINDOW,
    )
    words = gist(ctx.masked_text)  # "…我要不要还？？" is the same question again
    return next((number for number, text in ctx.session.exec(mine).all() if gist(text) == words), None)


MORE_WINDOW = timedelta(minutes=15)  # a line this soon after one's own open question may be more of it
# A new question of its own ("那去仲裁要带哪些材料") asks; more of the one asked tells ("对了 押金是三千")
_ASKS_AGAIN = re.compile(r"[?？吗呢]|怎么|咋|能不能|可不可以|可以吗|该不该|要不要|合理吗|合法吗|哪|什么|多少|谁"
                         r"|^\W*(?:还有|另外)(?:个|一个|一件|件)?事")  # "还有个事 公司拖欠我工资…": another matter


def _more_of_own(ctx: Context) -> Consultation | None:
    """The sender's own unanswered question of the last MORE_WINDOW here that a line asking nothing
    new adds to (the adviser gets it as more on that one: one question, one L-number)."""
    if _ASKS_AGAIN.search(ctx.masked_text):
        return None
    stmt = select(Consultation).where(
        Consultation.asker_id == ctx.caller.person_id, Consultation.status == "待答复",
        col(Consultation.created_at) >= ctx.now - MORE_WINDOW,
        Consultation.room_id == (ctx.room.id if ctx.room else None),
    ).order_by(col(Consultation.id).desc())
    return ctx.session.exec(stmt.limit(1)).first()


def _add_to(ctx: Context, record: Consultation) -> None:
    assert record.id is not None
    record.text = f"{record.text}\n{ctx.masked_text}"
    ctx.session.add(record)
    ctx.handled.consultation = record.id
    _, followers = legal_roles.followers(ctx.session, record.role, ctx.room)
    for person in followers:
        ctx.private(person.id, f"【补充 L{record.id}】{ctx.caller.name}：{excerpt(ctx.masked_text, '/咨询')}")
    ctx.reply(f"已补充到您的咨询 L{record.id}。", mention=False)


# "王律师在吗 想咨询个事情": asking to ask, no question yet (an L-number for it left the real one a second)
ASKS_TO_ASK = re.compile(
    r"^\W*(?:@?\S{0,3}(?:律师|顾问|老师)\W*)?(?:在吗|在不在|您好|你好)?\W*(?:我)?(?:想|要)?(?:咨询|请教|问)(?:个|一下|下|点)?"
    r"(?:事情?|问题|法律问题)?(?:可以吗|行吗)?\W*$"
)


async def on_legal(ctx: Context, category: str | None, urgent: bool) -> None:
    if not urgent and ASKS_TO_ASK.match(ctx.masked_text):
        ctx.reply("请直接把您的问题写出来（不用写电话和身份证号），会登记并转给法律顾问。")
        return
    if not urgent and (asked := _asked_already(ctx)) is not None:
        ctx.handled.consultation = asked  # logged; the answer above stands (a danger is answered again)
        return
    if not urgent and (more := _more_of_own(ctx)) is not None:
        _add_to(ctx, more)  # "对了 合同上写的押一付三…" minutes after one's own question: more of it
        return
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
    if urgent and ctx.room is not None and ctx.room.kind == "stairwell":
        # a fraud under way in a stairwell ("她正往银行跑 邻居谁看到帮忙拦一下"): the stairwell's people
        # can reach her before any adviser can, as with an urgent ticket
        _alert_stairwell(ctx, record, [p.id for p in followers], where)


ALL_CLEAR_WINDOW = timedelta(hours=3)  # "钱没转 没事了" this long after one's own alarm is about it


def on_all_clear(ctx: Context) -> bool:
    """"刚跟我爸通上电话了 钱没转 没事了" after one's own urgent question (a fraud under way): whoever
    it alerted hears it at once, as a ticket's staff hear "居民说已解决"; False when there is none."""
    record = ctx.session.exec(
        select(Consultation).where(
            Consultation.asker_id == ctx.caller.person_id, col(Consultation.urgent).is_(True),
            Consultation.room_id == (ctx.room.id if ctx.room else None), Consultation.status == "待答复",
            col(Consultation.created_at) >= ctx.now - ALL_CLEAR_WINDOW,
        ).order_by(col(Consultation.id).desc()).limit(1)
    ).first()
    if record is None:
        return False
    ctx.handled.consultation = record.id
    _, people = legal_roles.followers(ctx.session, record.role, ctx.room)
    if ctx.room is not None and ctx.room.kind == "stairwell":
        people = told_at_once(ctx, people, ctx.room)
    ctx.reply(f"好的，已转告工作人员（L{record.id}）。")
    for person in people:
        ctx.private(person.id, f"【法律咨询 L{record.id} 居民说已解决】{ctx.caller.name}：{excerpt(ctx.masked_text, '/咨询')}")
    return True


def _alert_stairwell(ctx: Context, record: Consultation, told: list[str], where: str) -> None:
    for person in told_at_once(ctx, [], ctx.room):
        if person.id in told:
            continue
        ctx.private(person.id, f"【紧急 L{record.id}】{where} · {record.category} · {ctx.caller.name}\n内容：{record.text}")
        ctx.session.add(AuditEntry(at=ctx.now, actor_id=person.id, action="咨询通知", subject=f"L{record.id}"))


# "律师怎么还没回我啊", "上次那个问题有人回复吗", "法律顾问答复了没": asking after an answer, not a new question
ASKS_AFTER_ANSWER = re.compile(
    r"(?:怎么|咋|还)没(?:有)?人?(?:回|答复|回复|回答|理|答)|(?:有人|有没有人)?(?:回|答复|回复|回答)(?:我|你)?(?:了|过)?(?:吗|没有?|了没)"
    # "@王律师 我那个问题呢 您看到了吗"
    r"|(?:我|我的)(?:那个)?问题呢|那个问题\S{0,6}看到了?吗"
    r"|什么时候(?:能)?(?:回|答复|回复|回答)|(?:一直|还是|都)没(?:人)?(?:回|答复|回复|回答|理)"
    r"|(?:那个|那件)事\S{0,4}(?:咋|怎么)(?:样|说|办)"  # "借条那个事到底咋说啊"
)
# ...about a legal question: said so, or in the legal-aid group
ABOUT_A_QUESTION = re.compile(r"律师|顾问|法律|咨询|法官|警官|检察官|那个事|那件事|(?:上次|之前|前几天|前天|昨天|上周|上个?礼拜|那天)\S{0,3}问|问的(?:那个|事|问题)|那个问题")
CHASE_WINDOW = timedelta(days=30)
NUDGE_GAP = timedelta(hours=12)  # the adviser is reminded at most this often per question


def asks_after_answer(text: str, label: str, room_kind: str | None) -> bool:
    """(privately, "怎么还没人回啊" is about the sender's own question when they have one: on_chase)"""
    return ASKS_AFTER_ANSWER.search(text) is not None and (
        label == "legal" or room_kind in ("legal", None) or ABOUT_A_QUESTION.search(text) is not None)


def on_chase(ctx: Context) -> int | None:
    """A resident asking after the answer to their own recent question (days later, as people do):
    where it stands, and its followers reminded (once in NUDGE_GAP), instead of a second L-number.
    None when they have no question of the last 30 days here (then it is a new one, or chatter)."""
    stmt = (select(Consultation)
            .where(Consultation.asker_id == ctx.caller.person_id, col(Consultation.created_at) >= ctx.now - CHASE_WINDOW)
            .order_by(col(Consultation.status) == "待答复", col(Consultation.id)))  # an unanswered one last
    mine = ctx.session.exec(stmt.where(Consultation.room_id == ctx.room.id) if ctx.room is not None else stmt).all()
    if not mine and ctx.room is not None and ABOUT_A_QUESTION.search(ctx.masked_text):
        # "上次在楼道群问的遗产那个问题 律师回了没有啊", asked in the legal-aid group: theirs from anywhere
        mine = ctx.session.exec(stmt).all()
    if not mine:
        return None
    record = mine[-1]
    assert record.id is not None
    ctx.handled.consultation = record.id
    if record.status != "待答复":
        when = format_day(record.answered_at) if record.answered_at else ""
        privately = "，答复已私信发给您，请看与我的私聊；" if record.answered_at and _answered_privately(ctx, record) else "；"
        ctx.reply(f"您的咨询 L{record.id} 已于{when}答复过了{privately}还有疑问请直接说明，会再转给法律顾问。")
        return record.id
    role, followers = legal_roles.followers(ctx.session, record.role, ctx.room)
    title = f"法律顾问{followers[0].name}" if role == legal_roles.LAWYER and followers else legal_roles.TITLES[role]
    ctx.reply(f"您的咨询 L{record.id} 已转{title}，还在等答复，已再提醒一次；急事也可拨打12348公共法律服务热线。")
    subject = f"L{record.id}"
    nudged = ctx.session.exec(select(AuditEntry.id).where(
        AuditEntry.action == "咨询催办", AuditEntry.subject == subject, col(AuditEntry.at) >= ctx.now - NUDGE_GAP)).first()
    if nudged is None:
        where = ctx.room.topic if ctx.room else "私聊"
        for person in followers:
            ctx.private(person.id, f"【催办 L{record.id}】{where} · {ctx.caller.name} 在等答复（{format_day(record.created_at)}提问）\n"
                                   f"问题：{record.text}\n答复请发：/答复 L{record.id} 内容")
        ctx.session.add(AuditEntry(at=ctx.now, actor_id=ctx.caller.person_id, action="咨询催办", subject=subject))
    return record.id


def _answered_privately(ctx: Context, record: Consultation) -> bool:
    """Whether the answer went to the asker's private chat (the adviser's 私信, or the bot's choice
    for a sensitive case): "律师回我了没有啊 我怎么没看到" is then told where to look."""
    sent = select(OutboxItem.id).where(OutboxItem.to == record.asker_id, col(OutboxItem.text).startswith(f"您咨询的问题 L{record.id}，"))
    return ctx.session.exec(sent.limit(1)).first() is not None
