"""Shared fixtures: a database per test (SQLite, and PostgreSQL when configured) and a ChatDriver."""
from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import TypeVar

import pytest
from sqlalchemy import create_engine, text
from sqlmodel import SQLModel

from bot.clock import FrozenClock
from bot.config import load_config
from bot.events import Outgoing
from storage.db import create_db_engine, init_schema

ROOT = Path(__file__).resolve().parent.parent


def _postgres_for_this_worker(url: str | None) -> str | None:
    """The PostgreSQL database this test process uses. Under pytest-xdist (`-n 2`, as `make test`
    runs) every worker resets its database's schema, so each gets its own: ``<db>_gw0``, made
    here when missing and dropped when the run ends (pytest_sessionfinish)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not url or not worker:
        return url
    base, name = url.rsplit("/", 1)
    own = f"{name}_{worker}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": own}).first():
            conn.execute(text(f'CREATE DATABASE "{own}"'))
    admin.dispose()
    return f"{base}/{own}"


PG_URL = _postgres_for_this_worker(os.environ.get("STAIRWELL_TEST_DATABASE_URL"))
S1 = "3幢1单元楼道群"
S2 = "3幢2单元楼道群"
LEGAL = "幸福里法润民生群"
POLL_SECONDS = 0.05
T = TypeVar("T")


# The suite's one way to wait: poll for a positive event (a row, a reply, a log line), never a
# fixed sleep. A negative assertion ("nothing else was sent") comes after such an event.
def _attempts(timeout: float, what: str, details: Callable[[], object] | None,
              progress: Callable[[], object] | None = None) -> Iterator[float]:
    """Yields the seconds left before each new look; raises AssertionError when none are left.

    With ``progress`` (e.g. the rows still to send), the ``timeout`` counts from its last change:
    long work on a loaded machine is given the time it needs while it advances, and a stuck one
    still fails ``timeout`` seconds after it stopped."""
    deadline = time.monotonic() + timeout
    seen = progress() if progress else None
    while True:
        if progress is not None and (now := progress()) != seen:
            seen, deadline = now, time.monotonic() + timeout
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"timed out after {timeout} s {'without progress ' if progress else ''}"
                                 f"waiting for {what}" + (f"; so far: {details()!r}" if details else ""))
        yield left


async def eventually(check: Callable[[], T], *, timeout: float = 10.0, what: str = "the condition",
                     wake: asyncio.Event | None = None, details: Callable[[], object] | None = None,
                     every: float = POLL_SECONDS, progress: Callable[[], object] | None = None) -> T:
    """Await until ``check()`` returns something truthy, and return it.

    It looks ``every`` seconds, or at once when ``wake`` (an event a fake sets on news) is set;
    ``progress``: see _attempts.
    """
    for left in _attempts(timeout, what, details, progress):
        if wake is not None:
            wake.clear()  # before looking: news arriving after the look wakes the wait below
        found = check()
        if found:
            return found
        if wake is None:
            await asyncio.sleep(min(every, left))
        else:
            try:
                await asyncio.wait_for(wake.wait(), min(every, left))
            except asyncio.TimeoutError:
                pass
    raise AssertionError("unreachable")  # _attempts raises when the time is up


def eventually_blocking(check: Callable[[], T], *, timeout: float = 10.0, what: str = "the condition",
                        details: Callable[[], object] | None = None, every: float = POLL_SECONDS,
                        progress: Callable[[], object] | None = None) -> T:
    """eventually() for plain tests that watch other processes (no event loop of their own)."""
    for left in _attempts(timeout, what, details, progress):
        found = check()
        if found:
            return found
        time.sleep(min(every, left))
    raise AssertionError("unreachable")


def stop_cleanly(proc: subprocess.Popen, timeout: float = 15) -> None:
    """SIGTERM a ``python -m bot run`` and check that it stopped as asked: exit code 0."""
    proc.send_signal(signal.SIGTERM)
    code = proc.wait(timeout=timeout)
    assert code == 0, f"the bot stopped with exit code {code}"


@pytest.fixture(scope="session")
def config():
    return load_config(ROOT / "config.yaml")


def _reset_postgres(url: str) -> None:
    engine = create_db_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgres"] if PG_URL else ["sqlite"])
def db_url(request, tmp_path) -> str:
    """A fresh, empty database: SQLite always; PostgreSQL too when STAIRWELL_TEST_DATABASE_URL is set."""
    if request.param == "postgres":
        assert PG_URL
        _reset_postgres(PG_URL)
        return PG_URL
    return f"sqlite:///{tmp_path / 'stairwell.db'}"


@pytest.fixture
def engine(db_url):
    """An engine on the fresh database, migrated to the head revision (storage-level tests;
    tests/test_migrations.py has its own, unmigrated)."""
    engine = create_db_engine(db_url)
    init_schema(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime(2026, 11, 25, 10, 0))  # a Wednesday, 10:00 Asia/Shanghai


class ChatDriver:
    """Drives the whole bot through the memory transport, like the conversations it checks."""

    def __init__(self, app, transport) -> None:
        self.app = app
        self.transport = transport

    @property
    def sent(self) -> list[Outgoing]:
        return self.transport.sent

    async def say(self, text: str, *, sender: str, room: str | None = S1, **kw) -> list[Outgoing]:
        name = kw.pop("sender_name", None) or self.name_of(sender)
        replies = await self.transport.say(text, sender=sender, room=room, sender_name=name, **kw)
        await self.app.idle()
        return replies

    def name_of(self, person_id: str) -> str:
        person = next((p for p in self.app.config.people if p.id == person_id), None)
        return person.name if person else person_id

    def texts(self, replies: list[Outgoing]) -> str:
        return "\n".join(r.text for r in replies)


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory) -> Path:
    """One SQLite database migrated to the head revision, copied into each fresh file a test starts
    the bot on: migrating from empty costs ~0.25 s a start, and tests/test_migrations.py covers
    migrating itself (a database the test made first, old or new, is never replaced)."""
    path = tmp_path_factory.mktemp("template") / "stairwell.db"
    engine = create_db_engine(f"sqlite:///{path}")
    init_schema(engine)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")  # everything in the main file
    engine.dispose()
    return path


@pytest.fixture
async def make_chat(config, db_url, clock, migrated_sqlite):
    """Factory: start (or restart) the bot on the same database."""
    from bot.app import Stairwell
    from bot.transports.memory import create

    apps = []

    async def start(cfg=None, **kw) -> ChatDriver:
        cfg = cfg or config
        fresh = Path(db_url.removeprefix("sqlite:///")) if db_url.startswith("sqlite:///") else None
        if fresh is not None and not fresh.exists():
            shutil.copyfile(migrated_sqlite, fresh)
        transport = create(cfg)
        kw.setdefault("run_scheduler", False)  # scheduler tests turn it on; real time must not leak in
        app = Stairwell(cfg, transport, clock=kw.pop("clock", clock), database_url=db_url, **kw)
        await app.start()
        apps.append(app)
        return ChatDriver(app, transport)

    yield start
    for app in apps:
        if app.started:
            await app.stop()


@pytest.fixture
async def chat(make_chat) -> ChatDriver:
    return await make_chat()


def pytest_sessionfinish(session, exitstatus):
    """A worker's own PostgreSQL database goes when the run ends (the CI database stays the CI's)."""
    base = os.environ.get("STAIRWELL_TEST_DATABASE_URL")
    if PG_URL and base and PG_URL != base:
        admin = create_engine(base, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{PG_URL.rsplit("/", 1)[-1]}" WITH (FORCE)'))
        admin.dispose()


def pytest_report_header(config):
    return f"databases: sqlite{' + postgres (' + PG_URL.rsplit('/', 1)[-1] + ')' if PG_URL else ''}"


assert SQLModel  # tables are registered through storage.models
