"""Console actions through the chat commands' own code path (one implementation, two front ends).

A form builds the command text ("/处理 12 已联系物业") and ``run_as`` hands it to the app's
dispatcher as a private message from the staff member (transport "console"): the message is
logged, permissions are checked by the command's declaration, the handler runs, and what the
group, the reporters and other staff get is queued in the outbox exactly as if typed in chat.
Only the answers to the staff member themself stay out of their chat: they come back here
(``Incoming.inline_answers``) for the page to show.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bot.events import Incoming, Replies
from bot.permissions import Caller
from bot.transports.base import REFUSALS

if TYPE_CHECKING:
    from bot.app import Stairwell

CONSOLE = "console"  # Incoming.transport of console actions (the messages log shows where they came from)
MAX_TEXT = 1000


@dataclass
class Outcome:
    answers: list[str] = field(default_factory=list)  # what the staff member is told
    ok: bool = True  # False: the message was not taken (busy, failed); answers say why
    duplicate: bool = False  # the same form was sent twice: the first one counted


async def run_as(
    app: "Stairwell", caller: Caller, text: str, *, mention_ids: tuple[str, ...] = (), nonce: str | None = None
) -> Outcome:
    """Run the chat command ``text`` as ``caller`` in a private chat. ``mention_ids``: the people
    @-ed in it (as a WeChat @ carries their ids); ``nonce``: the form's one-time id, so a form sent
    twice (a double click, a reload) is handled once (the log's duplicate check)."""
    message_id = f"{CONSOLE}:{caller.person_id}:{nonce or uuid.uuid4().hex}"[:128]
    event = Incoming(
        transport=CONSOLE,
        message_id=message_id,
        room_id=None,
        room_topic=None,
        sender_id=caller.person_id,
        sender_name=caller.name,
        text=text[:MAX_TEXT],
        mention_ids=mention_ids,
        inline_answers=True,
    )
    replies = await app.on_event(event)
    route = replies.handled.route if isinstance(replies, Replies) else None
    if route in REFUSALS:
        return Outcome(["系统繁忙，操作没有完成，请稍后再试。"], ok=False)
    if route == "duplicate":
        return Outcome(duplicate=True)
    return Outcome([r.text for r in replies if r.to == caller.person_id])
