"""Dates, times and durations as officers type them in /定时 and /延期.

``parse_when("明天9点 本楼 内容", now)`` -> When(at=..., rest="本楼 内容");
``parse_duration("三天 等配件")`` -> Duration(days=3, ...). Everything is Asia/Shanghai and
relative to the ``now`` given (the app's injectable clock), never the wall clock.

What is understood (spaces optional between the parts):
  dates   今天 明天 后天 大后天 / 今晚 今早 明早 明晚 / 周一 下周一 本周五 星期三 下礼拜天 /
          12月1日 十二月一号 / 12-01 12/1 / 2026-12-01 2026年12月1日 / 1号
  times   9点 九点 9点半 3点一刻 9点30(分) 9:00 9：30 / 上午 下午 中午 晚上 早上 凌晨 傍晚 before them
  spans   3天 三天 一周 两周 两个星期 48小时 3个工作日
Ambiguous or incomplete input raises WhenError with one polite line and an example.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from common.numerals import FULLWIDTH_DIGITS, cn_number
from common.tz import SHANGHAI

WEEKDAY_NAMES = "一二三四五六日"
NUM = r"(?:\d{1,2}|[零〇一二两三四五六七八九十]{1,3})"
_FULLWIDTH = str.maketrans(FULLWIDTH_DIGITS + "：／－", "0123456789:/-")
TIMED_EXAMPLE = "/定时 明天 9点 本楼 内容（或 12月1日 上午9点、下周一 9:00、2026-12-01 09:00）"


class WhenError(ValueError):
    """Input that cannot be read as one date and time: ``str(error)`` is the polite line."""


@dataclass(frozen=True)
class When:
    at: datetime  # aware, Asia/Shanghai
    rest: str  # what followed the date and time

    def label(self) -> str:
        return f"{self.at:%Y-%m-%d}（周{WEEKDAY_NAMES[self.at.weekday()]}）{self.at:%H:%M}"


@dataclass(frozen=True)
class Duration:
    amount: int
    unit: str  # 天 | 小时 | 工作日
    rest: str

    @property
    def days(self) -> float:
        return self.amount / 24 if self.unit == "小时" else self.amount

    def label(self) -> str:
        return f"{self.amount}{'个工作日' if self.unit == '工作日' else self.unit}"


# ---- the date part --------------------------------------------------------------------------
_RELATIVE = {"今天": 0, "今日": 0, "今儿": 0, "明天": 1, "明日": 1, "明儿": 1, "后天": 2, "大后天": 3}
_SHORT = {"今早": (0, "早上"), "今晚": (0, "晚上"), "明早": (1, "早上"), "明晚": (1, "晚上"), "后晚": (2, "晚上")}
_YMD = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*[日号]?")
_MD_CN = re.compile(rf"({NUM})\s*月\s*({NUM})\s*[日号]?")
_MD_DASH = re.compile(r"(\d{1,2})[-/](\d{1,2})(?![-/\d])")
_DAY_ONLY = re.compile(rf"({NUM})\s*[号日](?!\s*[-/月])")
_WEEKDAY = re.compile(r"(下下|下个|下|本|这个|这)?\s*(?:周|星期|礼拜)\s*([一二三四五六日天1-7])")
_RELATIVE_RE = re.compile("|".join(sorted(list(_RELATIVE) + list(_SHORT), key=len, reverse=True)))


def weekday_index(ch: str) -> int:
    """一..六, 日/天 or 1..7 -> 0 (Monday) .. 6 (Sunday)."""
    return int(ch) - 1 if ch.isdigit() else (6 if ch == "天" else WEEKDAY_NAMES.index(ch))


def _safe_date(year: int, month: int, day: int) -> date:
    try:
        return date(year, month, day)
    except ValueError:
        raise WhenError(f"没有{month}月{day}日这一天，请检查日期，例如：{TIMED_EXAMPLE}") from None


def _date_part(text: str, today: date) -> tuple[date | None, str | None, bool, str]:
    """(date, period word implied, year given, rest)."""
    if m := _RELATIVE_RE.match(text):
        word = m.group(0)
        if word in _SHORT:
            offset, period = _SHORT[word]
            return today + timedelta(days=offset), period, True, text[m.end():]
        return today + timedelta(days=_RELATIVE[word]), None, True, text[m.end():]
    if m := _YMD.match(text):
        return _safe_date(int(m.group(1)), int(m.group(2)), int(m.group(3))), None, True, text[m.end():]
    for pattern in (_MD_CN, _MD_DASH):
        if m := pattern.match(text):
            return _next_month_day(today, cn_number(m.group(1)), cn_number(m.group(2))), None, False, text[m.end():]
    if m := _WEEKDAY.match(text):
        return _weekday(today, m.group(1) or "", weekday_index(m.group(2))), None, True, text[m.end():]
    if m := _DAY_ONLY.match(text):
        day = cn_number(m.group(1))
        month, year = today.month, today.year
        if day < today.day:
            month, year = (1, year + 1) if month == 12 else (month + 1, year)
        return _safe_date(year, month, day), None, True, text[m.end():]
    return None, None, False, text


def _next_month_day(today: date, month: int, day: int) -> date:
    """12-01 without a year: this year's, or next year's once this year's has passed."""
    when = _safe_date(today.year, month, day) if not (month == 2 and day == 29) else None
    if when is None or when < today:
        return _safe_date(today.year + 1, month, day)
    return when


def _weekday(today: date, prefix: str, index: int) -> date:
    monday = today - timedelta(days=today.weekday())
    if prefix in ("下", "下个"):
        return monday + timedelta(days=7 + index)
    if prefix == "下下":
        return monday + timedelta(days=14 + index)
    if prefix in ("本", "这", "这个"):
        return monday + timedelta(days=index)
    ahead = (index - today.weekday()) % 7  # a bare 周五: the coming one (today counts)
    return today + timedelta(days=ahead)


# ---- the time part --------------------------------------------------------------------------
_PERIODS = ("早上", "早晨", "上午", "中午", "下午", "傍晚", "晚上", "夜里", "夜间", "凌晨", "早", "晚")
_PERIOD_RE = re.compile("|".join(_PERIODS))
_CLOCK = re.compile(r"(\d{1,2})\s*:\s*(\d{2})")
# minutes follow 点 directly ("9点30", "9点半"); "9点 3幢…" is 9:00 and then a place
_HOUR = re.compile(rf"({NUM})\s*(?:点钟|点|时)(?:(半|一刻|三刻)|过?({NUM})(?:\s*分|(?![0-9幢栋号楼单-])))?")
AFTERNOON = {"下午", "傍晚", "晚上", "夜里", "夜间", "晚"}


def _time_part(text: str, period: str | None) -> tuple[time | None, str]:
    if m := _PERIOD_RE.match(text):
        period, text = m.group(0), text[m.end():].lstrip()
    if m := _CLOCK.match(text):
        hour, minute = int(m.group(1)), int(m.group(2))
    elif m := _HOUR.match(text):
        hour = cn_number(m.group(1))
        minute = cn_number(m.group(3)) if m.group(3) else {None: 0, "半": 30, "一刻": 15, "三刻": 45}[m.group(2)]
    else:
        if period is not None:
            raise WhenError("请写明几点，例如：/定时 明天 上午9点 本楼 内容")
        return None, text
    if hour > 23 or minute > 59:
        raise WhenError(f"时间不对（{m.group(0)}），例如：/定时 明天 9:00 本楼 内容")
    return _with_period(hour, minute, period, m.group(0)), text[m.end():]


def _with_period(hour: int, minute: int, period: str | None, said: str) -> time:
    if (period in AFTERNOON and hour < 12) or (period == "中午" and hour < 5):
        hour += 12
    elif period is None and 1 <= hour <= 6:
        # 3点 alone: 03:00 or 15:00? Ask rather than wake a building at three in the morning.
        raise WhenError(f"“{said}”是凌晨还是下午？请写明，例如：后天下午3点半")
    elif period == "凌晨" and hour == 12:
        hour = 0
    return time(hour % 24, minute)


def parse_time_of_day(text: str) -> tuple[time, str]:
    """'9点 本楼 …' -> (09:00, '本楼 …'): a clock time without a date (for /每周)."""
    clock, rest = _time_part(text.translate(_FULLWIDTH).lstrip(), None)
    if clock is None:
        raise WhenError("请写明几点，例如：/每周 一 9:00 本楼 内容")
    return clock, rest.lstrip(" ,，、:：").strip()


SMALL_HOURS_END = 5  # before 05:00 an officer still up says 明天 for the day that has already begun
_TOMORROW_WORD = re.compile(r"明天|明日|明儿|明早|明晚")


def parse_when(text: str, now: datetime) -> When:
    """Read a date and time at the start of ``text``; the rest is returned untouched."""
    source = text.translate(_FULLWIDTH).lstrip()
    today = now.astimezone(SHANGHAI).date()
    day, period, _, rest = _date_part(source, today)
    clock, rest = _time_part(rest.lstrip(), period)
    if day is None and clock is None:
        raise WhenError(f"没看懂时间，请这样写：{TIMED_EXAMPLE}")
    if clock is None:
        raise WhenError(f"请写明几点，例如：/定时 {source[:len(source) - len(rest)].strip()} 9点 本楼 内容")
    local = now.astimezone(SHANGHAI)
    if local.hour < SMALL_HOURS_END and (said := _TOMORROW_WORD.match(source)):
        # at 01:30 "明早九点" usually means the coming morning, but it says tomorrow: ask, never guess
        after = local + timedelta(days=1)
        raise WhenError(
            f"现在是凌晨，“{said.group(0)}”是指{local.month}月{local.day}日还是{after.month}月{after.day}日？"
            f"请写日期，例如：/定时 {local.month}月{local.day}日 9:00 本楼 内容"
        )
    when = datetime.combine(day or today, clock, SHANGHAI)
    if when <= now:
        raise WhenError(f"这个时间（{when:%m月%d日 %H:%M}）已经过去了，请设定将来的时间，例如：{TIMED_EXAMPLE}")
    return When(at=when, rest=rest.lstrip(" ,，、:：").strip())


# ---- durations ------------------------------------------------------------------------------
_DURATION = re.compile(
    rf"({NUM}|\d{{1,3}}|半)\s*(个工作日|工作日|个?小时|个?钟头|天|日|个?星期|个?礼拜|周|个月)"
)
DURATION_EXAMPLE = "/延期 12 3天 等待配件（也可写 三天、一周、48小时、3个工作日）"


def parse_duration(text: str, max_days: int = 60) -> Duration:
    """Read a span at the start of ``text``: 3天 三天 一周 两周 48小时 3个工作日."""
    source = text.translate(_FULLWIDTH).lstrip()
    m = _DURATION.match(source)
    if not m:
        raise WhenError(f"请写明延期多久（1到{max_days}天）和原因，例如：{DURATION_EXAMPLE}")
    unit = m.group(2).removeprefix("个")
    if m.group(1) == "半":
        if unit != "天":
            raise WhenError(f"请写整数，例如：{DURATION_EXAMPLE}")
        amount, unit = 12, "小时"
    else:
        amount = cn_number(m.group(1))
    if unit in ("星期", "礼拜", "周"):
        amount, unit = amount * 7, "天"
    elif unit == "月":
        amount, unit = amount * 30, "天"
    elif unit in ("钟头",):
        unit = "小时"
    elif unit == "日":
        unit = "天"
    span = Duration(amount=amount, unit=unit, rest=source[m.end():].lstrip(" ,，、:：").strip())
    if not 0 < span.days <= max_days:
        raise WhenError(f"延期时长请在1小时到{max_days}天之间，例如：{DURATION_EXAMPLE}")
    return span


# ---- past days and spans of work (/志愿) -------------------------------------------------------
_PAST_RELATIVE = {"今天": 0, "今日": 0, "今儿": 0, "昨天": 1, "昨日": 1, "昨儿": 1, "前天": 2, "大前天": 3}
_PAST_RELATIVE_RE = re.compile("|".join(sorted(_PAST_RELATIVE, key=len, reverse=True)))
_LAST_WEEKDAY = re.compile(r"(上个?|本|这个?)?\s*(?:周|星期|礼拜)\s*([一二三四五六日天1-7])")
VOLUNTEER_DAY_EXAMPLE = "今天、昨天、前天、11月28日、周六"


def _latest_month_day(today: date, month: int, day: int) -> date:
    """11月28日 without a year, for work already done: this year's, else last year's."""
    when = _safe_date(today.year, month, day) if not (month == 2 and day == 29) else None
    if when is None or when > today:
        return _safe_date(today.year - 1, month, day)
    return when


def parse_past_day(text: str, today: date) -> tuple[date | None, str]:
    """A day already past (or today) at the start of ``text``: 今天 昨天 前天 11月28日 11-28
    2026-11-28 28号 周六 上周六 -> (day, rest); (None, text) when no day is written there.
    A day in the future raises WhenError."""
    source = text.translate(_FULLWIDTH).lstrip()
    day: date | None = None
    if (m := _RELATIVE_RE.match(source)) and m.group(0) not in _PAST_RELATIVE:  # 明天, 后天, 明早…
        day = today + timedelta(days=_RELATIVE.get(m.group(0)) or _SHORT[m.group(0)][0])
    elif m := _PAST_RELATIVE_RE.match(source):
        day = today - timedelta(days=_PAST_RELATIVE[m.group(0)])
    elif m := _YMD.match(source):
        day = _safe_date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    elif (m := _MD_CN.match(source)) or (m := _MD_DASH.match(source)):
        day = _latest_month_day(today, cn_number(m.group(1)), cn_number(m.group(2)))
    elif (m := _WEEKDAY.match(source)) and (m.group(1) or "").startswith("下"):  # 下周一: still to come
        index = weekday_index(m.group(2))
        day = today + timedelta(days=7 * (2 if m.group(1) == "下下" else 1) - today.weekday() + index)
    elif m := _LAST_WEEKDAY.match(source):
        index = weekday_index(m.group(2))
        if (m.group(1) or "").startswith("上"):
            day = today - timedelta(days=today.weekday() + 7 - index)
        else:  # 周六 alone: the latest one, today included
            day = today - timedelta(days=(today.weekday() - index) % 7)
    elif m := _DAY_ONLY.match(source):
        number = cn_number(m.group(1))
        year, month = (today.year, today.month) if number <= today.day else (
            (today.year - 1, 12) if today.month == 1 else (today.year, today.month - 1))
        day = _safe_date(year, month, number)
    if day is None or m is None:
        return None, text
    if day > today:
        raise WhenError(f"{day.month}月{day.day}日还没到，只能登记已经做过的服务（{VOLUNTEER_DAY_EXAMPLE}）。")
    return day, source[m.end():].lstrip(" ,，、:：")


_WORK_SPAN = re.compile(
    rf"(\d+(?:\.\d+)?|{NUM})?\s*个?\s*(半)?\s*(小时|钟头|分钟|hours?|hrs?|h)(?![A-Za-z])", re.IGNORECASE
)


def parse_work_minutes(text: str) -> tuple[int, str] | None:
    """The first span of work in ``text``: 2小时 半小时 一个半小时 1.5h 两个钟头 90分钟 ->
    (minutes, text without it); None when there is none. Whole minutes, never a float."""
    source = text.translate(_FULLWIDTH)
    m = _WORK_SPAN.search(source)
    if m is None or (m.group(1) is None and m.group(2) is None):
        return None
    amount = m.group(1)
    if amount is None:
        base = 0.0
    elif re.fullmatch(r"\d+(?:\.\d+)?", amount):
        base = float(amount)
    else:
        base = float(cn_number(amount))
    if m.group(3) == "分钟":
        minutes = base + (30 if m.group(2) else 0) / 60  # "半分钟" is nonsense: 0 minutes
    else:
        minutes = (base + (0.5 if m.group(2) else 0)) * 60
    return round(minutes), (source[:m.start()] + " " + source[m.end():]).strip()


# ---- a date somewhere in a phrase (a council decision's "本月15日前", a poll's "截止 12月20日") -----
_MONTH_DAY = re.compile(rf"(本月|这个月|当月|下个?月|上个?月)\s*({NUM})\s*[日号]")
_MONTHS_ON = {"下": 1, "上": -1}
_MONTH_END = re.compile(r"(本月|这个月|当月|下个?月|上个?月)?\s*月?底")
_WITHIN = re.compile(rf"({NUM}|\d{{1,3}})\s*(?:个)?(天|周|星期|礼拜)\s*内")
_PLACE_AFTER = set("楼栋幢室单")
_ANY_DATE = (_YMD, _MD_CN, _MD_DASH, _WEEKDAY, _RELATIVE_RE, _DAY_ONLY)


@dataclass(frozen=True)
class FoundDate:
    day: date
    start: int  # where the date was written in the (full-width-folded) text
    end: int


def _add_months(day: date, months: int) -> tuple[int, int]:
    month = day.month - 1 + months
    return day.year + month // 12, month % 12 + 1


def _last_day(year: int, month: int) -> date:
    following = date(year + month // 12, month % 12 + 1, 1)
    return following - timedelta(days=1)


def find_date(text: str, now: datetime) -> FoundDate | None:
    """The first date written anywhere in ``text`` (本月15日, 下月5号, 月底, 12月20日, 2026-12-20,
    下周五, 明天, 3天内), or None. A date already past raises WhenError (the line says so)."""
    source = text.translate(_FULLWIDTH)
    today = now.astimezone(SHANGHAI).date()
    found: list[tuple[int, int, date]] = []
    if m := _MONTH_DAY.search(source):  # "上月20日" is a past date (refused below), not "20日"
        year, month = _add_months(today, _MONTHS_ON.get(m.group(1)[0], 0))
        found.append((m.start(), m.end(), _safe_date(year, month, cn_number(m.group(2)))))
    if m := _MONTH_END.search(source):
        year, month = _add_months(today, _MONTHS_ON.get((m.group(1) or " ")[0], 0))
        found.append((m.start(), m.end(), _last_day(year, month)))
    if m := _WITHIN.search(source):
        days = cn_number(m.group(1)) * (1 if m.group(2) == "天" else 7)
        found.append((m.start(), m.end(), today + timedelta(days=days)))
    for pattern in _ANY_DATE:
        for m in pattern.finditer(source):
            if any(s <= m.start() < e for s, e, _ in found) or source[m.end():m.end() + 1] in _PLACE_AFTER:
                continue  # "本月15日" already read (its "15日" is no second date); "3号楼" is a place
            day, _, _, _ = _date_part(source[m.start():], today)
            if day is not None:
                found.append((m.start(), m.end(), day))
                break
    if not found:
        return None
    start, end, day = min(found, key=lambda f: f[0])
    if day < today:
        raise WhenError(f"{day.month}月{day.day}日已经过去了，请写将来的日期。")
    return FoundDate(day, start, end)
