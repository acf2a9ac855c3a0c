"""The message log."""
from __future__ import annotations

from datetime import datetime
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, and_, col, or_, select

from storage.db import insert_ignoring_duplicates
from storage.models import Message, Notice, NoticeTarget
from storage.tables import table_of

# The bot's own messages are logged as 'out:<outbox key>'. An incoming message may not use an id
# in that space: a client that did could claim the id of a notice before it is sent.
BOT_ID_PREFIX = "out:"


def bot_message_id(outbox_key: str) -> str:
    return BOT_ID_PREFIX + outbox_key


_TABLE = table_of(Message)
_COLUMNS = ("transport", "external_id", "room_id", "sender_id", "sender_name", "text", "from_bot",
            "route", "category", "at")


def _insert_statement(dialect: str):
    found = insert_ignoring_duplicates(_TABLE, dialect, ("transport", "external_id"), "id")
    return found if found is not None else _TABLE.insert().returning(_TABLE.c.id)  # a duplicate raises


def insert_message(
    conn: Connection,
    *,
    transport: str,
    external_id: str,
    room_id: str | None,
    sender_id: str,
    sender_name: str,
    text: str,
    at: datetime,
    from_bot: bool = False,
    route: str | None = None,
    category: str | None = None,
) -> int | None:
    """Insert one message on ``conn`` (Core, no SAVEPOINT); its id, or None when
    (transport, external_id) is already stored. The caller's transaction stays usable."""
    params = {
        "transport": transport, "external_id": external_id, "room_id": room_id, "sender_id": sender_id,
        "sender_name": sender_name, "text": text, "from_bot": from_bot, "route": route,
        "category": category, "at": at,
    }
    stmt = _insert_statement(conn.dialect.name)
    if conn.dialect.name not in ("sqlite", "postgresql"):
        try:
            with conn.begin_nested():
                return conn.execute(stmt, params).scalar()
        except IntegrityError:
            return None
    return conn.execute(stmt, params).scalar()


def log_message(session: Session, message: Message) -> bool:
    """Insert ``message``; False when (transport, external_id) is already stored.

    A Core INSERT … ON CONFLICT DO NOTHING RETURNING id: a duplicate leaves the caller's
    transaction usable. ``message.id`` is set; the object is not added to the session.
    """
    new_id = insert_message(session.connection(), **{c: getattr(message, c) for c in _COLUMNS})
    if new_id is None:
        return False
    message.id = new_id
    return True


def room_history(session: Session, room_id: str, limit: int) -> list[Message]:
    stmt = (
        select(Message)
        .where(Message.room_id == room_id)
        .order_by(col(Message.at).desc(), col(Message.id).desc())
        .limit(limit)
    )
    return list(reversed(session.exec(stmt).all()))


# What WeChat bridges put in place of a message with no words (a photo, a sticker, a video).
BARE_MEDIA = ("[图片]", "[表情]", "[动画表情]", "[视频]", "[文件]")


def last_from_others(session: Session, room_id: str, sender_id: str, since: datetime) -> Message | None:
    """The latest message in a group since ``since`` by anyone but ``sender_id`` and the bot:
    what a bare "+1" or "我家也是" answers. A bare picture or sticker is passed over: a photo posted
    under a report shows it, and "是的 我也摸黑" under it agrees with the report."""
    return session.exec(
        select(Message)
        .where(Message.room_id == room_id, col(Message.from_bot).is_(False), Message.sender_id != sender_id,
               col(Message.at) >= since, col(Message.text).not_in(BARE_MEDIA))
        .order_by(col(Message.at).desc(), col(Message.id).desc())
        .limit(1)
    ).first()


def talk_since(session: Session, room_id: str, sender_id: str, since: datetime, message_id: int) -> bool:
    """Whether a group heard anything since ``since`` besides ``sender_id``'s chatter: another
    person's message (not a staff command: its answer went privately), a report of the sender's
    own, or a notice sent to it. A bare
    "谢谢" answers the last thing said to the sender; after any of these it is not known what."""
    spoken = session.exec(
        select(Message.id)
        .where(Message.room_id == room_id, col(Message.from_bot).is_(False), col(Message.at) > since,
               Message.id != message_id,
               # staff commands are answered privately (the one that resolved it among them)
               or_(col(Message.route).is_(None), col(Message.route) != "command"),
               or_(col(Message.sender_id) != sender_id, and_(col(Message.route).is_not(None), col(Message.route) != "other")))
        .limit(1)
    ).first()
    if spoken is not None:
        return True
    notice = session.exec(
        select(NoticeTarget.notice_id)
        .join(Notice, col(Notice.id) == col(NoticeTarget.notice_id))
        .where(NoticeTarget.room_id == room_id, col(Notice.created_at) > since)
        .limit(1)
    ).first()
    return notice is not None
