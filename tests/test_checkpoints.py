"""SQLite's log is checkpointed by a thread of its own, never in a COMMIT (storage.checkpoints).

A COMMIT crossing 1,000 pages of log used to copy them back into the file and sync it on the
event loop: 0.5-0.8 s on a district's database with every chat message waiting.
"""
from __future__ import annotations

from sqlalchemy import text

from storage import checkpoints
from storage.db import create_db_engine
from tests.conftest import eventually

PAGE = 4096
COMMITS = 1500  # a page or more each: past SQLite's automatic checkpoint at 1,000 pages


def fill(engine) -> None:
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE IF NOT EXISTS filler (id INTEGER PRIMARY KEY, blob TEXT)"))
    for _ in range(COMMITS):
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO filler (blob) VALUES (:b)"), {"b": "x" * PAGE})


def test_the_bots_commits_leave_the_log_to_the_checkpointer(tmp_path):
    engine = create_db_engine(f"sqlite:///{tmp_path / 'apart.db'}", checkpoints_apart=True)
    default = create_db_engine(f"sqlite:///{tmp_path / 'default.db'}")
    fill(engine)
    fill(default)
    assert checkpoints.apart(engine) and not checkpoints.apart(default)
    busy, frames, copied = checkpoints.checkpoint(default)
    assert frames < 1100  # SQLite's default: some COMMIT checkpointed (and restarted the log)
    busy, frames, copied = checkpoints.checkpoint(engine)
    assert busy == 0 and frames >= COMMITS and copied == frames  # all of it waited for this call
    engine.dispose(), default.dispose()


async def test_the_checkpointer_keeps_the_log_short_while_the_bot_writes(tmp_path):
    engine = create_db_engine(f"sqlite:///{tmp_path / 'apart.db'}", checkpoints_apart=True)
    worker = checkpoints.Checkpointer(engine, interval=0.05)
    worker.start()
    try:
        fill(engine)
        await eventually(lambda: worker.runs >= 2, what="two checkpoints")
        runs = worker.runs
        await eventually(lambda: worker.runs > runs, what="a checkpoint after the writes")
        busy, frames, copied = checkpoints.checkpoint(engine)
        assert copied == frames  # nothing left behind
    finally:
        worker.stop()
    assert worker._thread is None
    engine.dispose()


def test_postgres_and_other_engines_start_no_thread(tmp_path):
    engine = create_db_engine(f"sqlite:///{tmp_path / 'cli.db'}")  # the CLI's: SQLite's default
    worker = checkpoints.Checkpointer(engine)
    worker.start()
    assert worker._thread is None
    worker.stop()
    engine.dispose()


async def test_a_running_bot_checkpoints_apart_and_stops_the_thread(chat):
    app = chat.app
    if app.engine.dialect.name != "sqlite":
        assert app.checkpointer._thread is None
        return
    assert checkpoints.apart(app.engine) and app.checkpointer._thread is not None
    with app.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 0
    await app.stop()
    assert app.checkpointer._thread is None
