"""SQLite's WAL checkpoints in a thread of their own, never inside a message's COMMIT.

By default SQLite checkpoints in whichever COMMIT grows the write-ahead log past 1,000 pages:
the dispatcher commits on the event loop, and on a district's 1.4 GB file that commit copied the
log's pages back and synced the file, 0.5-0.8 s in which no message was handled (the longest
chat message in bench/volume.py, every few thousand messages). The bot's engine turns automatic
checkpoints off (create_db_engine(..., checkpoints_apart=True)) and a Checkpointer runs a PASSIVE
checkpoint every few seconds in a daemon thread: it never takes the write lock, so the loop's
writers go on meanwhile, and the sqlite3 module releases the GIL while it copies and syncs.

Other processes on the same file (the CLI, a second bot) keep SQLite's default; PostgreSQL has
no such work in the client, so no thread is started for it.
"""
from __future__ import annotations

import logging
import threading

from sqlalchemy.engine import Engine

log = logging.getLogger(__name__)

INTERVAL_SECONDS = 5.0
AUTOCHECKPOINT_OFF = "stairwell_checkpoints_apart"  # engine option set by create_db_engine


def apart(engine: Engine) -> bool:
    """Whether ``engine``'s connections leave checkpoints to a Checkpointer."""
    return bool(engine.dialect.name == "sqlite" and engine.__dict__.get(AUTOCHECKPOINT_OFF))


def checkpoint(engine: Engine) -> tuple[int, int, int]:
    """One PASSIVE checkpoint: (busy, frames in the log, frames copied back into the file)."""
    raw = engine.raw_connection()  # autocommit at the driver level: no BEGIN around the PRAGMA
    try:
        cursor = raw.cursor()
        busy, frames, copied = cursor.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        cursor.close()
        return int(busy), int(frames), int(copied)
    finally:
        raw.close()


class Checkpointer:
    """Checkpoints ``engine``'s SQLite log every ``interval`` seconds until stopped."""

    def __init__(self, engine: Engine, interval: float = INTERVAL_SECONDS) -> None:
        self.engine = engine
        self.interval = interval
        self.runs = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if not apart(self.engine) or self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="sqlite-checkpoints", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.run_once()

    def run_once(self) -> None:
        try:
            checkpoint(self.engine)
            self.runs += 1
        except Exception:  # a locked or vanished file: the next run tries again
            log.warning("WAL checkpoint failed", exc_info=True)

    def stop(self) -> None:
        """Stop the thread and leave the log checkpointed (the last connection's close does the rest)."""
        if self._thread is None:
            return
        self._stop.set()
        self._thread.join()
        self._thread = None
        self.run_once()
