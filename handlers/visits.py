"""/走访 (monthly visits) and /已联系 (the 战时 check-on lists), kept by each stairwell's trio and
its grid worker in chat. Flats are written as people write them (common.flats): 502, 502室,
3-1-502, 3幢1单元502, 502、503, and whole floors: 5楼全部, 五楼都. Which stairwell: the one
named, else the group's own, else the caller's only one (storage.ledger.resolve_flat). Every answer
is private: the lists hold health and family details."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from bot.commands import command
from bot.context import Context
from bot.privacy import mask
from domain import checkon
from common.flats import FlatRef, parse_flat, stairwell_parts
from domain.visits import month_label, progress_text, stairwell_month
from nlp.when import cn_number
from storage import ledger
from storage import visits as queries
from storage.models import Household

VISIT_USAGE = "/走访 502 已见本人，身体好 | /走访 5楼全部 正常 | /走访 本月"
CONTACT_USAGE = "/已联系 502 [说明]"
_NUM = r"\d{1,2}|[一二两三四五六七八九十]{1,3}"
_PLACE = r"(?:\d{1,3}\s*(?:幢|栋|号楼|座)\s*)?(?:\d{1,2}\s*单元\s*)?"
_ONE = rf"{_PLACE}(?:\d{{1,3}}\s*[-－]\s*){{0,2}}\d{{3,4}}\s*(?:室|号|户)?"
_FLATS = re.compile(rf"^{_ONE}(?:\s*[、,，和及/]\s*{_ONE})*")
_SEP = re.compile(r"\s*[、,，和及/]\s*")
_DOOR = re.compile(r"\s*(?:室|号|户)$")
# a whole floor ("5楼全部", "3幢1单元五楼都"), never "5楼2号" (a flat: floor and door)
_FLOOR = re.compile(rf"^({_PLACE})({_NUM})\s*(?:楼|层)(?!\s*\d{{1,2}}\s*[号室户])\s*(?:全部|都|所有|整层|各户|全体)?")
_NOTE_START = re.compile(r"^[\s,，、:：;；.。-]+")
# Full-width digits, letters, dash and space as phones type them; the note keeps its own punctuation.
_HALF = {c: unicodedata.normalize("NFKC", chr(c)) for c in (*range(0xFF10, 0xFF1A), *range(0xFF21, 0xFF3B),
                                                           *range(0xFF41, 0xFF5B), 0xFF0D, 0x3000)}


@dataclass(frozen=True)
class Target:
    """What a command's arguments name: flats, or a whole floor, and the note after them."""

    refs: tuple[FlatRef, ...] = ()
    floor: int | None = None
    place: FlatRef | None = None  # a floor's building / unit, when written
    note: str = ""


def parse_target(text: str) -> Target | None:
    """'502 已见本人' / '502室、503 正常' / '3-1-502' / '5楼全部 正常' / '五楼都 正常'; None if neither."""
    text = text.translate(_HALF).strip()
    floor = _FLOOR.match(text)
    if floor:
        building, unit = stairwell_parts(floor.group(1)) if floor.group(1).strip() else (None, None)
        return Target(floor=cn_number(floor.group(2).replace("两", "二")), place=FlatRef("", building, unit),
                      note=_note(text[floor.end():]))
    flats = _FLATS.match(text)
    # "3-1-502室": the door word is dropped first (common.flats reads 3-1-502 without one)
    refs = [parse_flat(_DOOR.sub("", part)) for part in _SEP.split(flats.group(0).strip())] if flats else []
    if not refs or any(r is None for r in refs):
        return None
    unique = tuple(dict.fromkeys(r for r in refs if r is not None))
    return Target(refs=unique, note=_note(text[flats.end():] if flats else ""))


def _note(rest: str) -> str:
    return mask(_NOTE_START.sub("", rest).strip())[:200]


def floor_of(flat: str) -> int | None:
    """502 -> 5, 1203 -> 12 (the last two digits are the door)."""
    digits = re.sub(r"\D", "", flat)
    return int(digits[:-2]) if len(digits) >= 3 else None


def where(ctx: Context, target: Target) -> ledger.Stairwell | None:
    """The caller's stairwell the target is in (one polite line and None when it is not clear)."""
    first = target.place or target.refs[0]
    found = ledger.resolve_flat(ctx.session, ctx.caller, first, ctx.room)
    if found.stairwell is None:
        ctx.reply(found.problem or "没有找到这个楼道。", mention=False)
        return None
    if not all(ref.fits(found.stairwell.parts) for ref in target.refs):
        ctx.reply("一次只能记录一个楼道的住户，请分开发送。", mention=False)
        return None
    return found.stairwell


def chosen(homes: list[Household], target: Target) -> tuple[list[Household], list[str]]:
    """(households named, flats not among ``homes``)."""
    if target.floor is not None:
        return [h for h in homes if floor_of(h.flat) == target.floor], []
    by_flat = {h.flat: h for h in homes}
    flats = [r.flat for r in target.refs]
    return [by_flat[f] for f in flats if f in by_flat], [f for f in flats if f not in by_flat]


def _read(ctx: Context, usage: str, args: str) -> tuple[ledger.Stairwell, Target] | None:
    target = parse_target(args)
    if target is None:
        ctx.reply(f"请写明哪一户，用法：{usage}", mention=False)
        return None
    place = where(ctx, target)
    return (place, target) if place is not None else None


# ---- /走访 ---------------------------------------------------------------------------------------

@command("走访", roles=ledger.LEDGER_ROLES, usage=VISIT_USAGE, help="记录入户走访，查看本月走访进度（楼道长、信息员、保障员、网格员）")
async def visit_command(ctx: Context, args: str) -> None:
    args = args.translate(_HALF).strip()
    if not args or "本月" in args[:2] or args.endswith("本月"):  # "/走访" alone: the month so far
        await month_progress(ctx, args.replace("本月", "", 1).strip())
        return
    found = _read(ctx, VISIT_USAGE, args)
    if found is None:
        return
    place, target = found
    homes, unknown = chosen(ledger.in_stairwells(ctx.session, [place.name]), target)
    if unknown:
        ctx.reply(f"{place.name}的底账里没有{'、'.join(unknown)}，请核对房号，或先用 /底账 {unknown[0]} 登记。", mention=False)
        return
    if not homes:
        ctx.reply(f"{place.name}的底账里没有{target.floor}楼的住户，请核对楼层。", mention=False)
        return
    for home in homes:
        queries.record_visit(ctx.session, home, ctx.caller.person_id, ctx.now, target.note)
    ctx.session.flush()
    month = stairwell_month(ctx.session, place.name, ctx.now, ctx.services.config.visits.at_risk_tags)
    flats = "、".join(h.flat for h in homes)
    which = f"{target.floor}楼 {len(homes)}户（{flats}）" if target.floor is not None else flats
    note = f"：{target.note}" if target.note else ""
    ctx.reply(f"已记录走访 {place.name} {which}{note}。\n本月已走访 {month.done}/{month.total}户，"
              "/走访 本月 查看未走访名单。", mention=False)


async def month_progress(ctx: Context, args: str) -> None:
    """/走访 本月 [楼道]: one stairwell in full; a grid worker's several, one line each."""
    mine = ledger.visible_stairwells(ctx.session, ctx.caller)
    tags = ctx.services.config.visits.at_risk_tags
    here = [s for s in mine if ctx.room is not None and s.name == ctx.room.stairwell]
    if args:
        parts = stairwell_parts(args)
        here = [s for s in mine if s.name == args or (parts != (None, None) and FlatRef("", *parts).fits(s.parts))]
        if len(here) != 1:
            ctx.reply(f"没有找到您负责的楼道“{args[:12]}”。您负责：{'、'.join(s.name for s in mine) or '无'}", mention=False)
            return
    chosen_places = here or mine
    if not chosen_places:
        ctx.reply("您目前没有负责的楼道。", mention=False)
        return
    if len(chosen_places) > 1:
        months = [stairwell_month(ctx.session, s.name, ctx.now, tags) for s in chosen_places]
        lines = [m.summary(month_label(ctx.now)) if m.total else f"{m.stairwell}：底账还没有住户" for m in months]
        ctx.reply("\n".join([*lines, f"查看某个楼道的未走访名单：/走访 本月 {chosen_places[0].name}"]), mention=False)
        return
    month = stairwell_month(ctx.session, chosen_places[0].name, ctx.now, tags)
    checkon.audit_read(ctx.session, ctx.caller.person_id, ctx.now, "走访进度", [h.id for h in month.left() if h.id in month.risk])
    ctx.reply(progress_text(month, ctx.now), mention=False)


# ---- /已联系 (战时) ------------------------------------------------------------------------------

@command("已联系", roles=ledger.LEDGER_ROLES, usage=CONTACT_USAGE, help="战时：确认已联系重点人员")
async def contacted_command(ctx: Context, args: str) -> None:
    emergency = queries.open_emergency(ctx.session)
    if emergency is None or emergency.id is None or emergency.kind is None:
        ctx.reply("当前没有战时重点人员名单，无需确认。", mention=False)
        return
    found = _read(ctx, f"{CONTACT_USAGE}，如 /已联系 502 已送去棉被", args)
    if found is None:
        return
    place, target = found
    rows = queries.checks(ctx.session, emergency.id, place.name)
    homes, unknown = chosen([h for _, h in rows], target)
    if unknown or not homes:
        missing = "、".join(unknown) or f"{target.floor}楼"
        ctx.reply(f"{missing}不在{place.name}本次的重点人员名单中。{checkon.left_line(rows)}", mention=False)
        return
    ids = {h.id for h in homes}
    for check, _ in rows:
        if check.household_id in ids:
            checkon.confirm(ctx.session, check, ctx.caller.person_id, ctx.now, target.note)
    ctx.reply(f"已确认联系：{'、'.join(h.flat for h in homes)}。{checkon.left_line(rows)}", mention=False)
