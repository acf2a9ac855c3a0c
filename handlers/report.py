"""Statistics in chat (/统计) and the monthly report for the grid council (网格议事会).

The renderers here serve ``python -m bot report --month YYYY-MM --format md|csv``
(bot.cli.report_command) too. Reports carry numbers, categories and ticket numbers only, never a
resident's words or name.
"""
from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timedelta
from typing import TextIO

from bot.clock import SHANGHAI
from bot.commands import command
from bot.context import Context
from bot.permissions import STAFF
from storage.consultation_stats import RoleFigures
from storage.stats import Stats, compute
from domain.visits import visit_coverage
from storage.visits import Coverage

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


def named_month(word: str, now: datetime) -> tuple[datetime, datetime] | None:
    """本月, 上月 or 2026-11 as a month's bounds; None for anything else."""
    local = now.astimezone(SHANGHAI)
    if word == "本月":
        return month_bounds(local.year, local.month)
    if word == "上月":
        return month_bounds(local.year - (local.month == 1), (local.month - 2) % 12 + 1)
    return parse_month(word)


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


def hot_rows(stats: Stats, limit: int | None = None) -> list[tuple[str, str, str, str, int, str, str]]:
    """The 小急难 rows (the first ``limit``: a district's month has thousands, the chat shows 10)."""
    return [
        (f"#{h.ticket_id}", h.stairwell, h.category, h.status, h.reporters, "、".join(h.reasons),
         f"{h.created_at.astimezone(SHANGHAI):%Y-%m-%d}")
        for h in stats.hot_items[:limit]
    ]


def visit_rows(coverage: list[Coverage]) -> list[tuple[str, str, str]]:
    """(stairwell, visited/total households, 走访覆盖率) per stairwell with a ledger."""
    return [(c.stairwell, f"{c.visited}/{c.total}户", pct(c.rate)) for c in coverage]


def chat_summary(stats: Stats, title: str, visits: list[Coverage] | None = None) -> str:
    figures = [f"{name} {value}" for name, value, _ in metric_rows(stats)]
    lines = [f"{title}（{period_label(stats.start, stats.end)}）工单统计：", " · ".join(figures[:4]), " · ".join(figures[4:])]
    places = [f"{place}：" + "、".join(f"{cat}{n}件" for cat, n in top) for place, top in stats.top_categories.items()]
    if places:
        lines.append("常见问题 " + "；".join(places))
    if stats.hot_items:
        lines.append("小急难：" + "；".join(f"{r[0]} {r[1]} {r[2]}（{r[5]}）" for r in hot_rows(stats, 10)))
    if visits:
        month = f"{stats.start.astimezone(SHANGHAI).month}月"
        lines.append(f"走访覆盖率（{month}）：" + "；".join(f"{s} {n} {p}" for s, n, p in visit_rows(visits)))
    return "\n".join(lines)


def legal_rows(legal: list[RoleFigures]) -> list[tuple[str, int, int, int, int, str]]:
    """(role, received, answered, open, urgent, mean time to answer) per 三官一律 role."""
    from domain.legal_roles import role_label

    return [(role_label(f.role), f.received, f.answered, f.open, f.urgent, hours(f.mean_hours)) for f in legal]


def render_markdown(stats: Stats, community: str, month: str, out: TextIO, visits: list[Coverage] | None = None) -> None:
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
    out.write("\n## 走访覆盖率（每月走访全覆盖）\n\n")
    if visits:
        out.write("本月至少走访一次的住户 / 底账住户。\n\n| 楼道 | 已走访 | 走访覆盖率 |\n|---|---|---|\n")
        out.writelines(f"| {s} | {n} | {p} |\n" for s, n, p in visit_rows(visits))
    else:
        out.write("底账中还没有住户。\n")


def render_csv(stats: Stats, out: TextIO, visits: list[Coverage] | None = None) -> None:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["部分", "项目", "数值", "备注"])
    for name, value, how in metric_rows(stats):
        writer.writerow(["指标", name, value, how])
    for place, cat, n in category_rows(stats):
        writer.writerow(["常见问题", f"{place} {cat}", n, ""])
    for number, place, cat, status, reporters, reasons, day in hot_rows(stats):
        writer.writerow(["小急难", number, f"{place} {cat}", f"{status}；{reporters}人反映；{reasons}；{day}受理"])
    for stairwell, visited, rate in visit_rows(visits or []):
        writer.writerow(["走访覆盖率", stairwell, rate, visited])


def csv_for_excel(stats: Stats, visits: list[Coverage] | None = None) -> bytes:
    """The report's CSV as UTF-8 with a BOM, so Excel opens the Chinese as Chinese."""
    out = io.StringIO()
    render_csv(stats, out, visits)
    return out.getvalue().encode("utf-8-sig")


PLACE_RATES = ("响应率", "按时办结率", "办结率", "满意率")


def render_xlsx(stats: Stats, community: str, month: str, visits: list[Coverage] | None = None,
                places: dict[str, list[Stats]] | None = None) -> bytes:
    """The month's report as an Excel workbook: the same rows as the Markdown and CSV, a sheet each,
    and the stairwell-by-month figures when given. Numbers and categories only, no resident's words."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    year, mon = month.split("-")
    sheets: list[tuple[str, list[str], list[tuple]]] = [
        ("主要指标", ["指标", "数值", "计算"], list(metric_rows(stats))),
        ("常见问题", ["楼道", "类别", "件数"], list(category_rows(stats))),
        ("小急难", ["编号", "楼道", "类别", "状态", "反映人数", "原因", "受理日期"], list(hot_rows(stats))),
        ("走访覆盖率", ["楼道", "已走访", "走访覆盖率"], list(visit_rows(visits or []))),
    ]
    if places is not None:
        rows = [
            (place, f"{s.start.astimezone(SHANGHAI):%Y-%m}", s.received, *(pct(s.rates()[r]) for r in PLACE_RATES))
            for place, months in places.items() for s in months
        ]
        sheets.append(("各楼道逐月", ["楼道", "月份", "受理", *PLACE_RATES], rows))
    for index, (title, head, rows) in enumerate(sheets):
        sheet = book.active if index == 0 else book.create_sheet()
        assert sheet is not None
        sheet.title = title
        if index == 0:
            sheet.append([f"{community} {year}年{int(mon)}月 诉求办理情况（{period_label(stats.start, stats.end)}）"])
            sheet["A1"].font = Font(bold=True)
        sheet.append(head)
        for cell in sheet[sheet.max_row]:
            cell.font = Font(bold=True)
        for row in rows:
            sheet.append(list(row))
        for letter, width in zip("ABCDEFG", (14, 12, 16, 12, 10, 16, 12), strict=False):
            sheet.column_dimensions[letter].width = width
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def render_legal_markdown(legal: list[RoleFigures], out: TextIO) -> None:
    """The report's 三官一律 section: consultations per role (figures only, no resident's words)."""
    out.write("\n## 法律咨询（三官一律）\n\n")
    if legal:
        out.write("| 角色 | 收到 | 已答复 | 待答复 | 紧急 | 平均答复用时 |\n|---|---|---|---|---|---|\n")
        out.writelines("| " + " | ".join(str(v) for v in row) + " |\n" for row in legal_rows(legal))
    else:
        out.write("本月没有法律咨询。\n")


def render_legal_csv(legal: list[RoleFigures], out: TextIO) -> None:
    writer = csv.writer(out, lineterminator="\n")
    for role, received, answered, waiting, urgent, mean in legal_rows(legal):
        writer.writerow(["法律咨询", role, received, f"已答复{answered}；待答复{waiting}；紧急{urgent}；平均答复{mean}"])


# ---- the CLI entry and the chat command ------------------------------------------------


@command("统计", roles=STAFF, usage="/统计 [本周|本月|上月|2026-11]", help="查看负责范围内的工单统计")
async def stats_command(ctx: Context, args: str) -> None:
    word = args.strip() or "本月"
    bounds = week_bounds(ctx.now) if word == "本周" else named_month(word, ctx.now)
    if bounds is None:
        ctx.reply("请写“本周”“本月”“上月”或月份（如2026-11），例如：/统计 本周", mention=False)
        return
    scopes = ctx.caller.scopes(frozenset(STAFF))
    now = ctx.now
    stats, visits = await ctx.read_apart(
        lambda session: (compute(session, *bounds, scopes=scopes, now=now), visit_coverage(session, bounds[0], scopes))
    )
    ctx.reply(chat_summary(stats, word, visits), mention=False)
