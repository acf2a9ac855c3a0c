"""Scheduled jobs: module-level functions referenced by text, given plain ids and strings.

Each job queues its messages in the outbox with a key naming the period it
belongs to (the ISO week, the month, the day), so a job that runs twice for the
same period - after a crash, a restart or a misfire - never sends twice.
"""
from __future__ import annotations

import asyncio
import functools
import logging
import zlib
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlmodel import Session, select

from common.heap import bulk_in_thread
from common.privacy import mask
from common.tz import SHANGHAI
from schedules import runtime
from schedules.scheduler import TARGET_KINDS, short
from schedules.timing import allowed_time
from storage import directory, timed
from storage.db import retry_busy, writer
from storage.models import Person, Room, ScheduleCursor, Ticket, TimedNotice

log = logging.getLogger(__name__)
NOTICE_KINDS = ("stairwell", "legal", "staff")  # where an officer's notice may go



JOB_BUSY_BUDGET = 60.0  # seconds a job keeps retrying while the database is busy


def busy_retried(job):
    """Run ``job`` again while it fails on a busy database, for up to JOB_BUSY_BUDGET seconds.

    On SQLite a job's transaction that read and then writes fails at once when another connection
    wrote in between (the chat's writers, the outbox worker's thread): the whole job runs again,
    which every job allows (period keys, durable rows: a rerun sends nothing twice)."""
    @functools.wraps(job)
    async def run(*args, **kwargs):
        return await retry_busy(lambda: job(*args, **kwargs), budget=JOB_BUSY_BUDGET)

    return run

def _local_now() -> datetime:
    return runtime.services().clock.now().astimezone(SHANGHAI)


def _automatic_due(now: datetime) -> datetime:
    """Automatic pushes wait for the morning (and past holidays, where config says so)."""
    cfg = runtime.services().config.schedules
    return allowed_time(now, cfg.quiet_hours, cfg.skip_holidays)


def _rooms(session: Session, kinds: tuple[str, ...], room_ids: list[str] | None = None) -> list[Room]:
    rooms = [r for r in directory.rooms(session) if r.kind in kinds]
    return [r for r in rooms if room_ids is None or r.id in room_ids]


def _finish(session: Session, count: int, what: str) -> int:
    session.commit()
    services = runtime.services()
    services.wake_outbox()
    log.info("job %s queued %d message(s)", what, count)
    return count


def _next_in_library(session: Session, room: Room, library: str, size: int) -> tuple[ScheduleCursor, int]:
    cursor = session.get(ScheduleCursor, (room.id, library))
    if cursor is None:
        # Different groups start at different places, so neighbouring groups don't post alike.
        cursor = ScheduleCursor(room_id=room.id, library=library, position=zlib.crc32(room.id.encode()) % size)
    return cursor, cursor.position % size


def _push_library(library: str, key_period: str) -> int:
    from schedules.content_library import CaseItem, PushItem, load_cases, load_weekly, render_case, render_push

    def render(item: PushItem | CaseItem) -> str:
        return render_push(item) if isinstance(item, PushItem) else render_case(item)

    services = runtime.services()
    now = _local_now()
    items: Sequence[PushItem | CaseItem] = load_weekly() if library == "weekly" else load_cases()
    with Session(services.engine) as session:
        count = 0
        for room in _rooms(session, ("legal",)):
            cursor, index = _next_in_library(session, room, library, len(items))
            added = services.queue(
                session, key=f"{library}:{room.id}:{key_period}", text=render(items[index]), room=room,
                due_at=_automatic_due(now),
            )
            if added:  # only a push that was really queued moves the rotation on
                cursor.position = cursor.position + 1
                session.add(cursor)
                count += 1
        return _finish(session, count, library)


@busy_retried
async def weekly_legal_push() -> int:
    """五个一: one 普法 post a week in every legal-aid group, rotated without repeats."""
    year, week, _ = _local_now().isocalendar()
    return _push_library("weekly", f"{year}-W{week:02d}")


@busy_retried
async def monthly_case() -> int:
    """五个一: one 以案释法 case a month in every legal-aid group."""
    return _push_library("cases", f"{_local_now():%Y-%m}")


@busy_retried
async def campaign(campaign_id: str) -> int:
    services = runtime.services()
    found = next((c for c in services.config.schedules.campaigns if c.id == campaign_id), None)
    if found is None or not found.enabled:
        log.warning("campaign %s is no longer configured; skipped", campaign_id)
        return 0
    now = _local_now()
    kinds = TARGET_KINDS[found.targets]
    with Session(services.engine) as session:
        count = sum(
            services.queue(
                session, key=f"campaign:{found.id}:{now:%Y-%m-%d}:{room.id}",
                text=f"【{found.name}】{found.text}", room=room, due_at=_automatic_due(now),
            )
            for room in _rooms(session, kinds)
        )
        return _finish(session, count, f"campaign {campaign_id}")


@busy_retried
async def send_scheduled(
    job_id: str, text: str, room_ids: list[str], author_id: str, author_name: str, title: str
) -> int:
    """A /定时 or /每周 job stored before timed notices had their own table (text in the job)."""
    from domain.notices import send_notice  # notices own the text format and tracking

    services = runtime.services()
    now = _local_now()
    with Session(services.engine) as session:
        rooms = _rooms(session, NOTICE_KINDS, room_ids)
        _, queued = send_notice(
            services, session, author_id=author_id, author_name=author_name, title=title, text=mask(text),
            rooms=rooms, key_prefix=f"sched:{job_id}:{now:%Y-%m-%d}",
        )
        return _finish(session, queued, f"scheduled {job_id}")


@busy_retried
async def timed_notice(notice_id: int) -> int:
    """The APScheduler trigger of one /定时 notice: it only wakes the durable row (and any other
    that is due), so losing this job in a crash loses nothing."""
    return await timed_notices_due()


@busy_retried
async def timed_notices_due() -> int:
    """Every pending timed notice whose time has come: queued within the grace time, else
    reported to admins and the author. Each one in its own transaction, exactly once."""
    services = runtime.services()
    with Session(services.engine) as session:
        ids = timed.due(session, services.clock.now())
    count = sum(_fire_timed(notice_id) for notice_id in ids)
    if ids:
        log.info("timed notices: %d due, %d message(s) queued", len(ids), count)
    return count


def _fire_timed(notice_id: int) -> int:
    from domain.notices import send_notice

    services = runtime.services()
    now = services.clock.now()
    grace = timedelta(seconds=services.config.schedules.misfire_grace_seconds)
    with Session(services.engine) as session:
        notice = session.get(TimedNotice, notice_id)
        if notice is None or notice.status != timed.PENDING or notice.due_at > now:
            return 0  # already handled (by another trigger, or before a restart)
        stamp = f"{notice.due_at.astimezone(SHANGHAI):%Y%m%d%H%M}"
        rooms = _rooms(session, NOTICE_KINDS, timed.room_ids(notice))
        if now - notice.due_at <= grace:
            _, count = send_notice(
                services, session, author_id=notice.author_id, author_name=notice.author_name, title=notice.title,
                text=notice.text, rooms=rooms, key_prefix=f"timed:{notice.id}:{stamp}",
            )
            status = "queued"
        else:
            count = _report_missed_notice(session, notice, rooms, stamp)
            status = "missed"
        timed.finish(notice, status, now)
        session.add(notice)
        session.commit()
        services.wake_outbox()
        return count


def _report_missed_notice(session: Session, notice: TimedNotice, rooms: list[Room], stamp: str) -> int:
    """Too late to send: admins and the author are told what was not sent (text short, masked)."""
    services = runtime.services()
    when = notice.due_at.astimezone(SHANGHAI)
    names = "、".join(r.topic for r in rooms) or "（群已不存在）"
    text = (f"【定时通知未发送】任务 {notice.id} 原定{when:%m月%d日%H:%M}发往{names}：“{short(notice.text)}”，"
            "因系统停机超过宽限时间未发送。如仍需要，请重新 /通知 或 /定时。")
    people = {p.id for p in directory.admins(session)} | {notice.author_id}
    return sum(
        services.queue(session, key=f"timedmissed:{notice.id}:{stamp}:{person}", to=person, text=text)
        for person in sorted(people)
    )


@busy_retried
async def daily_digest() -> int:
    """08:30: new tickets of the last day and overdue ones, to each grid worker privately
    (and once per grid to the WeCom staff group, when one is configured)."""
    from sqlmodel import col, or_

    from storage.tickets import OPEN_STATUSES

    services = runtime.services()
    now = services.clock.now()
    day = f"{now.astimezone(SHANGHAI):%Y-%m-%d}"
    with Session(services.engine) as session:
        recent_or_overdue = select(Ticket).where(
            or_(
                col(Ticket.created_at) >= now - timedelta(days=1),
                col(Ticket.status).in_(OPEN_STATUSES) & (col(Ticket.due_at) < now),
            )
        )
        candidates = list(session.exec(recent_or_overdue).all())
        count = 0
        for worker in directory.people_with_roles(session, {"grid"}, None):
            grids = {g.scope for g in directory.grants_for(session, worker.id) if g.role == "grid"}
            rows = [t for t in candidates if t.grid in grids or "*" in grids]
            new = [t for t in rows if t.created_at >= now - timedelta(days=1)]
            overdue = [t for t in rows if t.status in OPEN_STATUSES and t.due_at < now]
            if not new and not overdue:
                continue
            lines = [f"【每日工单摘要】新增{len(new)}件，超期{len(overdue)}件"]
            lines += [f"新 #{t.id} {t.category} {t.status}" for t in new[:10]]
            lines += [f"超期 #{t.id} {t.category} {t.status}" for t in overdue[:10]]
            count += services.queue(
                session, key=f"digest:{day}:{worker.id}", to=worker.id,
                text="\n".join(lines), due_at=_automatic_due(now),
            )
            scope = "、".join(sorted(grids))  # the same grid's workers share one staff-group post
            count += services.to_staff_channel(session, key=f"digest:{day}:{scope}", text=f"{scope}：" + "\n".join(lines))
        return _finish(session, count, "daily digest")


def _tell_trios(key: str, text_for) -> int:
    """Each stairwell's trio (楼道长、信息员、保障员) gets privately ``text_for(session, month, now)``
    about its month so far (None: nothing to say); the flats at risk it names are audited. A
    stairwell with no trio yet is not skipped: its grid worker gets it, all such stairwells of the
    grid in one message."""
    from bot.permissions import TRIO
    from domain.checkon import audit_read
    from domain.visits import stairwell_month

    services = runtime.services()
    now = _local_now()
    with Session(services.engine) as session:
        count = 0
        seen: set[str] = set()
        orphans: dict[str, tuple[list[str], list[int]]] = {}  # grid worker -> stairwells with no trio
        for room in _rooms(session, ("stairwell",)):
            stairwell = room.stairwell or room.topic
            if stairwell in seen:  # two groups of one stairwell: one message
                continue
            seen.add(stairwell)
            month = stairwell_month(session, stairwell, now, services.config.visits.at_risk_tags)
            text = text_for(session, month, now)
            if text is None:
                continue
            risk = [h.id for h in month.left() if h.id in month.risk]
            trio = directory.people_with_roles(session, TRIO, room)
            if not trio:
                for person in directory.people_with_roles(session, {"grid"}, room):
                    texts, flats = orphans.setdefault(person.id, ([], []))
                    texts.append(text)
                    flats.extend(risk)
            for person in trio:
                added = services.queue(session, key=f"{key}:{now:%Y-%m}:{stairwell}:{person.id}", to=person.id,
                                       text=text, due_at=_automatic_due(now))
                if added:
                    audit_read(session, person.id, services.clock.now(), "走访提醒", risk)
                count += added
        for person_id, (texts, flats) in orphans.items():
            added = services.queue(session, key=f"{key}:{now:%Y-%m}:no-trio:{person_id}", to=person_id,
                                   text="以下楼道还没有楼道长、信息员、保障员，请您安排：\n\n" + "\n\n".join(texts),
                                   due_at=_automatic_due(now))
            if added:
                audit_read(session, person_id, services.clock.now(), "走访提醒", flats)
            count += added
        return _finish(session, count, key)


@busy_retried
async def visit_reminder() -> int:
    """四必联: each stairwell trio gets privately this month's households to visit, people at risk first."""
    from domain.visits import month_bounds, reminder_text, stairwell_month

    tags = runtime.services().config.visits.at_risk_tags

    def text(session: Session, month, now: datetime) -> str:
        last = stairwell_month(session, month.stairwell, month_bounds(now)[0] - timedelta(days=1), tags)
        return reminder_text(month, now, last)

    return _tell_trios("visit", text)


@busy_retried
async def visit_nudge() -> int:
    """Mid-month: a trio whose coverage is below visits.nudge_below is told who is left."""
    from domain.visits import nudge_text

    below = runtime.services().config.visits.nudge_below

    def text(session: Session, month, now: datetime) -> str | None:
        # no ledger yet (the monthly reminder said so), or on track: nothing to say
        return None if month.rate is None or month.rate >= below else nudge_text(month, now)

    return _tell_trios("visitnudge", text)


@busy_retried
async def check_on_followup(emergency_id: int) -> int:
    """战时: check_after after the lists went out, the grid workers get who is still unconfirmed."""
    from domain.checkon import followup

    services = runtime.services()
    with Session(services.engine) as session:
        return _finish(session, followup(services, session, emergency_id), f"check-on follow-up {emergency_id}")


@busy_retried
async def check_on_due() -> int:
    """The catch-up under check_on_followup: every follow-up whose time has come and was not sent."""
    from storage.visits import due_followups

    services = runtime.services()
    with Session(services.engine) as session:
        ids = due_followups(session, services.clock.now())
    total = 0
    for emergency_id in ids:
        total += await check_on_followup(emergency_id)
    return total


@busy_retried
async def overdue_check() -> int:
    """Overdue tickets: remind the assignee, escalate to the grid worker (rules in domain.overdue)."""
    services = runtime.services()

    def remind() -> int:
        # In a worker thread: a district's first run reads thousands of tickets, and the chat must
        # not wait on the event loop. The reading and composing happen in a read transaction (no
        # write lock: chat writes go on meanwhile); the write transaction (BEGIN IMMEDIATE on
        # SQLite) only checks that the same tickets are still due and queues. The first run's
        # import (holiday tables included) happens here too, not on the loop.
        from domain.overdue import plan_overdue, queue_plan, remind_overdue, unreminded_ids

        now = services.clock.now()
        with Session(services.engine) as session:
            plan = plan_overdue(session, now)
        if plan is None:
            return 0
        with Session(writer(services.engine)) as session:
            if [tuple(row) for row in unreminded_ids(session, now)] == plan.made_from:
                count = queue_plan(services, session, plan, now)
            else:  # a ticket was closed, postponed or reminded meanwhile: plan again, under the lock
                count = remind_overdue(services, session, now)
            session.commit()
            return count

    count = await retry_busy(lambda: bulk_in_thread(remind))
    services.wake_outbox()
    log.info("job overdue check queued %d message(s)", count)
    return count


@busy_retried
async def close_unrated() -> int:
    """A resolved ticket nobody rated within tickets.rating_days is closed as 未评价 (counted apart)."""
    from datetime import timedelta

    from storage.tickets import close_unrated as close

    services = runtime.services()
    window = timedelta(days=services.config.tickets.rating_days)
    with Session(services.engine) as session:
        closed = len(close(session, services.clock.now(), window))
        session.commit()
    log.info("rating window: %d ticket(s) closed as 未评价", closed)
    return closed


@busy_retried
async def emergency_chase() -> int:
    """战时: 30 minutes after an emergency notice, each trio gets its non-confirmers."""
    from domain.notices import chase_unconfirmed

    services = runtime.services()
    with Session(services.engine) as session:
        return _finish(session, chase_unconfirmed(services, session), "emergency chase")


@busy_retried
async def purge_old_texts() -> int:
    """个人信息保护法: blank texts older than privacy.retention_days (counts and categories stay)."""
    from storage.retention import purge_in_steps

    services = runtime.services()
    cutoff = services.clock.now() - timedelta(days=services.config.privacy.retention_days)
    changed = await purge_in_steps(services.engine, cutoff)  # short steps: the chat never waits
    log.info("retention: %d old text(s) blanked", changed)

    def forget_logins() -> int:  # console addresses that failed a login and have been quiet a day
        from storage.console import forget_failed_logins

        with Session(services.engine) as session:
            forgotten = forget_failed_logins(session, services.clock.now() - timedelta(days=1))
            session.commit()
            return forgotten

    await asyncio.to_thread(forget_logins)
    return changed


@busy_retried
async def monthly_points_ranking() -> int:
    """志愿服务晾晒: on the month's first working day, last month's volunteer hours in each
    stairwell group (names as config points.first_names_only says); groups without any stay quiet."""
    from domain.points import hours_label, monthly_post_due, previous_month, ranking_lines
    from storage import points

    services = runtime.services()
    cfg = services.config.points
    now = _local_now()
    if not cfg.monthly_ranking or not monthly_post_due(now.date()):
        return 0
    first, last = previous_month(now.date())
    with Session(services.engine) as session:
        count = 0
        for room in _rooms(session, ("stairwell",)):
            rows = points.hours_between(session, first, last, (room.stairwell,)) if room.stairwell else []
            if not rows:
                continue
            total = sum(r.minutes for r in rows)
            text = "\n".join([
                f"【志愿服务晾晒】{first.month}月{room.stairwell}共{len(rows)}位邻居参加志愿服务{hours_label(total)}，谢谢大家！",
                *ranking_lines(session, rows, cfg.ranking_size, cfg.first_names_only),
                "积分可兑换生活用品，发送 /积分 查看自己的积分。",
            ])
            count += services.queue(session, key=f"points-ranking:{first:%Y-%m}:{room.id}", text=text, room=room,
                                    due_at=_automatic_due(now))
        return _finish(session, count, "points ranking")


@busy_retried
async def monthly_stars() -> int:
    """星级楼道: on the month's first working day, last month's 先锋楼道 and 先锋个人 (and the
    group's own stars) in each stairwell group; nothing when there is no one to name."""
    from datetime import time

    from domain.points import hours_label, monthly_post_due, previous_month, public_name
    from domain.stars import STAR, pioneers, rate_month

    services = runtime.services()
    config = services.config
    now = _local_now()
    if not config.stars.monthly_post or not monthly_post_due(now.date()):
        return 0
    first, last = previous_month(now.date())
    start = datetime.combine(first, time(), SHANGHAI)
    end = datetime.combine(last + timedelta(days=1), time(), SHANGHAI)
    with Session(services.engine) as session:
        rated = rate_month(session, config, start, end)
        best, people = pioneers(session, rated, start, end)
        found = [(p, session.get(Person, p.person_id)) for p in people]
        named = [(p, person) for p, person in found if person is not None and not person.deleted]
        if not best and not named:
            return _finish(session, 0, "stars")
        ratings = {r.stairwell: r for r in rated}
        parts = []
        if best:
            parts.append("先锋楼道 " + "、".join(f"{r.stairwell}（{STAR * r.stars}，{r.score:.0f}分）" for r in best))
        if named:
            who = "、".join(public_name(person.name, config.points.first_names_only) for _, person in named)
            parts.append(f"先锋个人 {who}（志愿服务{hours_label(named[0][0].minutes)}）")
        count = 0
        for room in _rooms(session, ("stairwell",)):
            own = ratings.get(room.stairwell or "")
            mine = f"本楼道{STAR * own.stars}（{own.score:.0f}分）。" if own and own.stars and own.score is not None else ""
            text = f"【星级楼道】{first.month}月评比：{'；'.join(parts)}。{mine}感谢各位邻居的付出！"
            count += services.queue(session, key=f"stars:{first:%Y-%m}:{room.id}", text=text, room=room,
                                    due_at=_automatic_due(now))
        return _finish(session, count, "stars")


@busy_retried
async def poll_close(poll_id: int) -> int:
    """The deadline of one poll (评选/投票): close it and post the result (domain.polls)."""
    from domain.polls import close_poll

    services = runtime.services()
    count = await retry_busy(lambda: asyncio.to_thread(close_poll, services, poll_id))
    services.wake_outbox()
    return count


@busy_retried
async def polls_due() -> int:
    """Every open poll past its deadline (a trigger lost in a crash, a bot that was down)."""
    from domain.polls import close_due

    services = runtime.services()
    count = await retry_busy(lambda: asyncio.to_thread(close_due, services))
    services.wake_outbox()
    return count
