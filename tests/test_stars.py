"""Star-rated stairwells (domain.stars): the formula, a month built through the chat, the report
and the monthly post, on SQLite and PostgreSQL.

The month (3幢1单元; 3幢2单元 has no residents and no activity):
  #1 设施报修 by 张阿姨: assigned +1h (in time), resolved +2h (on time), rated 满意
  #2 噪音扰民 by 陈先生: untouched
  one notice to 3幢1单元, 张阿姨 confirms (陈先生 does not; staff are not asked)
  3 hours of volunteer work by 张阿姨; residents in the group: 张阿姨, 陈先生 → 2 households
Terms: 响应率 1/2, 按时办结率 1/1, 满意率 1/1, 通知回执率 1/2, 户均志愿时长 1.5 h / 1 h → 1 (capped),
走访覆盖率 not counted. Score = (20×0.5 + 15×1 + 20×1 + 15×0.5 + 15×1) / 85 × 100 = 67.5/85×100 = 79.41
→ ★★ (60 and 70 reached, 80 not).
"""
from __future__ import annotations

import csv
import io
from datetime import timedelta, datetime

import pytest
from sqlmodel import Session

import schedules.jobs as jobs
from bot.cli import report_command
from bot.clock import SHANGHAI
from domain import stars
from domain.stars import Term, score, stars_for
from handlers.report import month_bounds
from tests.test_stats import ScriptRouter

NOV = month_bounds(2026, 11)
WEIGHTS = {"响应率": 20, "按时办结率": 15, "满意率": 20, "通知回执率": 15, "户均志愿时长": 15, "走访覆盖率": 15}


def test_a_term_without_data_gives_its_weight_to_the_others():
    terms = {"响应率": Term(1.0, ""), "满意率": Term(0.5, ""), "走访覆盖率": Term(None, "未计入")}
    assert score(terms, {"响应率": 20, "满意率": 20, "走访覆盖率": 60}) == pytest.approx(75.0)
    assert score({"响应率": Term(None, "")}, WEIGHTS) is None
    assert score({"响应率": Term(0.8, ""), "满意率": Term(0.0, "")}, {"响应率": 1, "满意率": 0}) == pytest.approx(80.0)
    assert score({"响应率": Term(1.0, ""), "满意率": Term(None, "")}, {"响应率": 40, "满意率": 60}, 0.5) is None
    assert score({"响应率": Term(1.0, ""), "满意率": Term(None, "")}, {"响应率": 50, "满意率": 50}, 0.5) == 100
    assert [stars_for(v, [60, 70, 80, 90, 95]) for v in (None, 59.9, 60, 79.4, 95, 100)] == [0, 0, 1, 2, 5, 5]


@pytest.fixture
async def month(make_chat, clock, config):
    # without the demo ledger: households are the residents until a test keeps a ledger
    chat = await make_chat(config.model_copy(update={"ledger": config.ledger.model_copy(update={"demo": False})}),
                           router=ScriptRouter())
    await chat.say("诉求:设施报修 楼道灯坏了", sender="res-zhang")
    await chat.say("诉求:噪音扰民 楼上半夜很吵", sender="res-chen")
    await chat.say("/通知 本楼 明天上午九点到十二点停水，请提前储水", sender="officer-li")
    await chat.say("收到", sender="res-zhang")
    await chat.say("/志愿 今天 3小时 楼道清理 @张阿姨", sender="officer-li")
    clock.advance(hours=1)
    await chat.say("/派单 1 @周建国", sender="officer-li")
    clock.advance(hours=1)
    await chat.say("/办结 1 已换灯泡", sender="leader-zhou")
    await chat.say("1", sender="res-zhang")
    return chat


def rate(chat):
    with Session(chat.app.engine) as session:
        return stars.rate_month(session, chat.app.config, *NOV)


async def test_the_months_terms_score_and_stars(month):
    first, second = rate(month)
    values = {name: term.value for name, term in first.terms.items()}
    assert (first.stairwell, second.stairwell) == ("3幢1单元", "3幢2单元")
    assert values == {"响应率": 0.5, "按时办结率": 1.0, "满意率": 1.0, "通知回执率": 0.5, "户均志愿时长": 1.0,
                      "走访覆盖率": None}
    assert first.terms["通知回执率"].detail == "1/2"
    assert first.terms["走访覆盖率"].detail == "未计入（底账无住户）"
    assert first.score == pytest.approx(67.5 / 85 * 100) and first.stars == 2
    assert second.score is None and second.stars == 0  # nothing known about it: unrated, listed last


async def test_visit_coverage_counts_where_the_stairwell_keeps_a_ledger(month):
    """The ledger's households replace the residents as the count, and this month's visits to
    them are the 走访覆盖率 term: one of two flats visited is 50%."""
    from storage.models import Household, Visit

    with Session(month.app.engine) as session:
        flats = [Household(stairwell="3幢1单元", building="3幢", unit="1单元", flat=f, updated_at=NOV[0]) for f in ("501", "502")]
        session.add_all(flats)
        session.flush()
        session.add(Visit(household_id=flats[0].id, visitor_id="officer-li", at=NOV[0] + timedelta(days=3)))
        session.add(Visit(household_id=flats[1].id, visitor_id="officer-li", at=NOV[0] - timedelta(days=3)))
        session.commit()
    ratings = {r.stairwell: r for r in rate(month)}
    first = ratings["3幢1单元"]
    assert first.terms["走访覆盖率"] == Term(0.5, "1/2")
    assert first.terms["户均志愿时长"].detail.endswith("/2户 = 1.50小时（满分1小时）")
    assert first.score == pytest.approx((67.5 + 15 * 0.5) / 100 * 100) and first.stars == 2
    assert ratings["3幢2单元"].terms["走访覆盖率"].value is None  # no ledger there: not counted


async def test_the_report_prints_the_formula_ranking_and_stars(month, db_url):
    now = datetime(2026, 12, 1, 10, 0, tzinfo=SHANGHAI)
    md = io.StringIO()
    assert report_command("2026-11", "md", None, db_url, md, now=now) == 0
    text = md.getvalue()
    section = text[text.index("## 星级楼道"):]
    assert "得分 = Σ(权重 × 指标) ÷ Σ(有数据的指标的权重) × 100" in section
    assert "权重：响应率20、按时办结率15、满意率20、通知回执率15、户均志愿时长15、走访覆盖率15。" in section
    assert "本月所有楼道均未计入：走访覆盖率。" in section
    assert "60分及以上★，70分及以上★★" in section
    assert "| 1 | 3幢1单元 | 79.4 | ★★ | 50%（1/2） | 100%（1/1） | 100%（1/1） | 50%（1/2） |" in section
    assert "| 2 | 3幢2单元 | — | — | 本月无工单 |" in section
    assert "张阿姨" not in text  # the report names no resident

    out = io.StringIO()
    assert report_command("2026-11", "csv", None, db_url, out, now=now) == 0
    rows = [row for row in csv.reader(io.StringIO(out.getvalue())) if row[0] == "星级楼道"]
    assert [row[1:3] for row in rows] == [["1. 3幢1单元", "79.4 ★★"], ["2. 3幢2单元", "—"]]
    assert "走访覆盖率 未计入（底账无住户）" in rows[0][3]


async def test_the_monthly_post_names_the_pioneers_once(month, clock):
    clock.set(datetime(2026, 12, 1, 9, 15))
    assert await jobs.monthly_stars() == 2  # both stairwell groups
    assert await jobs.monthly_stars() == 0  # once a month, however often the job runs
    await month.app.idle()
    posts = {m.room_id: m.text for m in month.sent if "【星级楼道】" in m.text}
    assert posts["s3-1"] == ("【星级楼道】11月评比：先锋楼道 3幢1单元（★★，79分）；先锋个人 张阿姨（志愿服务3小时）。"
                             "本楼道★★（79分）。感谢各位邻居的付出！")
    assert "本楼道" not in posts["s3-2"] and "先锋楼道 3幢1单元" in posts["s3-2"]


async def test_no_post_before_the_first_working_day_or_when_switched_off(make_chat, month, clock, config):
    clock.set(datetime(2026, 11, 30, 9, 15))  # a Monday, but not the first working day of November
    assert await jobs.monthly_stars() == 0
    off = config.model_copy(update={"stars": config.stars.model_copy(update={"monthly_post": False})})
    chat = await make_chat(off)
    clock.set(datetime(2026, 12, 1, 9, 15))
    assert await jobs.monthly_stars() == 0
    assert not [m for m in chat.sent if "【星级楼道】" in m.text]
