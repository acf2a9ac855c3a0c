"""/删除我的信息: a resident's right to deletion (个人信息保护法).

Texts go, counts stay: message, ticket and consultation rows are kept with their
categories and times (so statistics stay right) but their words are replaced,
copies the bot forwarded to staff are scrubbed too, and the person's name is blanked
(also inside the bot's own messages and queued sends, where it becomes "居民").

A person who writes again after the deletion is a resident again from then on; what
they had reported before the request stays unlinked from them (``reachable``): the
words are the mark, so a report made after the request is theirs again.
"""
from __future__ import annotations

from sqlalchemy import update
from sqlmodel import Session, col, select

from bot.commands import command
from bot.context import Context
from storage.models import AuditEntry, Consultation, Message, Notice, OutboxItem, Person, Ticket, TicketEvent

DELETED = "（已应居民要求删除）"
ACTION = "删除个人信息"  # the audit entry of a request
NAME_STANDIN = "居民"


def _scrub_copies(session: Session, texts: set[str], *, min_length: int, by: str, bot_only: bool = False) -> None:
    """Replace copies of ``texts`` with ``by`` in the bot's log (its own rows only when
    ``bot_only``) and in the outbox; shorter texts identify nothing and would match too widely."""
    for text in texts:
        if len(text) < min_length or text in (DELETED, by):
            continue
        for model in (Message, OutboxItem):
            stmt = select(model).where(col(model.text).contains(text, autoescape=True))
            if bot_only and model is Message:
                stmt = stmt.where(col(Message.from_bot).is_(True))
            for row in session.exec(stmt).all():
                row.text = row.text.replace(text, by)
                session.add(row)


def delete_person_data(session: Session, person_id: str) -> int:
    """Blank everything ``person_id`` wrote; returns how many texts were removed."""
    opened = list(session.exec(select(Ticket).where(Ticket.reporter_id == person_id)).all())
    asked = list(session.exec(select(Consultation).where(Consultation.asker_id == person_id)).all())
    forwarded = {t.text for t in opened} | {c.text for c in asked}
    for row in opened:
        row.text = DELETED
        session.add(row)
    for row in asked:
        row.text, row.answer = DELETED, (DELETED if row.answer else None)
        session.add(row)
    notices = session.exec(select(Notice).where(Notice.author_id == person_id, Notice.source == "resident")).all()
    for notice in notices:
        notice.text = DELETED
        session.add(notice)
    joined = select(TicketEvent).where(TicketEvent.actor_id == person_id, TicketEvent.action == "追加")
    added = list(session.exec(joined).all())
    forwarded |= {e.note for e in added}
    for event in added:
        event.note = DELETED
        session.add(event)
    person = session.get(Person, person_id)
    names = set(session.exec(select(Message.sender_name).where(Message.sender_id == person_id)).all())
    names |= {person.name} if person is not None else set()
    messages = session.exec(
        update(Message)
        .where(col(Message.sender_id) == person_id, col(Message.text) != DELETED)
        .values(text=DELETED, sender_name="")
    )
    _scrub_copies(session, forwarded, min_length=4, by=DELETED)
    _scrub_copies(session, names, min_length=2, by=NAME_STANDIN, bot_only=True)
    if person is not None:
        person.name, person.deleted = "", True
        session.add(person)
    return messages.rowcount + len(opened) + len(asked) + len(notices)


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
        return person if ticket.text != DELETED else None
    joined = select(TicketEvent.note).where(
        TicketEvent.ticket_id == ticket.id, TicketEvent.actor_id == person_id, TicketEvent.action == "追加"
    )
    return person if any(note != DELETED for note in session.exec(joined).all()) else None


@command("删除我的信息", usage="/删除我的信息", help="删除我发过的消息和反映的内容")
async def delete_my_data(ctx: Context, args: str) -> None:
    me = ctx.caller.person_id
    count = delete_person_data(ctx.session, me)
    ctx.session.add(AuditEntry(at=ctx.now, actor_id=me, action=ACTION, subject=f"{me}（{count}条）"))
    # No @: the reply itself should not put the name back into the log.
    ctx.reply("已按您的要求删除您的姓名、发过的消息和反映内容，只保留不含个人信息的统计数字。", mention=False)
