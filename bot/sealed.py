"""Texts that must reach the transport but never the database (a /登录 link's one-time token).

The outbox row keeps a stored text with the secret left out; the real text waits here, in this
process's memory, under the row's key, and the outbox worker sends it instead (bot.outbox). The
message log copies the row, so it never sees the secret either. A real text lost to a crash or a
restart, or held by another process, is simply not sent: the row's own text goes out, which says
to ask again (a login link is only good for minutes anyway).
"""
from __future__ import annotations

import time
from typing import Callable

KEEP_SECONDS = 15 * 60.0  # longer than a login link lives (storage.console.TOKEN_LIFETIME)


class Sealed:
    def __init__(self, keep: float = KEEP_SECONDS, clock: Callable[[], float] = time.monotonic) -> None:
        self.keep, self.clock = keep, clock
        self._texts: dict[str, tuple[float, str]] = {}

    def put(self, key: str, text: str) -> None:
        now = self.clock()
        for old in [k for k, (at, _) in self._texts.items() if now - at > self.keep]:
            del self._texts[old]  # never sent (a rolled-back reply, another process's row)
        self._texts[key] = (now, text)

    def get(self, key: str) -> str | None:
        found = self._texts.get(key)
        return found[1] if found is not None and self.clock() - found[0] <= self.keep else None

    def drop(self, key: str) -> None:
        self._texts.pop(key, None)

    def __len__(self) -> int:
        return len(self._texts)
