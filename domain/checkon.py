"""战时: the people to check on (独居老人, 残疾, 重病, 留守儿童).

When an emergency of a listed kind starts (``/战时 开启 寒潮``; config ``emergency``), each
stairwell's 楼道长 and 保障员 get privately the households tagged for it, as the list is kept
(one ``CheckOn`` row per household); ``/已联系 502`` confirms one. After ``check_after`` the grid
worker gets who is still unconfirmed: a job holding only the emergency's id, in the persistent job
store, backed by a catch-up job, and idempotent (``followed_up_at``, outbox keys). Lists never go
to a group: only to the people named here, privately.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from bot.clock import SHANGHAI
from bot.config import AppConfig
from bot.services import Services
from domain.visits import covers
from storage import directory, ledger
from storage import visits as queries
from storage.ledger import Stairwell
from storage.models import CheckOn, Emergency, Household, Person, Room

FIRST_ROLES = frozenset({"leader", "support"})  # who goes door to door (一长二员: 楼道长、保障员)
FALLBACK_ROLES = frozenset({"officer", "grid"})  # a stairwell without them: its 信息员, else the grid worker
FOLLOWUP_JOB = "schedules.jobs:check_on_followup"
JOB_PREFIX = "checkon:"


def kind_of(reason: str, kinds: list[str]) -> str | None:
    """The check-on kind a reason names ('寒潮预警' -> 寒潮), or None."""
    return next((k for k in kinds if k in reason), None)


def _place(session: Session, stairwell: str) -> Room:
    """The stairwell as a stand-in room for the scope rule (its grid from its group or the ledger)."""
    place = ledger.stairwells(session).get(stairwell) or Stairwell(stairwell, None, "")
    return place.as_room()


def door_to_door(session: Session, stairwell: str) -> list[Person]:
    place = _place(session, stairwell)
    return (directory.people_with_roles(session, FIRST_ROLES, place)
            or directory.people_with_roles(session, FALLBACK_ROLES, place) or directory.admins(session))


def grid_workers(session: Session, stairwell: str) -> list[Person]:
    return directory.people_with_roles(session, {"grid"}, _place(session, stairwell)) or directory.admins(session)


def door_names(session: Session, household: Household) -> str:
    """The first two residents' names, to know whom to ask for at the door (never a phone)."""
    names = [m.name for m in ledger.members(session, household.id or 0)[:2]]
    return f"（{'、'.join(names)}）" if names else ""


def audit_read(session: Session, actor_id: str, at: datetime, action: str, household_ids: list) -> None:
    """Every list of tagged households someone is shown or sent leaves one ledger audit row per flat."""
    for household_id in household_ids:
        ledger.audit(session, actor_id, action, at, household_id)


@dataclass(frozen=True)
class Started:
    emergency: Emergency
    stairwells: int
    households: int
    new: bool  # False: the same kind was already open, nothing sent again


def start(services: Services, session: Session, *, reason: str, by: str, scopes: tuple[str, ...]) -> Started:
    """Open an emergency; for a check-on kind, build and send the lists of the stairwells in ``scopes``."""
    config = services.config
    now = services.clock.now()
    kind = kind_of(reason, config.emergency.check_kinds)
    current = queries.open_emergency(session)
    if current is not None and kind is not None and current.kind == kind:
        rows = queries.checks(session, current.id or 0)
        return Started(current, len({c.stairwell for c, _ in rows}), len(rows), False)
    if current is not None:
        current.ended_at = now
        session.add(current)
    emergency = Emergency(reason=reason, kind=kind, started_by=by, started_at=now)
    session.add(emergency)
    session.flush()
    if kind is None:
        return Started(emergency, 0, 0, True)
    names = [s.name for s in ledger.stairwells(session).values() if covers(s, scopes)]
    found: dict[int, tuple[Household, list[str]]] = {}
    for household, tag in ledger.tagged(session, names, config.emergency.check_tags):
        found.setdefault(household.id or 0, (household, []))[1].append(tag.tag)
    by_stairwell: dict[str, list[tuple[Household, list[str]]]] = {}
    for household, tags in found.values():
        tags.sort(key=config.emergency.check_tags.index)
        session.add(CheckOn(emergency_id=emergency.id or 0, household_id=household.id or 0,
                            stairwell=household.stairwell, tags=" ".join(tags)))
        by_stairwell.setdefault(household.stairwell, []).append((household, tags))
    if found:
        emergency.check_due_at = now + config.emergency.check_after
    for stairwell, homes in by_stairwell.items():
        text = list_text(session, config, emergency, stairwell, homes)
        for person in door_to_door(session, stairwell):
            services.queue(session, key=f"checkon:{emergency.id}:{stairwell}:{person.id}", to=person.id, text=text,
                           priority=10)
            audit_read(session, person.id, now, "战时名单", [h.id for h, _ in homes])
    session.add(emergency)
    return Started(emergency, len(by_stairwell), len(found), True)


def started_line(config: AppConfig, started: Started) -> str:
    """What the grid worker is told about the lists when 战时 opens."""
    kind = started.emergency.kind
    if kind is None:
        return ""
    if not started.households:
        return f"\n底账中负责范围内没有标记{'、'.join(config.emergency.check_tags)}的住户，未发送重点人员名单。"
    again = "" if started.new else "（名单已在开启时发出，未重复发送）"
    return (f"\n已向{started.stairwells}个楼道的楼道长、保障员私信{kind}重点人员名单（{started.households}户）{again}，"
            f"{_after(config)}后仍未确认“/已联系”的将私信告诉您。")


def _after(config: AppConfig) -> str:
    minutes = int(config.emergency.check_after.total_seconds() // 60)
    return f"{minutes // 60}小时" if minutes % 60 == 0 else f"{minutes}分钟"


def list_text(session: Session, config: AppConfig, emergency: Emergency, stairwell: str,
              homes: list[tuple[Household, list[str]]]) -> str:
    lines = [f"【战时·{emergency.kind}】请逐户联系本楼道重点人员（{stairwell}，{len(homes)}户）："]
    lines += [f"{h.flat}{door_names(session, h)} {'、'.join(tags)}" for h, tags in homes]
    lines.append(f"联系后回复 /已联系 {homes[0][0].flat}（可加说明，如 /已联系 {homes[0][0].flat} 已送去棉被）。"
                 f"{_after(config)}后仍未确认的将报网格员。")
    return "\n".join(lines)


def stop(session: Session, now: datetime) -> Emergency | None:
    """Close the open emergency: its follow-up is no longer sent."""
    current = queries.open_emergency(session)
    if current is not None:
        current.ended_at = now
        session.add(current)
    return current


def confirm(session: Session, check: CheckOn, by: str, at: datetime, note: str) -> None:
    check.contacted_by, check.contacted_at = by, at
    if note:
        check.note = note
    session.add(check)


def left_line(rows: list[tuple[CheckOn, Household]]) -> str:
    """'还有2户未确认：301 残疾、201 独居老人。' or '本楼道重点人员已全部联系。'"""
    left = [f"{h.flat} {'、'.join(c.tags.split())}" for c, h in rows if c.contacted_at is None]
    if not left:
        return "本楼道重点人员已全部联系，辛苦了。"
    return f"还有{len(left)}户未确认：" + "；".join(left) + "。"


def followup(services: Services, session: Session, emergency_id: int) -> int:
    """The grid worker of each stairwell gets who is still unconfirmed (once); returns messages queued."""
    emergency = session.get(Emergency, emergency_id)
    now = services.clock.now()
    if (emergency is None or emergency.ended_at is not None or emergency.followed_up_at is not None
            or emergency.check_due_at is None or emergency.check_due_at > now):
        return 0
    rows = queries.checks(session, emergency_id)
    per_person: dict[str, list[str]] = {}
    left_ids: dict[str, list] = {}
    for stairwell in sorted({c.stairwell for c, _ in rows}):
        mine = [(c, h) for c, h in rows if c.stairwell == stairwell]
        left = [f"{h.flat}{door_names(session, h)} {'、'.join(c.tags.split())}" for c, h in mine if c.contacted_at is None]
        line = f"{stairwell}：" + ("；".join(left) if left else f"{len(mine)}户已全部确认")
        for person in grid_workers(session, stairwell):
            per_person.setdefault(person.id, []).append(line)
            left_ids.setdefault(person.id, []).extend(h.id for c, h in mine if c.contacted_at is None)
    started = emergency.started_at.astimezone(SHANGHAI)
    sent = 0
    for person_id, lines in per_person.items():
        missing = bool(left_ids[person_id])
        head = (f"【战时·{emergency.kind}】{started:%m月%d日%H:%M}开启，{_after(services.config)}后"
                + ("以下重点户仍未确认联系，请电话或上门核实：" if missing else "重点人员联系情况："))
        sent += services.queue(session, key=f"checkon-left:{emergency_id}:{person_id}", to=person_id,
                               text="\n".join([head, *lines]), priority=10)
        audit_read(session, person_id, now, "战时未确认名单", left_ids[person_id])
    emergency.followed_up_at = now
    session.add(emergency)
    return sent


def schedule_followup(scheduler, emergency_id: int, due: datetime) -> None:
    """The persistent one-off job (a plain id only) that runs ``followup`` at ``due``; a run missed
    while the bot was down still runs (no grace limit), and the catch-up job covers a lost one."""
    from apscheduler.triggers.date import DateTrigger

    scheduler.add_job(FOLLOWUP_JOB, DateTrigger(due, timezone=SHANGHAI), id=f"{JOB_PREFIX}{emergency_id}",
                      name=f"战时重点人员核查 {emergency_id}", kwargs={"emergency_id": emergency_id},
                      replace_existing=True, misfire_grace_time=None)


def petition_mark(session: Session, config: AppConfig, stairwell: str | None, flat: str | None,
                  name: str, homes: list[queries.PetitionHome] | None = None) -> tuple[int, str] | None:
    """(household id, '502 独居老人') when a petition comes from a flat tagged visits.petition_mark_tags.

    The flat is the one the petition names in its group's stairwell ("502漏水了"); a petition
    naming none is matched by the sender's display name when exactly one household of that
    stairwell lists a resident of that very name (a WeChat name proves nothing, so the mark says
    how it was found and only staff see it). Residents are not linked to ledger members by id.
    """
    if not stairwell:
        return None
    if homes is None:  # not read with the petition's first statement
        homes = queries.petition_homes(session, stairwell, flat, name, list(config.visits.petition_mark_tags))
    how = ""
    home = next((h for h in homes if flat and h.flat == flat), None)
    if home is None and name:
        named = [h for h in homes if h.flat != flat]  # the rest were found by the name
        home, how = (named[0], "（按群昵称与底账姓名对应，请核实）") if len(named) == 1 else (None, "")
    if home is None or not home.tags:
        return None
    return home.id, f"{home.flat} {'、'.join(home.tags)}{how}"
