"""What one message costs the database: every statement the bot sends, recorded per message.

``StatementLog(engine)`` records each statement the driver executes (SQL text, parameters,
whether it writes) and each COMMIT, from SQLAlchemy's cursor events, while it is active.
``KINDS`` is one message of each kind the per-message path knows (chatter, a petition, a
follow-up on it, a notice receipt, a staff command), in an order where each does its real work;
``per_kind(...)`` drives them through the whole bot and returns what each one executed, split
into the handling (inside ``say``) and the outbox sending its replies afterwards.

Used by bench/pipeline.py (the raw-driver replay) and tests/test_statement_budget.py (upper
bounds on statements per message: counting is deterministic, timing is not).
"""
from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.engine.interfaces import ExecuteStyle

from storage.db import primary

_WRITE = re.compile(r"^\s*(INSERT|UPDATE|DELETE|REPLACE)\b", re.IGNORECASE)
_TRANSACTION = re.compile(r"^\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE|PRAGMA)\b", re.IGNORECASE)


def bookkeeping(sql: str) -> bool:
    """BEGIN, COMMIT, SAVEPOINT, PRAGMA and the like: not counted as statements."""
    return bool(_TRANSACTION.match(sql))


@dataclass
class Recorded:
    statements: list[tuple[str, object, bool]] = field(default_factory=list)  # sql, params, executemany
    commits: int = 0
    transactions: int = 0  # begun (a deferred read, a write, each outbox step)

    @property
    def count(self) -> int:
        """Statements sent to the database, BEGIN/SAVEPOINT/PRAGMA bookkeeping not counted."""
        return sum(not bookkeeping(sql) for sql, _, _ in self.statements)

    @property
    def writes(self) -> int:
        return sum(bool(_WRITE.match(sql)) for sql, _, _ in self.statements)

    def summary(self) -> str:
        return (f"{self.count} statements, {self.writes} writes, {self.transactions} transactions, "
                f"{self.commits} commits")


class StatementLog:
    """Records what ``engine``'s connections execute while active (``with log.recording() as r``)."""

    def __init__(self, *engines: Engine) -> None:
        self.engines = tuple(dict.fromkeys(engines))  # an app's: app.engine, app.message_engine
        self.current: Recorded | None = None
        for engine in self.engines:
            event.listen(engine, "before_cursor_execute", self._on_execute)
            event.listen(engine, "commit", self._on_commit)
            event.listen(engine, "begin", self._on_begin)

    def close(self) -> None:
        for engine in self.engines:
            event.remove(engine, "before_cursor_execute", self._on_execute)
            event.remove(engine, "commit", self._on_commit)
            event.remove(engine, "begin", self._on_begin)

    def _on_execute(self, _conn, _cursor, statement, parameters, _context, executemany) -> None:
        if self.current is not None:
            self.current.statements.append((statement, parameters, executemany))

    def _on_commit(self, _conn) -> None:
        if self.current is not None:
            self.current.commits += 1

    def _on_begin(self, _conn) -> None:
        if self.current is not None:
            self.current.transactions += 1

    def start(self) -> Recorded:
        self.current = Recorded()
        return self.current

    def stop(self) -> Recorded:
        done, self.current = self.current or Recorded(), None
        return done


# One message of each kind, (kind, sender, room, text); the notice before the receipt and the
# petition before its follow-up, so each does the work it does in real use.
S1 = "3幢1单元楼道群"
KINDS: list[tuple[str, str, str | None, str]] = [
    ("chatter", "res-chen", S1, "今天天气真不错，适合晒被子"),
    ("petition", "res-zhang", S1, "5楼的楼道灯坏了好几天了，晚上黑漆漆的，老人走路不安全"),
    ("follow-up", "res-chen", S1, "楼道灯还是没人修啊"),
    ("staff command", "officer-li", S1, "/处理 1 已联系物业，明天上午来换"),
    ("notice", "officer-li", S1, "/通知 明天上午8点到12点全楼停水，请大家提前储水"),
    ("receipt", "res-chen", S1, "收到[强]"),
]


@dataclass
class KindRun:
    kind: str
    handling: Recorded   # inside say(): guards, log, route, handler, replies queued
    sending: Recorded    # the outbox sending what it queued
    route: str | None


async def per_kind(app, transport, *, names: dict[str, str] | None = None,
                   rounds: int = 1, prefix: str = "kind") -> list[KindRun]:
    """Drive KINDS through ``app`` ``rounds`` times (each round a new petition); what each ran."""
    log = StatementLog(app.engine, app.message_engine)
    runs: list[KindRun] = []
    try:
        for r in range(rounds):
            for n, (kind, sender, room, text) in enumerate(KINDS):
                text = text.replace("/处理 1 ", f"/处理 {r + 1} ")
                log.start()
                replies = await transport.say(text, sender=sender, room=room,
                                              sender_name=(names or {}).get(sender, sender),
                                              message_id=f"{prefix}-{r}-{n}")
                handling = log.stop()
                log.start()
                await app.idle()
                sending = log.stop()
                route = replies.handled.route if replies.handled else None
                runs.append(KindRun(kind, handling, sending, route))
    finally:
        log.close()
    return runs


# ---- a replayable stream: every statement of every connection, in order ------------------------
COMMIT, ROLLBACK = "<commit>", "<rollback>"


class StreamLog:
    """Everything ``engine``'s connections send, in order, for a raw-driver replay: each entry is
    (segment, connection, sql or COMMIT/ROLLBACK, parameters, executemany). ``segment`` is what
    the caller says is running (a message's index, or None for the outbox and the rest); a
    pool's reset-on-return is recorded as the rollback it is."""

    def __init__(self, *engines: Engine) -> None:
        self.engines = tuple(dict.fromkeys(engines))  # an app's: app.engine, app.message_engine
        self.segment: int | None = None
        self.entries: list[tuple[int | None, int, str, object, bool]] = []
        self._ids: dict[int, int] = {}  # id(DB-API connection) -> a small number
        self._loop_thread = threading.get_ident()  # made on the event loop's thread
        # Recorded when a statement has run, not when it is sent: the outbox's worker threads and
        # the loop write at once, and a BEGIN IMMEDIATE that waited for another connection's
        # COMMIT must come after it in the stream, or the one-thread replay waits for itself
        # (busy timeout) and fails. A statement that failed (busy) is not recorded; its retry is.
        for engine in self.engines:
            event.listen(engine, "after_cursor_execute", self._on_execute)
            event.listen(engine, "commit", self._on_commit)
            event.listen(engine, "rollback", self._on_rollback)
            event.listen(engine.pool, "reset", self._on_reset)
        # the recorded connections whose COMMIT does not wait for the disk (a lazy_commit_engine's)
        self.lazy_keys: set[int] = set()

    def close(self) -> None:
        for engine in self.engines:
            event.remove(engine, "after_cursor_execute", self._on_execute)
            event.remove(engine, "commit", self._on_commit)
            event.remove(engine, "rollback", self._on_rollback)
            event.remove(engine.pool, "reset", self._on_reset)

    def _key(self, dbapi_connection, engine: Engine | None = None) -> int:
        key = self._ids.setdefault(id(dbapi_connection), len(self._ids))
        if engine is not None and primary(engine) is not getattr(engine, "_proxied", engine):
            self.lazy_keys.add(key)
        return key

    def _current(self) -> int | None:
        """The message's segment for what the event loop's thread runs; the outbox's worker
        threads (sending earlier messages' replies meanwhile) are "the rest"."""
        return self.segment if threading.get_ident() == self._loop_thread else None

    def _on_execute(self, conn, _cursor, statement, parameters, context, executemany) -> None:
        # A multi-row INSERT (SQLAlchemy's "insertmanyvalues": a handler's replies together) is an
        # executemany for SQLAlchemy but ran as one cursor.execute() of the rewritten statement
        if executemany and context is not None and context.execute_style is ExecuteStyle.INSERTMANYVALUES:
            executemany = False
        self.entries.append((self._current(), self._key(conn.connection.dbapi_connection, conn.engine), statement,
                             parameters, executemany))

    def _on_commit(self, conn) -> None:
        self.entries.append((self._current(), self._key(conn.connection.dbapi_connection), COMMIT, None, False))

    def _on_rollback(self, conn) -> None:
        self.entries.append((self._current(), self._key(conn.connection.dbapi_connection), ROLLBACK, None, False))

    def _on_reset(self, dbapi_connection, _record, _reset_state) -> None:  # SQLAlchemy 2 signature
        self.entries.append((self._current(), self._key(dbapi_connection), ROLLBACK, None, False))


def replay(entries, connect, lazy_keys: set[int] | frozenset[int] = frozenset()) -> tuple[dict[int | None, float], int]:
    """Run ``entries`` on raw DB-API connections made by ``connect()`` (one per recorded
    connection), fetching every result as the bot does; seconds spent per segment, and how many
    statements failed (state the replay could not reproduce; expected to be 0 or close).
    ``lazy_keys``: recorded connections that committed without waiting for the disk (PostgreSQL's
    synchronous_commit off, as storage.db.lazy_commit_engine's): replayed so."""
    import time

    conns: dict[int, object] = {}
    spent: dict[int | None, float] = {}
    failed = 0
    clock = time.perf_counter
    for segment, key, sql, params, many in entries:
        conn = conns.get(key)
        if conn is None:
            conn = conns[key] = connect()
            if key in lazy_keys:
                conn.execute("SET synchronous_commit TO off")
                conn.commit()
        t0 = clock()
        try:
            if sql is COMMIT:
                conn.commit()
            elif sql is ROLLBACK:
                conn.rollback()
            else:
                cursor = conn.cursor()
                if many:
                    cursor.executemany(sql, params)
                else:
                    cursor.execute(sql, params)
                if cursor.description is not None:
                    cursor.fetchall()
                cursor.close()
        except Exception:
            failed += 1
            try:
                conn.rollback()
            except Exception:
                pass
        spent[segment] = spent.get(segment, 0.0) + clock() - t0
    for conn in conns.values():
        conn.close()
    return spent, failed
