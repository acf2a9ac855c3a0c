"""Polls shared by the commands and the closing job: the texts groups see, closing at the deadline.

The closing job is an APScheduler DateTrigger carrying only the poll id (``poll:<id>``); a job
lost in a crash is caught up by ``polls_due`` at start, and votes are cut off by the deadline
itself (storage.polls.tally), so a late job changes nothing in the result.
"""
from __future__ import annotations

import logging
from datetime import datetime

from sqlmodel import Session

from bot.clock import SHANGHAI
from schedules.timing import allowed_time
from storage import polls
from storage.db import writer
from storage.models import Poll, Room

log = logging.getLogger(__name__)
JOB_PREFIX = "poll:"


def deadline_label(poll: Poll) -> str:
    local = poll.closes_at.astimezone(SHANGHAI)
    if (local.hour, local.minute) == (0, 0):  # "截止 12月20日": through the whole day
        previous = local.fromordinal(local.toordinal() - 1)
        return f"{previous.month}月{previous.day}日24:00"
    return f"{local.month}月{local.day}日{local:%H:%M}"


def announcement(poll: Poll) -> str:
    lines = [f"【{poll.kind}】{poll.title}（P{poll.id}）"]
    lines += [f"{polls.label(poll, n).rstrip('号')}. {text}" for n, text in enumerate(polls.options(poll), 1)]
    how = "字母（如“A”）" if poll.letters else "编号（如“1”）"
    lines.append(f"请直接回复{how}投票，每人一票，可改投；{deadline_label(poll)}截止。")
    return "\n".join(lines)


def results(session: Session, poll: Poll, *, final: bool) -> str:
    counts, voters = polls.tally(session, poll)
    head = f"【{poll.kind}结果】{poll.title}（P{poll.id}）" if final else f"{poll.kind} P{poll.id}“{poll.title}”目前"
    lines = [f"{head}，共{voters}人投票："]
    ranked = sorted(range(len(counts)), key=lambda i: (-counts[i], i))
    for i in ranked:
        share = f"{counts[i] * 100 / voters:.0f}%" if voters else "—"
        lines.append(f"{polls.label(poll, i + 1).rstrip('号')}. {polls.options(poll)[i]} {counts[i]}票（{share}）")
    if final and voters:
        top = max(counts)
        winners = [polls.options(poll)[i] for i in range(len(counts)) if counts[i] == top]
        lines.append(("并列第一：" if len(winners) > 1 else "得票最多：") + "、".join(winners) + "。感谢大家参与！")
    return "\n".join(lines)


def close_poll(services, poll_id: int) -> int:
    """Close a due poll and post its result to its groups (and to its author), exactly once.
    Runs in a worker thread: the caller wakes the outbox."""
    now = services.clock.now()
    cfg = services.config.schedules
    with Session(writer(services.engine)) as session:
        if not polls.close(session, poll_id, now):
            session.rollback()
            return 0  # not due yet, or closed already (another run, another process)
        poll = session.get(Poll, poll_id)
        assert poll is not None
        text = results(session, poll, final=True)
        due = allowed_time(now, cfg.quiet_hours, False)  # a midnight deadline is announced in the morning
        count = 0
        for room_id in polls.room_ids(poll):
            room = session.get(Room, room_id)
            if room is not None:
                count += services.queue(session, key=f"poll:{poll_id}:result:{room_id}", text=text, room=room,
                                        due_at=due)
        count += services.queue(session, key=f"poll:{poll_id}:result:author", text=text, to=poll.author_id,
                                due_at=due)
        session.commit()
    log.info("poll %d closed, result queued to %d destination(s)", poll_id, count)
    return count


def close_due(services) -> int:
    with Session(services.engine) as session:
        ids = polls.due(session, services.clock.now())
    return sum(close_poll(services, poll_id) for poll_id in ids)


def add_trigger(scheduler, poll_id: int, closes_at: datetime) -> None:
    """The job that closes poll ``poll_id`` at its deadline: the id only, run even when late."""
    from apscheduler.triggers.date import DateTrigger

    from schedules.scheduler import JOBS

    scheduler.add_job(JOBS + "poll_close", DateTrigger(closes_at, timezone=SHANGHAI), id=f"{JOB_PREFIX}{poll_id}",
                      name=f"评选/投票 P{poll_id} 截止", kwargs={"poll_id": poll_id}, replace_existing=True,
                      misfire_grace_time=None)
