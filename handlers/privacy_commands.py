"""/删除我的信息: a resident's right to deletion (个人信息保护法).

Texts go, counts stay: message, ticket and consultation rows are kept with their
categories and times (so statistics stay right) but their words are replaced,
copies the bot forwarded to staff are scrubbed too, and the person's name is blanked.
"""
from __future__ import annotations

from sqlalchemy import update
from sqlmodel import Session, col, select

from bot.commands import command
from bot.context import Context
from storage.models import AuditEntry, Consultation, Message, OutboxItem, Person, Ticket, TicketEvent

DELETED = "（已应居民要求删除）"


def _scrub_copies(session: Session, texts: set[str]) -> None:
    """Replace forwarded copies of ``texts`` in the bot's own log and outbox."""
    for text in texts:
        if len(text) < 4 or text == DELETED:  # too short to identify anything, and avoids wide matches
            continue
        for model in (Message, OutboxItem):
            rows = session.exec(select(model).where(col(model.text).contains(text, autoescape=True))).all()
            for row in rows:
                row.text = row.text.replace(text, DELETED)
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
    joined = select(TicketEvent).where(TicketEvent.actor_id == person_id, TicketEvent.action == "追加")
    added = list(session.exec(joined).all())
    forwarded |= {e.note for e in added}
    for event in added:
        event.note = DELETED
        session.add(event)
    messages = session.exec(
        update(Message)
        .where(col(Message.sender_id) == person_id, col(Message.text) != DELETED)
        .values(text=DELETED, sender_name="")
    )
    _scrub_copies(session, forwarded)
    person = session.get(Person, person_id)
    if person is not None:
        person.name, person.deleted = "", True
        session.add(person)
    return messages.rowcount + len(opened) + len(asked)


@command("删除我的信息", usage="/删除我的信息", help="删除我发过的消息和反映的内容")
async def delete_my_data(ctx: Context, args: str) -> None:
    me = ctx.caller.person_id
    count = delete_person_data(ctx.session, me)
    ctx.session.add(AuditEntry(at=ctx.now, actor_id=me, action="删除个人信息", subject=f"{me}（{count}条）"))
    # No @: the reply itself should not put the name back into the log.
    ctx.reply("已按您的要求删除您的姓名、发过的消息和反映内容，只保留不含个人信息的统计数字。", mention=False)
