"""Finding the person a command names: an @-mention id from the transport, else a display name."""
from __future__ import annotations

from typing import Callable

from bot.context import Context
from storage import directory
from storage.models import Person

# Why a person may not be chosen here (one polite line), or None when they may.
Check = Callable[[Person], "str | None"]


def resolve_person(ctx: Context, token: str, check: Check | None = None) -> tuple[Person | None, str | None]:
    """(person, error line). Mention ids are trusted first; names must be unambiguous.

    A WeChat @ carries the id even when the group nickname in the text differs, so an "@…" token
    with exactly one mentioned person is that person. ``check`` narrows who may be chosen: among
    people sharing a name only those it accepts count, and a rejected person gets its line.
    """
    name = token.lstrip("@＠").strip().rstrip("。，,.！!；;：:、")  # "/派单 2 @周建国。": typed as a sentence
    mentioned = [p for p in (ctx.session.get(Person, pid) for pid in ctx.event.mention_ids) if p is not None]
    person = next((p for p in mentioned if p.name == name), None)
    if person is None and len(mentioned) == 1 and token.lstrip()[:1] in ("@", "＠"):
        person = mentioned[0]
    if person is not None:
        refusal = check(person) if check else None
        return (None, refusal) if refusal else (person, None)
    if not name:
        return None, "请用 @姓名 指明是谁。"
    found = directory.people_named(ctx.session, name, ctx.room.id if ctx.room else None)
    if check is not None and found:
        fits = [p for p in found if check(p) is None] or [
            p for p in directory.people_named(ctx.session, name) if check(p) is None
        ]
        if not fits:
            return None, check(found[0])
        found = fits
    if not found:
        return None, f"没有找到“{name[:12]}”，请确认对方在群里。"
    if len(found) > 1:
        return None, f"有{len(found)}位“{name[:12]}”，请在群里直接 @ 对方后再发。"
    return found[0], None
