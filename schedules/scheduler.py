"""APScheduler 3 on the project's own database, with the guards chat bots keep needing.

- The job store is a SQLAlchemyJobStore on the app's engine (WAL, busy timeout),
  so jobs survive restarts and share no second SQLite connection setup.
- Jobs are referenced by text ("schedules.jobs:weekly_legal_push") with plain
  arguments; stable ids and replace_existing; coalesce, max_instances=1 and a
  misfire grace time in job_defaults.
- Config jobs are reconciled at start: added, updated, removed. An unchanged job
  is left alone so a run missed while the bot was down is still seen as missed.
- The scheduler starts paused and resumes once the transport is connected.
- Missed runs and job errors are logged and reported to admins, never silent.
- Several processes on one database (one per bot account, or more): every process keeps its
  scheduler (commands add jobs to the shared store), but only the holder of the "scheduler"
  lock runs jobs (Leadership); the others stay paused and take over within
  ``schedules.leader_check_seconds`` when the holder dies (its PostgreSQL session, and so its
  advisory lock, ends with it). Jobs queue rows for every group; each row carries its group's
  account and is sent by that account's processes.
- A config file's jobs are named after its account (``cfg:`` for the default account "main",
  ``cfg@<account>:`` otherwise): reconcile adds, updates and removes only its own.
"""
from __future__ import annotations

import asyncio
import dataclasses
import logging
from dataclasses import dataclass
from datetime import datetime

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.job import Job
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.date import DateTrigger
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.config import DEFAULT_ACCOUNT, AppConfig
from common.privacy import mask
from common.tasks import cancel_and_wait
from common.tz import SHANGHAI
from schedules.calendar import lunar_runs
from schedules.triggers import cron
from storage.cluster import Presence

log = logging.getLogger(__name__)

JOBS = "schedules.jobs:"
CONFIG_PREFIX = "cfg:"
USER_PREFIX = "user:"  # officers' jobs stored before timed notices had their own table
TIMED_PREFIX = "timed:"  # the trigger of timed notice N is job "timed:N"; its name is never the text
CATCH_UP_ID = "timed:catch-up"
POLLS_CATCH_UP_ID = "poll:catch-up"


@dataclass(frozen=True)
class JobSpec:
    id: str
    func: str
    trigger: BaseTrigger
    kwargs: dict
    name: str
    options: tuple[tuple[str, object], ...] = ()


def build_scheduler(engine: Engine, config: AppConfig) -> AsyncIOScheduler:
    return AsyncIOScheduler(
        jobstores={"default": SQLAlchemyJobStore(engine=engine, tablename="apscheduler_jobs")},
        job_defaults={
            "coalesce": True,
            "max_instances": 1,
            "misfire_grace_time": config.schedules.misfire_grace_seconds,
        },
        timezone=SHANGHAI,
    )


def short(text: str, limit: int = 20) -> str:
    """A job's text as a report or listing may show it: masked, one line, at most ``limit`` chars."""
    line = " ".join(mask(text).split())
    return line if len(line) <= limit else line[:limit] + "…"


def config_prefix(config: AppConfig) -> str:
    """The id prefix of this config file's jobs: its account's, so accounts never remove each other's."""
    account = config.bot.account
    return CONFIG_PREFIX if account == DEFAULT_ACCOUNT else f"cfg@{account}:"


def config_jobs(config: AppConfig, now: datetime) -> list[JobSpec]:
    """The jobs config.yaml asks for."""
    prefix = config_prefix(config)
    return [dataclasses.replace(spec, id=prefix + spec.id[len(CONFIG_PREFIX):]) for spec in _config_jobs(config, now)]


def _config_jobs(config: AppConfig, now: datetime) -> list[JobSpec]:
    cfg = config.schedules
    specs: list[JobSpec] = []
    fixed = [
        ("weekly_legal_push", cfg.weekly_legal_push, "每周普法"),
        ("monthly_case", cfg.monthly_case, "每月以案释法"),
        ("daily_digest", cfg.daily_digest, "每日工单摘要"),
        ("visit_reminder", cfg.visit_reminder, "四必联走访提醒"),
    ]
    if config.visits.nudge_at is not None:  # 走访: the mid-month nudge (config visits)
        fixed.append(("visit_nudge", config.visits.nudge_at, "走访进度提醒"))
    for func, fixed_cron, name in fixed:
        if fixed_cron is not None:
            specs.append(JobSpec(f"{CONFIG_PREFIX}{func}", JOBS + func, cron(**fixed_cron.fields()), {}, name))
    specs.append(JobSpec(f"{CONFIG_PREFIX}overdue_check", JOBS + "overdue_check",
                         cron(minute=f"*/{cfg.overdue_check_minutes}"), {}, "超期工单催办"))
    specs.append(JobSpec(f"{CONFIG_PREFIX}purge_old_texts", JOBS + "purge_old_texts",
                         cron(hour=3, minute=15), {}, "过期内容清理"))
    specs.append(JobSpec(f"{CONFIG_PREFIX}close_unrated", JOBS + "close_unrated",
                         cron(minute=40), {}, "未评价工单关闭"))
    # A safety net under the per-notice triggers (e.g. one that could not be stored): it never
    # counts as missed, since what it looks for is durable and reported by timed_notices_due.
    specs.append(JobSpec(f"{CONFIG_PREFIX}timed_notices", JOBS + "timed_notices_due",
                         cron(minute="*"), {}, "定时通知检查",
                         (("misfire_grace_time", None),)))
    specs.append(JobSpec(f"{CONFIG_PREFIX}emergency_chase", JOBS + "emergency_chase",
                         cron(minute=f"*/{cfg.emergency_check_minutes}"), {}, "战时回执催收"))
    # The monthly 晾晒 and 星级楼道 posts: the job looks daily in the month's first days and posts
    # once, on the first working day (after 国庆 that is the 8th).
    for func, on, name in (("monthly_points_ranking", config.points.monthly_ranking, "志愿服务晾晒"),
                           ("monthly_stars", config.stars.monthly_post, "星级楼道评比")):
        if on:
            specs.append(JobSpec(f"{CONFIG_PREFIX}{func}", JOBS + func,
                                 cron(day="1-10", hour=config.points.post_hour, minute=15), {}, name))
    # 战时 check-on follow-ups: each has its own one-off job; this catches one lost in a crash.
    specs.append(JobSpec(f"{CONFIG_PREFIX}check_on_due", JOBS + "check_on_due",
                         cron(minute=f"*/{cfg.emergency_check_minutes}"), {},
                         "战时重点人员核查", (("misfire_grace_time", None),)))
    for campaign in cfg.campaigns:
        if not campaign.enabled:
            continue
        kwargs = {"campaign_id": campaign.id}
        if campaign.lunar is not None:
            for when in lunar_runs(campaign, now):
                specs.append(JobSpec(f"{CONFIG_PREFIX}campaign:{campaign.id}:{when.year}", JOBS + "campaign",
                                     DateTrigger(when, timezone=SHANGHAI), kwargs, campaign.name))
        elif campaign.cron is not None:  # a campaign has one or the other (config checks)
            specs.append(JobSpec(f"{CONFIG_PREFIX}campaign:{campaign.id}", JOBS + "campaign",
                                 cron(**campaign.cron.fields()), kwargs, campaign.name))
    return specs


def _same(job: Job, spec: JobSpec) -> bool:
    return (
        str(job.trigger) == str(spec.trigger)
        and job.func_ref == spec.func
        and dict(job.kwargs) == spec.kwargs
    )


def put_job(scheduler: AsyncIOScheduler, *args, **kwargs) -> None:
    """``add_job(..., replace_existing=True)`` that holds when another process sharing the job
    store changes the same job meanwhile: APScheduler replaces a job by "add, conflict, update",
    and a one-off job (the catch-up checks) run and removed by the other process between the
    conflict and the update raised JobLookupError at a first start (two first starts at once)."""
    from apscheduler.jobstores.base import ConflictingIdError, JobLookupError

    for attempt in range(3):
        try:
            scheduler.add_job(*args, replace_existing=True, **kwargs)
            return
        except (JobLookupError, ConflictingIdError):
            if attempt == 2:
                raise


def reconcile(scheduler: AsyncIOScheduler, config: AppConfig, now: datetime) -> dict[str, int]:
    """Make this config's stored jobs match config.yaml; officers' jobs and other accounts' are untouched."""
    wanted = {spec.id: spec for spec in config_jobs(config, now)} if config.schedules.enabled else {}
    stored = {job.id: job for job in scheduler.get_jobs() if job.id.startswith(config_prefix(config))}
    added = updated = removed = 0
    for job_id in stored:
        if job_id not in wanted:
            scheduler.remove_job(job_id)
            removed += 1
    for job_id, spec in wanted.items():
        existing = stored.get(job_id)
        if existing is not None and _same(existing, spec):
            continue  # keep its next run time: a missed run must stay visible as missed
        put_job(scheduler, spec.func, spec.trigger, id=spec.id, name=spec.name, kwargs=spec.kwargs,
                **dict(spec.options))
        added += existing is None
        updated += existing is not None
    # Timed notices that fell due while the bot was down (or whose trigger left the store in a
    # crash) are sent or reported as soon as the scheduler resumes.
    put_job(scheduler, JOBS + "timed_notices_due", id=CATCH_UP_ID, name="定时通知补发检查", misfire_grace_time=None)
    # Likewise polls whose deadline passed meanwhile: closed and their results posted.
    put_job(scheduler, JOBS + "polls_due", id=POLLS_CATCH_UP_ID, name="评选/投票截止补查", misfire_grace_time=None)
    log.info("schedules reconciled: %d added, %d updated, %d removed", added, updated, removed)
    return {"added": added, "updated": updated, "removed": removed}


LEADER_LOCK = "scheduler"


class Leadership:
    """Runs ``scheduler``'s jobs only while this process holds the scheduler lock.

    ``ready()`` once the transport is connected; from then on, every ``interval`` seconds, the
    lock is taken or checked: holding it resumes the scheduler, losing it (the dedicated
    connection broke) pauses it. A process that never gets it keeps its scheduler paused.
    """

    def __init__(self, scheduler: AsyncIOScheduler, presence: Presence, interval: float) -> None:
        self.scheduler = scheduler
        self.presence = presence
        self.interval = interval
        self.leading = False
        self._task: asyncio.Task | None = None
        self._poke = asyncio.Event()

    def ready(self) -> None:
        """The transport is connected: lead now if the lock is free (one quick try), then keep trying."""
        self._poke.set()
        if self._task is None:
            try:
                self._follow(self.presence.try_lock(LEADER_LOCK))
            except Exception:
                log.exception("scheduler lock: database unavailable")
            self._task = asyncio.create_task(self._run(), name="scheduler-leadership")

    async def _run(self) -> None:
        while True:
            self._poke.clear()
            try:
                held = await asyncio.to_thread(self.presence.try_lock, LEADER_LOCK)
            except Exception:  # the database is away: not the leader until it is back
                log.exception("scheduler lock: database unavailable")
                held = False
            self._follow(held)
            try:
                await asyncio.wait_for(self._poke.wait(), self.interval)
            except asyncio.TimeoutError:
                pass

    def _follow(self, held: bool) -> None:
        if not self.scheduler.running:
            return
        if held and not self.leading:
            self.leading = True
            self.scheduler.resume()
            log.info("this process now runs the scheduled jobs")
        elif not held and self.leading:
            self.leading = False
            self.scheduler.pause()
            log.warning("scheduler lock lost: jobs paused here (another process takes over)")

    async def stop(self) -> None:
        if self._task is not None:
            await cancel_and_wait(self._task)
            self._task = None
        self.leading = False


def add_timed_trigger(scheduler: AsyncIOScheduler, notice_id: int, due: datetime, weekly: str | None) -> None:
    """The job that wakes timed notice ``notice_id``: ids only, so no text reaches the job store or its log."""
    if weekly:
        day, clock = weekly.split()
        hour, minute = clock.split(":")
        trigger = cron(day_of_week=day, hour=int(hour), minute=int(minute))
    else:
        trigger = DateTrigger(due, timezone=SHANGHAI)
    scheduler.add_job(JOBS + "timed_notice", trigger, id=f"{TIMED_PREFIX}{notice_id}", name=f"定时通知 {notice_id}",
                      kwargs={"notice_id": notice_id}, replace_existing=True, misfire_grace_time=None)


def remove_timed_trigger(scheduler: AsyncIOScheduler, notice_id: int) -> None:
    from apscheduler.jobstores.base import JobLookupError

    try:
        scheduler.remove_job(f"{TIMED_PREFIX}{notice_id}")
    except JobLookupError:
        pass  # a one-off that already ran


def job_label(job_id: str, config: AppConfig, job: Job | None) -> str:
    """What a report calls a job: its name and what it posts (masked, short), never just an id."""
    if job is not None and "text" in job.kwargs:  # an officer's job from before timed notices
        return f"{job_id}“{short(job.kwargs['text'])}”"
    spec = next((s for s in config_jobs(config, datetime.now(SHANGHAI)) if s.id == job_id), None)
    if spec is not None and spec.func.endswith(":campaign"):
        campaign = next(c for c in config.schedules.campaigns if c.id == spec.kwargs["campaign_id"])
        return f"{job_id}“【{campaign.name}】{short(campaign.text)}”"
    name = spec.name if spec is not None else (job.name if job is not None else "")
    return f"{job_id}（{name}）" if name else job_id


def attach_reporting(scheduler: AsyncIOScheduler, report, config: AppConfig | None = None) -> None:
    """Missed runs and errors go to the log and to ``report(text, key)``."""

    # A one-off job has left the store by the time its miss is reported: name the stored ones now
    # (a miss is mostly found at start, after the bot was down).
    known = {job.id: job_label(job.id, config, job) for job in scheduler.get_jobs() if "text" in job.kwargs} if config else {}

    def listener(event: JobExecutionEvent) -> None:
        when = event.scheduled_run_time.astimezone(SHANGHAI) if event.scheduled_run_time else None
        stamp = f"{when:%m月%d日%H:%M}" if when else ""
        label = known.get(event.job_id) or (
            job_label(event.job_id, config, scheduler.get_job(event.job_id)) if config else event.job_id
        )
        if event.code == EVENT_JOB_MISSED:
            log.error("job %s missed its run at %s (bot was down longer than the grace time)", event.job_id, when)
            report(f"【定时任务错过】{label} 原定{stamp}执行，因系统停机超过宽限时间未发送，请确认是否需要补发。",
                   f"jobmissed:{event.job_id}:{when.isoformat() if when else ''}")
        elif event.code == EVENT_JOB_ERROR:
            log.error("job %s failed: %r", event.job_id, event.exception)
            report(f"【定时任务出错】{label}（{stamp}）执行失败：{type(event.exception).__name__}",
                   f"joberror:{event.job_id}:{when.isoformat() if when else ''}")

    scheduler.add_listener(listener, EVENT_JOB_MISSED | EVENT_JOB_ERROR)


TARGET_KINDS = {"legal": ("legal",), "stairwell": ("stairwell",), "all": ("legal", "stairwell")}


def describe(func_ref: str, kwargs: dict, name: str, rooms: list, config: AppConfig) -> tuple[str, str]:
    """(target groups, text preview) for listings."""

    def topics(kinds: tuple[str, ...]) -> str:
        return "、".join(r.topic for r in rooms if r.kind in kinds) or "（无）"

    func = func_ref.split(":")[-1]
    if "room_ids" in kwargs:  # an officer's job stored before timed notices had their own table
        names = [r.topic for r in rooms if r.id in kwargs["room_ids"]]
        return "、".join(names) or "（群已不存在）", short(kwargs.get("text", ""), 40)
    if func in ("weekly_legal_push", "monthly_case"):
        return topics(("legal",)), f"{name}（内容库轮换）"
    if func == "campaign":
        campaign = next((c for c in config.schedules.campaigns if c.id == kwargs.get("campaign_id")), None)
        if campaign is None:
            return "（已从配置删除）", name
        return topics(TARGET_KINDS[campaign.targets]), f"【{campaign.name}】{short(campaign.text, 40)}"
    if func in ("monthly_points_ranking", "monthly_stars"):
        return topics(("stairwell",)), name
    return "工作人员私信", name


def _stored_user_jobs(engine: Engine) -> list[dict]:
    """Officers' jobs of the old kind, read straight from the job store's table (no scheduler,
    no writes); [] when the table does not exist yet."""
    import pickle

    from sqlalchemy import inspect, text

    if not inspect(engine).has_table("apscheduler_jobs"):
        return []
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT id, job_state FROM apscheduler_jobs WHERE id LIKE 'user:%'")).all()
    return [pickle.loads(state) for _, state in rows]


def listing(engine: Engine, config: AppConfig, now: datetime) -> list[tuple[str, str, str, str]]:
    """(id, next time, targets, preview) of every job, soonest first, read without writing."""
    from sqlmodel import select

    from storage import timed
    from storage.models import Poll, Room

    with Session(engine) as session:
        rooms: list = [r for r in session.exec(select(Room)).all() if r.kind != "unbound"] or list(config.rooms)
        notices = timed.pending(session)
        open_polls = list(session.exec(select(Poll).where(Poll.status == "open")).all())
    rows: list[tuple[datetime | None, str, str, str]] = []
    specs = config_jobs(config, now) if config.schedules.enabled else []
    for spec in specs:
        rows.append((spec.trigger.get_next_fire_time(None, now), spec.id,
                     *describe(spec.func, spec.kwargs, spec.name, rooms, config)))
    for notice in notices:
        names = [r.topic for r in rooms if r.id in timed.room_ids(notice)]
        label = f"{TIMED_PREFIX}{notice.id}" + ("（每周）" if notice.weekly else "")
        rows.append((notice.due_at, label, "、".join(names) or "（群已不存在）", short(notice.text, 40)))
    for poll in open_polls:  # each closes at its deadline (job poll:<id>) and posts the result
        names = [r.topic for r in rooms if r.id in poll.room_ids.split()]
        rows.append((poll.closes_at, f"poll:{poll.id}", "、".join(names) or "（群已不存在）",
                     f"{poll.kind}“{short(poll.title)}”截止，公布结果"))
    for state in _stored_user_jobs(engine):
        rows.append((state.get("next_run_time"), state["id"],
                     *describe(state["func"], dict(state["kwargs"]), state.get("name", ""), rooms, config)))
    rows.sort(key=lambda r: (r[0] is None, r[0] or now))
    return [(job_id, f"{when.astimezone(SHANGHAI):%Y-%m-%d %H:%M}" if when else "-", targets, preview)
            for when, job_id, targets, preview in rows]
