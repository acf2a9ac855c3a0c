"""Writers of one SQLite file take turns in-process (storage.db.WriterTurns): a writer waiting for
another's commit wakes when the turn is given back, not after SQLite's busy-handler sleeps
(bench/writer_turns.py measures that); these tests pin who waits for whom and that no turn can
block a writer for good."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import text

import storage.db as db


@pytest.fixture
def file_engine(tmp_path):
    engine = db.create_db_engine(f"sqlite:///{tmp_path / 'turns.db'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE log (id INTEGER PRIMARY KEY, who TEXT)"))
    yield engine
    engine.dispose()


def raw(conn) -> db.WriterTurns:
    found = conn.connection.dbapi_connection
    assert isinstance(found, db.WriterTurns)
    return found


def test_the_bots_file_engine_takes_turns_and_an_in_memory_one_does_not(file_engine):
    with db.writer(file_engine).connect() as conn:
        conn.execute(text("SELECT 1"))
        assert raw(conn).holding  # a writer holds the turn for its transaction
        conn.commit()
        assert not raw(conn).holding
    with file_engine.connect() as conn:  # a deferred reader never takes it
        conn.execute(text("SELECT 1"))
        assert not raw(conn).holding
    memory = db.create_db_engine("sqlite://")
    with db.writer(memory).connect() as conn:
        conn.execute(text("SELECT 1"))
        assert not isinstance(conn.connection.dbapi_connection, db.WriterTurns)


def test_a_writer_begins_after_the_one_holding_the_turn_commits(file_engine, monkeypatch):
    monkeypatch.setattr(db, "_WRITER_STEP_MS", 5000)  # a loaded machine never outwaits the turn here
    order: list[str] = []
    first_in = threading.Event()

    def second() -> None:
        first_in.wait()
        with db.writer(file_engine).connect() as conn:
            conn.execute(text("INSERT INTO log (who) VALUES ('second')"))
            order.append("second began" if raw(conn).holding else "second began without its turn")
            conn.commit()

    with db.writer(file_engine).connect() as conn:
        conn.execute(text("INSERT INTO log (who) VALUES ('first')"))
        thread = threading.Thread(target=second)
        thread.start()
        first_in.set()
        thread.join(timeout=0.01)  # it waits on the turn (for at most the writer step)
        order.append("first commits")
        conn.commit()
    thread.join()
    assert order == ["first commits", "second began"]
    with file_engine.connect() as conn:
        assert [r[0] for r in conn.execute(text("SELECT who FROM log ORDER BY id"))] == ["first", "second"]


@pytest.mark.parametrize("ending", ["rollback", "close"])
def test_the_turn_is_given_back_however_the_transaction_ends(file_engine, ending):
    if ending == "rollback":
        with db.writer(file_engine).connect() as conn:
            conn.execute(text("INSERT INTO log (who) VALUES ('gone')"))
            held = raw(conn)
            assert held.holding
            conn.rollback()
            assert not held.holding
    else:  # a driver connection closed in its transaction (a lost or discarded connection)
        record = db.writer(file_engine).connect()
        record.execute(text("INSERT INTO log (who) VALUES ('gone')"))
        held = raw(record)
        assert held.holding
        held.close()
        assert not held.holding
        record.invalidate()
    with db.writer(file_engine).connect() as other:
        other.execute(text("SELECT 1"))
        assert raw(other).holding  # free again: taken at once
    with file_engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM log")).scalar() == 0


def test_a_turn_never_given_back_holds_a_writer_back_only_for_the_step(file_engine):
    leaked = file_engine.raw_connection()
    assert leaked.dbapi_connection.take_turn()  # held, with no transaction behind it
    try:
        with db.writer(file_engine).connect() as conn:
            conn.execute(text("INSERT INTO log (who) VALUES ('went on')"))
            assert not raw(conn).holding  # did not get the turn: went on to BEGIN IMMEDIATE
            conn.commit()
    finally:
        leaked.dbapi_connection.end_turn()
        leaked.close()
    with file_engine.connect() as conn:
        assert conn.execute(text("SELECT who FROM log")).scalar() == "went on"
