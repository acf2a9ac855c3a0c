"""Stopping background tasks."""
from __future__ import annotations

import asyncio
import contextlib


async def cancel_and_wait(task: asyncio.Task) -> None:
    """Cancel ``task`` and wait until it has ended; how it ended no longer matters (it is stopping)."""
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await task
