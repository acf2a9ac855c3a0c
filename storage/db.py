"""Engine set-up: SQLite with WAL, a busy timeout and foreign keys; PostgreSQL as well."""
from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import re
import sqlite3
import threading
import time
from pathlib import Path
from typing import Iterator

from sqlalchemy import event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError, OperationalError, SQLAlchemyError
from sqlalchemy.pool import Pool
from sqlmodel import create_engine

from storage import models, state  # noqa: F401  (registers every table: migrations compare with them)

try:
    import fcntl
except ImportError:  # Windows: start one process at a time there
    fcntl = None  # type: ignore[assignment]  # the module is absent there; None says so

log = logging.getLogger(__name__)


# How long a write waits for a lock another connection or process holds. SQLite's own busy
# handler waits this long for a deferred transaction; writers (see writer()) wait in short
# steps and the caller retries asynchronously within the same budget (see retry_busy).
BUSY_TIMEOUT_SECONDS = 5.0
_WRITER_STEP_MS = 50  # one BEGIN IMMEDIATE blocks the event loop at most this long
_BEGIN_OPTION = "stairwell_begin"
_WRITER = "_stairwell_writer"


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # Let SQLAlchemy emit BEGIN itself so SAVEPOINTs work with pysqlite.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(_busy_timeout_pragma())
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin(conn) -> None:
    if conn.get_execution_options().get(_BEGIN_OPTION) != "immediate":
        # Deferred: with WAL, readers (the job store, the web chat's views) never wait for a writer.
        conn.exec_driver_sql("BEGIN")
        return
    # A writer takes the write lock at once: a deferred transaction that read first and then
    # writes fails at once (SQLITE_BUSY_SNAPSHOT, no busy wait) when another connection wrote
    # in between. It waits only a moment here; the caller retries (retry_busy).
    # The PRAGMAs go to the driver directly: every message of the bot begins so, and through
    # SQLAlchemy each costs ~50 µs of Python for a few µs of SQLite.
    raw = conn.connection.dbapi_connection
    held = isinstance(raw, WriterTurns) and raw.take_turn()
    raw.execute(f"PRAGMA busy_timeout={_WRITER_STEP_MS}")
    try:
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    except BaseException:
        if held:
            raw.end_turn()
        raise
    finally:
        raw.execute(_busy_timeout_pragma())


WRITER_TURNS = True  # bench/writer_turns.py compares with and without, in one process


class WriterTurns(sqlite3.Connection):
    """A connection of the bot's engine: its writers take turns through an in-process lock
    before BEGIN IMMEDIATE, and give the turn back once COMMIT or ROLLBACK has finished.

    The event loop and the outbox threads write to one file. Meeting SQLite's write lock, a
    writer sleeps in SQLite's busy handler — 1, 2, 5, 10 ms steps — however soon the lock is
    free: after the overdue check queued its digests, 2–3% of the district's petitions waited
    1.7–5.5 ms that way behind an outbox thread's commit of well under a millisecond. Waiting on
    the turn instead wakes as soon as it is given back. The turn is a courtesy between this
    process's connections (another process still meets SQLite's lock): a writer that cannot have
    it within the writer step goes on to BEGIN IMMEDIATE as before, so a turn never given back
    costs a writer at most that step."""

    turns: threading.Lock | None = None  # the database file's (set on connect)
    holding = False

    def take_turn(self) -> bool:
        if self.turns is None or self.holding or not WRITER_TURNS:
            return False
        self.holding = self.turns.acquire(timeout=_WRITER_STEP_MS / 1000)
        return self.holding

    def end_turn(self) -> None:
        if self.holding:
            self.holding = False
            assert self.turns is not None
            self.turns.release()

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self.end_turn()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self.end_turn()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self.end_turn()


_TURNS: dict[str, threading.Lock] = {}  # database file -> its writers' turn
_TURNS_GUARD = threading.Lock()


def _turns_for(database: str) -> threading.Lock:
    with _TURNS_GUARD:
        return _TURNS.setdefault(str(Path(database).resolve()), threading.Lock())


def _busy_timeout_pragma() -> str:
    return f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_SECONDS * 1000)}"  # read each time: tests shorten it


def writer(engine: Engine) -> Engine:
    """``engine`` (same pool) for sessions that write: on SQLite they begin with BEGIN IMMEDIATE.

    Use it where a transaction reads and then writes and a failure must be retried or reported
    (the dispatcher, the outbox); plain ``engine`` sessions stay deferred, so reads never wait.
    """
    found = engine.__dict__.get(_WRITER)  # kept on the engine: it holds the engine itself
    if found is None:
        found = engine.__dict__[_WRITER] = engine.execution_options(**{_BEGIN_OPTION: "immediate"})
    return found


def is_busy(exc: BaseException) -> bool:
    """True when a database error means "not now" (a lock held elsewhere, a lost connection),
    so the same work may succeed when retried; False for errors a retry cannot fix."""
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    if not isinstance(exc, OperationalError):
        return False
    if exc.orig is not None and type(exc.orig).__module__.startswith("sqlite3"):
        message = str(exc.orig).lower()
        return "locked" in message or "busy" in message
    return True  # PostgreSQL: lock timeouts, serialization failures, deadlocks, connection loss


async def retry_busy(work, *, budget: float | None = None):
    """Await ``work()`` again while it fails with a busy database, for ``budget`` seconds
    (default BUSY_TIMEOUT_SECONDS); the last error propagates. ``work`` must roll back on failure."""
    deadline = time.monotonic() + (BUSY_TIMEOUT_SECONDS if budget is None else budget)
    delay = 0.02
    while True:
        try:
            return await work()
        except Exception as exc:
            if not is_busy(exc) or time.monotonic() + delay > deadline:
                raise
            log.info("database busy; retrying in %.2fs", delay)
        await asyncio.sleep(delay)
        delay = min(delay * 2, 0.25)


_IGNORING: dict[tuple, object] = {}


def insert_ignoring_duplicates(table, dialect: str, keys: tuple[str, ...], returning: str):
    """``INSERT … ON CONFLICT (keys) DO NOTHING RETURNING returning`` for ``table`` on SQLite and
    PostgreSQL (one statement: a duplicate returns no row and leaves the transaction usable);
    None on other databases, where callers fall back to a SAVEPOINT. Built once per table."""
    cache_key = (table.name, dialect, keys, returning)
    if cache_key not in _IGNORING:
        from sqlalchemy.dialects import postgresql, sqlite

        module = {"sqlite": sqlite, "postgresql": postgresql}.get(dialect)
        _IGNORING[cache_key] = (
            module.insert(table).on_conflict_do_nothing(index_elements=list(keys)).returning(table.c[returning])
            if module is not None else None
        )
    return _IGNORING[cache_key]


def _no_autocheckpoint(dbapi_connection, _record) -> None:
    dbapi_connection.execute("PRAGMA wal_autocheckpoint=0")  # storage.checkpoints runs them apart


def create_db_engine(url: str, checkpoints_apart: bool = False) -> Engine:
    """An engine for ``url``; creates the SQLite file's folder if needed. ``checkpoints_apart``:
    no COMMIT checkpoints SQLite's log, a storage.checkpoints.Checkpointer must (the bot's)."""
    return _engine(url, checkpoints_apart)


def lazy_commit_engine(engine: Engine) -> Engine:
    """For the event loop's message transactions: on PostgreSQL an engine (a small pool of its
    own) whose COMMIT does not wait for the write-ahead log to reach the disk; elsewhere ``engine``.

    Why: on a VM's disk that wait is 1–100 ms (up to 0.7 s seen), and the event loop, on which
    every chat waits, sat in it for each message. What it risks: a crash of the PostgreSQL
    server (not of the bot) within ~0.6 s of a message may lose that message and what it queued,
    as if it had arrived a moment later. What it does not: nothing the bot says is sent before
    the transaction that made it is on disk, because the outbox claims each row with a
    synchronous COMMIT before sending it, and that flushes the log up to the claim, past every
    earlier commit (the log is one sequence). ``tests/test_lazy_commit.py`` shows both.
    """
    if engine.dialect.name != "postgresql":
        return engine
    lazy = _engine(engine.url.render_as_string(hide_password=False), options="-c synchronous_commit=off",
                   pool_size=2, max_overflow=3)
    lazy.__dict__[_PRIMARY] = engine  # one database: one directory cache (storage.directory)
    return lazy


_PRIMARY = "stairwell_primary"


def primary(engine: Engine) -> Engine:
    """The app's engine for ``engine`` (itself, or what a writer() or lazy engine stands for)."""
    engine = getattr(engine, "_proxied", engine)  # a writer() engine proxies the engine
    return engine.__dict__.get(_PRIMARY, engine)


def _engine(url: str, checkpoints_apart: bool = False, options: str | None = None, **pool: int) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        # hide_parameters: a logged database error must never print residents' texts.
        connect_args: dict = {"check_same_thread": False, "timeout": 5}
        turns = _turns_for(database) if database and database != ":memory:" else None
        if turns is not None:
            connect_args["factory"] = WriterTurns  # see there: the writers of one file take turns
        engine = create_engine(url, connect_args=connect_args, hide_parameters=True)
        if turns is not None:
            event.listen(engine, "connect", lambda dbc, _rec: setattr(dbc, "turns", turns))
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        if checkpoints_apart:
            from storage.checkpoints import AUTOCHECKPOINT_OFF

            event.listen(engine, "connect", _no_autocheckpoint)
            engine.__dict__[AUTOCHECKPOINT_OFF] = True
        return engine
    if parsed.drivername == "postgresql":
        url = parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    if options and parsed.query.get("options"):  # the URL's own server options ("?options=-csearch_path=…") stay
        given = parsed.query["options"]
        options = " ".join([*((given,) if isinstance(given, str) else given), options])
    engine = create_engine(url, hide_parameters=True, connect_args={"options": options} if options else {}, **pool)
    event.listen(engine.pool, "checkin", _stamp_checkin)
    event.listen(engine.pool, "checkout", lambda dbc, record, _proxy: _ping_if_idle(engine, dbc, record))
    return engine


# A pooled connection idle this long is pinged before use (the server may have restarted, or a
# firewall dropped it). Not at every checkout (pool_pre_ping): on PostgreSQL each ping is a round
# trip, one of a petition's thirteen; a connection lost in between fails one transaction, which
# its caller retries (retry_busy: connection_invalidated).
PING_AFTER_IDLE_SECONDS = 10.0
_CHECKED_IN = "stairwell_checked_in"


def _stamp_checkin(_dbapi_connection, record) -> None:
    record.info[_CHECKED_IN] = time.monotonic()


def _ping_if_idle(engine: Engine, dbapi_connection, record) -> None:
    idle_since = record.info.get(_CHECKED_IN)
    if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE_SECONDS:
        return  # new, or in use a moment ago
    try:
        engine.dialect.do_ping(dbapi_connection)
    except Exception as exc:
        raise DisconnectionError("a pooled connection no longer answers") from exc  # the pool connects anew


MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations" / "versions"


def newest_revision() -> str:
    """The newest revision's id, from the files' names (``0010_staff_console_logins.py`` →
    "0010"; revision ids are the files' numbers, ``tests/test_migrations.py`` checks it)."""
    return max(p.name.split("_", 1)[0] for p in MIGRATIONS_DIR.glob("[0-9][0-9][0-9][0-9]_*.py"))


def at_newest_revision(engine: Engine) -> bool:
    """One SELECT: is the database at the newest revision already (every restart but an
    upgrade's)? Then Alembic (0.1–0.2 s of imports) is not loaded at all."""
    try:
        with engine.connect() as conn:
            recorded = [row[0] for row in conn.execute(text("SELECT version_num FROM alembic_version"))]
    except SQLAlchemyError:  # no such table: empty, or release 0.1's database
        return False
    return recorded == [newest_revision()]


def init_schema(engine: Engine) -> None:
    """Bring the database to this program's schema: Alembic migrations (storage/migrations),
    under startup_lock; raises SchemaError (one line for the operator) for a newer database."""
    if at_newest_revision(engine):
        return
    from storage.migrations import upgrade  # imports Alembic only when there is work for it

    upgrade(engine)


_STARTUP_LOCK_KEY = int.from_bytes(b"sw-start", "big")  # any fixed bigint for pg_advisory_lock
_startup_held = threading.local()


@contextlib.contextmanager
def startup_lock(engine: Engine) -> Iterator[None]:
    """One process at a time, for the writes every start makes (migrations, config seeding):
    two bots starting at once on one database would otherwise both create or insert the same
    rows. A PostgreSQL advisory lock, or a file lock beside a SQLite file; re-entrant within a
    thread, released when the process dies."""
    key = engine.url.render_as_string(hide_password=False)
    held = _startup_held.__dict__.setdefault("urls", set())
    if key in held:
        yield
        return
    held.add(key)
    try:
        with _process_lock(engine):
            yield
    finally:
        held.discard(key)


@contextlib.contextmanager
def _process_lock(engine: Engine) -> Iterator[None]:
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:  # a session-level lock, on a connection of its own
            conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _STARTUP_LOCK_KEY})
            conn.commit()
            try:
                yield
            finally:
                try:
                    conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _STARTUP_LOCK_KEY})
                    conn.commit()
                except Exception:  # a dead connection: its session, and so the lock, is gone
                    conn.invalidate()
        return
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if fcntl is None or not database or database == ":memory:" or database.startswith("file:"):
        yield  # another database, an in-memory one, or Windows: nothing to share or no flock
        return
    with open(f"{database}-startup.lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # released when the file closes, even on a crash
        yield


# ---- directory change tracking -----------------------------------------------------------
# In-process caches of rooms, people, memberships, aliases and grants (storage.directory) are
# valid for one "directory version". Any INSERT/UPDATE/DELETE on those tables, or any DDL,
# through any SQLAlchemy engine in this process marks the connection; when that connection's
# transaction ends (commit or rollback) the version is bumped, and bumped again when the
# connection goes back to the pool, i.e. after the database commit itself. A cache entry is
# only stored by a transaction that began at the current version and wrote nothing to these
# tables, so no reader can keep an entry older than a committed change. Writers outside this
# process (another bot process, raw sqlite3) are not seen: see DirectoryCache.max_age.
DIRECTORY_TABLES = frozenset({"rooms", "people", "person_aliases", "role_grants", "room_members"})
_DML = re.compile(
    r'^\s*(?:INSERT(?:\s+OR\s+\w+)?\s+INTO|REPLACE\s+INTO|UPDATE(?:\s+OR\s+\w+)?|DELETE\s+FROM)\s+"?(\w+)',
    re.IGNORECASE,
)
_DIRTY = "stairwell.directory_dirty"
_BUMP_ON_CHECKIN = "stairwell.directory_bump"
_BEGAN_AT = "stairwell.directory_began_at"
_version = itertools.count(1)
_current = [0]


def directory_version() -> int:
    return _current[0]


def bump_directory_version() -> None:
    """Forget every cached directory entry (rooms, people, memberships, aliases, grants)."""
    _current[0] = next(_version)


def _track_statement(conn, _cursor, statement: str, _params, _context, _many) -> None:
    head = statement[:8].lstrip().upper()
    if head.startswith(("SELECT", "WITH", "PRAGMA", "SAVEPOIN", "RELEASE", "BEGIN", "COMMIT", "ROLLBACK")):
        return
    if head.startswith(("CREATE", "DROP", "ALTER", "TRUNCATE")):
        conn.info[_DIRTY] = True
        return
    match = _DML.match(statement)
    if match is None or match.group(1).lower() in DIRECTORY_TABLES:
        conn.info[_DIRTY] = True  # unknown statement shapes count as changes


def _track_begin(conn) -> None:
    conn.info[_BEGAN_AT] = _current[0]


def _track_end(conn) -> None:
    if conn.info.pop(_DIRTY, False):
        bump_directory_version()
        conn.info[_BUMP_ON_CHECKIN] = True
    conn.info.pop(_BEGAN_AT, None)


def _track_checkin(_dbapi_connection, record) -> None:
    if record is not None and record.info.pop(_BUMP_ON_CHECKIN, False):
        bump_directory_version()
    if record is not None and record.info.pop(_DIRTY, False):  # ended without commit/rollback events
        bump_directory_version()


def cache_store_allowed(conn) -> bool:
    """True when what ``conn``'s transaction reads may be cached (see above)."""
    info = conn.info
    return not info.get(_DIRTY) and info.get(_BEGAN_AT) == _current[0]


event.listen(Engine, "before_cursor_execute", _track_statement)
event.listen(Engine, "begin", _track_begin)
event.listen(Engine, "commit", _track_end)
event.listen(Engine, "rollback", _track_end)
event.listen(Pool, "checkin", _track_checkin)
