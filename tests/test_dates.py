"""Dates, times and durations as officers type them (nlp.when), on the frozen Wednesday 2026-11-25 10:00."""
from __future__ import annotations

from datetime import datetime

import pytest

from bot.clock import SHANGHAI
from nlp.when import WhenError, parse_duration, parse_when

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=SHANGHAI)  # a Wednesday

WHEN = [
    ("明天 9点 本楼 大扫除", "2026-11-26 09:00", "本楼 大扫除"),
    ("明早九点 本楼 大扫除", "2026-11-26 09:00", "本楼 大扫除"),
    ("12月1日 上午9点 全部 停水", "2026-12-01 09:00", "全部 停水"),
    ("12-01 09:00 停水", "2026-12-01 09:00", "停水"),
    ("2026-12-01 09:00 停水", "2026-12-01 09:00", "停水"),
    ("下周一 9:00 开会", "2026-11-30 09:00", "开会"),
    ("后天下午3点半 开会", "2026-11-27 15:30", "开会"),
    ("今晚8点 开会", "2026-11-25 20:00", "开会"),
    ("明天9点3幢1单元楼道群 内容", "2026-11-26 09:00", "3幢1单元楼道群 内容"),
    ("十二月一号 早上八点半 x", "2026-12-01 08:30", "x"),
    ("周五 下午2点 x", "2026-11-27 14:00", "x"),
    ("星期天 晚上7点 x", "2026-11-29 19:00", "x"),
    ("下礼拜三 10点 x", "2026-12-02 10:00", "x"),
    ("2027年1月5日 9:00 x", "2027-01-05 09:00", "x"),
    ("01-05 09:00 x", "2027-01-05 09:00", "x"),  # this year's has passed: next year's
    ("1号 9点 x", "2026-12-01 09:00", "x"),
    ("明天9点30分 x", "2026-11-26 09:30", "x"),
    ("明天 9：30 x", "2026-11-26 09:30", "x"),
    ("明天 中午12点 x", "2026-11-26 12:00", "x"),
    ("大后天 上午十点一刻 x", "2026-11-28 10:15", "x"),
    ("今天 下午4点 x", "2026-11-25 16:00", "x"),
]


@pytest.mark.parametrize("text,expected,rest", WHEN)
def test_dates_and_times_as_officers_type_them(text, expected, rest):
    when = parse_when(text, NOW)
    assert f"{when.at:%Y-%m-%d %H:%M}" == expected and when.rest == rest
    assert when.at.tzinfo is SHANGHAI


@pytest.mark.parametrize("text,polite", [
    ("明天 3点 x", "凌晨还是下午"),  # 03:00 or 15:00: asked, never guessed
    ("明天 x", "请写明几点"),
    ("8点 x", "已经过去"),
    ("2026-11-01 09:00 x", "已经过去"),
    ("2月30日 9点 x", "没有2月30日"),
    ("下个月吧 x", "没看懂时间"),
    ("明天 25点 x", "时间不对"),
])
def test_ambiguous_or_past_input_gets_one_polite_line_with_an_example(text, polite):
    with pytest.raises(WhenError) as error:
        parse_when(text, NOW)
    line = str(error.value)
    assert polite in line and "\n" not in line and ("例如" in line or "这样写" in line)


def test_relative_to_the_clock_given_never_the_wall_clock():
    later = datetime(2030, 3, 4, 7, 0, tzinfo=SHANGHAI)  # a Monday
    assert f"{parse_when('明天 9点 x', later).at:%Y-%m-%d}" == "2030-03-05"
    assert f"{parse_when('下周一 9点 x', later).at:%Y-%m-%d}" == "2030-03-11"


def test_tomorrow_said_in_the_small_hours_is_asked_not_guessed():
    small_hours = datetime(2026, 12, 1, 1, 49, tzinfo=SHANGHAI)
    for said in ("明早九点 本楼 停水", "明天 9点 本楼 停水", "明晚8点 x"):
        with pytest.raises(WhenError) as error:
            parse_when(said, small_hours)
        assert "12月1日还是12月2日" in str(error.value) and "例如" in str(error.value)
    assert f"{parse_when('12月1日 9:00 本楼 停水', small_hours).at:%m-%d %H:%M}" == "12-01 09:00"
    assert f"{parse_when('今天 9点 x', small_hours).at:%m-%d %H:%M}" == "12-01 09:00"
    at_five = datetime(2026, 12, 1, 5, 0, tzinfo=SHANGHAI)  # morning now: 明天 is the next day again
    assert f"{parse_when('明早九点 x', at_five).at:%m-%d %H:%M}" == "12-02 09:00"


@pytest.mark.parametrize("text,amount,unit,rest", [
    ("3天 等配件", 3, "天", "等配件"),
    ("三天 等配件", 3, "天", "等配件"),
    ("一周 等配件", 7, "天", "等配件"),
    ("两周，等物业开会", 14, "天", "等物业开会"),
    ("两个星期 x", 14, "天", "x"),
    ("48小时 x", 48, "小时", "x"),
    ("3个工作日 x", 3, "工作日", "x"),
    ("十天 x", 10, "天", "x"),
    ("３天 x", 3, "天", "x"),
])
def test_durations(text, amount, unit, rest):
    span = parse_duration(text)
    assert (span.amount, span.unit, span.rest) == (amount, unit, rest)


@pytest.mark.parametrize("text", ["很久 x", "100天 x", "0天 x", "x"])
def test_bad_durations_are_refused_politely(text):
    with pytest.raises(WhenError) as error:
        parse_duration(text)
    assert "例如" in str(error.value)


def test_last_month_is_a_past_date_and_next_week_is_not_yet_a_day_of_service():
    """'由物业上月20日前修好门禁' was read as the 20th of this month; '/志愿 下周一 1小时 …' as today
    with the activity '下周一 …' (both found by a blind replay)."""
    from nlp.when import find_date, parse_past_day

    with pytest.raises(WhenError, match="10月20日已经过去了"):
        find_date("由物业上月20日前修好门禁", NOW)
    with pytest.raises(WhenError, match="10月31日已经过去了"):
        find_date("上个月底前", NOW)
    found = find_date("下月5号前", NOW)
    assert found is not None and (found.day.month, found.day.day) == (12, 5)
    today = NOW.date()  # Wednesday 25 November
    with pytest.raises(WhenError, match="11月30日还没到"):
        parse_past_day("下周一 1小时 发放通知", today)
    with pytest.raises(WhenError, match="12月9日还没到"):
        parse_past_day("下下周三 1小时", today)
    assert parse_past_day("上周六 2小时 清理", today)[0].day == 21
