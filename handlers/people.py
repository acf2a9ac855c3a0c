"""Finding the person a command names: an @-mention id from the transport, else a display name."""
from __future__ import annotations

from bot.context import Context
from storage import directory
from storage.models import Person


def resolve_person(ctx: Context, token: str) -> tuple[Person | None, str | None]:
    """(person, error line). Mention ids are trusted first; names must be unambiguous."""
    name = token.lstrip("@＠").strip()
    for person_id in ctx.event.mention_ids:
        person = ctx.session.get(Person, person_id)
        if person is not None and person.name == name:
            return person, None
    if not name:
        return None, "请用 @姓名 指明是谁。"
    found = directory.people_named(ctx.session, name, ctx.room.id if ctx.room else None)
    if not found:
        return None, f"没有找到“{name}”，请确认对方在群里。"
    if len(found) > 1:
        return None, f"有{len(found)}位“{name}”，请在群里直接 @ 对方后再发。"
    return found[0], None
