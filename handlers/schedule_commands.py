"""Officers' timed notices: /定时, /每周, /任务 (list, cancel)."""
from __future__ import annotations

import re
import uuid
from datetime import datetime

from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger

from bot.clock import SHANGHAI
from bot.commands import command
from bot.context import Context
from handlers.notices import NOTICE_ROLES, resolve_targets
from schedules.scheduler import JOBS, USER_PREFIX, describe
from schedules.timing import in_quiet_hours

WEEKDAYS = {"一": "mon", "二": "tue", "三": "wed", "四": "thu", "五": "fri", "六": "sat", "日": "sun", "天": "sun"}
TIME = re.compile(r"^([01]?\d|2[0-3])[:：]([0-5]\d)$")


def _schedule(ctx: Context, trigger, when_text: str, rest: str, first_run: datetime | None) -> None:
    if ctx.services.scheduler is None:
        ctx.reply("定时功能未启用。", mention=False)
        return
    rooms, content, error = resolve_targets(ctx, rest)
    if error:
        ctx.reply(error, mention=False)
        return
    job_id = f"{USER_PREFIX}{uuid.uuid4().hex[:6]}"
    kwargs = {"job_id": job_id, "text": content, "room_ids": [r.id for r in rooms],
              "author_id": ctx.caller.person_id, "author_name": ctx.caller.name,
              "title": ctx.caller.title_in(ctx.room)}
    ctx.after_commit.append(
        lambda: ctx.services.scheduler.add_job(
            JOBS + "send_scheduled", trigger, id=job_id, name=content[:30], replace_existing=True, kwargs=kwargs
        )
    )
    quiet = ctx.services.config.schedules.quiet_hours
    warn = "\n注意：这个时间在夜间免打扰时段，居民可能被打扰。" if first_run and in_quiet_hours(first_run, quiet) else ""
    names = "、".join(r.topic for r in rooms)
    ctx.reply(f"已设定 {when_text} 发往{names}（任务 {job_id[len(USER_PREFIX):]}）。"
              f"取消请发 /任务 取消 {job_id[len(USER_PREFIX):]}{warn}", mention=False)


@command("定时", roles=NOTICE_ROLES, usage="/定时 2026-12-01 09:00 [范围] 内容", help="定时发送通知")
async def timed_command(ctx: Context, args: str) -> None:
    parts = args.split(maxsplit=2)
    if len(parts) < 3:
        ctx.reply("格式：/定时 2026-12-01 09:00 [本楼|网格|全部|群名] 内容", mention=False)
        return
    try:
        when = datetime.strptime(f"{parts[0]} {parts[1].replace('：', ':')}", "%Y-%m-%d %H:%M").replace(tzinfo=SHANGHAI)
    except ValueError:
        ctx.reply("日期时间格式不对，例如：/定时 2026-12-01 09:00 内容", mention=False)
        return
    if when <= ctx.now:
        ctx.reply("这个时间已经过去了，请设定将来的时间。", mention=False)
        return
    _schedule(ctx, DateTrigger(when, timezone=SHANGHAI), f"{when:%Y-%m-%d %H:%M}", parts[2], when)


@command("每周", roles=NOTICE_ROLES, usage="/每周 一 09:00 [范围] 内容", help="每周固定时间发送通知")
async def weekly_command(ctx: Context, args: str) -> None:
    parts = args.split(maxsplit=2)
    match = TIME.match(parts[1]) if len(parts) > 1 else None
    day = WEEKDAYS.get(parts[0].removeprefix("周").removeprefix("星期")) if parts else None
    if len(parts) < 3 or not match or day is None:
        ctx.reply("格式：/每周 一 09:00 [本楼|网格|全部|群名] 内容（星期用 一至日）", mention=False)
        return
    trigger = CronTrigger(day_of_week=day, hour=int(match.group(1)), minute=int(match.group(2)), timezone=SHANGHAI)
    first = trigger.get_next_fire_time(None, ctx.now.astimezone(SHANGHAI))
    _schedule(ctx, trigger, f"每周{parts[0].removeprefix('周').removeprefix('星期')} {parts[1]}", parts[2], first)


def _visible_jobs(ctx: Context) -> list:
    jobs = [j for j in ctx.services.scheduler.get_jobs() if j.id.startswith(USER_PREFIX)]
    if ctx.caller.sees_everything:
        return jobs
    return [j for j in jobs if j.kwargs.get("author_id") == ctx.caller.person_id]


@command("任务", roles=NOTICE_ROLES, usage="/任务 [取消 编号]", help="查看或取消定时通知")
async def jobs_command(ctx: Context, args: str) -> None:
    if ctx.services.scheduler is None:
        ctx.reply("定时功能未启用。", mention=False)
        return
    words = args.split()
    jobs = _visible_jobs(ctx)
    if words and words[0] == "取消":
        wanted = USER_PREFIX + (words[1] if len(words) > 1 else "")
        job = next((j for j in jobs if j.id == wanted), None)
        if job is None:
            ctx.reply("没有找到这个任务（只能取消自己设定的任务）。", mention=False)
            return
        ctx.after_commit.append(lambda: ctx.services.scheduler.remove_job(job.id))
        ctx.reply(f"已取消任务 {wanted[len(USER_PREFIX):]}。", mention=False)
        return
    if not jobs:
        ctx.reply("目前没有定时通知。", mention=False)
        return
    lines = ["定时通知："]
    for job in jobs:
        targets, preview = describe(job, ctx.services.engine, ctx.services.config)
        when = job.next_run_time.astimezone(SHANGHAI).strftime("%m-%d %H:%M") if job.next_run_time else "已暂停"
        lines.append(f"{job.id[len(USER_PREFIX):]} {when} → {targets}：{preview}")
    ctx.reply("\n".join(lines), mention=False)
