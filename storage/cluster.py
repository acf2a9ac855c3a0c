"""Several bot processes on one database: who is alive, and one lock per process for leadership.

Each process has an id (``INSTANCE``) that it writes into the outbox rows it claims. On
PostgreSQL a process keeps one dedicated connection open, named ``stairwell:<INSTANCE>``
(application_name): while it is in ``pg_stat_activity`` the process is alive; when the process
dies (even SIGKILL) the server ends the session, and with it every advisory lock it held. The
scheduler's leadership is such a lock (schedules.scheduler.Leadership). SQLite is for one
process: there a file lock stands in for the advisory lock and only this process is alive.
"""
from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from typing import Iterable, TextIO

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

try:
    import fcntl
except ImportError:  # Windows: one process, always the leader
    fcntl = None  # type: ignore[assignment]  # the module is absent there; None says so

log = logging.getLogger(__name__)

INSTANCE = f"{socket.gethostname()[:20]}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
APP_PREFIX = "stairwell:"


def lock_key(name: str) -> int:
    """A stable signed 64-bit key for pg_advisory_lock."""
    return int.from_bytes(uuid.uuid5(uuid.NAMESPACE_URL, f"stairwell/{name}").bytes[:8], "big", signed=True)


class Presence:
    """This process's dedicated connection (PostgreSQL) or lock files (SQLite)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.postgres = engine.dialect.name == "postgresql"
        self._conn: Connection | None = None
        self._files: dict[str, TextIO] = {}
        self._held: set[str] = set()  # advisory locks taken on the current connection
        self._mutex = threading.RLock()  # the leadership check runs in a worker thread

    def _connection_unlocked(self) -> Connection:
        if self._conn is not None and not self._conn.closed and not self._conn.invalidated:
            return self._conn
        self.close()
        conn = self.engine.connect()
        conn.execute(text("SELECT set_config('application_name', :name, false)"), {"name": APP_PREFIX + INSTANCE})
        conn.commit()
        self._conn = conn
        return conn

    def _try_lock_unlocked(self, name: str) -> bool:
        if not self.postgres:
            return self._try_file_lock(name)
        if name in self._held and self.check():
            return True  # pg_try_advisory_lock again would stack a second hold
        conn = self.connection()
        got = bool(conn.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": lock_key(name)}).scalar())
        conn.commit()
        if got:
            self._held.add(name)
        return got

    def _try_file_lock(self, name: str) -> bool:
        database = self.engine.url.database
        if fcntl is None or not database or database == ":memory:" or database.startswith("file:"):
            return True
        if name in self._files:
            return True
        handle = open(f"{database}-{name}.lock", "a")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return False
        self._files[name] = handle
        return True

    def _check_unlocked(self) -> bool:
        if not self.postgres:
            return True
        if self._conn is None:
            return False
        try:
            self._conn.execute(text("SELECT 1")).scalar()
            self._conn.commit()
            return True
        except Exception:
            log.warning("the process's own database connection was lost; its locks are gone")
            self.close()
            return False

    def connection(self) -> Connection:
        """The open dedicated connection, (re)connected if needed; its locks die with it."""
        with self._mutex:
            return self._connection_unlocked()

    def try_lock(self, name: str) -> bool:
        """Take (or keep) a lock held as long as this process lives; False when another holds it."""
        with self._mutex:
            return self._try_lock_unlocked(name)

    def check(self) -> bool:
        """True while the dedicated connection (and so every lock on it) is still there."""
        with self._mutex:
            return self._check_unlocked()

    def close(self) -> None:
        """Release every lock now (another process may take over at once) and drop the connection."""
        with self._mutex:
            self._close_unlocked()

    def alive(self, instances: Iterable[str | None]) -> set[str]:
        """Which of ``instances`` are processes still running (this one always is)."""
        wanted = {i for i in instances if i}
        if not self.postgres or not wanted - {INSTANCE}:
            return wanted & {INSTANCE}
        with self.engine.connect() as conn:
            names = conn.execute(
                # This database only: other databases on the same server have bots of their own.
                text("SELECT DISTINCT application_name FROM pg_stat_activity "
                     "WHERE application_name LIKE :p AND datname = current_database()"),
                {"p": APP_PREFIX + "%"},
            ).scalars().all()
        return ({n[len(APP_PREFIX):] for n in names} | {INSTANCE}) & wanted

    def _close_unlocked(self) -> None:
        self._held.clear()
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                if not conn.invalidated:
                    conn.execute(text("SELECT pg_advisory_unlock_all()"))
                    conn.commit()
            except Exception:  # a dead connection: its session, and so its locks, are gone
                pass
            try:
                conn.invalidate()  # never back to the pool: it carries this process's name
                conn.close()
            except Exception:
                pass
        for handle in self._files.values():
            handle.close()
        self._files.clear()
