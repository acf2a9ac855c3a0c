"""Chat commands: a registry filled by a decorator, and the one place permissions are checked.

A command declares its names, the roles allowed to use it, an optional argument
pattern (so one word can mean two things, e.g. /撤销 12 and /撤销 @某人) and a
one-line help. Handlers never check roles themselves.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Awaitable, Callable

from bot.context import Context
from bot.permissions import allowed, describe_roles

log = logging.getLogger(__name__)

Handler = Callable[[Context, str], Awaitable[None]]
PREFIXES = ("/", "／")


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
) -> Callable[[Handler], Handler]:
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
            )
        )
        return handler

    return register


_COMMAND_START = re.compile(r"^\s*[/／][\u4e00-\u9fffA-Za-z]")


def is_command(text: str) -> bool:
    """'/工单 12' is a command; WeChat's emoji codes like '/::)' or '/:?' are not."""
    return bool(_COMMAND_START.match(text))


def parse(text: str) -> tuple[str, str]:
    """'/派单 12 @周建国' -> ('派单', '12 @周建国')."""
    body = text.lstrip()[1:].strip()
    name, _, args = body.partition(" ")
    if not find(name):
        # '/战时开启 台风' -> ('战时', '开启 台风'): the longest command name the text starts with.
        known = sorted((n for c in REGISTRY for n in (c.name, *c.aliases) if name.startswith(n)), key=len)
        if known and not known[-1].isascii():
            return known[-1], body[len(known[-1]):].strip()
    if not _:
        # Chinese users often omit the space: '/工单12' -> ('工单', '12').
        match = re.match(r"^(\D+?)(\d.*)$", name)
        if match and find(match.group(1)):
            return match.group(1), match.group(2).strip()
    return name, args.strip()


def find(name: str) -> list[Command]:
    return [c for c in REGISTRY if name == c.name or name in c.aliases]


def visible_to(ctx: Context) -> list[Command]:
    seen: set[str] = set()
    out = []
    for cmd in REGISTRY:
        if allowed(ctx.caller, ctx.room, cmd.roles) and cmd.usage not in seen:
            seen.add(cmd.usage)
            out.append(cmd)
    return out


async def run_command(ctx: Context, text: str) -> None:
    name, args = parse(text)
    candidates = find(name)
    if not candidates:
        ctx.reply(f"没有“/{name[:10]}”这个指令，发送 /帮助 查看可用指令。", mention=False)
        return
    matching = [c for c in candidates if c.pattern is None or c.pattern.search(args)]
    if not matching:
        ctx.reply(f"指令格式不对，用法：{candidates[0].usage}", mention=False)
        return
    permitted = [c for c in matching if allowed(ctx.caller, ctx.room, c.roles)]
    if not permitted:
        needed = describe_roles(matching[0].roles)
        ctx.reply(f"抱歉，“/{name}”仅限{needed}使用。", mention=False)
        log.info("command refused: /%s by %s", name, ctx.caller.person_id)
        return
    cmd = permitted[0]
    if cmd.rooms_only and ctx.room is None:
        ctx.reply(f"“/{name}”请在群里使用。", mention=False)
        return
    await cmd.handler(ctx, args)
