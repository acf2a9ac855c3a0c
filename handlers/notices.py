"""Notices: /通知 with preview and /确认, plain notices, receipts (回执) and emergency mode (战时)."""
from __future__ import annotations

import re
from datetime import datetime, timedelta

from sqlmodel import Session

from bot.commands import command
from bot.context import Context
from bot.permissions import Caller
from bot.services import Services
from storage import directory
from storage import notices as queries
from storage.models import Notice, Room
from storage.state import clear_flag, get_flag, set_flag

NOTICE_ROLES = {"leader", "officer", "support", "grid"}
EMERGENCY_ROLES = {"grid"}  # and admin, who may do everything
CONFIRM_WINDOW = timedelta(minutes=2)
CHASE_AFTER = timedelta(minutes=30)
EMERGENCY_PRIORITY = 10
RECEIPT = re.compile(r"^(收到|收到了|已收到|已阅|已读|好的|好|知道了|明白|明白了|ok|OK|Ok)[\s!！。.~～👌👍🙏🌹]*$")
SCOPE_WORDS = {"本楼", "本群", "网格", "全部"}
TRIO = {"leader", "officer", "support"}


def render_notice(text: str, author: str, title: str, emergency: bool) -> str:
    head = "【紧急通知】" if emergency else "【通知】"
    return f"{head}{text}\n——{title}{author}\n收到请回复“收到”。"


def covered_rooms(session: Session, caller: Caller) -> list[Room]:
    """Groups in which the caller holds a staff role."""
    staff = NOTICE_ROLES | {"admin"}
    return [r for r in directory.rooms(session) if r.kind != "unbound" and caller.covers(r, staff)]


def resolve_targets(ctx: Context, args: str) -> tuple[list[Room], str, str | None]:
    """(rooms, content, error). The first word may name the scope or groups, else: this group."""
    word, _, rest = args.partition(" ")
    mine = covered_rooms(ctx.session, ctx.caller)
    all_rooms = [r for r in directory.rooms(ctx.session) if r.kind != "unbound"]
    if word in SCOPE_WORDS:
        content = rest.strip()
        if word in ("本楼", "本群"):
            rooms = [ctx.room] if ctx.room else []
            if not rooms:
                return [], content, "私聊中请写明群名或“网格”“全部”。"
        elif word == "网格":
            grids = {ctx.room.grid} if ctx.room and ctx.room.grid else set(ctx.caller.scopes(frozenset(NOTICE_ROLES)))
            rooms = [r for r in mine if r.grid in grids]
        else:
            rooms = mine
    else:
        names = [n for n in re.split(r"[,，、]", word) if n]
        named = [r for r in all_rooms if r.topic in names or r.stairwell in names or r.grid in names]
        if named and rest.strip():
            rooms, content = named, rest.strip()
        elif ctx.room is not None:
            rooms, content = [ctx.room], args.strip()
        else:
            return [], args, "请写明发给哪个群，如：/通知 3幢1单元楼道群 内容"
    outside = [r.topic for r in rooms if r not in mine]
    if outside:
        return [], content, f"抱歉，您不能向{'、'.join(outside)}发通知。"
    if not rooms:
        return [], content, "没有找到可发送的群。"
    if not content:
        return [], content, "通知内容不能为空。用法：/通知 [本楼|网格|全部|群名] 内容"
    return rooms, content, None


def send_notice(
    services: Services, session: Session, *, author_id: str, author_name: str, title: str,
    text: str, rooms: list[Room], source: str = "command", key_prefix: str | None = None,
) -> tuple[int, int]:
    """Log a notice and queue it to ``rooms``; returns (notice number, messages queued).

    ``key_prefix`` makes a repeated send (a scheduled job run twice) queue nothing new.
    """
    now = services.clock.now()
    emergency = get_flag(session, "emergency") is not None
    body = render_notice(text, author_name, title, emergency)
    priority = EMERGENCY_PRIORITY if emergency else 0

    def queue_all(prefix: str) -> int:
        return sum(
            services.queue(session, key=f"{prefix}:{room.id}", text=body, room=room, priority=priority)
            for room in rooms
        )

    if key_prefix:  # a scheduled run: queue first, and log a notice only if this run is new
        queued = queue_all(key_prefix)
        if not queued:
            return 0, 0
    notice = queries.create_notice(
        session, author_id=author_id, text=text, rooms=rooms, at=now, source=source, emergency=emergency
    )
    if not key_prefix:
        queued = queue_all(f"notice:{notice.id}")
    return notice.id or 0, queued


@command("通知", roles=NOTICE_ROLES, usage="/通知 [本楼|网格|全部|群名] 内容", help="发通知（多个群需 /确认）")
async def notice_command(ctx: Context, args: str) -> None:
    rooms, content, error = resolve_targets(ctx, args)
    if error:
        ctx.reply(error, mention=False)
        return
    if len(rooms) == 1 and rooms[0] == ctx.room:
        notice_id = _send(ctx, content, rooms)
        ctx.private(ctx.caller.person_id, f"通知 N{notice_id} 已发出，/回执 {notice_id} 查看确认情况。")
        return
    pending = {"text": content, "rooms": [r.id for r in rooms], "expires": (ctx.now + CONFIRM_WINDOW).isoformat()}
    set_flag(ctx.session, f"pending-notice:{ctx.caller.person_id}", pending, ctx.now)
    names = "、".join(r.topic for r in rooms)
    ctx.reply(f"将向{len(rooms)}个群发送：{names}\n内容：{content}\n请在2分钟内回复 /确认 发送。", mention=False)


@command("确认", roles=NOTICE_ROLES, usage="/确认", help="确认发送刚才预览的通知")
async def confirm_command(ctx: Context, args: str) -> None:
    key = f"pending-notice:{ctx.caller.person_id}"
    pending = get_flag(ctx.session, key)
    if not pending:
        ctx.reply("没有待确认的通知。", mention=False)
        return
    clear_flag(ctx.session, key)
    if datetime.fromisoformat(pending["expires"]) < ctx.now:
        ctx.reply("确认已超时（2分钟），请重新发送 /通知。", mention=False)
        return
    rooms = [r for r in (ctx.session.get(Room, rid) for rid in pending["rooms"]) if r is not None]
    notice_id = _send(ctx, pending["text"], rooms)
    ctx.reply(f"通知 N{notice_id} 已排队发往{len(rooms)}个群，/回执 {notice_id} 查看确认情况。", mention=False)


def _send(ctx: Context, text: str, rooms: list[Room]) -> int:
    """Send now; returns the notice number."""
    notice_id, _ = send_notice(
        ctx.services, ctx.session, author_id=ctx.caller.person_id, author_name=ctx.caller.name,
        title=ctx.caller.title_in(ctx.room), text=text, rooms=rooms,
    )
    return notice_id


async def on_notice(ctx: Context, category: str | None) -> None:
    """A plain message that routed to notice: staff notices are tracked; residents' only logged."""
    if ctx.room is None:
        return
    staff = ctx.caller.covers(ctx.room, NOTICE_ROLES)
    queries.create_notice(
        ctx.session, author_id=ctx.caller.person_id, text=ctx.masked_text, rooms=[ctx.room], at=ctx.now,
        source="plain" if staff else "resident", tracked=staff,
        emergency=staff and get_flag(ctx.session, "emergency") is not None,
    )


def try_receipt(ctx: Context, text: str) -> bool:
    """收到 / 已阅 / 好的 after a tracked notice in this group counts as a receipt (silently)."""
    if ctx.room is None or not RECEIPT.match(text.strip()):
        return False
    notice = queries.latest_tracked_notice(ctx.session, ctx.room.id, ctx.now)
    if notice is None:
        return False
    if not ctx.caller.covers(ctx.room, NOTICE_ROLES | {"lawyer"}):  # residents' receipts only
        queries.add_receipt(ctx.session, notice, ctx.caller.person_id, ctx.room.id, ctx.now)
        ctx.handled.notice_receipt = notice.id
    return True


def unconfirmed(session: Session, notice: Notice) -> list[tuple[Room, list[str]]]:
    """Per target group: names of members who have not confirmed (author and staff excluded)."""
    got = queries.receipts_by_room(session, notice.id or 0)
    out: list[tuple[Room, list[str]]] = []
    for room in queries.targets(session, notice.id or 0):
        staff_ids = {p.id for p in directory.people_with_roles(session, NOTICE_ROLES | {"lawyer"}, room)}
        staff_ids |= {p.id for p in directory.admins(session)}  # as in try_receipt: staff don't confirm
        members = directory.room_members(session, room.id)
        missing = [
            p.name for p in members
            if p.id not in got.get(room.id, set()) and p.id != notice.author_id and p.id not in staff_ids
        ]
        out.append((room, missing))
    return out


@command("回执", roles=NOTICE_ROLES, usage="/回执 N", help="查看通知N的确认情况", pattern=r"^\s*[Nn#]?\d+\s*$")
async def receipts_command(ctx: Context, args: str) -> None:
    digits = re.sub(r"\D", "", args)
    notice = ctx.session.get(Notice, int(digits)) if len(digits) <= 9 else None
    if notice is None:
        ctx.reply("没有找到这条通知。", mention=False)
        return
    mine = {r.id for r in covered_rooms(ctx.session, ctx.caller)}
    rooms = [(room, missing) for room, missing in unconfirmed(ctx.session, notice) if room.id in mine]
    if not rooms:
        ctx.reply("这条通知发往的群不在您负责的范围内。", mention=False)
        return
    got = queries.receipts_by_room(ctx.session, notice.id or 0)
    lines = [f"通知 N{notice.id} 回执："]
    for room, missing in rooms:
        lines.append(f"{room.topic}：已确认{len(got.get(room.id, set()))}人；未确认{len(missing)}人")
        if missing:
            lines.append("  未确认：" + "、".join(missing))
    # Names of who has not confirmed go to the asker privately, never to the whole group.
    ctx.private(ctx.caller.person_id, "\n".join(lines))


@command("战时", roles=EMERGENCY_ROLES, usage="/战时 开启 原因 | /战时 关闭", help="开启或关闭战时（紧急）模式",
         pattern=r"^\s*(开启|关闭)")
async def emergency_command(ctx: Context, args: str) -> None:
    match = re.match(r"^\s*(开启|关闭)[\s,，:：、]*(.*)$", args, re.S)
    assert match  # the command's pattern guarantees it
    action, reason = match.group(1), match.group(2)
    if action == "开启":
        set_flag(ctx.session, "emergency", {"reason": reason.strip() or "紧急情况", "by": ctx.caller.person_id}, ctx.now)
        ctx.reply(
            f"已开启战时模式（{reason.strip() or '紧急情况'}）：通知优先发送，30分钟后向各楼道推送未确认名单，新诉求一律按紧急处理。",
            mention=False,
        )
    else:
        clear_flag(ctx.session, "emergency")
        ctx.reply("已关闭战时模式。", mention=False)


def chase_unconfirmed(services: Services, session: Session) -> int:
    """Emergency notices older than 30 minutes: each group's trio gets its non-confirmers, once."""
    sent = 0
    for notice in queries.unchased_emergency_notices(session, services.clock.now() - CHASE_AFTER):
        for room, missing in unconfirmed(session, notice):
            trio = directory.people_with_roles(session, TRIO, room) or directory.responsible_staff(session, room)
            text = (
                f"【战时回执】通知 N{notice.id}（{room.topic}）30分钟未确认{len(missing)}人："
                + ("、".join(missing) if missing else "无")
                + ("\n请电话或上门联系。" if missing else "")
            )
            for person in trio:
                sent += services.queue(session, key=f"chase:{notice.id}:{room.id}:{person.id}", to=person.id, text=text)
            sent += services.to_staff_channel(session, key=f"chase:{notice.id}:{room.id}", text=text)
        notice.chased = True
        session.add(notice)
    return sent

