"""General and administrative commands: help, status, groups and roles."""
from __future__ import annotations

from bot import commands
from bot.commands import command
from bot.config import ROLE_BY_CHINESE, ROLE_NAMES
from bot.context import Context
from handlers.people import resolve_person
from schedules.timing import calendar_warning
from storage import directory
from storage.models import AuditEntry, Person
from storage import outbox as outbox_queries
from storage import tickets
from storage.state import get_flag

STAFF = {"leader", "officer", "support", "grid", "lawyer"}


@command("帮助", aliases=("help", "菜单"), usage="/帮助", help="查看您可以使用的指令")
async def help_command(ctx: Context, args: str) -> None:
    lines = ["可用指令："]
    for cmd in commands.visible_to(ctx):
        lines.append(f"{cmd.usage}  {cmd.help}")
    ctx.reply("\n".join(lines), mention=False)


@command("状态", roles=STAFF, usage="/状态", help="查看机器人运行状态")
async def status_command(ctx: Context, args: str) -> None:
    counts = outbox_queries.counts_by_status(ctx.session)
    open_tickets = len(tickets.list_tickets(ctx.session, limit=10_000))
    emergency = get_flag(ctx.session, "emergency")
    lines = [
        f"运行正常。未办结工单 {open_tickets} 件；待发消息 {counts.get('queued', 0)} 条，"
        f"发送失败 {counts.get('failed', 0)} 条。",
        f"战时模式：{'开启（' + emergency.get('reason', '') + '）' if emergency else '关闭'}",
    ] + [w for w in [calendar_warning(ctx.now)] if w]
    ctx.reply("\n".join(lines), mention=False)


def _community_grid_of(ctx: Context, stairwell: str) -> str | None:
    for grid in ctx.services.config.community.grids:
        if any(s.name == stairwell for s in grid.stairwells):
            return grid.name
    return None


@command("绑定", roles={"admin"}, usage="/绑定 3幢1单元 | /绑定 法律 网格A", help="把本群登记为某楼道群或法润民生群",
         rooms_only=True, pattern=r"\S")
async def bind_command(ctx: Context, args: str) -> None:
    assert ctx.room is not None
    words = args.split()
    room = ctx.room
    if words[0] in ("法律", "法润", "法润民生"):
        grids = [g.name for g in ctx.services.config.community.grids]
        grid = words[1] if len(words) > 1 else (grids[0] if len(grids) == 1 else "")
        if grid not in grids:
            ctx.reply(f"请写明网格，可选：{'、'.join(grids)}", mention=False)
            return
        room.kind, room.grid, room.stairwell = "legal", grid, None
        what = f"{grid}法润民生群"
    else:
        grid = _community_grid_of(ctx, words[0])
        if grid is None:
            ctx.reply(f"配置里没有楼道“{words[0][:20]}”，请先在 config.yaml 的 community 中添加。", mention=False)
            return
        room.kind, room.grid, room.stairwell = "stairwell", grid, words[0]
        what = f"{grid} {words[0]} 楼道群"
    ctx.session.add(room)
    ctx.reply(f"已将本群登记为{what}。", mention=False)


@command("授权", roles={"admin"}, usage="/授权 @某人 信息员 [3幢1单元]", help="授予角色", pattern=r"^\s*[@＠]\S+\s+\S+")
async def grant_command(ctx: Context, args: str) -> None:
    if _name_only_transport(ctx):
        return
    words = args.split()
    person = _named_person(ctx, words[0])
    if person is None:
        return
    role = ROLE_BY_CHINESE.get(words[1], words[1])
    if role not in ROLE_NAMES or role == "resident":
        ctx.reply(f"没有“{words[1][:10]}”这个角色，可选：楼道长、信息员、保障员、网格员、法律顾问、管理员。", mention=False)
        return
    scope = words[2] if len(words) > 2 else _default_scope(ctx, role)
    if scope is None:
        ctx.reply("请写明范围，如：/授权 @李敏 信息员 3幢1单元", mention=False)
        return
    if directory.grant(ctx.session, person.id, role, scope, ctx.caller.person_id):
        ctx.session.add(AuditEntry(at=ctx.now, actor_id=ctx.caller.person_id, action="授权", subject=f"{person.id} {role} {scope}"))
        ctx.reply(f"已授予{person.name}{ROLE_NAMES[role]}（{'全部' if scope == '*' else scope}）。", mention=False)
    else:
        ctx.reply(f"{person.name}已经是{ROLE_NAMES[role]}。", mention=False)


def _name_only_transport(ctx: Context) -> bool:
    """On a transport that knows people only by nickname, renaming is enough to pass for someone:
    staff identities are then set in config.yaml (aliases, roles), never from chat."""
    if ctx.services.stable_ids:
        return False
    ctx.reply("当前接入方式只认昵称，改名就能冒充，不能在群里授权或关联工作人员；请在 config.yaml 中设置。", mention=False)
    return True


def _named_person(ctx: Context, token: str) -> Person | None:
    """The person an '@姓名' names, or None after telling the caller why not (one line)."""
    person, error = resolve_person(ctx, token)
    if error or person is None:
        ctx.reply(error or "没有找到此人。", mention=False)
    return person if not error else None


def _default_scope(ctx: Context, role: str) -> str | None:
    if role == "admin":
        return "*"
    if ctx.room is None:
        return None
    if role in ("grid", "lawyer"):
        return ctx.room.grid
    return ctx.room.stairwell or ctx.room.grid


@command("撤销", roles={"admin"}, usage="/撤销 @某人 [角色]", help="撤销在群里授予的角色", pattern=r"^\s*[@＠]")
async def revoke_command(ctx: Context, args: str) -> None:
    words = args.split()
    person = _named_person(ctx, words[0])
    if person is None:
        return
    role = ROLE_BY_CHINESE.get(words[1], words[1]) if len(words) > 1 else None
    removed = directory.revoke_chat_grants(ctx.session, person.id, role)
    if removed:
        ctx.session.add(AuditEntry(at=ctx.now, actor_id=ctx.caller.person_id, action="撤销授权", subject=f"{person.id} {role or '全部'}"))
        ctx.reply(f"已撤销{person.name}的{removed}项授权。", mention=False)
    else:
        ctx.reply(f"{person.name}没有在群里授予的角色（配置文件中的角色请在 config.yaml 修改）。", mention=False)


@command("成员", roles=STAFF, usage="/成员", help="查看本群成员和角色（私信给您）", rooms_only=True)
async def members_command(ctx: Context, args: str) -> None:
    assert ctx.room is not None
    lines = [f"{ctx.room.topic} 成员："]
    for person in directory.room_members(ctx.session, ctx.room.id):
        roles = sorted({ROLE_NAMES[g.role] for g in directory.grants_for(ctx.session, person.id)})
        lines.append(f"{person.name}" + (f"（{'、'.join(roles)}）" if roles else ""))
    ctx.private(ctx.caller.person_id, "\n".join(lines))


@command("关联", roles={"admin"}, usage="/关联 @某人 人员编号", help="把群里的某人对应到配置中的人员（如 officer-li）",
         pattern=r"^\s*[@＠]\S+\s+\S+")
async def link_command(ctx: Context, args: str) -> None:
    """Correct the identity mapping: this WeChat account is that configured person."""
    if _name_only_transport(ctx):
        return
    token, person_id = args.split()[:2]
    found, error = resolve_person(ctx, token)
    target = ctx.session.get(Person, person_id)
    if error or found is None or target is None:
        ctx.reply(error or f"配置中没有人员编号“{person_id[:20]}”。", mention=False)
        return
    directory.link_alias(ctx.session, ctx.event.transport, found.id, target.id)
    ctx.session.add(AuditEntry(at=ctx.now, actor_id=ctx.caller.person_id, action="关联身份",
                               subject=f"{ctx.event.transport}:{found.id} -> {target.id}"))
    ctx.reply(f"已关联：群里的“{found.name}”就是{target.name}（{target.id}）。", mention=False)
