"""What counts as a vote, a poll's deadline and a council decision's owner and date, read from text
as officers and residents type it (no database)."""
from __future__ import annotations

from datetime import date, datetime

import pytest

from bot.clock import SHANGHAI
from handlers.council import parse_decision
from handlers.polls import parse_deadline, parse_quick, parse_vote
from nlp.when import WhenError, find_date

NOW = datetime(2026, 12, 2, 10, 0, tzinfo=SHANGHAI)


@pytest.mark.parametrize("text, token", [
    ("2", "2"), (" 2 ", "2"), ("２", "2"), ("2号", "2"), ("#2", "2"), ("投2号", "2"), ("我选1", "1"),
    ("12", "12"), ("b", "B"), ("B。", "B"), ("我投A", "A"), ("3号一票", "3"),
])
def test_a_bare_number_or_letter_is_a_possible_vote(text, token):
    assert parse_vote(text) == token


@pytest.mark.parametrize("text", [
    "502", "3-302", "2楼", "502收到", "2个人", "今天2点停水", "收到", "1楼灯坏了", "AB", "ok", "2222", "3幢", "",
])
def test_flat_numbers_and_chat_are_not_votes(text):
    assert parse_vote(text) is None


def test_a_deadline_day_runs_to_its_end_and_a_time_is_kept():
    assert parse_deadline("12月20日", NOW) == datetime(2026, 12, 21, 0, 0, tzinfo=SHANGHAI)
    assert parse_deadline("12月20日 18点", NOW) == datetime(2026, 12, 20, 18, 0, tzinfo=SHANGHAI)
    assert parse_deadline("本月底", NOW) == datetime(2027, 1, 1, 0, 0, tzinfo=SHANGHAI)
    for bad in ("随便", "12月1日", "2027-06-01"):
        with pytest.raises(WhenError):
            parse_deadline(bad, NOW)


def test_quick_poll_options_with_or_without_letters():
    assert parse_quick("充电棚位置 A 北门 B 东门", NOW)[:2] == ("充电棚位置", ["北门", "东门"])
    assert parse_quick("充电棚位置 A.北门 B、东门 C西门", NOW)[:2] == ("充电棚位置", ["北门", "东门", "西门"])
    title, options, closes = parse_quick("午饭 面 饭 截止 12月3日 12点", NOW)
    assert (title, options, closes) == ("午饭", ["面", "饭"], datetime(2026, 12, 3, 12, 0, tzinfo=SHANGHAI))


@pytest.mark.parametrize("text, owner, day, action", [
    ("由物业本月15日前清理楼道堆物", "物业", date(2026, 12, 15), "清理楼道堆物"),
    ("由张师傅本月15日前修好单元门", "张师傅", date(2026, 12, 15), "修好单元门"),
    ("物业负责 12月20日前 更换路灯", "物业", date(2026, 12, 20), "更换路灯"),
    ("12月20日前由居委会协调充电桩", "居委会", date(2026, 12, 20), "协调充电桩"),
    ("由业委会月底前答复", "业委会", date(2026, 12, 31), "答复"),
    ("由物业公司牵头，下周五前完成消防通道清理", "物业公司", date(2026, 12, 11), "消防通道清理"),
    ("由物业清理3号楼堆物", "物业", None, "清理3号楼堆物"),
    ("本月15日前清理", None, date(2026, 12, 15), "清理"),
])
def test_a_decision_names_its_owner_date_and_action(text, owner, day, action):
    assert parse_decision(text, NOW) == (owner, day, action)


def test_find_date_reads_the_first_date_and_refuses_a_past_one():
    found = find_date("由物业本月15日前清理", NOW)
    assert found is not None and (found.day, found.start, found.end) == (date(2026, 12, 15), 3, 8)
    assert find_date("3天内处理", NOW).day == date(2026, 12, 5)
    assert find_date("下月5号前", NOW).day == date(2027, 1, 5)
    assert find_date("清理3号楼", NOW) is None
    with pytest.raises(WhenError, match="12月1日已经过去了"):
        find_date("本月1日前", NOW)


def test_a_quick_poll_whose_author_numbered_the_options_keeps_the_numbers():
    """'/投票 发起 门禁卡补办放哪天 1 周六 2 周日' made options '1', '周六', '2', '周日' (A to D)."""
    from handlers.polls import numbered_options

    assert parse_quick("门禁卡补办放哪天 1 周六 2 周日", NOW)[:2] == ("门禁卡补办放哪天", ["周六", "周日"])
    assert parse_quick("哪栋先装 1.2号楼 2.3号楼 3、都行", NOW)[:2] == ("哪栋先装", ["2号楼", "3号楼", "都行"])
    assert parse_quick("时间 ①上午 ②下午", NOW)[:2] == ("时间", ["上午", "下午"])
    assert numbered_options(["1", "周六"]) is None  # one option is no poll
    assert numbered_options(["2", "周六", "1", "周日"]) is None  # not in order: not numbering
    assert numbered_options(["A", "北门", "B", "东门"]) is None
    assert parse_quick("几号 1号 2号", NOW)[:2] == ("几号", ["1号", "2号"])  # days, not numbering
    from handlers.polls import parse_election

    assert parse_election("最美家庭 候选 1.王家 2.李家 截止 12月20日", NOW)[1] == ["王家", "李家"]
    assert parse_election("最美家庭 候选 王家 李家 截止 12月20日", NOW)[1] == ["王家", "李家"]
