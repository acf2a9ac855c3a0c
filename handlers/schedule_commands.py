"""Officers' timed notices: /定时, /每周, /任务 (list, cancel).

A timed notice is a row of ``timed_notices`` written by the command itself (storage.timed); the
APScheduler job only wakes it at its time, so a crash at firing time cannot lose it. Dates and
times are read as officers type them (nlp.when): 明天 9点, 下周一 9:00, 12月1日 上午9点 …
"""
from __future__ import annotations

import re
from datetime import datetime

from bot.clock import SHANGHAI
from bot.commands import command
from bot.context import Context
from bot.permissions import Caller
from handlers.notices import (
    CONFIRMERS, NOTICE_ROLES, SCOPE_ALIASES, ask_confirmation, covered_rooms, resolve_targets,
)
from sqlmodel import Session

from nlp.when import WEEKDAY_NAMES, WhenError, parse_time_of_day, parse_when, weekday_index
from schedules.scheduler import add_timed_trigger, remove_timed_trigger, short
from schedules.timing import in_quiet_hours
from storage import directory, timed
from storage.models import Room, TimedNotice

WEEKLY = re.compile(r"^\s*(?:周|星期|礼拜)?([一二三四五六日天])\s*(.*)$", re.S)
SCOPES = ("本楼", "本群", "网格", "全部")
TIMED_USAGE = "/定时 明天 9点 [本楼|网格|全部|群名] 内容"


def _split_scope(ctx: Context, text: str) -> str:
    """'全部周六大扫除' typed without a space -> '全部 周六大扫除': scope words and whole group names
    only ('3幢1单元的住户…' stays text); several groups are previewed before anything is set."""
    names = [r.topic for r in directory.rooms(ctx.session)]
    for word in sorted((*SCOPES, *SCOPE_ALIASES, *names), key=len, reverse=True):
        if not text.startswith(word):
            continue
        glued = len(text) > len(word) and not text[len(word)].isspace() and text[len(word)] not in ",，、"
        # the longest word decides: '全部群 …' is not '全部' + '群 …', '3幢1单元楼道群,3幢2单元楼道群 …'
        # is a list of groups; an alias glued to the text ('所有群众…') is left as text
        return f"{word} {text[len(word):]}" if glued and word not in SCOPE_ALIASES else text
    return text


def _create(ctx: Context, rooms: list[Room], content: str, due: datetime, weekly: str | None, label: str) -> None:
    notice = timed.create(
        ctx.session, author_id=ctx.caller.person_id, author_name=ctx.caller.name,
        title=ctx.caller.title_in(ctx.room), text=content, room_ids=[r.id for r in rooms],
        due_at=due, now=ctx.now, weekly=weekly,
    )
    scheduler = ctx.services.scheduler
    if scheduler is not None:  # the durable row is the notice; the job only wakes it on time
        notice_id = notice.id or 0
        ctx.after_commit.append(lambda: add_timed_trigger(scheduler, notice_id, due, weekly))
    warn = f"\n注意：{_quiet_note(ctx)}，居民可能被打扰。" if in_quiet_hours(due, ctx.services.config.schedules.quiet_hours) else ""
    names = "、".join(r.topic for r in rooms)
    ctx.reply(f"已设定 {label} 发往{names}（任务 {notice.id}）。取消请发 /任务 取消 {notice.id}{warn}", mention=False)


def _schedule(ctx: Context, rest: str, due: datetime, weekly: str | None, label: str) -> None:
    rooms, content, error = resolve_targets(ctx, _split_scope(ctx, rest))
    if error:
        ctx.reply(error, mention=False)
        return
    if len(rooms) == 1 and rooms[0] == ctx.room:
        _create(ctx, rooms, content, due, weekly, label)
        return
    # Several groups, or a group other than this one: the same preview and /确认 as /通知.
    ask_confirmation(ctx, rooms, content, kind="timed", what=f"于{label}",
                     extra={"due": due.isoformat(), "weekly": weekly, "label": label})


def _confirm(ctx: Context, pending: dict, rooms: list[Room]) -> None:
    due = datetime.fromisoformat(pending["due"])
    if pending.get("weekly"):
        due = timed.next_weekly(pending["weekly"], ctx.now)
    elif due <= ctx.now:
        ctx.reply("确认时这个时间已经过去了，请重新 /定时 一个将来的时间。", mention=False)
        return
    _create(ctx, rooms, pending["text"], due, pending.get("weekly"), pending["label"])


CONFIRMERS["timed"] = _confirm


@command("定时", roles=NOTICE_ROLES, usage=TIMED_USAGE, help="定时发送通知（多个群需 /确认）")
async def timed_command(ctx: Context, args: str) -> None:
    try:
        when = parse_when(args, ctx.now)
    except WhenError as error:
        ctx.reply(str(error), mention=False)
        return
    if not when.rest:
        ctx.reply(f"请写上通知内容，例如：{TIMED_USAGE}", mention=False)
        return
    _schedule(ctx, when.rest, when.at, None, when.label())


@command("每周", roles=NOTICE_ROLES, usage="/每周 一 9点 [范围] 内容", help="每周固定时间发送通知")
async def weekly_command(ctx: Context, args: str) -> None:
    match = WEEKLY.match(args)
    if not match:
        ctx.reply("格式：/每周 一 9:00 [本楼|网格|全部|群名] 内容（星期用 一至日）", mention=False)
        return
    try:
        clock, rest = parse_time_of_day(match.group(2))
    except WhenError as error:
        ctx.reply(str(error), mention=False)
        return
    if not rest:
        ctx.reply("请写上通知内容，例如：/每周 一 9:00 本楼 内容", mention=False)
        return
    day = weekday_index(match.group(1))
    spec = timed.weekly_spec(day, clock)
    _schedule(ctx, rest, timed.next_weekly(spec, ctx.now), spec, f"每周{WEEKDAY_NAMES[day]} {clock:%H:%M}")


def visible(session: Session, caller: Caller) -> list[TimedNotice]:
    """Pending and paused notices in the caller's scope: their own, or aimed at a group they look
    after (what /任务 lists, and the console's 定时 page)."""
    mine = {r.id for r in covered_rooms(session, caller)}
    return [
        n for n in timed.listed(session)
        if caller.sees_everything or n.author_id == caller.person_id or mine & set(timed.room_ids(n))
    ]


def targets_of(session: Session, notice: TimedNotice) -> list[str]:
    """The topics of a notice's groups (a group gone since: said so)."""
    topics = {r.id: r.topic for r in directory.rooms(session)}
    return [topics.get(rid, "（群已不存在）") for rid in timed.room_ids(notice)]


def _quiet_note(ctx: Context) -> str:
    quiet = ctx.services.config.schedules.quiet_hours
    return f"这个时间在夜间免打扰时段（{quiet.start:02d}:00–{quiet.end:02d}:00）"


def _line(ctx: Context, notice: TimedNotice) -> str:
    targets = "、".join(targets_of(ctx.session, notice))
    when = notice.due_at.astimezone(SHANGHAI)
    repeat = f"每周{WEEKDAY_NAMES[when.weekday()]} " if notice.weekly else ""
    paused = "（已暂停）" if notice.status == timed.PAUSED else ""
    # (the list says so too: an officer checking at night sees a 06:00 notice will wake people)
    quiet = f"（{_quiet_note(ctx)}）" if in_quiet_hours(notice.due_at, ctx.services.config.schedules.quiet_hours) else ""
    return f"{notice.id} {repeat}{when:%m-%d %H:%M}{paused}{quiet} → {targets}：{short(notice.text, 40)}"


JOB_ACTIONS = ("取消", "暂停", "恢复")


@command("任务", roles=NOTICE_ROLES, usage="/任务 [取消|暂停|恢复 编号]", help="查看、暂停、恢复或取消定时通知")
async def jobs_command(ctx: Context, args: str) -> None:
    words = args.split()
    if words and words[0] in JOB_ACTIONS:
        _change(ctx, words[0], words[1] if len(words) > 1 else "")
        return
    notices = visible(ctx.session, ctx.caller)
    text = "\n".join(["定时通知："] + [_line(ctx, n) for n in notices]) if notices else "目前没有定时通知。"
    ctx.reply(text, mention=False)  # names groups and texts: a staff command answers privately (bot.commands)


def _change(ctx: Context, action: str, code: str) -> None:
    """取消, 暂停 or 恢复 a notice the caller set (an admin of everything: any in the list)."""
    digits = code.lstrip("#Tt")
    number = int(digits) if re.fullmatch(r"[0-9]{1,9}", digits) else None
    notice = next((n for n in visible(ctx.session, ctx.caller) if n.id == number), None)
    if notice is None or not (ctx.caller.sees_everything or notice.author_id == ctx.caller.person_id):
        ctx.reply(f"没有找到这个任务（只能{action}自己设定的任务）。", mention=False)
        return
    scheduler = ctx.services.scheduler
    notice_id = notice.id or 0
    if action == "恢复":
        if notice.status != timed.PAUSED:
            ctx.reply(f"任务 {notice_id} 没有暂停。", mention=False)
            return
        if notice.weekly:
            notice.due_at = timed.next_weekly(notice.weekly, ctx.now)
        elif notice.due_at <= ctx.now:
            ctx.reply(f"任务 {notice_id} 的时间已经过去，请 /任务 取消 {notice_id} 后重新 /定时。", mention=False)
            return
        notice.status = timed.PENDING
        due, weekly = notice.due_at, notice.weekly
        if scheduler is not None:
            ctx.after_commit.append(lambda: add_timed_trigger(scheduler, notice_id, due, weekly))
        ctx.session.add(notice)
        ctx.reply(f"已恢复任务 {notice_id}，下次发送：{due.astimezone(SHANGHAI):%m-%d %H:%M}。", mention=False)
        return
    if action == "暂停" and notice.status == timed.PAUSED:
        ctx.reply(f"任务 {notice_id} 已经暂停了。", mention=False)
        return
    if action == "暂停":
        notice.status = timed.PAUSED
    else:
        notice.status, notice.done_at = "cancelled", ctx.now
    ctx.session.add(notice)
    if scheduler is not None:
        ctx.after_commit.append(lambda: remove_timed_trigger(scheduler, notice_id))
    tail = f"，恢复请发 /任务 恢复 {notice_id}" if action == "暂停" else ""
    ctx.reply(f"已{action}任务 {notice_id}{tail}。", mention=False)
