"""Volunteer rankings (志愿服务时长晾晒): who is named how, which month, and when it is posted.

Used by /积分 排行 (staff, full names), the monthly post in each stairwell group and the 先锋个人
of the star post (domain.stars).
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlmodel import Session

from bot.clock import SHANGHAI
from storage.models import Person
from storage.points import Hours

# How neighbours address each other: a name ending so is already the polite public form (吴阿姨).
HONORIFICS = (
    "阿姨", "叔叔", "师傅", "先生", "女士", "老师", "大爷", "大妈", "大伯", "大姐", "大哥", "奶奶", "爷爷",
    "阿婆", "阿公", "婆婆", "伯伯", "阿伯", "姐", "哥", "老", "书记", "主任", "医生",
)
COMPOUND_SURNAMES = ("欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "令狐", "长孙", "夏侯", "司徒")


def public_name(name: str, first_names_only: bool) -> str:
    """The name a group post may show. With ``first_names_only``: 吴阿姨, 钱师傅, 老王, 小李 stay
    (surname and how neighbours address them); a full name becomes surname + 某某 (周建国 → 周某某)."""
    if not first_names_only or not name:
        return name
    if name.endswith(HONORIFICS) or name.startswith(("老", "小")):
        return name
    surname = next((s for s in COMPOUND_SURNAMES if name.startswith(s)), name[0])
    return f"{surname}某某"


def hours_label(minutes: int) -> str:
    """90 -> '1.5小时', 120 -> '2小时', 30 -> '0.5小时'."""
    return f"{minutes / 60:g}小时" if minutes % 6 == 0 else f"{minutes}分钟"


def previous_month(today: date) -> tuple[date, date]:
    """The first and last day of the month before ``today``'s."""
    last = today.replace(day=1) - timedelta(days=1)
    return last.replace(day=1), last


def month_days(start: datetime, end: datetime) -> tuple[date, date]:
    """[start, end) in local time as the first and last day (for the volunteer logs' day column)."""
    return start.astimezone(SHANGHAI).date(), (end.astimezone(SHANGHAI) - timedelta(days=1)).date()


def first_workday_of_month(day: date) -> date:
    """The month's first working day (after 元旦 or 国庆 it is not the 1st: 2026-10-08)."""
    from schedules.timing import is_workday

    first = day.replace(day=1)
    return next((first + timedelta(days=n) for n in range(15) if is_workday(first + timedelta(days=n))), first)


def monthly_post_due(day: date) -> bool:
    """The monthly posts go out on the first working day; a bot that was down then posts on
    the next working day of the job's window (the outbox key keeps it to once a month)."""
    from schedules.timing import is_workday

    return is_workday(day) and day >= first_workday_of_month(day)


def ranking_lines(session: Session, rows: list[Hours], size: int, first_names_only: bool) -> list[str]:
    """'1. 吴阿姨 4小时（40积分）' for the top ``size``; ties share a place."""
    lines, place, previous = [], 0, None
    for number, row in enumerate(rows[:size], 1):
        if row.minutes != previous:
            place, previous = number, row.minutes
        person = session.get(Person, row.person_id)
        # Someone who asked for deletion (/删除我的信息) keeps the hours but is not named.
        name = "一位居民" if person is None or person.deleted else public_name(person.name, first_names_only)
        lines.append(f"{place}. {name} {hours_label(row.minutes)}（{row.points}积分）")
    return lines
