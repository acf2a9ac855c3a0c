"""Polls on the database (SQLite, and PostgreSQL when STAIRWELL_TEST_DATABASE_URL is set): one
vote per voter and poll however the votes race, a recount gives the same result, no vote after
the deadline counts, a poll closes once, and its closing job is stored with the poll id only."""
from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from storage import polls
from storage.db import writer
from storage.models import Poll, PollVote

pytestmark = pytest.mark.postgres
NOW = datetime(2026, 12, 1, 2, 0, tzinfo=timezone.utc)
CLOSES = NOW + timedelta(days=3)


def _poll(engine, options: int = 3) -> int:
    with Session(engine) as session:
        poll = polls.create(session, kind="评选", title="最美家庭", choices=[f"候选{i}" for i in range(1, options + 1)],
                            letters=False, room_ids_=[], author_id="officer-li", now=NOW, closes_at=CLOSES)
        session.commit()
        assert poll.id is not None
        return poll.id


def _cast(engine, poll_id: int, voter: str, choice: int, at: datetime = NOW) -> str:
    """One vote in its own transaction, retried while SQLite is busy (as the dispatcher does)."""
    for _ in range(200):
        try:
            with Session(writer(engine)) as session:
                outcome = polls.vote(session, poll_id, voter, choice, None, at).outcome
                session.commit()
                return outcome
        except Exception as exc:  # noqa: BLE001 - only "busy" is retried; anything else fails the test
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise
    raise AssertionError("database stayed busy")


def _race(work: list) -> list:
    """Run every callable at once from its own thread (a barrier releases them together)."""
    barrier = threading.Barrier(len(work))
    out: list = [None] * len(work)
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            barrier.wait()
            out[i] = work[i]()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(work))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    return out


def _tally(engine, poll_id: int) -> tuple[list[int], int]:
    with Session(engine) as session:
        poll = session.get(Poll, poll_id)
        assert poll is not None
        return polls.tally(session, poll)


def test_racing_voters_each_count_once_and_a_recount_agrees(engine):
    poll_id = _poll(engine)
    voters = [(f"res-{i}", i % 3 + 1) for i in range(24)]
    # the same resident changing their vote from several threads at once: still one row
    changer = [("res-changer", choice) for choice in (1, 2, 3, 1, 2, 3)]
    outcomes = _race([lambda v=v, c=c: _cast(engine, poll_id, v, c) for v, c in voters + changer])
    assert outcomes[:24] == ["new"] * 24
    with Session(engine) as session:
        rows = session.exec(select(PollVote).where(PollVote.poll_id == poll_id)).all()
        mine = [r for r in rows if r.voter_id == "res-changer"]
    assert len(rows) == 25 and len(mine) == 1
    assert len({r.voter_id for r in rows}) == 25
    counts, voters_counted = _tally(engine, poll_id)
    expected = [8, 8, 8]
    expected[mine[0].choice - 1] += 1
    assert (counts, voters_counted) == (expected, 25)
    assert _tally(engine, poll_id) == (counts, voters_counted)  # a recount is the same result


def test_a_changed_vote_replaces_the_old_one(engine):
    poll_id = _poll(engine)
    assert _cast(engine, poll_id, "res-zhang", 2) == "new"
    assert _cast(engine, poll_id, "res-zhang", 1) == "changed"
    assert _cast(engine, poll_id, "res-zhang", 1) == "same"
    assert _tally(engine, poll_id) == ([1, 0, 0], 1)
    with Session(engine) as session:
        row = session.exec(select(PollVote).where(PollVote.voter_id == "res-zhang")).one()
    assert (row.choice, row.changes) == (1, 1)


def test_the_database_refuses_a_second_row_for_one_voter(engine):
    poll_id = _poll(engine)
    _cast(engine, poll_id, "res-zhang", 1)
    with Session(engine) as session:
        session.add(PollVote(poll_id=poll_id, voter_id="res-zhang", choice=2, at=NOW))
        with pytest.raises(IntegrityError):
            session.commit()


def test_no_vote_after_the_deadline_counts_in_a_recount(engine):
    poll_id = _poll(engine)
    _cast(engine, poll_id, "res-zhang", 1, at=CLOSES - timedelta(seconds=1))
    _cast(engine, poll_id, "res-chen", 2, at=CLOSES)  # a race with the clock: stored, never counted
    _cast(engine, poll_id, "res-zhang", 3, at=CLOSES + timedelta(minutes=1))  # a late change drops it too
    assert _tally(engine, poll_id) == ([0, 0, 0], 0)


def test_a_due_poll_closes_exactly_once_across_racing_closers(engine):
    poll_id = _poll(engine)

    def close(at: datetime) -> bool:
        with Session(engine) as session:
            done = polls.close(session, poll_id, at)
            session.commit()
            return done

    assert close(CLOSES - timedelta(seconds=1)) is False  # not due yet
    with Session(engine) as session:
        assert polls.due(session, CLOSES) == [poll_id]
    results = _race([lambda: close(CLOSES)] * 6)
    assert results.count(True) == 1
    with Session(engine) as session:
        assert session.get(Poll, poll_id).status == "closed"
        assert polls.due(session, CLOSES) == []


async def test_the_closing_job_is_stored_with_the_poll_id_and_posts_the_result_once(make_chat, clock):
    from schedules import jobs

    from common.tz import SHANGHAI

    # APScheduler runs on real time: a closing time past on the wall clock (this test once said
    # "12月1日", and failed from that day on) is run or dropped at once, never stored. So the bot's
    # clock starts at the real date and the poll closes three days later.
    start = datetime.now(SHANGHAI).replace(tzinfo=None, microsecond=0)
    closes = (start + timedelta(days=3)).replace(hour=18, minute=0, second=0)
    clock.set(start)
    chat = await make_chat(run_scheduler=True)
    await chat.say(f"/评选 最美家庭 候选 王家 李家 截止 {closes.month}月{closes.day}日 18点", sender="officer-li")
    await chat.say("2", sender="res-zhang")
    stored = chat.app.scheduler.get_job("poll:1")
    assert stored is not None and stored.kwargs == {"poll_id": 1}
    assert stored.func_ref == "schedules.jobs:poll_close"
    with chat.app.engine.connect() as conn:  # persisted in the bot's own database
        assert conn.execute(text("SELECT count(*) FROM apscheduler_jobs WHERE id = 'poll:1'")).scalar_one() == 1
    clock.set(closes)
    before = len(chat.sent)
    assert await jobs.poll_close(1) == 2  # the group and the author
    assert await jobs.poll_close(1) == 0
    await chat.app.idle()
    posted = [m for m in chat.sent[before:] if m.room_id]
    assert len(posted) == 1 and "李家 1票（100%）" in posted[0].text


async def test_the_schedules_listing_shows_an_open_poll_with_its_groups(make_chat, config, clock):
    from schedules.scheduler import listing

    chat = await make_chat()
    await chat.say("/评选 最美家庭 候选 王家 李家 截止 12月20日", sender="officer-li")
    rows = [row for row in listing(chat.app.engine, config, clock.now()) if row[0] == "poll:1"]
    assert rows == [("poll:1", "2026-12-21 00:00", "3幢1单元楼道群", "评选“最美家庭”截止，公布结果")]
