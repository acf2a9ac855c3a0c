"""The cyclic garbage collector and the event loop (issue 15).

A full collection walks every tracked object while holding the GIL, so the event loop, and
every chat, waits for it. On the district (``bench/volume.py``) full collections took 100–250 ms:
during the start (the config, the tables and the routers being built) and in worker threads
that build a district's rows (the overdue check, ``/回执``, ``/统计``). Two remedies:

- the start runs with the collector off and ends by freezing what it built (``gc.freeze``):
  what lives for the whole process is never walked again;
- bulk work in a worker thread pauses the collector while it runs: what it builds is freed by
  reference counting when it ends, so a collection meanwhile would find nothing to free.

Pauses nest and may overlap across threads; the collector runs again when the last one ends.
"""
from __future__ import annotations

import asyncio
import gc
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

T = TypeVar("T")

_lock = threading.Lock()
_pauses = 0


def pause() -> None:
    global _pauses
    with _lock:
        _pauses += 1
        gc.disable()


def resume() -> None:
    global _pauses
    with _lock:
        _pauses = max(0, _pauses - 1)
        if _pauses == 0:
            gc.enable()


@contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic collection while the block runs (in any thread)."""
    pause()
    try:
        yield
    finally:
        resume()


async def bulk_in_thread(func: Callable[..., T], /, *args: object) -> T:
    """``asyncio.to_thread(func, *args)`` with the collector paused while ``func`` runs: for work
    that builds many objects at once (a district's rows), never for a long-running loop."""
    def run() -> T:
        with collector_paused():
            return func(*args)

    return await asyncio.to_thread(run)


class StartPause:
    """The collector paused from a process's start until :meth:`settle` (or :meth:`end`, when
    the start failed); each ends the pause once."""

    def __init__(self) -> None:
        self._open = True
        pause()

    def settle(self) -> None:
        """Started: freeze what the start built and let the collector run. No collection first:
        on the district it found ~2,000 garbage objects among 145,000 and took 0.13 s of the start;
        those few stay frozen (tens of kilobytes, once)."""
        if self._open:
            gc.freeze()
            self.end()

    def end(self) -> None:
        if self._open:
            self._open = False
            resume()
