"""Monthly visits (每月走访全覆盖): a stairwell's month (who is left, people at risk first) and the
texts the reminder, the mid-month nudge and /走访 本月 share, so the instructions they give are
the commands that work."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from bot.clock import SHANGHAI
from storage import ledger
from storage import visits as queries
from storage.ledger import Stairwell
from storage.models import Household

FLATS_SHOWN = 30  # one readable private message, even for a 100-flat stairwell
# The commands the reminder and the nudge teach (tests run them as written).
HOW_TO = "记录：/走访 502 已见本人，身体好（整层：/走访 5楼全部 正常）；查看进度：/走访 本月"


def month_bounds(at: datetime) -> tuple[datetime, datetime]:
    """The local (Asia/Shanghai) calendar month holding ``at``."""
    local = at.astimezone(SHANGHAI)
    start = datetime(local.year, local.month, 1, tzinfo=SHANGHAI)
    end = datetime(local.year + local.month // 12, local.month % 12 + 1, 1, tzinfo=SHANGHAI)
    return start, end


def covers(place: Stairwell, scopes: tuple[str, ...]) -> bool:
    """Whether grant scopes (a stairwell, a grid, a group, "*") reach this stairwell: the one scope rule."""
    room = place.as_room()
    return any(room.covered_by(scope) for scope in scopes)


def visit_coverage(session: Session, start: datetime, scopes: tuple[str, ...] | None) -> list[queries.Coverage]:
    """走访覆盖率 of the calendar month holding ``start``, per stairwell in ``scopes`` (None: all):
    what /统计, report --month and the console show."""
    wanted = None
    if scopes is not None:
        wanted = [s.name for s in ledger.stairwells(session).values() if covers(s, scopes)]
    return queries.coverage(session, *month_bounds(start), stairwells=wanted)


def month_label(at: datetime) -> str:
    return f"{at.astimezone(SHANGHAI).month}月"


@dataclass
class StairwellMonth:
    """One stairwell's households in one month: who was visited, who is left."""

    stairwell: str
    households: list[Household]
    visited: set[int]
    risk: dict[int, list[str]]  # household id -> its at-risk tags (only households that have some)

    @property
    def total(self) -> int:
        return len(self.households)

    @property
    def done(self) -> int:
        return sum(1 for h in self.households if h.id in self.visited)

    @property
    def rate(self) -> float | None:
        return self.done / self.total if self.total else None

    def left(self) -> list[Household]:
        """Households not visited yet: people at risk first, then by flat."""
        rest = [h for h in self.households if h.id not in self.visited]
        return sorted(rest, key=lambda h: (h.id not in self.risk, h.flat))

    def summary(self, month: str) -> str:
        percent = f"（{self.done * 100 // self.total}%）" if self.total else ""
        return f"{self.stairwell} {month}走访：已走访 {self.done}/{self.total}户{percent}"

    def left_lines(self) -> list[str]:
        """'重点人员未走访：502 独居老人；…' and '其余未走访：101、102…', shortened for a phone."""
        left = self.left()
        risky = [h for h in left if h.id in self.risk]
        others = [h for h in left if h.id not in self.risk]
        lines = []
        if risky:
            lines.append("重点人员未走访：" + _some([f"{h.flat} {'、'.join(self.risk[h.id or 0])}" for h in risky], "；"))
        if others:
            lines.append("其余未走访：" + _some([h.flat for h in others], "、"))
        return lines or ["本月已全部走访。"]


def _some(items: list[str], sep: str) -> str:
    more = f" 等{len(items)}户" if len(items) > FLATS_SHOWN else ""
    return sep.join(items[:FLATS_SHOWN]) + more


def stairwell_month(session: Session, stairwell: str, at: datetime, at_risk_tags: list[str]) -> StairwellMonth:
    start, end = month_bounds(at)
    homes = ledger.in_stairwells(session, [stairwell])
    tags = queries.tags_of(session, [h.id for h in homes if h.id is not None])
    risk = {hid: [t for t in at_risk_tags if t in found] for hid, found in tags.items()}
    return StairwellMonth(stairwell, homes, queries.visited_ids(session, stairwell, start, end),
                          {hid: t for hid, t in risk.items() if t})


def progress_text(month: StairwellMonth, at: datetime) -> str:
    """What /走访 本月 answers for one stairwell."""
    if not month.total:
        return f"{month.stairwell} 的底账还没有住户，请信息员先用 /底账 登记。"
    return "\n".join([month.summary(month_label(at)), *month.left_lines()])


def reminder_text(month: StairwellMonth, at: datetime, last: StairwellMonth | None) -> str:
    """The monthly 四必联 reminder to one trio member (privately)."""
    head = f"【四必联提醒】{month_label(at)}请联系{month.stairwell}每户居民（疫情防控、入户工作、空巢留守老小、邻里纠纷必联）。"
    if not month.total:
        return head + "\n底账还没有本楼道住户，请信息员先用 /底账 登记，之后可用 /走访 记录。"
    lines = [head]
    if last is not None and last.total:
        lines.append(f"上月已走访 {last.done}/{last.total}户。")
    lines.append(f"本月未走访 {month.total - month.done}/{month.total}户：")
    lines += month.left_lines()
    lines.append(HOW_TO)
    return "\n".join(lines)


def nudge_text(month: StairwellMonth, at: datetime) -> str:
    """The mid-month nudge when coverage is below visits.nudge_below."""
    return "\n".join([f"【走访进度提醒】{month.summary(month_label(at))}，月底前请走访其余住户。", *month.left_lines(), HOW_TO])
