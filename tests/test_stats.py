"""Statistics against a hand-computed fixture built through the chat with a frozen clock.

The fixture (created 2026-11-25 10:00, a Wednesday):
  #1 3幢1单元 设施报修 (due +24h)  assigned +1h, resolved +5h, rated 满意
  #2 3幢1单元 噪音扰民 (due 12-02 18:00) processed +3h, resolved +30h, rated 不满意 → reopened
  #3 3幢2单元 设施报修 (due +24h)  processed +30h (late), resolved +31h (late), rated 基本满意
  #4 3幢1单元 楼道堆物, three neighbours report it, untouched
  #5 3幢2单元 消防安全隐患, urgent (due +2h), assigned +1h, still open
  #6 withdrawn (left out), #7 received in December (left out of November)
November: received 5; responded in time 3 (#1 #2 #5) → 响应率 60%; resolved now 2 (#1 #3) → 办结率 40%;
on time 1 of 2 → 50%; rated 3, satisfied 2 → 满意率 2/3; rated 3 of 3 ever resolved → 回访率 100%;
mean response (1+3+30+1)/4 = 8.75 h; mean resolution (5+31)/2 = 18 h;
open 小急难 at month end: #4 (多人反映), #5 (紧急、超期).
"""
from __future__ import annotations

import csv
import io
from datetime import datetime

import pytest
from sqlmodel import Session

from bot.clock import SHANGHAI
from bot.cli import report_command
from handlers.report import month_bounds
from nlp.router import Route
from storage.stats import compute
from tests.conftest import S1, S2

NOV = month_bounds(2026, 11)


class ScriptRouter:
    """'诉求:设施报修 …' is a petition of that category ('急诉求:' urgent); anything else is chatter."""

    def route(self, text: str, *, staff: bool = False) -> Route:
        head, _, _ = text.partition(" ")
        if "诉求:" not in head:
            return Route("other", None, False, -1.0, ())
        return Route("petition", head.split(":", 1)[1], head.startswith("急"), 5.0, ())


@pytest.fixture
async def november(make_chat, clock):
    chat = await make_chat(router=ScriptRouter())
    say = chat.say
    await say("诉求:设施报修 楼道灯坏了", sender="res-zhang")
    await say("诉求:噪音扰民 楼上半夜很吵", sender="res-chen")
    await say("诉求:设施报修 单元门坏了", sender="res-wu", room=S2)
    for person in ("res-zhang", "res-chen", "res-li"):
        await say("诉求:楼道堆物 楼道堆满杂物", sender=person)
    await say("急诉求:消防安全隐患 楼道里有人给电瓶车充电冒烟了", sender="res-wu", room=S2)
    await say("诉求:环境卫生 垃圾没人清", sender="res-chen")
    await say("/撤销 6", sender="res-chen")
    clock.advance(hours=1)
    await say("/派单 1 @周建国", sender="officer-li")
    await say("/派单 5 @赵磊", sender="grid-zhao", room=S2)
    clock.advance(hours=2)
    await say("/处理 2 已上门提醒", sender="officer-li")
    clock.advance(hours=2)
    await say("/办结 1 已换灯泡", sender="leader-zhou")
    await say("1", sender="res-zhang")
    clock.advance(hours=25)
    await say("/办结 2 已协调", sender="officer-li")
    await say("3", sender="res-chen")
    await say("/处理 3 已报物业", sender="grid-zhao", room=S2)
    clock.advance(hours=1)
    await say("/办结 3 门已修好", sender="grid-zhao", room=S2)
    await say("2", sender="res-wu", room=S2)
    clock.set(datetime(2026, 12, 1, 10, 0))
    await say("诉求:停车交通 车位被占", sender="res-zhang")
    return chat


def november_stats(chat, scopes=None):
    with Session(chat.app.engine) as session:
        return compute(session, *NOV, scopes=scopes)


async def test_statistics_match_the_hand_computed_fixture(november):
    stats = november_stats(november)
    assert stats.received == 5
    assert stats.rates() == {"响应率": 0.6, "办结率": 0.4, "按时办结率": 0.5, "满意率": 2 / 3, "回访率": 1.0}
    assert dict(stats.ratings) == {"满意": 1, "基本满意": 1, "不满意": 1}
    assert stats.mean_hours_to_respond == pytest.approx(8.75)
    assert stats.mean_hours_to_resolve == pytest.approx(18.0)
    assert stats.top_categories == {
        "3幢1单元": sorted([("设施报修", 1), ("噪音扰民", 1), ("楼道堆物", 1)]),
        "3幢2单元": sorted([("设施报修", 1), ("消防安全隐患", 1)]),
    }
    assert [(h.ticket_id, h.reasons, h.reporters) for h in stats.hot_items] == [
        (4, ("多人反映",), 3),
        (5, ("紧急", "超期"), 1),
    ]


async def test_statistics_by_scope_and_in_chat(november):
    stairwell = november_stats(november, scopes=("3幢1单元",))
    assert stairwell.received == 3 and stairwell.responded_in_time == 2
    grid = november_stats(november, scopes=("网格A",))
    assert grid.received == 5
    mine = (await november.say("/统计 2026-11", sender="officer-li", room=S1))[0].text
    assert "受理 3件" in mine and "响应率 67%" in mine and "办结率 33%" in mine
    everything = (await november.say("/统计 上月", sender="grid-zhao", room=None))[0].text
    for figure in ("受理 5件", "响应率 60%", "按时办结率 50%", "办结率 40%", "满意率 67%", "回访率 100%", "#5"):
        assert figure in everything
    week = (await november.say("/统计 本周", sender="grid-zhao", room=None))[0].text
    assert "受理 1件" in week and "11月30日—12月6日" in week
    assert "本周" in (await november.say("/统计 明年", sender="grid-zhao", room=None))[0].text


async def test_monthly_report_for_the_grid_council(november, db_url):
    now = datetime(2026, 12, 1, 10, 0, tzinfo=SHANGHAI)
    md = io.StringIO()
    assert report_command("2026-11", "md", None, db_url, md, now=now) == 0
    text = md.getvalue()
    assert text.startswith("# 幸福里社区 2026年11月")
    assert "| 响应率 | 60% | 3/5 |" in text and "| 回访率 | 100% | 3/3 |" in text
    assert "| #5 | 3幢2单元 | 消防安全隐患 | 已分派 | 1 | 紧急、超期 | 2026-11-25 |" in text
    assert "灯" not in text and "张阿姨" not in text  # numbers and categories only

    out = io.StringIO()
    assert report_command("2026-11", "csv", None, db_url, out, now=now) == 0
    table = list(csv.reader(io.StringIO(out.getvalue())))
    assert table[0] == ["部分", "项目", "数值", "备注"]
    assert ["指标", "办结率", "40%", "2/5"] in table
    assert ["常见问题", "3幢1单元 楼道堆物", "1", ""] in table
    assert [row[1] for row in table if row[0] == "小急难"] == ["#4", "#5"]


@pytest.mark.parametrize("month, fmt", [("2026-13", "md"), ("11-2026", "md"), ("", "csv"), ("2026-11", "pdf")])
def test_report_refuses_bad_arguments(month, fmt, db_url, capsys):
    out = io.StringIO()
    assert report_command(month, fmt, None, db_url, out) == 2
    assert out.getvalue() == "" and capsys.readouterr().err.strip()


async def test_an_empty_month_reports_no_rates(make_chat, db_url):
    await make_chat()
    out = io.StringIO()
    assert report_command("2026-10", "md", None, db_url, out) == 0
    assert "| 响应率 | — | 0/0 |" in out.getvalue() and "本月没有受理诉求" in out.getvalue()


async def test_tickets_nobody_rated_are_counted_apart(november, clock, db_url):
    """Closed as 未评价 by the rating window: neither rated nor satisfied, and not a 回访."""
    import schedules.jobs as jobs

    await november.say("/办结 5 已处理，电瓶车已移走", sender="grid-zhao", room=S2)
    clock.advance(days=8)
    assert await jobs.close_unrated() == 1
    stats = november_stats(november)
    assert (stats.unrated, stats.rated, stats.ever_resolved, stats.resolved) == (1, 3, 4, 3)
    assert stats.rates()["回访率"] == 3 / 4 and stats.rates()["满意率"] == 2 / 3
    shown = (await november.say("/统计 2026-11", sender="grid-zhao", room=None))[0].text
    assert "未评价 1件" in shown and "回访率 75%" in shown
    md = io.StringIO()
    assert report_command("2026-11", "md", None, db_url, md, now=clock.now()) == 0
    assert "| 未评价 | 1件 |" in md.getvalue()


async def test_the_trend_and_the_stairwell_table_count_what_the_month_counts(november):
    """monthly() and by_place() are the same SQL figures as compute(), per month and per stairwell."""
    from storage.stats import by_place, categories, monthly

    months = [month_bounds(2026, 10), NOV, month_bounds(2026, 12)]
    with Session(november.app.engine) as session:
        trend = monthly(session, months)
        table = by_place(session, months)
        scoped = by_place(session, months, scopes=("3幢1单元",))
        cats = categories(session, *NOV)
    assert [s.received for s in trend] == [0, 5, 1]
    assert trend[1].rates() == november_stats(november).rates()
    assert trend[0].rates()["响应率"] is None
    assert list(table) == ["3幢1单元", "3幢2单元"]
    assert [s.received for s in table["3幢1单元"]] == [0, 3, 1]
    assert table["3幢2单元"][1].rates()["按时办结率"] == 0.0 and table["3幢2单元"][1].rated == 1
    assert list(scoped) == ["3幢1单元"]
    assert ("3幢2单元", "消防安全隐患", 1) in cats and len(cats) == 5


async def test_the_console_dashboard_and_its_exports(november, clock):
    """The 统计 page's data for an officer (her stairwell), and the month exported as xlsx and csv."""
    from openpyxl import load_workbook

    from domain.dashboard import dashboard
    from handlers.report import csv_for_excel, render_xlsx

    with Session(november.app.engine) as session:
        board = dashboard(session, 2026, 11, ("3幢1单元",), clock.now())
        everything = dashboard(session, 2026, 12, None, clock.now())
    assert board.stats.received == 3 and board.months[0] == "2025-12" and board.months[-1] == "2026-11"
    assert board.series()["响应率"][-1] == pytest.approx(66.7) and board.series()["满意率"][0] is None
    assert list(board.places) == ["3幢1单元"] and board.category_totals()[0][1] == 1
    assert [s.received for s in everything.trend[-2:]] == [5, 1] and everything.months[-1] == "2026-12"

    data = csv_for_excel(board.stats, board.visits)
    assert data.startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert ["指标", "响应率", "67%", "2/3"] in table

    book = load_workbook(io.BytesIO(render_xlsx(board.stats, "幸福里社区", "2026-11", board.visits, board.places)))
    assert book.sheetnames == ["主要指标", "常见问题", "小急难", "走访覆盖率", "各楼道逐月"]
    rows = [tuple(r) for r in book["主要指标"].iter_rows(values_only=True)]
    assert rows[0][0].startswith("幸福里社区 2026年11月") and ("办结率", "33%", "1/3") in rows
    assert [r[0] for r in book["小急难"].iter_rows(min_row=2, values_only=True)] == ["#4"]
    places = list(book["各楼道逐月"].iter_rows(min_row=2, values_only=True))
    assert ("3幢1单元", "2026-11", 3, "67%", "100%", "33%", "50%") in places


async def test_the_chat_statistics_are_read_off_the_event_loop(november):
    """Issue 15: /统计 over a district's month aggregates tens of thousands of rows; the read runs
    in a worker thread with a session of its own, never on the loop every chat waits on."""
    import threading

    from sqlalchemy import event

    loop_thread = threading.get_ident()
    reads: list[bool] = []  # per statement over the tickets: on the loop's thread?

    def record(_conn, _cursor, sql, *_rest) -> None:
        if "FROM tickets" in sql:
            reads.append(threading.get_ident() == loop_thread)

    event.listen(november.app.engine, "before_cursor_execute", record)
    try:
        answer = (await november.say("/统计 2026-11", sender="officer-li", room=S1))[0].text
    finally:
        event.remove(november.app.engine, "before_cursor_execute", record)
    assert "受理 3件" in answer
    assert reads and not any(reads)
