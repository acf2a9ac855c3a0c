"""General and administrative commands: help, status, groups and roles.

Every '@姓名' an admin command names goes through one lookup (``_named_person``): a display
name is not an identity (anyone can rename themselves 周建国), so when a name, an id or an
@-mention could mean more than one person, the admin is shown who (name, group, short id)
and chooses with '@周建国#2' or by id; confirmations name the id.
"""
from __future__ import annotations

import re

from sqlalchemy import or_
from sqlmodel import col, select

from bot import commands
from bot.commands import command
from bot.config import ROLE_BY_CHINESE, ROLE_NAMES
from bot.context import Context
from handlers.ticket_commands import release_tickets
from bot.permissions import ANY_STAFF, LEGAL_ROLES
from schedules.timing import calendar_warning
from storage import directory
from storage.models import AuditEntry, Person, Room, RoomMember
from storage import outbox as outbox_queries
from storage import tickets
from storage.state import EMERGENCY_FLAG, get_flag



@command("帮助", aliases=("help", "菜单"), usage="/帮助", help="查看您可以使用的指令", answer="private")
async def help_command(ctx: Context, args: str) -> None:
    lines = ["可用指令："]
    for cmd in commands.visible_to(ctx):
        lines.append(f"{cmd.usage}  {cmd.help}")
    ctx.reply("\n".join(lines), mention=False)


@command("状态", roles=ANY_STAFF, usage="/状态", help="查看机器人运行状态")
async def status_command(ctx: Context, args: str) -> None:
    def read(session):  # off the loop, like /统计: a district's outbox has thousands unsent at times (84 ms)
        return outbox_queries.counts_by_status(session), tickets.count_open(session), get_flag(session, EMERGENCY_FLAG)

    counts, open_tickets, emergency = await ctx.read_apart(read)
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
        found = _community_grid_of(ctx, words[0])
        if found is None:
            ctx.reply(f"配置里没有楼道“{words[0][:20]}”，请先在 config.yaml 的 community 中添加。", mention=False)
            return
        room.kind, room.grid, room.stairwell = "stairwell", found, words[0]
        what = f"{found} {words[0]} 楼道群"
    ctx.session.add(room)
    ctx.reply(f"已将本群登记为{what}。", mention=False)


@command("授权", roles={"admin"}, usage="/授权 @某人 信息员 [3幢1单元]", help="授予角色", pattern=r"^\s*[@＠]\S+\s+\S+")
async def grant_command(ctx: Context, args: str) -> None:
    if _name_only_transport(ctx):
        return
    words = _words(args)
    if len(words) < 2:
        ctx.reply("请写上角色，如：/授权 @李敏 信息员 3幢1单元", mention=False)
        return
    person = _named_person(ctx, "授权", words)
    if person is None:
        return
    role = ROLE_BY_CHINESE.get(words[1], words[1])
    if role not in ROLE_NAMES or role == "resident":
        choices = "、".join(name for key, name in ROLE_NAMES.items() if key != "resident")
        ctx.reply(f"没有“{words[1][:10]}”这个角色，可选：{choices}。", mention=False)
        return
    scope = words[2] if len(words) > 2 else _default_scope(ctx, role)
    if scope is None:
        ctx.reply("请写明范围，如：/授权 @李敏 信息员 3幢1单元", mention=False)
        return
    if directory.grant(ctx.session, person.id, role, scope, ctx.caller.person_id):
        ctx.session.add(AuditEntry(at=ctx.now, actor_id=ctx.caller.person_id, action="授权", subject=f"{person.id} {role} {scope}"))
        ctx.reply(f"已授予{_who(person)}{ROLE_NAMES[role]}（{'全部' if scope == '*' else scope}）。", mention=False)
    else:
        ctx.reply(f"{_who(person)}已经是{ROLE_NAMES[role]}。", mention=False)


def _name_only_transport(ctx: Context) -> bool:
    """On a transport that knows people only by nickname, renaming is enough to pass for someone:
    staff identities are then set in config.yaml (aliases, roles), never from chat."""
    if ctx.services.stable_ids:
        return False
    ctx.reply("当前接入方式只认昵称，改名就能冒充，不能在群里授权或关联工作人员；请在 config.yaml 中设置。", mention=False)
    return True


SHORT_ID = 12  # longer ids (wxid_…) are shown, and may be typed, as their last 8 characters
_PICK = re.compile(r"^(?P<name>.+?)[#＃](?P<n>\d{1,3})$")


def short_id(person_id: str) -> str:
    return person_id if len(person_id) <= SHORT_ID else "…" + person_id[-8:]


def _who(person: Person) -> str:
    """A person in a confirmation: the name and the id, so the admin sees whom it was."""
    return f"{person.name}（{short_id(person.id)}）"


def _words(args: str) -> list[str]:
    """'@周建国 #2 保障员' -> ['@周建国#2', '保障员'] (a space before the number, as phones type it)."""
    words = args.split()
    if len(words) > 1 and re.fullmatch(r"[#＃]\d{1,3}", words[1]):
        words[0:2] = [words[0] + words[1]]
    return words


def _candidates(ctx: Context, token: str, name: str) -> list[Person]:
    """Everyone ``name`` could mean, in a stable order: people with that name anywhere (not just
    in this group), the person with that id (or a long id's last 8 characters), and the
    @-mention the message carries."""
    found = {p.id: p for p in directory.people_named(ctx.session, name)}
    key = name.lstrip("…")
    if key.isascii() and len(key) >= 4:
        stmt = select(Person).where(
            col(Person.deleted).is_(False), or_(col(Person.id) == key, col(Person.id).endswith(key, autoescape=True))
        )
        found.update({p.id: p for p in ctx.session.exec(stmt).all() if key in (p.id, short_id(p.id)[1:])})
    mentioned = [p for p in (ctx.session.get(Person, pid) for pid in ctx.event.mention_ids) if p and not p.deleted]
    if len(mentioned) == 1 and token.lstrip()[:1] in ("@", "＠"):
        found[mentioned[0].id] = mentioned[0]  # a WeChat @ carries the id even under a group nickname
    found.update({p.id: p for p in mentioned if p.name == name})
    return sorted(found.values(), key=lambda p: p.id)


def _groups_of(ctx: Context, person_id: str) -> str:
    stmt = (
        select(Room.topic).join(RoomMember, col(RoomMember.room_id) == col(Room.id))
        .where(RoomMember.person_id == person_id).order_by(Room.topic)
    )
    topics = list(ctx.session.exec(stmt).all())
    return "、".join(topics[:2]) + ("等" if len(topics) > 2 else "") if topics else "未入群"


def _choose(ctx: Context, name: str, people: list[Person], command_name: str, rest: str) -> None:
    """Refuse an ambiguous name: list who it could be and how to say which."""
    def example(who: str) -> str:
        return f"/{command_name} @{who} {rest}".strip()

    lines = [f"有{len(people)}位“{name[:12]}”，请指明是哪一位："]
    lines += [f"{i}. {p.name[:12]} · {_groups_of(ctx, p.id)} · {short_id(p.id)}" for i, p in enumerate(people, 1)]
    by_id = short_id(people[0].id).lstrip("…")
    lines.append(f"请按序号发 {example(name[:12] + '#1')}，或按编号发 {example(by_id)}")
    ctx.reply("\n".join(lines), mention=False)


def _named_person(ctx: Context, command_name: str, words: list[str]) -> Person | None:
    """The one person ``words[0]`` ('@姓名', '@姓名#2' or '@编号') names, or None after telling
    the caller why not: nobody, or more than one (listed, with how to choose)."""
    token, rest = words[0], " ".join(words[1:])
    raw = token.lstrip("@＠").strip()
    if not raw:
        ctx.reply("请用 @姓名 指明是谁。", mention=False)
        return None
    people, name = _candidates(ctx, token, raw), raw
    pick = _PICK.match(raw)
    if pick:
        name, number = pick.group("name"), int(pick.group("n"))
        listed = _candidates(ctx, token, name)
        # Someone literally named '周建国#2' makes the number ambiguous too: then only ids choose.
        if not any(p.name == raw for p in people) and 1 <= number <= len(listed):
            return listed[number - 1]
        people = sorted({p.id: p for p in people + listed}.values(), key=lambda p: p.id)
    if not people:
        ctx.reply(f"没有找到“{name[:12]}”，请确认对方在群里、名字写对了。", mention=False)
        return None
    if len(people) > 1 or pick:
        _choose(ctx, name, people, command_name, rest)
        return None
    return people[0]


def _default_scope(ctx: Context, role: str) -> str | None:
    if role == "admin":
        return "*"
    if ctx.room is None:
        return None
    if role in ("grid", *LEGAL_ROLES):  # the grid worker and 三官一律 serve a whole grid
        return ctx.room.grid
    return ctx.room.stairwell or ctx.room.grid


@command("撤销", roles={"admin"}, usage="/撤销 @某人 [角色]", help="撤销某人的角色（交接时用）", pattern=r"^\s*[@＠]")
async def revoke_command(ctx: Context, args: str) -> None:
    """Take a role back, a config.yaml one too (a grid worker replacing a 楼道长 cannot edit the
    server's file); the open tickets the person followed and may no longer see go back to the
    stairwell, so chases and overdue reminders reach whoever follows it now."""
    words = _words(args)
    person = _named_person(ctx, "撤销", words)
    if person is None:
        return
    role = ROLE_BY_CHINESE.get(words[1], words[1]) if len(words) > 1 else None
    if role is not None and (role not in ROLE_NAMES or role == "resident"):
        choices = "、".join(name for key, name in ROLE_NAMES.items() if key != "resident")
        ctx.reply(f"没有“{words[1][:10]}”这个角色，可选：{choices}。", mention=False)
        return
    held = directory.grants_for(ctx.session, person.id)
    if not ctx.services.stable_ids and any(g.source != "chat" for g in held if role in (None, g.role)):
        # known only by nickname: an impostor renamed as an admin must not unseat the real staff
        ctx.reply("当前接入方式只认昵称，配置文件中的角色请在 config.yaml 修改。", mention=False)
        return
    if _last_admin(ctx, person.id, held, role):
        ctx.reply(f"{_who(person)}是唯一的全社区管理员，不能撤销；请先授予另一位管理员。", mention=False)
        return
    removed = directory.revoke(ctx.session, person.id, role, ctx.caller.person_id, ctx.now)
    if not removed:
        ctx.reply(f"{_who(person)}没有{ROLE_NAMES[role] if role else '任何'}角色。", mention=False)
        return
    ctx.session.add(AuditEntry(at=ctx.now, actor_id=ctx.caller.person_id, action="撤销授权", subject=f"{person.id} {role or '全部'}"))
    titles = "、".join(dict.fromkeys(ROLE_NAMES.get(g.role, g.role) for g in removed))
    line = f"已撤销{_who(person)}的{len(removed)}项授权（{titles}）。"
    released = release_tickets(ctx, person)
    if released:
        numbers = "、".join(f"#{n}" for n in released)
        line += f"其跟进的未办结工单 {numbers} 已收回，改由楼道工作人员跟进；可用 /派单 {released[0]} @姓名 重新分派。"
    ctx.reply(line, mention=False)


def _last_admin(ctx: Context, person_id: str, held: list, role: str | None) -> bool:
    """Taking ``role`` from ``person_id`` would leave nobody who may grant roles again."""
    if role not in (None, "admin") or not any(g.role == "admin" and g.scope == "*" for g in held):
        return False
    return not [p for p in directory.admins(ctx.session) if p.id != person_id]


@command("成员", roles=ANY_STAFF, usage="/成员", help="查看本群成员和角色（私信给您）", rooms_only=True)
async def members_command(ctx: Context, args: str) -> None:
    assert ctx.room is not None
    lines = [f"{ctx.room.topic} 成员："]
    for person in directory.room_members(ctx.session, ctx.room.id):
        roles = sorted({ROLE_NAMES[g.role] for g in directory.grants_for(ctx.session, person.id)})
        lines.append(f"{person.name}" + (f"（{'、'.join(roles)}）" if roles else ""))
    ctx.reply("\n".join(lines), mention=False)


@command("关联", roles={"admin"}, usage="/关联 @某人 人员编号", help="把群里的某人对应到配置中的人员（如 officer-li）",
         pattern=r"^\s*[@＠]\S+\s+\S+")
async def link_command(ctx: Context, args: str) -> None:
    """Correct the identity mapping: this WeChat account is that configured person."""
    if _name_only_transport(ctx):
        return
    words = _words(args)
    person_id = words[1] if len(words) > 1 else ""
    target = ctx.session.get(Person, person_id)
    if target is None:
        ctx.reply(f"配置中没有人员编号“{person_id[:20]}”。", mention=False)
        return
    found = _named_person(ctx, "关联", words)
    if found is None:
        return
    directory.link_alias(ctx.session, ctx.event.transport, found.id, target.id)
    ctx.session.add(AuditEntry(at=ctx.now, actor_id=ctx.caller.person_id, action="关联身份",
                               subject=f"{ctx.event.transport}:{found.id} -> {target.id}"))
    ctx.reply(f"已关联：群里的“{_who(found)}”就是{target.name}（{target.id}）。", mention=False)
