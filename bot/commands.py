"""Chat commands: a registry filled by a decorator, and the one place permissions are checked.

A command declares its names, the roles allowed to use it, an optional argument
pattern (so one word can mean two things, e.g. /撤销 12 and /撤销 @某人), a
one-line help, and where its answers go. Handlers never check roles themselves, and
never decide where ``ctx.reply`` goes: staff commands answer privately (a residents'
group sees at most one short "已私信您" line), residents' commands answer where asked.
Refusals and "unknown command" lines go privately too, at most one per sender a minute.
"""
from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Awaitable, Callable, Literal

from bot.context import Context
from bot.permissions import allowed, describe_roles
from storage.state import get_flag, set_flag

log = logging.getLogger(__name__)

Handler = Callable[[Context, str], Awaitable[None]]
Answer = Literal["private", "here", "secret"]
REFUSAL_INTERVAL = timedelta(minutes=1)  # at most one refusal line per sender in this time
POINTER = "已私信您。"  # the one line a group sees when a staff command was answered privately
POINTER_INTERVAL = timedelta(minutes=10)  # per sender and group: once told, they know where to look


@dataclass(frozen=True)
class Command:
    name: str
    aliases: tuple[str, ...]
    roles: frozenset[str]  # empty: everyone
    usage: str
    help: str
    handler: Handler
    pattern: re.Pattern[str] | None = None
    rooms_only: bool = False  # must be used inside a group
    private_only: bool = False  # must be used in a private chat with the bot (e.g. /登录's link)
    # "private": answers go to the caller (or stay in a staff group); "here": where it was asked;
    # "secret": to the caller alone, and the group is not even told so (a vote).
    answer: Answer = "here"


REGISTRY: list[Command] = []


def command(
    name: str,
    *,
    roles: set[str] | frozenset[str] = frozenset(),
    aliases: tuple[str, ...] = (),
    usage: str = "",
    help: str = "",
    pattern: str | None = None,
    rooms_only: bool = False,
    private_only: bool = False,
    answer: Answer | None = None,
) -> Callable[[Handler], Handler]:
    """Register a command. ``answer`` defaults to "private" for staff commands (any ``roles``)
    and "here" for everyone's commands."""

    def register(handler: Handler) -> Handler:
        REGISTRY.append(
            Command(
                name=name,
                aliases=aliases,
                roles=frozenset(roles),
                usage=usage or f"/{name}",
                help=help,
                handler=handler,
                pattern=re.compile(pattern) if pattern else None,
                rooms_only=rooms_only,
                private_only=private_only,
                answer=answer or ("private" if roles else "here"),
            )
        )
        return handler

    return register


_COMMAND_START = re.compile(r"^\s*[/／][\u4e00-\u9fffA-Za-zＡ-Ｚａ-ｚ]")


def is_command(text: str) -> bool:
    """'/工单 12' is a command; WeChat's emoji codes like '/::)' or '/:?' are not."""
    return bool(_COMMAND_START.match(text))


# A Chinese phone keyboard in full-width mode: its spaces, digits and letters read as ASCII in the
# arguments ('/通知　全部　…', '/答复　Ｌ１　…'); its punctuation ('，' '。') stays as typed.
_WIDE_ARGS = str.maketrans(
    {"\u3000": " ", **{chr(0xFF10 + i): str(i) for i in range(10)},
     **{chr(0xFF21 + i): chr(0x41 + i) for i in range(26)}, **{chr(0xFF41 + i): chr(0x61 + i) for i in range(26)}}
)


# What a phone puts between a command and its arguments besides a space: '/处理，#1 …', '/通知：…'
_SEPARATORS = " ，,：:、;；"


def parse(text: str) -> tuple[str, str]:
    """'/派单 12 @周建国' -> ('派单', '12 @周建国')."""
    body = text.translate(_WIDE_ARGS).lstrip()[1:].strip()
    raw_name, _, args = body.partition(" ")
    name = unicodedata.normalize("NFKC", raw_name)  # '／ＨＥＬＰ' is '/HELP'
    if not find(name):
        # '/战时开启 台风' -> ('战时', '开启 台风'): the longest command name the text starts with.
        known = sorted((n for c in REGISTRY for n in (c.name, *c.aliases) if name.startswith(n)), key=len)
        if known and not known[-1].isascii():
            return known[-1], _after(body, known[-1]).lstrip(_SEPARATORS).strip()
    if not _:
        # Chinese users often omit the space: '/工单12' -> ('工单', '12').
        match = re.match(r"^(\D+?)(\d.*)$", name)
        if match and find(match.group(1)):
            return match.group(1), _after(raw_name, match.group(1)).strip()
    return name, args.strip()


def _after(raw: str, name: str) -> str:
    """``raw`` after the characters that read as the command ``name``: only the name is normalized,
    the arguments stay as typed ('/处理1已报物业，明天来' keeps its '，' for the residents' group)."""
    for end in range(len(raw) + 1):
        if unicodedata.normalize("NFKC", raw[:end]) == name:
            return raw[end:]
    return raw[len(name):]


def _fold(name: str) -> str:
    """ASCII names match in any case (/HELP, /Help are /help); Chinese names as written."""
    return name.casefold() if name.isascii() else name


def find(name: str) -> list[Command]:
    key = _fold(name)
    return [c for c in REGISTRY if key in (_fold(n) for n in (c.name, *c.aliases))]


def visible_to(ctx: Context) -> list[Command]:
    seen: set[str] = set()
    out = []
    for cmd in REGISTRY:
        if allowed(ctx.caller, ctx.room, cmd.roles) and cmd.usage not in seen:
            seen.add(cmd.usage)
            out.append(cmd)
    return out


def said_lately(ctx: Context, key: str, interval: timedelta) -> bool:
    """Whether the line ``key`` names was sent within ``interval``; if not, it counts as sent now."""
    last = get_flag(ctx.session, key)
    if last and ctx.now - datetime.fromisoformat(last["at"]) < interval:
        return True
    set_flag(ctx.session, key, {"at": ctx.now.isoformat()}, ctx.now)
    return False


def refuse(ctx: Context, text: str) -> None:
    """A refusal or "unknown command" line: privately, and at most one per sender per
    REFUSAL_INTERVAL (a flood of bad commands costs the group nothing and the sender one line)."""
    if said_lately(ctx, f"refused:{ctx.caller.person_id}", REFUSAL_INTERVAL):
        log.info("refusal to %s not sent (one a minute): %s", ctx.caller.person_id, text[:40])
        return
    ctx.private(ctx.caller.person_id, text)


def _point_to_private(ctx: Context) -> None:
    """The group's one "已私信您" line for a command answered privately, when the group saw
    nothing else; once per sender and group per POINTER_INTERVAL (a resident repeating /帮助
    cannot make the bot post in the group again and again)."""
    if ctx.room is None or not ctx.needs_pointer():
        return
    if not said_lately(ctx, f"pointed:{ctx.room.id}:{ctx.caller.person_id}", POINTER_INTERVAL):
        ctx.to_room(ctx.room, f"@{ctx.caller.name} {POINTER}", mentions=(ctx.caller.person_id,))


# Names staff type for a command that has another (blind replay s31j): the usage to point to
SAID_FOR: dict[str, tuple[str, str]] = {
    "转派": ("/派单 编号 @姓名", "转给别人"), "转单": ("/派单 编号 @姓名", "转给别人"), "改派": ("/派单 编号 @姓名", "转给别人"),
    "结单": ("/办结 编号 说明", "办结"), "完结": ("/办结 编号 说明", "办结"), "结案": ("/办结 编号 说明", "办结"),
}


async def run_command(ctx: Context, text: str) -> None:
    name, args = parse(text)
    candidates = find(name)
    if not candidates:
        meant = SAID_FOR.get(re.sub(r"[\d０-９]+$", "", name))  # "/转派 1 @周建国": staff say it so; the command is /派单
        hint = f"要{meant[1]}请用 {meant[0]}；" if meant else ""
        refuse(ctx, f"没有“/{name[:10]}”这个指令，{hint}发送 /帮助 查看可用指令。")
        return
    matching = [c for c in candidates if c.pattern is None or c.pattern.search(args)]
    if not matching:  # every form of the name the caller may use (/进度 12；/进度 A3)
        mine = [c for c in candidates if allowed(ctx.caller, ctx.room, c.roles)] or candidates
        refuse(ctx, f"指令格式不对，用法：{'；'.join(dict.fromkeys(c.usage for c in mine))}")
        return
    permitted = [c for c in matching if allowed(ctx.caller, ctx.room, c.roles)]
    if not permitted:
        needed = describe_roles(matching[0].roles)
        refuse(ctx, f"抱歉，“/{name}”仅限{needed}使用。")
        log.info("command refused: /%s by %s", name, ctx.caller.person_id)
        return
    cmd = permitted[0]
    if cmd.rooms_only and ctx.room is None:
        refuse(ctx, f"“/{name}”请在群里使用。")
        return
    if cmd.private_only and ctx.room is not None:
        refuse(ctx, f"“/{name}”请在与我的私聊中使用。")
        return
    # A staff group (room kind "staff") is where staff answers belong; elsewhere they go privately.
    ctx.answer_privately = cmd.answer == "secret" or (
        cmd.answer == "private" and not (ctx.room is not None and ctx.room.kind == "staff"))
    await cmd.handler(ctx, args)
    if ctx.answer_privately and cmd.answer != "secret":
        _point_to_private(ctx)
