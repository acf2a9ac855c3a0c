"""Volunteer hours and points (积分): /志愿, /积分, /积分 排行, /积分 @某人, /兑换.

The stairwell's trio logs hours and redeems rewards; everyone sees their own points, privately.
Every answer is private (a group sees one "已私信您" at most); the person credited or charged is
told privately too. The monthly public ranking is a job (schedules.jobs.monthly_points_ranking).
"""
from __future__ import annotations

import re
from datetime import timedelta

from bot.clock import SHANGHAI
from bot.commands import command
from bot.config import RewardItem
from bot.context import Context
from bot.permissions import STAFF, TRIO
from bot.privacy import mask
from domain.points import hours_label, ranking_lines
from domain.people import resolve_person
from handlers.report import named_month
from nlp.when import VOLUNTEER_DAY_EXAMPLE, WhenError, parse_past_day, parse_work_minutes
from storage import directory, points
from storage.models import Person, Room

VOLUNTEER_USAGE = "/志愿 今天 2小时 楼道清理 @吴阿姨 @钱师傅"
REDEEM_USAGE = "/兑换 20 洗衣液 @吴阿姨"
RANKING_USAGE = "/积分 排行 [本月|上月|2026-11]"
_NAME = re.compile(r"[@＠]([^\s@＠\u2005,，、;；]+)")
MAX_QUANTITY = 10
ACTIVITY_MAX = 20


def _split_names(text: str) -> tuple[list[str], str]:
    """'楼道清理 @吴阿姨 @钱师傅' -> (['@吴阿姨', '@钱师傅'], '楼道清理'); WeChat puts U+2005 after an @."""
    names = [f"@{m}" for m in _NAME.findall(text)]
    return names, re.sub(r"\s+", " ", _NAME.sub(" ", text)).strip(" ,，、")


def _trio_rooms(ctx: Context) -> list[Room]:
    return [r for r in directory.rooms(ctx.session) if r.kind == "stairwell" and r.stairwell
            and ctx.caller.covers(r, TRIO)]


def _stairwell_room(ctx: Context, usage: str) -> Room | None:
    """The stairwell the work is for: this group's, or in a private chat the caller's only one."""
    if ctx.room is not None:
        if ctx.room.kind == "stairwell" and ctx.room.stairwell:
            return ctx.room
        ctx.reply(f"请在楼道群里发送，例如：{usage}", mention=False)
        return None
    mine = _trio_rooms(ctx)
    if len(mine) == 1:
        return mine[0]
    ctx.reply(f"您负责多个楼道，请在对应的楼道群里发送，例如：{usage}", mention=False)
    return None


def _people(ctx: Context, tokens: list[str], room: Room) -> tuple[list[Person], str | None]:
    """The named people, each a member of ``room``; or one polite line for the first problem."""
    members = {p.id for p in directory.room_members(ctx.session, room.id)}

    def in_room(person: Person) -> str | None:
        return None if person.id in members else f"{person.name[:12]}不在{room.topic}里，只能为本楼道居民登记。"

    found: list[Person] = []
    for token in tokens:
        person, error = resolve_person(ctx, token, in_room)
        if person is None:
            return [], error
        if person.id not in {p.id for p in found}:
            found.append(person)
    return found, None


# ---- /志愿 ---------------------------------------------------------------------------------


@command("志愿", roles=TRIO, usage=VOLUNTEER_USAGE, help="为居民登记志愿服务时长（积分随之增加）")
async def volunteer_command(ctx: Context, args: str) -> None:
    cfg = ctx.services.config.points
    room = _stairwell_room(ctx, VOLUNTEER_USAGE)
    if room is None:
        return
    today = ctx.now.astimezone(SHANGHAI).date()
    try:
        day, rest = parse_past_day(args, today)
    except WhenError as exc:
        ctx.reply(str(exc), mention=False)
        return
    day = day or today
    if (today - day).days > cfg.max_days_back:
        ctx.reply(f"只能登记{cfg.max_days_back}天内的服务，{day.month}月{day.day}日的请联系网格员补录。", mention=False)
        return
    span = parse_work_minutes(rest)
    names, _ = _split_names(rest)
    if span is None or not names:
        missing = "时长（如 2小时、半小时、1.5h）" if span is None else "参加的居民（@姓名）"
        ctx.reply(f"请写明{missing}，例如：{VOLUNTEER_USAGE}（日期可写{VOLUNTEER_DAY_EXAMPLE}）", mention=False)
        return
    minutes, rest = span
    _, activity = _split_names(rest)
    if not 30 <= minutes <= cfg.max_hours * 60:  # 半小时 is the smallest span the trio logs
        ctx.reply(f"时长请在半小时到{cfg.max_hours:g}小时之间，例如：{VOLUNTEER_USAGE}", mention=False)
        return
    if not activity:
        ctx.reply(f"请写明做了什么服务，例如：{VOLUNTEER_USAGE}", mention=False)
        return
    activity = mask(activity)[:ACTIVITY_MAX]  # typed by staff, shown in /积分: no phone numbers
    people, error = _people(ctx, names, room)
    if error:
        ctx.reply(error, mention=False)
        return
    logged: list[Person] = []
    repeated: list[Person] = []
    for person in people:
        entry = points.log_hours(
            ctx.session, person_id=person.id, stairwell=room.stairwell or room.topic, room_id=room.id, day=day,
            minutes=minutes, activity=activity, logged_by=ctx.caller.person_id, at=ctx.now, per_hour=cfg.per_hour,
        )
        (logged if entry else repeated).append(person)
    earned = points.points_for(minutes, cfg.per_hour)
    when = f"{day.month}月{day.day}日"
    lines = []
    if logged:
        lines.append(f"已登记：{when} {activity} {hours_label(minutes)}，"
                     + "、".join(p.name for p in logged) + f"各得{earned}积分。")
    if repeated:
        lines.append("、".join(p.name for p in repeated) + f"的{when}{activity}已登记过，未重复计分。")
    ctx.reply("\n".join(lines), mention=False)
    for person in logged:
        if person.id != ctx.caller.person_id:
            ctx.private(person.id, f"感谢您参加{when}的{activity}！记志愿服务{hours_label(minutes)}，得{earned}积分，"
                                   f"现有{points.balance(ctx.session, person.id)}积分。发送 /积分 可随时查看。")


# ---- /积分 ---------------------------------------------------------------------------------


def _describe_points(ctx: Context, person_id: str, whose: str) -> str:
    total = points.balance(ctx.session, person_id)
    local = ctx.now.astimezone(SHANGHAI)
    first = local.date().replace(day=1)
    mine = next(iter(points.hours_between(ctx.session, first, local.date(), person_id=person_id)), None)
    lines = [f"{whose}现有{total}积分。本月志愿服务{hours_label(mine.minutes) if mine else '0小时'}。"]
    for entry, what, day in points.recent_entries(ctx.session, person_id):
        lines.append(f"{day:%m-%d} {what} {entry.delta:+d}")
    rewards = ctx.services.config.points.rewards
    if rewards:
        lines.append("可兑换：" + "、".join(f"{r.item}{r.points}分" for r in rewards) + "，请找楼道长或信息员。")
    return "\n".join(lines)


@command("积分", usage="/积分", help="查看我的志愿服务积分（私信给您）", pattern=r"^\s*$", answer="private")
async def my_points_command(ctx: Context, args: str) -> None:
    ctx.reply(_describe_points(ctx, ctx.caller.person_id, "您"), mention=False)


def _staff_rooms(ctx: Context) -> list[Room]:
    return [r for r in directory.rooms(ctx.session) if r.kind == "stairwell" and ctx.caller.covers(r, STAFF)]


@command("积分", roles=STAFF, usage="/积分 @某人", help="查看某位居民的积分", pattern=r"^\s*[@＠]")
async def person_points_command(ctx: Context, args: str) -> None:
    mine = _staff_rooms(ctx)
    members = {m.id for r in mine for m in directory.room_members(ctx.session, r.id)}
    person, error = resolve_person(
        ctx, args.strip(), lambda p: None if p.id in members else f"{p.name[:12]}不在您负责的楼道群里。"
    )
    if person is None:
        ctx.reply(error or "请用 @姓名 指明是谁。", mention=False)
        return
    ctx.reply(_describe_points(ctx, person.id, person.name), mention=False)


@command("积分", roles=STAFF, usage=RANKING_USAGE, help="志愿服务时长排行（负责范围内）", pattern=r"^\s*(排行|排名|榜)")
async def ranking_command(ctx: Context, args: str) -> None:
    word = re.sub(r"^\s*(排行榜?|排名|榜)", "", args).strip() or "本月"
    bounds = named_month(word, ctx.now)
    if bounds is None:
        ctx.reply(f"请写“本月”“上月”或月份（如2026-11），例如：{RANKING_USAGE}", mention=False)
        return
    first, last = bounds[0].date(), (bounds[1] - timedelta(days=1)).date()
    stairwells = tuple(sorted({r.stairwell for r in _staff_rooms(ctx) if r.stairwell}))
    rows = points.hours_between(ctx.session, first, last, stairwells)
    title = f"{first.year}年{first.month}月志愿服务排行（{'、'.join(stairwells) or '无负责楼道'}）"
    if not rows:
        ctx.reply(f"{title}：还没有登记志愿服务。登记：{VOLUNTEER_USAGE}", mention=False)
        return
    lines = ranking_lines(ctx.session, rows, 30, first_names_only=False)  # staff see full names
    total = sum(r.minutes for r in rows)
    ctx.reply("\n".join([f"{title}，共{len(rows)}人{hours_label(total)}：", *lines]), mention=False)


# ---- /兑换 ---------------------------------------------------------------------------------


def _stock_left(ctx: Context, reward: RewardItem) -> int | None:
    return None if reward.stock is None else max(0, reward.stock - points.issued(ctx.session, reward.item))


def _catalogue(ctx: Context) -> str:
    parts = []
    for reward in ctx.services.config.points.rewards:
        left = _stock_left(ctx, reward)
        parts.append(f"{reward.item}（{reward.points}积分" + ("" if left is None else f"，剩{left}") + "）")
    return "、".join(parts) or "（暂未设置兑换物品，请联系社区）"


def _quantity(number: str | None, reward: RewardItem) -> int | None:
    """'/兑换 40 洗衣液' at 20 points each is two; no number is one; 30 is not a whole number of them."""
    if number is None:
        return 1
    value = int(number)
    if value <= 0 or value % reward.points or value // reward.points > MAX_QUANTITY:
        return None
    return value // reward.points


@command("兑换", roles=TRIO, usage=REDEEM_USAGE, help="用居民的积分兑换物品")
async def redeem_command(ctx: Context, args: str) -> None:
    names, rest = _split_names(args)
    match = re.match(r"^(\d{1,5})\s*(?:积分|分)?\s*(.*)$", rest)
    number, item = (match.group(1), match.group(2).strip()) if match else (None, rest)
    if not item or len(names) != 1:
        ctx.reply(f"请写明物品和一位居民，例如：{REDEEM_USAGE}。可兑换：{_catalogue(ctx)}", mention=False)
        return
    rewards = {r.item: r for r in ctx.services.config.points.rewards}
    reward = rewards.get(item)
    if reward is None:
        ctx.reply(f"没有“{item[:12]}”这项兑换。可兑换：{_catalogue(ctx)}", mention=False)
        return
    quantity = _quantity(number, reward)
    if quantity is None:
        ctx.reply(f"{reward.item}每份{reward.points}积分（一次最多{MAX_QUANTITY}份），请写所需积分或不写数字，"
                  f"例如：/兑换 {reward.points} {reward.item} {names[0]}", mention=False)
        return
    room = _stairwell_room(ctx, REDEEM_USAGE)
    if room is None:
        return
    people, error = _people(ctx, names, room)
    if error:
        ctx.reply(error, mention=False)
        return
    person = people[0]
    outcome = points.redeem(
        ctx.session, person_id=person.id, item=reward.item, unit_points=reward.points, quantity=quantity,
        stock=reward.stock, by_id=ctx.caller.person_id, stairwell=room.stairwell, at=ctx.now,
    )
    cost = reward.points * quantity
    if outcome.result == "not_enough":
        ctx.reply(f"抱歉，{person.name}现有{outcome.balance}积分，兑换{reward.item}需要{cost}积分，"
                  f"还差{cost - outcome.balance}分。多参加志愿服务就能攒够。", mention=False)
        return
    if outcome.result == "out_of_stock":
        ctx.reply(f"抱歉，{reward.item}已经兑完了，请联系社区补货。现在可兑换：{_catalogue(ctx)}", mention=False)
        return
    left = _stock_left(ctx, reward)
    ctx.reply(f"已为{person.name}兑换{reward.item}{quantity}份，扣{cost}积分，余{outcome.balance}积分"
              + ("" if left is None else f"；{reward.item}还剩{left}份") + "。", mention=False)
    if person.id != ctx.caller.person_id:
        ctx.private(person.id, f"您用{cost}积分兑换了{reward.item}{quantity}份（经办：{ctx.caller.name}），"
                               f"现有{outcome.balance}积分。")
