"""Transport-neutral events and messages.

Transports translate their own objects into these frozen dataclasses; nothing
past this boundary ever sees a transport library's types.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Incoming:
    """One chat message as the core sees it."""

    transport: str
    message_id: str
    room_id: str | None  # the transport's room id; None for a private chat
    room_topic: str | None
    sender_id: str
    sender_name: str
    text: str
    mentions_bot: bool = False
    mention_ids: tuple[str, ...] = ()
    sent_at: datetime | None = None  # aware UTC; None means "now"
    is_self: bool = False
    # The sender reads the answers where they asked (the staff console's forms): answers to the
    # sender come back in the replies only, never queued to their chat; everything else as usual.
    inline_answers: bool = False


@dataclass(frozen=True)
class RoomJoined:
    """Someone (possibly the bot itself) joined a room."""

    transport: str
    room_id: str
    room_topic: str | None
    member_ids: tuple[str, ...] = ()
    member_names: tuple[str, ...] = ()
    bot_joined: bool = False


@dataclass(frozen=True)
class RoomLeft:
    transport: str
    room_id: str
    room_topic: str | None
    member_ids: tuple[str, ...] = ()
    bot_left: bool = False


@dataclass(frozen=True)
class Connected:
    transport: str
    self_id: str = ""
    self_name: str = ""


@dataclass(frozen=True)
class Disconnected:
    transport: str
    reason: str = ""


Event = Incoming | RoomJoined | RoomLeft | Connected | Disconnected


@dataclass(frozen=True)
class Outgoing:
    """A message to send: to a room (``room_id``) or to a person (``to``).

    Ids are the transport's ids; ``mentions`` are person ids to @.
    """

    text: str
    room_id: str | None = None
    to: str | None = None
    mentions: tuple[str, ...] = field(default=())
    key: str = ""  # the outbox's idempotency key; transports that can dedup sends use it

    def __post_init__(self) -> None:
        if (self.room_id is None) == (self.to is None):
            raise ValueError("Outgoing needs exactly one of room_id or to")


@dataclass
class Handled:
    """What the bot decided about one incoming message (nulls where not applicable).

    Handlers fill it in; the web chat API returns it and conversation tests assert on it,
    so decisions can be checked without parsing the wording of replies.
    """

    route: str | None = None  # petition | legal | notice | other | command | receipt | rating | ...
    category: str | None = None
    urgent: bool | None = None
    ticket: int | None = None  # the ticket opened or joined
    joined: bool | None = None  # True: the message joined an open ticket
    consultation: int | None = None  # L<n>
    notice_receipt: int | None = None  # the notice a receipt counted for
    rating: str | None = None

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


class Replies(list):
    """The replies an event queued (a list of Outgoing), with the decision behind them."""

    def __init__(self, items=(), handled: Handled | None = None) -> None:
        super().__init__(items)
        self.handled = handled or Handled()
