"""The one seam between the core and any chat network."""
from __future__ import annotations

from typing import TYPE_CHECKING, Awaitable, Callable, Protocol, Sequence, runtime_checkable

from bot.events import Event, Outgoing

if TYPE_CHECKING:
    from bot.webapi import StorageViews
    from bot.webserver import WebServer

# The core's handler returns the replies that handling queued (transports may ignore them).
EventHandler = Callable[[Event], Awaitable[Sequence[Outgoing] | None]]


# Decisions (Handled.route) that mean "this message was NOT taken": a transport that can answer
# its sender (HTTP) says so instead of a 200, so the sender retries or learns why.
NOT_STORED = "not_stored"  # the database stayed busy: retry later (503)
FAILED = "failed"  # an unexpected error before the message was stored (500)
CONFLICT = "conflict"  # this message id was already used in another room or by another sender (409)
REFUSALS: dict[str, tuple[int, str]] = {
    NOT_STORED: (503, "busy: the message was not stored, please retry"),
    FAILED: (500, "internal error: the message was not stored"),
    CONFLICT: (409, "message_id already used in another room or by another sender"),
}


def refusal(replies: object) -> tuple[int, str] | None:
    """(HTTP status, error) when the core did not take the message, else None."""
    handled = getattr(replies, "handled", None)
    return REFUSALS.get(getattr(handled, "route", None) or "")


class TransportError(Exception):
    """A send failed; ``retryable`` says whether the outbox should try again."""

    def __init__(self, message: str, *, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable


@runtime_checkable
class Transport(Protocol):
    """What the core needs from a chat network.

    ``start`` begins delivering events to ``on_event`` and returns once the
    transport is running (it must not block for the transport's lifetime).
    ``send`` returns the transport's id of the sent message, or raises
    :class:`TransportError`. The optional capabilities are declared here and
    defaulted by :class:`TransportBase`, which every transport extends.
    """

    name: str
    # True when sending the same Outgoing.key twice delivers it once (so the outbox may
    # safely resend a message that was in flight when the process died).
    idempotent_sends: bool
    # False when people are known only by display name (ids change at every login).
    stable_ids: bool
    # True when the link is up only after a Connected event (e.g. a WeChat login);
    # the app then keeps the scheduler paused until that event.
    connects_later: bool
    # True when the sender learns from the answer whether a message was stored (an HTTP 200 or
    # 503) and may send it again: its messages are committed durably before the answer. False
    # (WeChat via wechaty: nobody is told, nothing is resent): the dispatcher's COMMIT does not
    # wait for the disk on PostgreSQL (storage.db.lazy_commit_engine says what that risks).
    acknowledges: bool
    # The port a transport serving HTTP listens on once started (None: none, or not yet).
    bound_port: int | None
    # A transport that serves pages on the app's web server (the web chat): where that server
    # listens. None: the server (the staff console) listens on config web.host:web.port.
    web_address: tuple[str, int] | None

    def bind_views(self, views: StorageViews) -> None: ...

    def use_web(self, server: WebServer) -> None: ...

    async def start(self, on_event: EventHandler) -> None: ...

    async def stop(self) -> None: ...

    async def send(self, message: Outgoing) -> str: ...


class TransportBase:
    """The defaults of the optional capabilities: a transport overrides what it has."""

    idempotent_sends: bool = False
    stable_ids: bool = True
    connects_later: bool = False
    acknowledges: bool = False
    bound_port: int | None = None
    web_address: tuple[str, int] | None = None

    def bind_views(self, views: StorageViews) -> None:
        """Given the storage views (rooms, history) at start; only a transport that shows them keeps them."""

    def use_web(self, server: WebServer) -> None:
        """Given the app's web server before it starts, to add routes to (``server.app``); only a
        transport with pages of its own uses it. Not called when the config turns them off."""
