"""Outbox queries: enqueue (idempotent), pick the next sendable rows, mark results."""
from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from common.text import split_text
from storage.db import insert_ignoring_duplicates
from storage.models import OutboxItem
from storage.tables import table_of


QUOTE_CHARS = 300  # a resident's text quoted in a staff note: the note stays one outbox row


def excerpt(text: str, where_in_full: str, limit: int = QUOTE_CHARS) -> str:
    """``text`` cut to ``limit`` characters, saying where the whole text is (e.g. "/进度 3").

    A long petition quoted in full to every responsible staff member made many rows per
    petition (600-character parts); under the per-minute limit a flood of them delays others.
    """
    if len(text) <= limit:
        return text
    return f"{text[:limit]}…（共{len(text)}字，全文见 {where_in_full}）"


def enqueue(
    session: Session,
    *,
    key: str,
    transport: str,
    text: str,
    now: datetime,
    account: str = "main",
    room_id: str | None = None,
    to: str | None = None,
    mentions: tuple[str, ...] = (),
    priority: int = 0,
    due_at: datetime | None = None,
    max_length: int = 600,
) -> list[Queued]:
    """Queue a message (split if long) in ``session``'s transaction; returns the rows added
    (their id and key only: a 750-part answer built 750 ORM objects its callers only counted).

    A key already queued is skipped (a part whose key exists is not added again): a repeat
    returns []. One INSERT … ON CONFLICT (key) DO NOTHING for all parts (one statement however
    many parts, up to 1,000), no SAVEPOINT; the
    returned rows are not attached to the session (callers count them).
    """
    return insert_rows(session, rows_for(
        key=key, transport=transport, text=text, now=now, account=account, room_id=room_id, to=to,
        mentions=mentions, priority=priority, due_at=due_at, max_length=max_length,
    ))


def rows_for(
    *, key: str, transport: str, text: str, now: datetime, account: str, room_id: str | None, to: str | None,
    mentions: tuple[str, ...], priority: int, due_at: datetime | None, max_length: int,
) -> list[dict[str, Any]]:
    """The outbox rows of one message: a part per ``max_length`` characters, keys key, key#2, …"""
    return [
        {
            "key": key if index == 0 else f"{key}#{index + 1}",
            "transport": transport,
            "account": account,
            "room_id": room_id,
            "to": to,
            "mentions": " ".join(mentions) if index == 0 else "",
            "text": part,
            "priority": priority,
            "status": "queued",
            "attempts": 0,
            "created_at": now,
            "due_at": due_at or now,
        }
        for index, part in enumerate(split_text(text, max_length))
    ]


def insert_rows(session: Session, rows: list[dict[str, Any]]) -> list[Queued]:
    """Insert outbox rows (of one message or several, in this order) in one statement; the ones
    added (a key already queued is skipped)."""
    if not rows:
        return []
    session.flush()  # what the caller added first (a new room, a ticket) is written first, as before
    conn = session.connection()
    stmt = _insert_statement(conn.dialect.name)
    if stmt is None:  # another database: one SAVEPOINT per row
        return _enqueue_with_savepoints(session, rows)
    if len(rows) == 1:
        new_id = conn.execute(stmt, rows[0]).scalar()
        return [] if new_id is None else [Queued(new_id, rows[0]["key"])]
    # A long answer (/回执 on a district-wide notice), or a handler's replies together: one
    # multi-row INSERT; RETURNING names the rows really inserted (in any order: matched by key).
    added = {key: new_id for new_id, key in conn.execute(_with_key(conn.dialect.name), rows)}
    return [Queued(added[row["key"]], row["key"]) for row in rows if row["key"] in added]


class Queued(NamedTuple):
    """A row enqueue() added."""

    id: int
    key: str


_WITH_KEY: dict[str, Any] = {}


def _with_key(dialect: str):
    """The insert returning the key as well; executed with a list of rows, SQLAlchemy sends them
    as one multi-row INSERT (its "insertmanyvalues", up to 1,000 rows a statement, compiled
    once). Built once per dialect (every petition's replies and notes go this way)."""
    if dialect not in _WITH_KEY:
        _WITH_KEY[dialect] = _insert_statement(dialect).returning(table_of(OutboxItem).c.key)
    return _WITH_KEY[dialect]


def _insert_statement(dialect: str):
    return insert_ignoring_duplicates(table_of(OutboxItem), dialect, ("key",), "id")


def _enqueue_with_savepoints(session: Session, rows: list[dict]) -> list[Queued]:
    items: list[Queued] = []
    for row in rows:
        item = OutboxItem(**row)
        try:
            with session.begin_nested():
                session.add(item)
                session.flush()
        except IntegrityError:
            continue
        assert item.id is not None
        items.append(Queued(item.id, item.key))
    return items


def due_items(
    session: Session, now: datetime, transport: str, account: str = "main", limit: int = 100
) -> list[Due]:
    """Candidates to send, highest priority first; a row is only sent after claim() wins it.
    Plain rows of what the pass decides on: a backlog is read again at every pass, and building
    100 OutboxItems each time cost ~7 ms of a worker thread (claim() loads the one sent)."""
    stmt = (
        select(col(OutboxItem.id), col(OutboxItem.room_id), col(OutboxItem.to), col(OutboxItem.priority))
        .where(OutboxItem.status == "queued", OutboxItem.transport == transport, OutboxItem.account == account,
               col(OutboxItem.due_at) <= now)
        .order_by(col(OutboxItem.priority).desc(), col(OutboxItem.id))
        .limit(limit)
    )
    return [Due(*row) for row in session.exec(stmt).all()]


class Due(NamedTuple):
    """A queued row as the send pass sees it."""

    id: int | None  # as OutboxItem.id (never None once read)
    room_id: str | None
    to: str | None
    priority: int


def claim(session: Session, item_id: int | None, claimer: str) -> OutboxItem | None:
    """Mark a queued row 'sending' for ``claimer`` (one attempt more) and return it; None when
    another process (of the same account) claimed it first or it is no longer queued.

    One conditional UPDATE: on PostgreSQL a second claimer waits for the first's row lock, then
    re-checks ``status = 'queued'`` and updates nothing; SQLite runs writers one at a time.
    """
    stmt = (
        update(OutboxItem)
        .where(col(OutboxItem.id) == item_id, col(OutboxItem.status) == "queued")
        .values(status="sending", attempts=col(OutboxItem.attempts) + 1, claimed_by=claimer)
        .returning(col(OutboxItem.id))
    )
    if session.exec(stmt).first() is None:
        return None
    row = session.get(OutboxItem, item_id, populate_existing=True)
    return row


def next_due_at(session: Session, transport: str, account: str = "main") -> datetime | None:
    stmt = (
        select(OutboxItem.due_at)
        .where(OutboxItem.status == "queued", OutboxItem.transport == transport, OutboxItem.account == account)
        .order_by(col(OutboxItem.due_at))
        .limit(1)
    )
    return session.exec(stmt).first()


def interrupted(session: Session, transport: str, account: str = "main") -> list[OutboxItem]:
    """Rows of this account that were being sent when their process stopped (or still are:
    the caller checks the claimer is gone)."""
    stmt = select(OutboxItem).where(
        OutboxItem.status == "sending", OutboxItem.transport == transport, OutboxItem.account == account
    )
    return list(session.exec(stmt).all())


UNSENT = ("queued", "sending", "failed")


def counts_by_status(session: Session, statuses: tuple[str, ...] = UNSENT) -> dict[str, int]:
    """How many rows are in each of ``statuses``: by default the unsent ones, read off the status
    index (a district's 641,000 sent rows counted as well took 90 ms of /状态)."""
    rows = session.exec(select(OutboxItem.status, func.count()).where(col(OutboxItem.status).in_(statuses))
                        .group_by(OutboxItem.status)).all()
    return {status: count for status, count in rows}
