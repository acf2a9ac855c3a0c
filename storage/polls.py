"""Poll queries: open, vote (one row per voter and poll, an atomic upsert), tally, close.

The result is always a recount of ``poll_votes``: votes cast before ``closes_at`` count, one per
voter (the UNIQUE (poll_id, voter_id) constraint), so counting twice gives the same answer and
a vote stored after the deadline (a race with the clock) is never counted.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, func, select

from storage.models import Poll, PollVote
from storage.tables import table_of

LETTERS = "ABCDEFGH"  # quick polls answer A, B, C…
MAX_OPTIONS = 20


@dataclass(frozen=True)
class Cast:
    """What a vote did: "new", "changed" (from ``before``) or "same"."""

    outcome: str
    before: int | None = None


def options(poll: Poll) -> list[str]:
    return [line for line in poll.options.split("\n") if line]


def room_ids(poll: Poll) -> list[str]:
    return poll.room_ids.split()


def label(poll: Poll, choice: int) -> str:
    """How a choice is named: 'B' in a quick poll, '2号' in an election."""
    return LETTERS[choice - 1] if poll.letters else f"{choice}号"


def create(session: Session, *, kind: str, title: str, choices: list[str], letters: bool, room_ids_: list[str],
           author_id: str, now: datetime, closes_at: datetime) -> Poll:
    poll = Poll(kind=kind, title=title, options="\n".join(choices), letters=letters, room_ids=" ".join(room_ids_),
                author_id=author_id, created_at=now, closes_at=closes_at)
    session.add(poll)
    session.flush()
    return poll


def is_open(poll: Poll, now: datetime) -> bool:
    return poll.status == "open" and now < poll.closes_at


def open_in_room(session: Session, room_id: str, now: datetime) -> list[Poll]:
    """Polls taking votes in this group, newest first (a bare number goes to the first)."""
    stmt = select(Poll).where(Poll.status == "open", col(Poll.closes_at) > now).order_by(col(Poll.id).desc())
    return [p for p in session.exec(stmt).all() if room_id in room_ids(p)]


def vote(session: Session, poll_id: int, voter_id: str, choice: int, room_id: str | None, now: datetime) -> Cast:
    """Record ``voter_id``'s vote: a single INSERT … ON CONFLICT (poll_id, voter_id) DO UPDATE, so
    voters racing (even one voter changing their vote twice at once) leave exactly one row each.
    The caller checks the poll is open and the choice in range; the caller commits."""
    before = session.exec(
        select(PollVote.choice).where(PollVote.poll_id == poll_id, PollVote.voter_id == voter_id)
    ).first()
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    table = table_of(PollVote)
    stmt = dialect.insert(table).values(poll_id=poll_id, voter_id=voter_id, choice=choice, room_id=room_id, at=now,
                                        changes=0)
    stmt = stmt.on_conflict_do_update(
        index_elements=["poll_id", "voter_id"],
        set_={"choice": stmt.excluded.choice, "room_id": stmt.excluded.room_id, "at": stmt.excluded.at,
              "changes": table.c.changes + (table.c.choice != stmt.excluded.choice).cast(table.c.changes.type)},
    )
    session.exec(stmt)
    if before is None:
        return Cast("new")
    return Cast("same" if before == choice else "changed", before)


def tally(session: Session, poll: Poll) -> tuple[list[int], int]:
    """(votes per option, voters): a recount from the table, only votes cast before the deadline."""
    stmt = (
        select(PollVote.choice, func.count())
        .where(PollVote.poll_id == poll.id, col(PollVote.at) < poll.closes_at)
        .group_by(col(PollVote.choice))
    )
    counts = [0] * len(options(poll))
    for choice, n in session.exec(stmt).all():
        if 1 <= choice <= len(counts):
            counts[choice - 1] = n
    return counts, sum(counts)


def due(session: Session, now: datetime) -> list[int]:
    stmt = select(Poll.id).where(Poll.status == "open", col(Poll.closes_at) <= now).order_by(col(Poll.id))
    return [i for i in session.exec(stmt).all() if i is not None]


def close(session: Session, poll_id: int, now: datetime) -> bool:
    """Mark a due poll closed; True for the one caller (process, job run) that did it."""
    stmt = (
        update(Poll)
        .where(col(Poll.id) == poll_id, col(Poll.status) == "open", col(Poll.closes_at) <= now)
        .values(status="closed", closed_at=now)
    )
    return session.exec(stmt).rowcount == 1


def in_rooms(session: Session, room_ids_: set[str], *, open_only: bool, now: datetime, limit: int = 10) -> list[Poll]:
    """Polls posted in any of these groups, newest first."""
    stmt = select(Poll).order_by(col(Poll.id).desc())
    if open_only:
        stmt = stmt.where(Poll.status == "open", col(Poll.closes_at) > now)
    found = [p for p in session.exec(stmt).all() if room_ids_ & set(room_ids(p))]
    return found[:limit]
