"""Several bot accounts (processes) on one PostgreSQL: no row sent twice, one scheduler, nothing
of one account removed by another, directory changes seen by every process at once.

PostgreSQL only (STAIRWELL_TEST_DATABASE_URL, set in CI); the seeding test runs on SQLite too.
"""
from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml
from sqlalchemy import text
from sqlmodel import Session, select

from bot.clock import Clock
from bot.config import OutboxConfig, load_config
from bot.events import Outgoing
from bot.outbox import OutboxWorker
from domain.seeding import seed_from_config
from schedules.scheduler import LEADER_LOCK, config_jobs, reconcile
from storage import directory, outbox
from storage.cluster import Presence
from storage.db import create_db_engine, directory_version, init_schema
from storage.models import RoleGrant
from tests.conftest import PG_URL, _reset_postgres, eventually, eventually_blocking

ROOT = Path(__file__).resolve().parent.parent
needs_pg = pytest.mark.skipif(not PG_URL, reason="needs STAIRWELL_TEST_DATABASE_URL (PostgreSQL)")
NO_LIMITS = OutboxConfig(room_interval_seconds=0, per_minute=0, jitter_seconds=0)


@pytest.fixture
def pg_url() -> str:
    assert PG_URL
    _reset_postgres(PG_URL)
    engine = create_db_engine(PG_URL)
    init_schema(engine)
    engine.dispose()
    return PG_URL


class Recorder:
    """A transport that keeps every send call (no dedup: a second send of a key is a duplicate)."""

    name = "memory"
    idempotent_sends = False

    def __init__(self, calls: list[str]) -> None:
        self.calls = calls

    async def start(self, on_event) -> None: ...

    async def stop(self) -> None: ...

    async def send(self, message: Outgoing) -> str:
        await asyncio.sleep(0.0005)  # a gateway round trip: the other process works meanwhile
        self.calls.append(message.key or "")
        return f"rec-{message.key}"


def outbox_left(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM outbox WHERE status IN ('queued', 'sending')")).scalar()


def run_worker(url: str, calls: list[str], account: str, errors: list[BaseException]) -> None:
    """One 'process': its own engine and event loop, sending until the table is drained (for as
    long as rows keep going out: on a loaded machine the 1,000 rows can take minutes)."""

    async def main() -> None:
        engine = create_db_engine(url)
        worker = OutboxWorker(engine, Recorder(calls), NO_LIMITS, Clock(), account=account)
        worker.start()
        try:
            await eventually(lambda: not outbox_left(engine), timeout=30, what="the outbox drained",
                             progress=lambda: outbox_left(engine))
        finally:
            await worker.stop()
            engine.dispose()

    try:
        asyncio.run(main())
    except BaseException as exc:  # reported by the test, not lost in the thread
        errors.append(exc)
        raise


@needs_pg
def test_two_outbox_workers_on_one_postgres_send_each_of_1000_rows_once(pg_url):
    engine = create_db_engine(pg_url)
    now = datetime.now(timezone.utc)
    with Session(engine) as session:
        for i in range(1000):
            outbox.enqueue(session, key=f"k{i}", transport="memory", text=f"第{i}条", now=now, to=f"p{i % 50}")
        session.commit()
    first: list[str] = []
    second: list[str] = []
    errors: list[BaseException] = []
    threads = [threading.Thread(target=run_worker, args=(pg_url, calls, "main", errors)) for calls in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()  # each ends: drained, or 30 s without a row sent
    assert not errors, errors
    calls = first + second
    duplicates = len(calls) - len(set(calls))
    print(f"two workers, 1000 rows: {len(calls)} sends, {duplicates} duplicates, split {len(first)}/{len(second)}")
    assert duplicates == 0
    assert sorted(set(calls)) == sorted(f"k{i}" for i in range(1000))
    assert first and second  # both really took part
    with engine.connect() as conn:
        statuses = dict(conn.execute(text("SELECT status, count(*) FROM outbox GROUP BY status")).all())
        attempts = conn.execute(text("SELECT max(attempts) FROM outbox")).scalar()
    assert statuses == {"sent": 1000} and attempts == 1
    engine.dispose()


@needs_pg
def test_a_worker_sends_only_its_own_accounts_rows(pg_url):
    engine = create_db_engine(pg_url)
    now = datetime.now(timezone.utc)
    with Session(engine) as session:
        for i in range(40):
            outbox.enqueue(session, key=f"k{i}", transport="memory", text="t", now=now, to="p",
                           account="main" if i % 2 else "b")
        session.commit()
    calls: list[str] = []

    async def main() -> None:
        worker = OutboxWorker(engine, Recorder(calls), NO_LIMITS, Clock(), account="b")
        worker.start()
        await worker.drain()
        await worker.stop()

    asyncio.run(main())
    assert sorted(calls) == sorted(f"k{i}" for i in range(0, 40, 2))
    with engine.connect() as conn:
        left = conn.execute(text("SELECT account, count(*) FROM outbox WHERE status = 'queued' GROUP BY account")).all()
    assert dict(left) == {"main": 20}
    engine.dispose()


@needs_pg
def test_one_process_holds_the_scheduler_lock_and_another_takes_it_when_it_dies(pg_url):
    engine_a, engine_b = create_db_engine(pg_url), create_db_engine(pg_url)
    a, b = Presence(engine_a), Presence(engine_b)
    assert a.try_lock(LEADER_LOCK)
    assert a.try_lock(LEADER_LOCK)  # kept, not stacked
    assert not b.try_lock(LEADER_LOCK)
    holder = a.connection().execute(text("SELECT pg_backend_pid()")).scalar()
    a.connection().commit()
    with engine_b.connect() as conn:  # the holder's session ends (as when its process is killed)
        # with a timeout the call waits until the backend has exited (and so released its locks);
        # without one it only sends the signal and the next line races the exit
        assert conn.execute(text("SELECT pg_terminate_backend(:pid, 10000)"), {"pid": holder}).scalar()
    assert b.try_lock(LEADER_LOCK)
    assert not a.check()  # the old holder finds its connection gone, so it stops leading
    a.close(), b.close()
    engine_a.dispose(), engine_b.dispose()


@needs_pg
def test_a_role_granted_in_one_process_holds_in_another_at_once(pg_url, config):
    one, other = create_db_engine(pg_url), create_db_engine(pg_url)
    with Session(one) as session:
        seed_from_config(session, config)
        session.commit()
    # ``other`` stands for another process: its cache is filled, and this process's own write
    # tracking (storage.db) is bypassed by writing with raw SQL on a separate engine's connection.
    with Session(other) as session:
        before = directory.cached_grants(session, directory.cache_for(other), "res-chen")
    assert before == ()
    with one.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO role_grants (person_id, role, scope, source) VALUES ('res-chen', 'officer', '3幢1单元', 'chat')"
        )
    directory._caches[other].version = directory_version()  # as if nothing had changed in this process
    with Session(other) as session:
        after = directory.cached_grants(session, directory.cache_for(other), "res-chen")
    assert after == (("officer", "3幢1单元"),)
    one.dispose(), other.dispose()


def test_seeding_and_reconcile_of_one_account_keep_another_accounts_data(db_url, config):
    engine = create_db_engine(db_url)
    init_schema(engine)
    data = config.model_dump()
    data["bot"]["account"] = "b"  # another account's config file, granting something of its own
    data["people"][0]["roles"] = [{"role": "support", "scope": "3幢1单元"}]
    other = type(config).model_validate(data)
    with Session(engine) as session:
        seed_from_config(session, other)
        session.commit()
        seed_from_config(session, config)  # main's start, after b's
        session.commit()
        grants = {(g.person_id, g.role, g.source) for g in session.exec(select(RoleGrant))}
    assert ("res-zhang", "support", "config@b") in grants  # b's grant survives main's seeding
    assert ("officer-li", "officer", "config") in grants or ("officer-li", "officer", "config@b") in grants

    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    async def both() -> set[str]:
        scheduler = AsyncIOScheduler(jobstores={"default": SQLAlchemyJobStore(engine=engine)})
        scheduler.start(paused=True)
        now = datetime.now(timezone.utc)
        reconcile(scheduler, other, now)
        reconcile(scheduler, config, now)  # main's reconcile leaves b's jobs
        reconcile(scheduler, config, now)
        ids = {job.id for job in scheduler.get_jobs()}
        scheduler.shutdown(wait=False)
        return ids

    ids = asyncio.run(both())
    assert {s.id for s in config_jobs(other, datetime.now(timezone.utc))} <= ids
    assert {s.id for s in config_jobs(config, datetime.now(timezone.utc))} <= ids
    assert any(i.startswith("cfg@b:") for i in ids) and any(i.startswith("cfg:") for i in ids)
    engine.dispose()


# ---- three real processes ----------------------------------------------------------------------
GROUPS = 300
TEXT = "明早8点起二次供水水箱清洗，请提前储水"
LATER = "本周六上午9点小区议事会，欢迎参加"


def write_config(tmp_path: Path, url: str) -> Path:
    data = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    grid = data["community"]["grids"][0]
    for i in range(GROUPS):
        name = f"{10 + i // 4}幢{i % 4 + 1}单元"
        grid["stairwells"].append({"name": name})
        data["rooms"].append({"id": f"g{i:03d}", "topic": f"{name}楼道群", "kind": "stairwell", "grid": "网格A",
                              "stairwell": name, "account": "main" if i % 2 else "b"})
    data["transport_limits"] = {"webchat": {"room_interval_seconds": 0, "per_minute": 1200, "jitter_seconds": 0,
                                            "recover_seconds": 1, "poll_seconds": 0.5}}
    data["schedules"]["leader_check_seconds"] = 1
    data["storage"] = {"database_url": url}
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def start(config: Path, account: str) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k != "STAIRWELL_DATABASE_URL"}
    env["STAIRWELL_ACCOUNT"] = account
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "run", "--config", str(config), "--port", "0"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )


def started(proc: subprocess.Popen) -> None:
    line = proc.stdout.readline()
    assert "http://" in line, line


def query(engine, sql: str, **params):
    with engine.connect() as conn:
        return conn.execute(text(sql), params).all()


def holder_pid(engine) -> int | None:
    """The pid of the bot process holding the scheduler lock (from its connection's name)."""
    # This database's advisory locks only (another test run may share the server).
    rows = query(engine, "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                         "WHERE l.locktype = 'advisory' AND l.granted AND a.application_name LIKE 'stairwell:%' "
                         "AND a.datname = current_database() "
                         "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())")
    names = [name for (name,) in rows]
    return int(names[0].split("-")[-2]) if len(names) == 1 else None


def add_jobs(url: str, config_path: Path, jobs: list[tuple[str, object, dict]]) -> None:
    """What /定时 does from any process: a job in the shared store (here from the test)."""
    from schedules.scheduler import JOBS, build_scheduler

    config = load_config(config_path)
    engine = create_db_engine(url)

    async def add() -> None:
        scheduler = build_scheduler(engine, config)
        scheduler.start(paused=True)
        for job_id, trigger, kwargs in jobs:
            func = "send_scheduled" if "text" in kwargs else "timed_notices_due"
            scheduler.add_job(JOBS + func, trigger, id=job_id, kwargs=kwargs, replace_existing=True)
        scheduler.shutdown(wait=False)

    asyncio.run(add())
    engine.dispose()


def broadcast(job_id: str, text_: str, seconds: float, room_ids: list[str]) -> tuple[str, object, dict]:
    from apscheduler.triggers.date import DateTrigger

    when = datetime.now(timezone.utc) + timedelta(seconds=seconds)
    return (job_id, DateTrigger(when), {"job_id": job_id, "text": text_, "room_ids": room_ids,
                                        "author_id": "grid-zhao", "author_name": "赵磊", "title": "网格员"})


@needs_pg
def test_three_processes_two_accounts_broadcast_and_scheduler_holder_killed(tmp_path, pg_url):
    from apscheduler.triggers.interval import IntervalTrigger

    config = write_config(tmp_path, pg_url)
    engine = create_db_engine(pg_url)
    first = start(config, "main")
    procs = [first]
    try:
        started(first)
        assert eventually_blocking(lambda: holder_pid(engine), timeout=20, what="a scheduler holder") == first.pid
        others = [start(config, "main"), start(config, "b")]  # two more, starting at once
        procs += others
        for proc in others:
            started(proc)
        account_of = {first.pid: "main", others[0].pid: "main", others[1].pid: "b"}
        rooms = dict(query(engine, "SELECT id, account FROM rooms WHERE kind != 'unbound'"))
        assert len(rooms) == GROUPS + 3 and sum(a == "b" for a in rooms.values()) == GROUPS // 2

        add_jobs(pg_url, config, [("user:tick", IntervalTrigger(seconds=1), {}),
                                  broadcast("user:first", TEXT, 1, sorted(rooms))])

        def sent(like: str) -> int:
            return query(engine, "SELECT count(*) FROM outbox WHERE key LIKE :k AND status = 'sent' AND account = 'main'",
                         k=like)[0][0]

        eventually_blocking(lambda: sent("sched:user:first%") >= 25, timeout=60, what="the broadcast under way",
                            progress=lambda: sent("sched:user:first%"), details=lambda: query(
                                engine, "SELECT account, status, count(*) FROM outbox GROUP BY account, status"))
        first.send_signal(signal.SIGKILL)  # the scheduler holder, mid-run
        assert first.wait(timeout=10) == -signal.SIGKILL
        killed_at = datetime.now(timezone.utc)
        left = query(engine, "SELECT count(*) FROM outbox WHERE key LIKE 'sched:user:first%' AND status IN ('queued','sending')")
        assert left[0][0] > 0  # really mid-run

        new_holder = eventually_blocking(lambda: holder_pid(engine), timeout=15, what="another scheduler holder")
        assert new_holder in (others[0].pid, others[1].pid)
        add_jobs(pg_url, config, [broadcast("user:later", LATER, 1, sorted(rooms))])  # fired by the new holder

        def done() -> bool:
            rows = query(engine, "SELECT count(*) FROM outbox WHERE key LIKE 'sched:%' AND status IN ('queued','sending')")
            made = query(engine, "SELECT count(*) FROM outbox WHERE key LIKE 'sched:user:later%'")
            return rows[0][0] == 0 and made[0][0] == GROUPS + 3

        def sent_and_made() -> tuple[int, int]:  # changes while the broadcasts advance
            return (query(engine, "SELECT count(*) FROM outbox WHERE key LIKE 'sched:%' AND status = 'sent'")[0][0],
                    query(engine, "SELECT count(*) FROM outbox WHERE key LIKE 'sched:user:later%'")[0][0])

        eventually_blocking(done, timeout=45, what="both broadcasts sent", progress=sent_and_made)

        for text_ in (TEXT, LATER):
            per_room = dict(query(engine, "SELECT room_id, count(*) FROM messages WHERE from_bot AND text LIKE :t "
                                          "GROUP BY room_id", t=f"【通知】{text_}%"))
            assert per_room == {room: 1 for room in rooms}, text_
        rows = query(engine, "SELECT room_id, account, claimed_by, attempts, status FROM outbox WHERE key LIKE 'sched:%'")
        assert {status for *_, status in rows} == {"sent"}
        assert all(account == rooms[room] for room, account, *_ in rows)  # each group from its own account
        claimers = {int(claimed_by.split("-")[-2]) for _, _, claimed_by, _, _ in rows}
        assert all(account_of[int(c.split("-")[-2])] == account for _, account, c, _, _ in rows)
        # the survivors both sent (the first may lose every claim to its twin before the kill: both race for the rows)
        assert {others[0].pid, others[1].pid} <= claimers <= set(account_of)
        resent = [r for r in rows if r[3] > 1]
        assert len(resent) <= 1  # only a row in flight at the kill went out again (the web chat dedups it by key)
        # the schedule kept firing after the kill: the tick job's next run moved on, run by the new holder
        # (waited for, not read once: the broadcasts may all be sent before the new holder's tick)
        def tick_moved_on() -> bool:
            (next_run,) = query(engine, "SELECT next_run_time FROM apscheduler_jobs WHERE id = 'user:tick'")[0]
            return next_run > killed_at.timestamp() + 3

        eventually_blocking(tick_moved_on, timeout=60, what="the tick job run again by the new holder")
        assert query(engine, "SELECT count(*) FROM apscheduler_jobs WHERE id IN ('user:first', 'user:later')")[0][0] == 0
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
        engine.dispose()
    assert [proc.returncode for proc in others] == [0, 0]  # the survivors stopped cleanly when asked


@needs_pg
def test_a_connection_idle_past_the_limit_is_pinged_and_replaced_when_its_server_end_is_gone(pg_url, monkeypatch):
    """No ping at every checkout (a round trip of a petition's thirteen); one after an idle spell,
    so a connection the server dropped meanwhile is replaced before anyone uses it."""
    from storage import db

    engine = create_db_engine(pg_url)
    pings: list[object] = []
    real_ping = engine.dialect.do_ping
    monkeypatch.setattr(engine.dialect, "do_ping", lambda dbc: pings.append(dbc) or real_ping(dbc))
    with engine.connect() as conn:
        first = conn.execute(text("SELECT pg_backend_pid()")).scalar()
    for _ in range(3):  # in use a moment ago: no ping
        with engine.connect() as conn:
            assert conn.execute(text("SELECT pg_backend_pid()")).scalar() == first
    assert pings == []
    killer = create_db_engine(pg_url)
    with killer.connect() as other:  # the server ends the idle session
        assert other.execute(text("SELECT pg_terminate_backend(:pid, 10000)"), {"pid": first}).scalar()
    killer.dispose()
    monkeypatch.setattr(db, "PING_AFTER_IDLE_SECONDS", 0.0)
    with engine.connect() as conn:  # pinged, found dead, connected anew: no error reaches the caller
        assert conn.execute(text("SELECT pg_backend_pid()")).scalar() != first
    assert len(pings) == 1
    engine.dispose()
