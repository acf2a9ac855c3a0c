"""The console's database work that reads and then writes an audit row of what was read.

On SQLite such a transaction must take the write lock first (BEGIN IMMEDIATE, storage.db.writer):
a deferred one that read and then writes fails at once, with no busy wait, when another
connection wrote in between — and the outbox worker writes from its own thread. The work is
retried while the database is busy, like a chat message (storage.db.retry_busy).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Callable, TypeVar

from sqlmodel import Session

from storage.db import retry_busy, writer

if TYPE_CHECKING:
    from bot.app import Stairwell

T = TypeVar("T")


async def audited_read(app: "Stairwell", work: Callable[[Session], T]) -> T:
    """``work(session)`` in one writer transaction, committed; its result (ORM rows stay loaded)."""
    async def attempt() -> T:
        with Session(writer(app.engine), expire_on_commit=False) as db:
            result = work(db)
            db.commit()
            return result

    return await retry_busy(attempt)
