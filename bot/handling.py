"""The registry of what handles a non-command message, and of lifecycle events.

Handler modules register themselves when imported (``load_handlers`` imports every module of
the handlers package): each route step declares a cheap predicate (``acts``) saying whether it
may act on a message, and the work it does. The dispatcher asks the registry; a message no step
acts on is chatter and takes the fast path (one INSERT, one COMMIT), so that path is derived from
the steps themselves rather than mirrored by hand.
"""
from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.context import Context
    from bot.permissions import Caller
    from nlp.router import Route
    from storage.models import Room

Decision = tuple[str, str | None]  # (route label, category) stored with the message


@dataclass(frozen=True)
class Probe:
    """What a predicate may look at: no session, no query (it runs for every message)."""

    text: str
    route: Route
    room: Room | None
    caller: Caller
    mentions_bot: bool


Acts = Callable[[Probe], bool]
Run = Callable[["Context", str, "Route"], Awaitable[Decision | None]]


@dataclass(frozen=True)
class Step:
    name: str
    order: int  # lower runs first
    acts: Acts
    run: Run  # the decision, or None to let later steps try
    # The decision it usually ends with when it differs from the route's ("收到" is a receipt):
    # stored with the message at once, so the row is not updated after the step.
    usually: Decision | None = None


_steps: dict[str, Step] = {}
_lifecycle: list[Callable[..., Any]] = []


def route_step(name: str, order: int, acts: Acts, usually: Decision | None = None) -> Callable[[Run], Run]:
    """Register ``run`` as the step ``name``; importing a module again replaces, not duplicates."""

    def register(run: Run) -> Run:
        _steps[name] = Step(name, order, acts, run, usually)
        return run

    return register


def steps() -> list[Step]:
    return sorted(_steps.values(), key=lambda s: s.order)


def acting(probe: Probe) -> list[Step]:
    """The steps that may act on this message, in order; none: chatter (the fast path)."""
    return [s for s in steps() if s.acts(probe)]


async def run_steps(ctx: Context, text: str, probe: Probe) -> Decision:
    for step in acting(probe):
        decision = await step.run(ctx, text, probe.route)
        if decision is not None:
            return decision
    return probe.route.label, probe.route.category


def lifecycle_handler(handle: Callable[..., Any]) -> Callable[..., Any]:
    """Register the one handler of joins, leaves and (dis)connections."""
    _lifecycle[:] = [handle]
    return handle


def lifecycle() -> Callable[..., Any]:
    load_handlers()
    return _lifecycle[0]


def load_handlers(package: str = "handlers") -> None:
    """Import every module of ``package`` so its decorators fill the registries (idempotent)."""
    pkg = importlib.import_module(package)
    for info in pkgutil.iter_modules(pkg.__path__, f"{package}."):
        importlib.import_module(info.name)
