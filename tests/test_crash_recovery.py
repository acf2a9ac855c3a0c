"""A broadcast to 200 groups survives SIGKILL midway: after a restart every group has exactly one copy."""
from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import urllib.request
from pathlib import Path

import yaml

from tests.conftest import eventually_blocking, stop_cleanly

ROOT = Path(__file__).resolve().parent.parent
GROUPS = 200
TEXT = "今晚20点起小区停电检修，请提前做好准备"


def write_config(tmp_path: Path) -> Path:
    data = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    grid = data["community"]["grids"][0]
    for i in range(GROUPS):
        grid["stairwells"].append({"name": f"{10 + i // 4}幢{i % 4 + 1}单元"})
        data["rooms"].append(
            {"id": f"b{i:03d}", "topic": f"{10 + i // 4}幢{i % 4 + 1}单元楼道群", "kind": "stairwell",
             "grid": "网格A", "stairwell": f"{10 + i // 4}幢{i % 4 + 1}单元"}
        )
    # slow enough to be killed midway: 20 messages a second
    data["transport_limits"] = {"webchat": {"room_interval_seconds": 0, "per_minute": 1200, "jitter_seconds": 0}}
    data["storage"] = {"database_url": f"sqlite:///{tmp_path / 'crash.db'}"}
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def start(config: Path) -> tuple[subprocess.Popen, str]:
    env = {k: v for k, v in os.environ.items() if k != "STAIRWELL_DATABASE_URL"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "run", "--config", str(config), "--port", "0"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    line = proc.stdout.readline()
    assert "http://" in line, line
    return proc, "http://" + line.split("http://", 1)[1].split()[0]


def post(base: str, text: str) -> dict:
    body = json.dumps({"sender_id": "grid-zhao", "sender_name": "赵磊", "text": text}).encode()
    req = urllib.request.Request(f"{base}/api/rooms/s3-1/messages", data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.loads(resp.read())


def counts(db: Path, prefix: str = "notice:") -> tuple[int, int]:
    """(sent, still to send) for outbox rows whose key starts with ``prefix``."""
    with sqlite3.connect(db, timeout=5) as conn:
        sent = conn.execute("SELECT count(*) FROM outbox WHERE key LIKE ? AND status='sent'", (prefix + "%",)).fetchone()[0]
        left = conn.execute(
            "SELECT count(*) FROM outbox WHERE key LIKE ? AND status IN ('queued','sending')", (prefix + "%",)
        ).fetchone()[0]
    return sent, left


def kill_midway(proc: subprocess.Popen, db: Path, prefix: str) -> None:
    try:
        eventually_blocking(lambda: counts(db, prefix)[0] >= 40, timeout=30, what="40 groups sent")
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(timeout=10) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
    sent_before, left = counts(db, prefix)
    assert 40 <= sent_before < GROUPS and left > 0, (sent_before, left)  # really killed midway


def finish_and_count(db: Path, prefix: str, text_like: str) -> tuple[dict[str, int], list[str]]:
    eventually_blocking(lambda: counts(db, prefix)[1] == 0, timeout=60, what="the outbox drained",
                        details=lambda: counts(db, prefix))
    with sqlite3.connect(db) as conn:
        per_room = dict(
            conn.execute(
                "SELECT room_id, count(*) FROM messages WHERE from_bot AND text LIKE ? GROUP BY room_id", (text_like,)
            ).fetchall()
        )
        rooms = [r for (r,) in conn.execute("SELECT id FROM rooms WHERE kind != 'unbound'")]
    return per_room, rooms


def test_broadcast_resumes_after_sigkill_without_duplicates(tmp_path):
    config = write_config(tmp_path)
    db = tmp_path / "crash.db"
    proc, base = start(config)
    try:
        post(base, f"/通知 全部 {TEXT}")
        assert "/确认" not in json.dumps(post(base, "/确认"), ensure_ascii=False)
    finally:
        kill_midway(proc, db, "notice:")

    proc, base = start(config)
    try:
        per_room, rooms = finish_and_count(db, "notice:", f"【通知】{TEXT}%")
        assert len(rooms) == GROUPS + 3
        assert {room: per_room.get(room, 0) for room in rooms} == {room: 1 for room in rooms}
        # the page's history agrees for a room sent before and one sent after the crash
        for room in ("b000", "b199"):
            with urllib.request.urlopen(f"{base}/api/rooms/{room}/messages", timeout=10) as resp:
                history = json.loads(resp.read())
            assert [m["text"].startswith("【通知】") for m in history] == [True]
    finally:
        stop_cleanly(proc)


def add_scheduled_broadcast(config_path: Path, seconds: float) -> None:
    """What /定时 全部 does, stored in the job store before the bot starts."""
    import asyncio
    from datetime import datetime, timedelta

    from apscheduler.triggers.date import DateTrigger
    from sqlmodel import Session

    from bot.clock import SHANGHAI
    from bot.config import load_config
    from schedules.scheduler import JOBS, build_scheduler
    from storage.db import create_db_engine, init_schema
    from domain.seeding import seed_from_config
    from storage.directory import rooms

    config = load_config(config_path)
    engine = create_db_engine(config.storage.resolved_url())
    init_schema(engine)
    with Session(engine) as session:
        seed_from_config(session, config)
        session.commit()
        room_ids = [r.id for r in rooms(session)]

    async def add() -> None:
        scheduler = build_scheduler(engine, config)
        scheduler.start(paused=True)
        scheduler.add_job(
            JOBS + "send_scheduled", DateTrigger(datetime.now(SHANGHAI) + timedelta(seconds=seconds)),
            id="user:crash1", kwargs={"job_id": "user:crash1", "text": TEXT, "room_ids": room_ids,
                                      "author_id": "grid-zhao", "author_name": "赵磊", "title": "网格员"},
        )
        scheduler.shutdown(wait=False)

    asyncio.run(add())
    engine.dispose()


def test_scheduled_broadcast_resumes_after_sigkill_without_duplicates(tmp_path):
    config = write_config(tmp_path)
    db = tmp_path / "crash.db"
    add_scheduled_broadcast(config, seconds=2.5)
    proc, base = start(config)
    kill_midway(proc, db, "sched:")
    proc, base = start(config)
    try:
        per_room, rooms = finish_and_count(db, "sched:", f"【通知】{TEXT}%")
        assert len(rooms) == GROUPS + 3
        assert {room: per_room.get(room, 0) for room in rooms} == {room: 1 for room in rooms}
        with sqlite3.connect(db) as conn:  # the job ran once and is gone from the store
            assert conn.execute("SELECT count(*) FROM apscheduler_jobs WHERE id='user:crash1'").fetchone()[0] == 0
    finally:
        stop_cleanly(proc)


TIMED = 100


def add_timed_notices(config_path: Path, seconds: float) -> None:
    """What 100 /定时 commands leave behind: a durable row each and the job that wakes it."""
    import asyncio
    from datetime import datetime, timedelta

    from sqlmodel import Session

    from bot.clock import SHANGHAI
    from bot.config import load_config
    from schedules.scheduler import add_timed_trigger, build_scheduler
    from storage import timed
    from storage.db import create_db_engine, init_schema
    from domain.seeding import seed_from_config

    config = load_config(config_path)
    engine = create_db_engine(config.storage.resolved_url())
    init_schema(engine)
    due = datetime.now(SHANGHAI) + timedelta(seconds=seconds)
    with Session(engine) as session:
        seed_from_config(session, config)
        ids = [
            timed.create(session, author_id="grid-zhao", author_name="赵磊", title="网格员", text=f"第{i}号定时通知",
                         room_ids=["s3-1"], due_at=due, now=due - timedelta(seconds=seconds)).id
            for i in range(TIMED)
        ]
        session.commit()

    async def add() -> None:
        scheduler = build_scheduler(engine, config)
        scheduler.start(paused=True)
        for notice_id in ids:
            add_timed_trigger(scheduler, notice_id, due, None)
        scheduler.shutdown(wait=False)

    asyncio.run(add())
    engine.dispose()


def timed_jobs_left(db: Path) -> int:
    with sqlite3.connect(db, timeout=5) as conn:
        return conn.execute("SELECT count(*) FROM apscheduler_jobs WHERE id GLOB 'timed:[0-9]*'").fetchone()[0]


def test_timed_notices_survive_sigkill_as_their_jobs_fire(tmp_path):
    """APScheduler drops a one-shot job from its store before running it: the durable row still
    holds the notice, so a SIGKILL in that window loses none and a restart sends none twice."""
    config = write_config(tmp_path)
    db = tmp_path / "crash.db"
    add_timed_notices(config, seconds=4)
    proc, _ = start(config)
    try:  # looks often: the kill must come while the first jobs are on their way
        eventually_blocking(lambda: timed_jobs_left(db) != TIMED, timeout=30, what="a job to leave the store",
                            every=0.002)
        proc.send_signal(signal.SIGKILL)  # as soon as the first job has left the store
        assert proc.wait(timeout=10) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
    with sqlite3.connect(db) as conn:
        before = conn.execute("SELECT count(*) FROM timed_notices WHERE status='pending'").fetchone()[0]
    assert before > 0, "the kill came too late to test anything"

    proc, _ = start(config)
    try:
        def all_done() -> bool:
            with sqlite3.connect(db, timeout=5) as conn:
                pending = conn.execute("SELECT count(*) FROM timed_notices WHERE status='pending'").fetchone()[0]
            return not pending and counts(db, "timed:")[1] == 0

        eventually_blocking(all_done, timeout=60, what="every timed notice sent")
        with sqlite3.connect(db) as conn:
            statuses = dict(conn.execute("SELECT status, count(*) FROM timed_notices GROUP BY status").fetchall())
            sent = conn.execute(
                "SELECT text, count(*) FROM messages WHERE from_bot AND room_id='s3-1' AND text LIKE '【通知】第%号定时通知%'"
                " GROUP BY text"
            ).fetchall()
            reported = conn.execute("SELECT count(*) FROM outbox WHERE key LIKE 'timedmissed:%'").fetchone()[0]
        assert statuses == {"queued": TIMED}, statuses
        assert len(sent) == TIMED and all(n == 1 for _, n in sent), sent  # every one, none twice
        assert reported == 0  # within the grace time: sent, not reported
    finally:
        stop_cleanly(proc)
