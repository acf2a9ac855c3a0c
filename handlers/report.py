"""Statistics in chat (/统计) and the monthly report for the grid council (网格议事会).

The renderers here serve ``python -m bot report --month YYYY-MM --format md|csv``
(bot.cli.report_command) too. Reports carry numbers, categories and ticket numbers only, never a
resident's words or name.
"""
from __future__ import annotations

import csv
import re
from datetime import datetime, timedelta
from typing import TextIO

from bot.clock import SHANGHAI
from bot.commands import command
from bot.context import Context
from bot.permissions import STAFF
from storage.stats import Stats, compute

_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


# ---- periods (local time) -------------------------------------------------------------


def month_bounds(year: int, month: int) -> tuple[datetime, datetime]:
    start = datetime(year, month, 1, tzinfo=SHANGHAI)
    end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=SHANGHAI)
    return start, end


def week_bounds(now: datetime) -> tuple[datetime, datetime]:
    local = now.astimezone(SHANGHAI)
    monday = datetime(local.year, local.month, local.day, tzinfo=SHANGHAI) - timedelta(days=local.weekday())
    return monday, monday + timedelta(days=7)


def parse_month(text: str) -> tuple[datetime, datetime] | None:
    match = _MONTH.match(text.strip())
    return month_bounds(int(match.group(1)), int(match.group(2))) if match else None


def period_label(start: datetime, end: datetime) -> str:
    last = end - timedelta(days=1)
    return f"{start.month}月{start.day}日—{last.month}月{last.day}日"


# ---- formatting shared by chat, Markdown and CSV ----------------------------------------


def pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.0f}%"


def hours(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}小时"


def metric_rows(stats: Stats) -> list[tuple[str, str, str]]:
    """(name, value, how it was computed) for every figure, in the order offices read them."""
    rates = stats.rates()
    return [
        ("受理", f"{stats.received}件", ""),
        ("响应率", pct(rates["响应率"]), f"{stats.responded_in_time}/{stats.received}"),
        ("按时办结率", pct(rates["按时办结率"]), f"{stats.resolved_on_time}/{stats.resolved}"),
        ("办结率", pct(rates["办结率"]), f"{stats.resolved}/{stats.received}"),
        ("满意率", pct(rates["满意率"]), f"{stats.satisfied}/{stats.rated}"),
        ("回访率", pct(rates["回访率"]), f"{stats.rated}/{stats.ever_resolved}"),
        ("未评价", f"{stats.unrated}件", "办结后无人评价、到期关闭"),
        ("平均响应用时", hours(stats.mean_hours_to_respond), ""),
        ("平均办结用时", hours(stats.mean_hours_to_resolve), ""),
    ]


def category_rows(stats: Stats) -> list[tuple[str, str, int]]:
    return [(place, cat, n) for place, top in stats.top_categories.items() for cat, n in top]


def hot_rows(stats: Stats) -> list[tuple[str, str, str, str, int, str, str]]:
    return [
        (f"#{h.ticket_id}", h.stairwell, h.category, h.status, h.reporters, "、".join(h.reasons),
         f"{h.created_at.astimezone(SHANGHAI):%Y-%m-%d}")
        for h in stats.hot_items
    ]


def chat_summary(stats: Stats, title: str) -> str:
    figures = [f"{name} {value}" for name, value, _ in metric_rows(stats)]
    lines = [f"{title}（{period_label(stats.start, stats.end)}）工单统计：", " · ".join(figures[:4]), " · ".join(figures[4:])]
    places = [f"{place}：" + "、".join(f"{cat}{n}件" for cat, n in top) for place, top in stats.top_categories.items()]
    if places:
        lines.append("常见问题 " + "；".join(places))
    if stats.hot_items:
        lines.append("小急难：" + "；".join(f"{r[0]} {r[1]} {r[2]}（{r[5]}）" for r in hot_rows(stats)[:10]))
    return "\n".join(lines)


def render_markdown(stats: Stats, community: str, month: str, out: TextIO) -> None:
    year, mon = month.split("-")
    out.write(f"# {community} {year}年{int(mon)}月 诉求办理情况\n\n")
    out.write(f"供网格议事会使用。统计 {period_label(stats.start, stats.end)} 受理的诉求（不含居民撤销的）。\n\n")
    out.write("## 主要指标\n\n| 指标 | 数值 | 计算 |\n|---|---|---|\n")
    for row in metric_rows(stats):
        out.write("| " + " | ".join(row) + " |\n")
    out.write("\n## 各楼道常见问题\n\n")
    rows = category_rows(stats)
    if rows:
        out.write("| 楼道 | 类别 | 件数 |\n|---|---|---|\n")
        out.writelines(f"| {p} | {c} | {n} |\n" for p, c, n in rows)
    else:
        out.write("本月没有受理诉求。\n")
    out.write("\n## 小、急、难事项（未办结）\n\n")
    if stats.hot_items:
        out.write("| 编号 | 楼道 | 类别 | 状态 | 反映人数 | 原因 | 受理日期 |\n|---|---|---|---|---|---|---|\n")
        out.writelines("| " + " | ".join(str(v) for v in row) + " |\n" for row in hot_rows(stats))
    else:
        out.write("无。\n")


def render_csv(stats: Stats, out: TextIO) -> None:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["部分", "项目", "数值", "备注"])
    for name, value, how in metric_rows(stats):
        writer.writerow(["指标", name, value, how])
    for place, cat, n in category_rows(stats):
        writer.writerow(["常见问题", f"{place} {cat}", n, ""])
    for number, place, cat, status, reporters, reasons, day in hot_rows(stats):
        writer.writerow(["小急难", number, f"{place} {cat}", f"{status}；{reporters}人反映；{reasons}；{day}受理"])


# ---- the CLI entry and the chat command ------------------------------------------------


@command("统计", roles=STAFF, usage="/统计 [本周|本月|上月|2026-11]", help="查看负责范围内的工单统计")
async def stats_command(ctx: Context, args: str) -> None:
    word = args.strip() or "本月"
    local = ctx.now.astimezone(SHANGHAI)
    bounds: tuple[datetime, datetime] | None
    if word == "本周":
        bounds = week_bounds(ctx.now)
    elif word == "本月":
        bounds = month_bounds(local.year, local.month)
    elif word == "上月":
        bounds = month_bounds(local.year - (local.month == 1), (local.month - 2) % 12 + 1)
    else:
        bounds = parse_month(word)
        if bounds is None:
            ctx.reply("请写“本周”“本月”“上月”或月份（如2026-11），例如：/统计 本周", mention=False)
            return
    scopes = ctx.caller.scopes(frozenset(STAFF))
    stats = compute(ctx.session, *bounds, scopes=scopes, now=ctx.now)
    ctx.reply(chat_summary(stats, word), mention=False)
