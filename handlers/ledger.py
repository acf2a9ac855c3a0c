"""/底账: the stairwell's trio keeps its household ledger in chat; grid workers see their grid.

    /底账                        the caller's stairwells: households, tagged, unconfirmed
    /底账 502                    one household (the read is audited)
    /底账 502 标记 独居老人 [备注]  /底账 502 取消标记 独居老人
    /底账 502 出租 3人 房东王先生138…
    /底账 502 成员 王秀英 户主 [电话]   /底账 502 删除成员 王秀英
    /底账 502 备注 …              /底账 502 确认（上门核实过，没有变化）
    /底账 缺失                    flats never confirmed or not for ledger.stale_days

Answers are private (a staff command); phones are masked before they are stored.
"""
from __future__ import annotations

import re
from datetime import date

from bot.commands import command
from bot.context import Context
from common.flats import FlatRef, parse_flat
from storage import ledger
from storage.models import LEDGER_TAGS, Household

USAGE = "/底账 502，/底账 502 标记 独居老人，/底账 502 出租 3人 房东…，/底账 502 成员 王秀英 户主，/底账 缺失"
TAG_LIST = "、".join(LEDGER_TAGS)
LIST_LIMIT = 30  # lines of /底账 缺失 in one message
_TENANTS = re.compile(r"^(\d{1,2})\s*(?:人|个|位|名)?$")


def _today(ctx: Context) -> date:
    return ctx.services.clock.local().date()


def _split_flat(args: str) -> tuple[FlatRef | None, list[str]]:
    """The flat reference at the start ('502', '3幢 502', '5楼2号') and the words after it; staff
    on a phone often leave the spaces out ('502标记独居老人'), so the longest flat prefix wins and
    an action glued to its argument is split off."""
    text = args.strip()
    for end in range(min(len(text), 24), 0, -1):
        ref = parse_flat(text[:end].replace(" ", "")) if not text[end:end + 1].isdigit() else None
        if ref is not None:
            words = text[end:].split()
            glued = None if not words or words[0] in ACTIONS else next(
                (a for a in sorted(ACTIONS, key=len, reverse=True) if words[0].startswith(a)), None)
            return ref, ([glued, words[0][len(glued):], *words[1:]] if glued else words)
    return None, text.split()


def _confirmed(day: date | None, today: date) -> str:
    if day is None:
        return "从未核实"
    ago = (today - day).days
    return f"{day:%Y-%m-%d}核实" + (f"（{ago}天前）" if ago > 0 else "（今天）")


def describe(ctx: Context, household: Household) -> str:
    assert household.id is not None
    today = _today(ctx)
    people = [
        m.name + (f"（{'，'.join(x for x in (m.relation, m.phone) if x)}）" if m.relation or m.phone else "")
        for m in ledger.members(ctx.session, household.id)
    ]
    tags = []
    for tag in ledger.tags(ctx.session, household.id):
        extra = [f"{tag.tenants}人" if tag.tenants else "", f"房东 {tag.landlord}" if tag.landlord else "", tag.note]
        detail = "，".join(x for x in extra if x)
        tags.append(tag.tag + (f"（{detail}）" if detail else ""))
    lines = [
        f"{ledger.flat_label(household)}" + (f" · {household.grid}" if household.grid else ""),
        f"成员：{'、'.join(people) or '未登记'}",
        f"标签：{'、'.join(tags) or '无'}",
    ]
    if household.note:
        lines.append(f"备注：{household.note}")
    lines.append(_confirmed(household.last_confirmed, today))
    return "\n".join(lines)


@command(
    "底账",
    roles=ledger.LEDGER_ROLES,
    usage=USAGE,
    help="楼道底账：查看、标记、出租、成员、缺失（楼道长、信息员、保障员、网格员）",
)
async def ledger_command(ctx: Context, args: str) -> None:
    if not args.strip():
        overview(ctx)
        return
    if args.split()[0] in ("缺失", "未核实", "待核实"):
        missing(ctx)
        return
    ref, words = _split_flat(args)
    if ref is None:
        ctx.reply(f"没看懂是哪一户，请写房号，例如：{USAGE}", mention=False)
        return
    found = ledger.resolve_flat(ctx.session, ctx.caller, ref, ctx.room)
    if found.stairwell is None:
        ctx.reply(found.problem or "", mention=False)
        return
    if not words:
        show(ctx, found.stairwell, ref.flat)
        return
    action, rest = words[0], words[1:]
    handler = ACTIONS.get(action)
    if handler is None:
        ctx.reply(f"“{action[:8]}”不是底账的操作，可用：标记、取消标记、出租、成员、删除成员、备注、确认。", mention=False)
        return
    existed = ledger.find(ctx.session, found.stairwell.name, ref.flat)
    household = existed or ledger.get_or_add(ctx.session, found.stairwell, ref.flat, ctx.now)
    problem = handler(ctx, household, rest)
    if problem:
        if existed is None:  # a flat first named in a command that did not fit: not kept
            ctx.session.delete(household)
        ctx.reply(problem, mention=False)
        return
    ledger.touch(ctx.session, household, ctx.caller.person_id, ctx.now, _today(ctx))
    ledger.audit(ctx.session, ctx.caller.person_id, action, ctx.now, household.id, " ".join(rest)[:200])
    ctx.reply(f"已记录。\n{describe(ctx, household)}", mention=False)


def show(ctx: Context, place: ledger.Stairwell, flat: str) -> None:
    household = ledger.find(ctx.session, place.name, flat)
    if household is None:
        ctx.reply(f"{place.name}{flat}还没有记录。登记成员：/底账 {flat} 成员 姓名 户主", mention=False)
        return
    ledger.audit(ctx.session, ctx.caller.person_id, ledger.READ, ctx.now, household.id)
    ctx.reply(describe(ctx, household), mention=False)


def overview(ctx: Context) -> None:
    places = ledger.visible_stairwells(ctx.session, ctx.caller)
    households = ledger.in_stairwells(ctx.session, [p.name for p in places])
    stale = ledger.stale(ctx.session, [p.name for p in places], _today(ctx), ctx.services.config.ledger.stale_days)
    counts: dict[str, int] = {}
    for _household, tag in ledger.tagged(ctx.session, [p.name for p in places], LEDGER_TAGS):
        counts[tag.tag] = counts.get(tag.tag, 0) + 1
    tagged = "、".join(f"{t}{counts[t]}户" for t in LEDGER_TAGS if t in counts) or "无"
    ledger.audit(ctx.session, ctx.caller.person_id, ledger.OVERVIEW, ctx.now, None, " ".join(p.name for p in places))
    ctx.reply(
        f"底账（{'、'.join(p.name for p in places) or '无'}）：{len(households)}户，待核实{len(stale)}户\n"
        f"标签：{tagged}\n用法：{USAGE}",
        mention=False,
    )


def missing(ctx: Context) -> None:
    days = ctx.services.config.ledger.stale_days
    places = [p.name for p in ledger.visible_stairwells(ctx.session, ctx.caller)]
    rows = ledger.stale(ctx.session, places, _today(ctx), days)
    ledger.audit(ctx.session, ctx.caller.person_id, "缺失", ctx.now, None, " ".join(places))
    if not rows:
        ctx.reply(f"您负责的楼道，每户都在{days}天内核实过。", mention=False)
        return
    lines = [f"{ledger.flat_label(h)}：{_confirmed(h.last_confirmed, _today(ctx))}" for h in rows[:LIST_LIMIT]]
    more = f"\n另有{len(rows) - LIST_LIMIT}户未列出。" if len(rows) > LIST_LIMIT else ""
    ctx.reply(f"待核实（从未核实或超过{days}天）{len(rows)}户：\n" + "\n".join(lines) + more
              + "\n上门核实后：/底账 502 确认", mention=False)


# ---- changes: each returns one polite line when the words do not fit ---------------------------

def _tag(ctx: Context, household: Household, words: list[str]) -> str | None:
    tag = ledger.tag_named(words[0]) if words else None
    if tag is None:
        return f"请写标签，可用：{TAG_LIST}。例如：/底账 {household.flat} 标记 独居老人"
    assert household.id is not None
    ledger.set_tag(ctx.session, household.id, tag, _today(ctx), note=masked_note(" ".join(words[1:])))
    return None


def _untag(ctx: Context, household: Household, words: list[str]) -> str | None:
    tag = ledger.tag_named(words[0]) if words else None
    if tag is None:
        return f"请写要取消的标签，可用：{TAG_LIST}。"
    assert household.id is not None
    if not ledger.drop_tag(ctx.session, household.id, tag):
        return f"{ledger.flat_label(household)}没有“{tag}”标签。"
    return None


def _rent(ctx: Context, household: Household, words: list[str]) -> str | None:
    match = _TENANTS.match(words[0]) if words else None
    if match is None:
        return f"请写租户人数，例如：/底账 {household.flat} 出租 3人 房东王先生138…"
    landlord = " ".join(words[1:])
    landlord = re.sub(r"^房东[:：]?\s*", "", landlord).strip()
    assert household.id is not None
    ledger.set_tag(ctx.session, household.id, ledger.RENTED, _today(ctx), tenants=int(match.group(1)),
                   landlord=landlord or None)
    return None


def _member(ctx: Context, household: Household, words: list[str]) -> str | None:
    if not words or len(words[0]) > 12 or re.search(r"\d", words[0]):
        return f"请写成员姓名和与户主关系，例如：/底账 {household.flat} 成员 王秀英 户主 138…"
    name, rest = words[0], words[1:]
    phone = "".join(w for w in rest if re.search(r"\d", w)) or None  # "139 1234 5678" comes in pieces
    relation = next((w for w in rest if not re.search(r"\d", w)), "")
    assert household.id is not None
    ledger.set_member(ctx.session, household.id, name, relation[:10], phone)
    return None


def _unmember(ctx: Context, household: Household, words: list[str]) -> str | None:
    assert household.id is not None
    if not words or not ledger.drop_member(ctx.session, household.id, words[0]):
        return f"{ledger.flat_label(household)}没有登记“{(words or [''])[0][:12]}”，请核对姓名。"
    return None


def _note(ctx: Context, household: Household, words: list[str]) -> str | None:
    if not words:
        return f"请写备注内容，例如：/底账 {household.flat} 备注 子女在外地，每周来一次"
    household.note = masked_note(" ".join(words))[:200]
    return None


def _confirm(ctx: Context, household: Household, words: list[str]) -> str | None:
    assert household.id is not None
    for tag in ledger.tags(ctx.session, household.id):  # seen at the door: every tag still holds
        tag.confirmed_at = _today(ctx)
        ctx.session.add(tag)
    return None


def masked_note(text: str) -> str:
    """Free notes are masked like everything else stored (a phone in a note is still a phone)."""
    return ledger.mask_phone(text) if text else ""


ACTIONS = {
    "标记": _tag, "加标签": _tag, "取消标记": _untag, "取消": _untag, "删除标记": _untag,
    "出租": _rent, "成员": _member, "删除成员": _unmember, "移除成员": _unmember,
    "备注": _note, "确认": _confirm, "核实": _confirm,
}
