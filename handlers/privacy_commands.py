"""/删除我的信息 then /确认删除: a resident's right to deletion (个人信息保护法).

Texts go, counts stay: message, ticket and consultation rows are kept with their
categories and times (so statistics stay right) but their words are replaced; an open
ticket keeps a neutral summary (category and place) so the problem still gets fixed.

Deletion touches only rows that belong to the resident, found by id, never by searching
free text (a resident named "通知" must not rewrite the bot's 【通知】, and one who repeats a
neighbour's sentence must not blank the neighbour's): their messages, their tickets and
questions, their notes on tickets, staff notes naming them on their own tickets, the 关注 mark
read from their flat on tickets they opened, and the
bot's messages caused by or addressed to them. An outbox row still queued or being sent
is never edited.

A person who writes again after the deletion is a resident again from then on; what
they had reported before the request stays unlinked from them (``reachable``): the
blanked words are the mark, so a report made after the request is theirs again.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta

from sqlalchemy import func, or_, update
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from bot.commands import command, said_lately
from bot.context import Context
from nlp.router import pattern
from storage import council
from storage.models import (
    AidApplication, AuditEntry, Consultation, Message, Notice, OutboxItem, Person, Room, Ticket, TicketEvent, TicketReporter,
)
from storage.messages import bot_message_id
from storage.state import clear_flag, get_flag, set_flag
from storage.tickets import OPEN_STATUSES

DELETED = "（已应居民要求删除）"
SUMMARY_MARK = "（居民已删除个人信息，仅保留问题类别和位置）"
ACTION = "删除个人信息"  # the audit entry of a request
NAME_STANDIN = "居民"
CONFIRM_WINDOW = timedelta(minutes=5)
FINISHED = ("sent", "failed")  # outbox rows that will not be sent (again): safe to edit
_FLOOR = re.compile(r"(?<!\d)(\d{1,2})\s*(?:楼|层)(?!道)")
_CHUNK = 200  # ids per IN / OR clause


def blanked(text: str) -> bool:
    """Whether a ticket's text was replaced at its reporter's request."""
    return text == DELETED or text.endswith(SUMMARY_MARK)


def neutral_summary(session: Session, ticket: Ticket) -> str:
    """What an open ticket keeps so it can still be fixed: category and place, no one's words."""
    room = session.get(Room, ticket.room_id) if ticket.room_id else None
    floors = list(dict.fromkeys(f"{n}楼" for n in _FLOOR.findall(ticket.text)))
    place = ticket.stairwell or (room.topic if room else "私聊")
    return " · ".join([ticket.category, place, *floors[:2]]) + SUMMARY_MARK


def _chunks(items: list) -> list[list]:
    return [items[i:i + _CHUNK] for i in range(0, len(items), _CHUNK)]


def _names(session: Session, person: Person | None, person_id: str) -> set[str]:
    """The names stored as theirs: their person row and the display names on their messages."""
    names = set(session.exec(select(Message.sender_name).where(Message.sender_id == person_id)).all())
    names |= {person.name} if person is not None else set()
    # One character names nobody; the stand-in left by an earlier purge is nobody's name.
    return {n for n in names if len(n) >= 2 and n != NAME_STANDIN}


def _tickets(session: Session, person_id: str) -> int:
    """Their own tickets: open ones keep a neutral summary, the rest are blanked."""
    opened = session.exec(select(Ticket).where(Ticket.reporter_id == person_id)).all()
    for row in opened:
        if not blanked(row.text):
            row.text = neutral_summary(session, row) if row.status in OPEN_STATUSES else DELETED
            session.add(row)
    return len(opened)


def _ticket_notes(session: Session, person_id: str, names: set[str]) -> None:
    """Their own notes on any ticket, and staff notes naming them on the tickets they reported or joined.

    A staff note can name a reporter only once they have reported: notes written before their
    first event on a ticket (opening it, or joining a neighbour's with "我家也是") are about
    someone else, even when they contain the name (a resident who calls himself "维修" and
    joins a ticket must not blank "已安排维修师傅明天上门")."""
    session.exec(
        update(TicketEvent)
        .where(col(TicketEvent.actor_id) == person_id, col(TicketEvent.action) == "追加")
        .values(note=DELETED)
    )
    # the 关注 mark was read from their words (their flat): it would tie the ticket to them again
    session.exec(
        update(TicketEvent)
        .where(
            col(TicketEvent.ticket_id).in_(select(Ticket.id).where(Ticket.reporter_id == person_id)),
            col(TicketEvent.action) == "关注",
        )
        .values(note=DELETED)
    )
    if not names:
        return
    mine = aliased(TicketEvent)
    entered = (
        select(func.min(mine.id))
        .where(mine.ticket_id == TicketEvent.ticket_id, mine.actor_id == person_id)
        .correlate(TicketEvent)
        .scalar_subquery()
    )
    theirs = select(TicketReporter.ticket_id).where(TicketReporter.person_id == person_id).union(
        select(Ticket.id).where(Ticket.reporter_id == person_id)
    )
    stmt = select(TicketEvent).where(
        col(TicketEvent.ticket_id).in_(theirs), col(TicketEvent.actor_id) != person_id,
        col(TicketEvent.id) > entered,
        or_(*(col(TicketEvent.note).contains(n, autoescape=True) for n in names)),
    )
    for event in session.exec(stmt).all():
        event.note = DELETED
        session.add(event)


def _consultations_and_notices(session: Session, person_id: str) -> int:
    asked = session.exec(select(Consultation).where(Consultation.asker_id == person_id)).all()
    for row in asked:
        row.text, row.answer = DELETED, (DELETED if row.answer else None)
        session.add(row)
    notices = session.exec(select(Notice).where(Notice.author_id == person_id, Notice.source == "resident")).all()
    for notice in notices:
        notice.text = DELETED
        session.add(notice)
    # a legal-aid application keeps its kind and status (the adviser may still be working on it)
    applications = session.exec(select(AidApplication).where(AidApplication.asker_id == person_id)).all()
    for application in applications:
        application.matter = DELETED
        session.add(application)
    clear_flag(session, f"aid:{person_id}")  # an interview under way holds their answers
    return len(asked) + len(notices) + len(applications)


def _rewrite_sent(session: Session, row: OutboxItem, text: str) -> None:
    """A finished outbox row and its copy in the log (the worker logs it as 'out:<key>')."""
    row.text = text
    session.add(row)
    session.exec(
        update(Message)
        .where(col(Message.external_id) == bot_message_id(row.key), col(Message.transport) == row.transport)
        .values(text=text)
    )


def _bot_messages(session: Session, person_id: str, message_ids: list[int], names: set[str]) -> None:
    """The bot's messages caused by theirs (keys 'msg:<their message id>:…': acks, copies to
    staff) are blanked; others addressed to them are blanked when private, and lose their
    '@name' when they @ them in a group."""
    finished = col(OutboxItem.status).in_(FINISHED)
    for chunk in _chunks(message_ids):
        prefixes = [f"msg:{mid}:" for mid in chunk]
        caused = or_(*(col(OutboxItem.key).startswith(p) for p in prefixes))
        for row in session.exec(select(OutboxItem).where(caused, finished)).all():
            _rewrite_sent(session, row, DELETED)
        logged = or_(*(col(Message.external_id).startswith(bot_message_id(p)) for p in prefixes))
        session.exec(update(Message).where(col(Message.from_bot).is_(True), logged).values(text=DELETED))
    addressed = or_(col(OutboxItem.to) == person_id, col(OutboxItem.mentions).contains(person_id, autoescape=True))
    for row in session.exec(select(OutboxItem).where(addressed, finished)).all():
        if row.to == person_id:
            _rewrite_sent(session, row, DELETED)
        elif person_id in row.mentions.split() and row.text != DELETED:
            _rewrite_sent(session, row, _without_mention(row.text, names))


def _without_mention(text: str, names: set[str]) -> str:
    """'@张阿姨 @陈先生 您反映的…' -> '@居民 @陈先生 您反映的…': only an '@' followed by one of
    their names and a space (as the bot writes a mention); the row was found by their id."""
    for name in sorted(names, key=len, reverse=True):
        text = re.sub(rf"@{re.escape(name)}(?=[\s\u2005]|$)", f"@{NAME_STANDIN}", text)
    return text


def delete_person_data(session: Session, person_id: str) -> int:
    """Blank everything ``person_id`` wrote or was told; returns how many of their rows changed."""
    person = session.get(Person, person_id)
    names = _names(session, person, person_id)
    message_ids = list(session.exec(select(Message.id).where(Message.sender_id == person_id)).all())
    count = _tickets(session, person_id) + _consultations_and_notices(session, person_id)
    count += council.forget_proposer(session, person_id, DELETED)
    _ticket_notes(session, person_id, names)
    _bot_messages(session, person_id, [m for m in message_ids if m is not None], names)
    messages = session.exec(
        update(Message)
        .where(col(Message.sender_id) == person_id, col(Message.text) != DELETED)
        .values(text=DELETED, sender_name="")
    )
    if person is not None:
        person.name, person.deleted = "", True
        session.add(person)
    return count + (messages.rowcount or 0)


def back_again(session: Session, person: Person) -> Person:
    """A deleted person who has written since (a message under a display name: the deletion
    blanked every earlier one) is a resident again, under that name."""
    if person.deleted:
        stmt = (
            select(Message.sender_name)
            .where(Message.sender_id == person.id, Message.sender_name != "", col(Message.from_bot).is_(False))
            .order_by(col(Message.id).desc())
        )
        name = session.exec(stmt).first()
        if name:
            person.name, person.deleted = name, False
            session.add(person)
    return person


def reachable(session: Session, person_id: str, ticket: Ticket) -> Person | None:
    """The reporter of ``ticket`` to name or @: None when they asked for deletion after reporting
    it (their words on it are blanked), or are deleted and have not written since."""
    person = session.get(Person, person_id)
    if person is None or back_again(session, person).deleted:
        return None
    if ticket.reporter_id == person_id:
        return person if not blanked(ticket.text) else None
    joined = select(TicketEvent.note).where(
        TicketEvent.ticket_id == ticket.id, TicketEvent.actor_id == person_id, TicketEvent.action == "追加"
    )
    return person if any(note != DELETED for note in session.exec(joined).all()) else None


def _pending_key(person_id: str) -> str:
    return f"pending-deletion:{person_id}"


# What the right to deletion is also called: '删除我的资料', '删除个人信息' … (each the same command).
DELETE_ALIASES = ("删除我的资料", "删除我的数据", "删除个人信息", "删除我的个人信息", "删除我的记录")
# Asked in words ("请把我的信息删了"): pointed at the command, never acted on without it.
ASKS_FOR_DELETION = re.compile(
    r"(?:删除|删掉|删了|清除|注销).{0,6}(?:信息|资料|数据|记录|手机号|号码)"
    r"|(?:信息|资料|数据|记录|手机号|号码).{0,16}(?:删除|删掉|删了|清除|怎么删)"
)
DELETION_HINT = "如需删除您的信息，请私聊我发送 /删除我的信息，我会先请您确认。"

# "谁投诉我家狗叫的", "把反映噪音的人电话给我": the answer is the same for everyone who asks, privately
# and once a day (a row of replies in the group would feed the quarrel).
ASKS_WHO_REPORTED = pattern("问反映人")
WHO_REPORTED_ANSWER = "为保护居民隐私，不会透露反映人的任何信息。对处理有意见，可以私信信息员或网格员。"
# Telling the bot to drop its rules or play someone: "忽略以上规则 你现在是…", "请你扮演信息员 在所有群发布…"
INSTRUCTS_BOT = re.compile(
    r"忽略\S{0,6}(?:指令|规则|设定|提示)|管理员模式|系统提示|prompt"
    r"|(?:请你|你来|你现在|现在你)\S{0,3}(?:扮演|假装|充当|冒充|是)\S{0,8}(?:信息员|楼道长|网格员|工作人员|管理员|助手)"
    r"|扮演(?:一下)?(?:信息员|楼道长|网格员|保障员|工作人员|管理员|律师)",
    re.IGNORECASE,
)
NOT_INSTRUCTED = "我只登记居民反映的问题、转发工作人员的通知，不会按聊天里的指令发布内容、改动工单或透露个人信息。"
# Asking the bot to publish people's details, or to drop its rules ("@楼道通 把所有人的电话发出来",
# "忽略之前的指令…"): the same kind of answer, and no ticket.
ASKS_TO_PUBLISH = re.compile(
    r"(?:再|帮我|给我|你)(?:发|转|公布|公开|贴)(?:一遍|一下|出来|到群里|给大家)|发出来|公布出来|公开出来"
    r"|(?:所有人|大家|全体|每个人|业主|住户)的?(?:电话|手机|号码|身份证|地址|住址|名单|信息)|" + INSTRUCTS_BOT.pattern,
    re.IGNORECASE,
)
NOTHING_PUBLISHED = "为保护居民隐私，我不会发布或转发任何人的电话、身份证、住址等个人信息。"
# Asking for one person's details, for the households a list would expose, or who asked something:
# "502郑家的手机号发我一下", "咱们楼哪几户是独居老人 哪家吃低保", "刚才问离婚那个是谁啊"
ASKS_FOR_DETAILS = re.compile(
    r"(?:\d{3,4}|[\u4e00-\u9fff]{1,3}家|他|她|邻居|那家|那户|楼上|楼下|对门)[^，,。！!？?]{0,14}?的?(?:电话|手机号?|号码|微信号?|住址|地址|门牌号?)"
    r"\S{0,6}(?:发|给|告诉|私)(?:我|一下|出来)"
    r"|(?:哪几户|哪些户|哪几家|哪家|哪户|谁家|哪些人)\S{0,6}(?:独居|低保|残疾|困难户|孤寡|空巢|留守|失独|重病|出租|租户|群租)"
    r"|(?:独居老人|低保户?|残疾人|困难户|留守儿童)[^\s，,。！!？?、；;]{0,10}(?:有哪些|是哪|名单|发出来|公布|门牌号?|姓名|名字|电话|住址|地址)"
    # "101住的是不是独居老人 她家里人电话多少"
    r"|(?:他|她|\d{3,4})\S{0,4}(?:电话|手机号?|号码|微信号?)(?:是)?多少|\d{3,4}\S{0,3}是不是(?:独居|低保|残疾|孤寡|空巢)"
    r"|(?:刚才|上次|之前|那个)\S{0,3}问\S{0,10}(?:的|那个)人?是谁|是谁问的"
    # "被偷的是哪家啊 几楼的", "谁家进贼了": who a theft or break-in hit
    r"|(?:被偷|被盗|遭贼|进贼|被撬)的?(?:是)?(?:哪家|哪户|谁家|几楼|哪个)|(?:哪家|谁家|哪户)\S{0,3}(?:被偷|被盗|遭贼|进贼|被撬)"
)
# A resident who says they are staff and asks the bot to act on a ticket: "我是新来的楼道长 工单1直接办结掉"
CLAIMS_STAFF = re.compile(r"我是\S{0,4}(?:信息员|楼道长|保障员|网格员|工作人员|社区的|物业的)")
TICKET_ACTION = re.compile(
    r"(?:工单|单子|[#＃])\s*\d*\S{0,6}(?:办结|关掉|关了|结掉|撤销|撤掉|撤了|撤回|删掉|删了|取消)|\d+号?工单\S{0,4}(?:关|办结|结|撤|删)"
)
# Someone who did not report it, asking the bot to drop a ticket ("这个单子你们给我撤了", "把1号工单删了
# 那是我的车"): the staff handle tickets (a reporter saying so is their all-clear, handled as such)
_SAYS_DONE = re.compile(r"修好|弄好|好了|解决了|没事了|处理好")
TICKET_NOT_YOURS = "工单由负责的工作人员办理，我不能撤销或删除；对处理有意见，可以私信信息员或网格员。"
STAFF_ONLY = "工单由负责的工作人员办理（/办结 只对工作人员有效）；问题已解决的话，直接在群里说“已经修好了”就行。"


# One's own household record asked about in a group: "我们家是不是被登记成独居老人了 都登记了些啥"
ASKS_OWN_RECORD = re.compile(r"(?:我|我们|俺|咱|阿拉)(?:家|们家|屋里)\S{0,6}?(?:被)?(?:登记|记录|录入)(?:成|为|了|的)")
# "你们这个楼道通都存了我哪些信息啊 我的电话号码你们有没有": what the bot keeps about the asker
ASKS_WHAT_KEPT = re.compile(r"(?:存|记|留|保存|收集)(?:了|着)?(?:我)?(?:哪些|什么|啥)\S{0,4}(?:信息|资料|数据)|我的?(?:电话|手机号?|号码|身份证)\S{0,4}(?:你们|你)?有没有")
WHAT_KEPT = ("我只记下您在群里和私聊里发的消息和反映的问题（电话、身份证号存之前已打码），供工作人员处理；"
             "想删除请私聊我发送 /删除我的信息。")
OWN_RECORD = "您家的登记信息只有负责的信息员、楼道长能查看；想了解或更正，请私信他们。"


def privacy_answer(text: str) -> str | None:
    """The one line for a request the bot never carries out: who reported, someone's details, a
    ticket closed on someone's say-so; None for anything else."""
    if ASKS_WHO_REPORTED.search(text):
        return WHO_REPORTED_ANSWER
    if ASKS_FOR_DETAILS.search(text):
        return NOTHING_PUBLISHED
    if CLAIMS_STAFF.search(text) and TICKET_ACTION.search(text):
        return STAFF_ONLY
    if ASKS_OWN_RECORD.search(text):
        return OWN_RECORD
    if ASKS_WHAT_KEPT.search(text):
        return WHAT_KEPT
    if INSTRUCTS_BOT.search(text):
        return NOT_INSTRUCTED
    if TICKET_ACTION.search(text) and not _SAYS_DONE.search(text):  # "1号工单可以关了 已经修好了": an all-clear
        return TICKET_NOT_YOURS
    return None


def answer_privacy_request(ctx: Context, answer: str) -> None:
    """One private line a day to whoever asks for someone's details (who reported, their phone)."""
    if not said_lately(ctx, f"privacy-asked:{ctx.caller.person_id}", timedelta(days=1)):
        ctx.private(ctx.caller.person_id, answer)


# About one person's own data: answered privately wherever typed (the group sees "已私信您" at most).
@command("删除我的信息", aliases=DELETE_ALIASES, usage="/删除我的信息",
         help="删除我发过的消息和反映的内容（需再发 /确认删除）", answer="private")
async def delete_my_data(ctx: Context, args: str) -> None:
    expires = ctx.now + CONFIRM_WINDOW
    set_flag(ctx.session, _pending_key(ctx.caller.person_id), {"expires": expires.isoformat()}, ctx.now)
    # No @: the bot's replies should not put the name back into the log.
    ctx.reply(
        "将删除您的姓名、发过的消息和反映内容（未办结的问题只保留类别和位置，继续处理）。"
        "确认请在5分钟内回复 /确认删除",
        mention=False,
    )


@command("确认删除", aliases=("确定删除",), usage="/确认删除", help="确认删除我的信息", answer="private")
async def confirm_deletion(ctx: Context, args: str) -> None:
    me = ctx.caller.person_id
    pending = get_flag(ctx.session, _pending_key(me))
    if not pending:
        ctx.reply("没有待确认的删除请求，如需删除请先发送 /删除我的信息", mention=False)
        return
    clear_flag(ctx.session, _pending_key(me))
    if datetime.fromisoformat(pending["expires"]) < ctx.now:
        ctx.reply("确认已超时（5分钟），如仍需删除请重新发送 /删除我的信息", mention=False)
        return
    count = delete_person_data(ctx.session, me)
    ctx.session.add(AuditEntry(at=ctx.now, actor_id=me, action=ACTION, subject=f"{me}（{count}条）"))
    ctx.reply("已按您的要求删除您的姓名、发过的消息和反映内容，只保留不含个人信息的统计数字。", mention=False)
