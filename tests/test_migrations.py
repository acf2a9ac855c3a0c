"""Schema migrations (storage/migrations): on SQLite, and on PostgreSQL when configured.

- from an empty database the revisions give exactly the models' schema;
- a database made by release 0.1 (its create_all DDL, kept in tests/data/release_0_1/), with rows
  in every table, is stamped and upgraded with every row kept, and the bot then works on it;
- a database from a newer release is refused with one line;
- ``db revision`` writes the next revision from changed models, and it applies;
- two processes starting at once on an empty database both come up.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Column, Integer, MetaData, Table, Text, inspect, select, text
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session
from sqlmodel.sql.sqltypes import AutoString

from storage import db as storage_db
from storage import migrations
from storage.db import create_db_engine, init_schema
from storage.models import Message, Room, SchemaVersion, TimedNotice, UTCDateTime
from tests.conftest import ROOT, S1, eventually_blocking

RELEASE_0_1 = Path(__file__).parent / "data" / "release_0_1"
pytestmark = pytest.mark.postgres


@pytest.fixture
def engine(db_url):
    engine = create_db_engine(db_url)
    yield engine
    engine.dispose()


def differences(engine: Engine) -> list:
    """What Alembic's autogenerate would change to make the database match the models."""
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts=migrations.context_options())
        return compare_metadata(context, migrations.target_metadata())


def scalar(engine: Engine, sql: str):
    with engine.connect() as conn:
        return conn.execute(text(sql)).scalar_one()


# ---------------------------------------------------------------- from an empty database
async def test_revisions_from_empty_give_exactly_the_models_schema(engine, config):
    from schedules.scheduler import build_scheduler

    init_schema(engine)
    assert differences(engine) == []
    assert scalar(engine, "SELECT version_num FROM alembic_version") == migrations.head()
    # release 0.1 reads this row and refuses a database with more revisions than it knows
    assert scalar(engine, "SELECT version FROM schema_version") == len(migrations.revisions())

    scheduler = build_scheduler(engine, config)  # APScheduler adds its own table: not ours to compare
    scheduler.start(paused=True)
    scheduler.shutdown(wait=False)
    assert "apscheduler_jobs" in inspect(engine).get_table_names()
    assert differences(engine) == []

    with engine.begin() as conn:  # the comparison does see a schema that drifted
        conn.execute(text("DROP INDEX ix_messages_at"))
    assert [d[0] for d in differences(engine)] == ["add_index"]


def test_a_second_start_changes_nothing(engine):
    assert not migrations.upgrade(engine).up_to_date
    assert migrations.upgrade(engine).up_to_date
    assert differences(engine) == []


def test_a_restart_at_the_newest_revision_does_not_load_alembic(engine, db_url):
    """Every restart but an upgrade's checks the revision with one SELECT (storage.db's fast path,
    issue 15's start-up); the revision ids are the files' numbers, which that path relies on."""
    from storage.db import at_newest_revision, newest_revision

    assert newest_revision() == migrations.head()
    assert not at_newest_revision(engine)  # empty
    init_schema(engine)
    assert at_newest_revision(engine)
    script = ("import sys; from storage.db import create_db_engine, init_schema; "
              f"init_schema(create_db_engine({db_url!r})); print('alembic' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"
    with engine.begin() as conn:
        command.downgrade(migrations.alembic_config(conn), "0009")
    assert not at_newest_revision(engine)  # an older database still goes through Alembic
    init_schema(engine)
    assert at_newest_revision(engine) and differences(engine) == []


def test_downgrade_to_nothing_and_back(engine):
    init_schema(engine)
    with engine.begin() as conn:
        command.downgrade(migrations.alembic_config(conn), "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    init_schema(engine)
    assert differences(engine) == []


# ---------------------------------------------------------------- a release 0.1 database
def create_release_0_1(engine: Engine) -> None:
    """What release 0.1's init_schema made: its create_all DDL and the schema_version row."""
    ddl = (RELEASE_0_1 / f"{engine.dialect.name}.sql").read_text(encoding="utf-8")
    body = "\n".join(line for line in ddl.splitlines() if not line.startswith("--"))
    with engine.begin() as conn:
        for statement in filter(str.strip, body.split(";")):
            conn.exec_driver_sql(statement)


def release_0_1_rows(dialect: str) -> dict[str, list[dict]]:
    """A small community's worth of rows, one table at a time (every table of release 0.1)."""

    def at(hours: float) -> datetime:  # what release 0.1's UTCDateTime stored
        moment = datetime(2026, 11, 20, 2, 0, tzinfo=timezone.utc) + timedelta(hours=hours)
        return moment.replace(tzinfo=None) if dialect == "sqlite" else moment

    return {
        "schema_version": [{"id": 1, "version": 1}],
        "rooms": [
            {"id": "s3-1", "topic": S1, "kind": "stairwell", "grid": "网格A", "stairwell": "3幢1单元",
             "auto_tickets": True, "transport": "memory", "external_id": S1, "introduced": True},
            {"id": "room-7", "topic": "6幢业主群", "kind": "unbound", "grid": None, "stairwell": None,
             "auto_tickets": False, "transport": "wechaty", "external_id": "R:7788@chatroom", "introduced": False},
        ],
        "people": [
            {"id": "res-zhang", "name": "张阿姨", "deleted": False},
            {"id": "officer-li", "name": "李敏", "deleted": False},
            {"id": "wxid_gone", "name": "已注销", "deleted": True},
        ],
        "person_aliases": [{"transport": "wechaty", "external_id": "wxid_zhang01", "person_id": "res-zhang",
                            "source": "chat"}],
        "room_members": [{"room_id": "s3-1", "person_id": "res-zhang"},
                         {"room_id": "s3-1", "person_id": "officer-li"},
                         {"room_id": "room-7", "person_id": "wxid_gone"}],
        "role_grants": [{"id": 1, "person_id": "officer-li", "role": "信息员", "scope": "3幢1单元",
                         "source": "config", "granted_by": None},
                        {"id": 2, "person_id": "res-zhang", "role": "保障员", "scope": "3幢1单元",
                         "source": "chat", "granted_by": "officer-li"}],
        "messages": [
            {"id": 1, "transport": "memory", "external_id": "m-1", "room_id": "s3-1", "sender_id": "res-zhang",
             "sender_name": "张阿姨", "text": "502门口的灯又不亮了，电话138****5678", "from_bot": False,
             "route": "petition", "category": "设施", "at": at(0)},
            {"id": 2, "transport": "memory", "external_id": "out-1", "room_id": "s3-1", "sender_id": "bot",
             "sender_name": "楼道通", "text": "已受理 #12", "from_bot": True, "route": None, "category": None,
             "at": at(0.01)},
            {"id": 3, "transport": "wechaty", "external_id": "m-2", "room_id": None, "sender_id": "wxid_gone",
             "sender_name": "已注销", "text": "", "from_bot": False, "route": "chatter", "category": None,
             "at": at(30)},
        ],
        "outbox": [
            {"id": 1, "key": "ack:m-1", "transport": "memory", "room_id": "s3-1", "to": None,
             "mentions": "res-zhang", "text": "已受理 #12", "priority": 0, "status": "sent", "attempts": 1,
             "error": None, "external_id": "out-1", "created_at": at(0), "due_at": at(0), "sent_at": at(0.01)},
            {"id": 2, "key": "remind:12", "transport": "memory", "room_id": None, "to": "officer-li",
             "mentions": "", "text": "#12 快到期了", "priority": 5, "status": "failed", "attempts": 3,
             "error": "timeout", "external_id": None, "created_at": at(20), "due_at": at(21), "sent_at": None},
        ],
        "tickets": [
            {"id": 12, "room_id": "s3-1", "stairwell": "3幢1单元", "grid": "网格A", "reporter_id": "res-zhang",
             "category": "设施", "urgent": False, "text": "502门口的灯又不亮了，电话138****5678",
             "status": "处理中", "assignee_id": "officer-li", "reporters": 2, "rating": None,
             "created_at": at(0), "due_at": at(72), "responded_at": at(1), "resolved_at": None, "closed_at": None},
            {"id": 13, "room_id": None, "stairwell": None, "grid": None, "reporter_id": "wxid_gone",
             "category": "其他", "urgent": True, "text": "[已清除]", "status": "已回访", "assignee_id": None,
             "reporters": 1, "rating": "满意", "created_at": at(2), "due_at": at(26), "responded_at": at(3),
             "resolved_at": at(5), "closed_at": at(6)},
        ],
        "ticket_reporters": [{"ticket_id": 12, "person_id": "res-zhang"}, {"ticket_id": 12, "person_id": "res-chen"},
                             {"ticket_id": 13, "person_id": "wxid_gone"}],
        "ticket_events": [
            {"id": 1, "ticket_id": 12, "at": at(0), "actor_id": "res-zhang", "action": "受理", "note": ""},
            {"id": 2, "ticket_id": 12, "at": at(1), "actor_id": "officer-li", "action": "处理", "note": "已报物业"},
            {"id": 3, "ticket_id": 13, "at": at(6), "actor_id": "wxid_gone", "action": "评价", "note": "满意"},
        ],
        "consultations": [
            {"id": 3, "room_id": "s3-1", "asker_id": "res-zhang", "category": "婚姻家事", "urgent": False,
             "text": "离婚后房子怎么分", "faq_id": None, "status": "已答复", "answer": "按约定，没有约定的协商",
             "answered_by": "lawyer-wang", "created_at": at(4), "answered_at": at(9)},
            {"id": 4, "room_id": None, "asker_id": "res-zhang", "category": "其他法律", "urgent": True,
             "text": "欠薪怎么办", "faq_id": "wage-arrears", "status": "待答复", "answer": None,
             "answered_by": None, "created_at": at(10), "answered_at": None},
        ],
        "audit_log": [{"id": 1, "at": at(2), "actor_id": "officer-li", "action": "查看全文", "subject": "ticket 12"}],
        "notices": [{"id": 5, "author_id": "officer-li", "text": "明天上午9点到12点停水", "source": "command",
                     "emergency": False, "tracked": True, "created_at": at(3), "chased": False},
                    {"id": 6, "author_id": "officer-li", "text": "台风预警，请收好阳台物品", "source": "plain",
                     "emergency": True, "tracked": False, "created_at": at(8), "chased": True}],
        "notice_targets": [{"notice_id": 5, "room_id": "s3-1"}, {"notice_id": 6, "room_id": "room-7"}],
        "receipts": [{"notice_id": 5, "person_id": "res-zhang", "room_id": "s3-1", "at": at(3.5)}],
        "schedule_cursors": [{"room_id": "s3-1", "library": "weekly", "position": 3},
                             {"room_id": "s3-1", "library": "cases", "position": 0}],
        "state_flags": [{"name": "emergency", "value": '{"on": true, "by": "grid-zhao"}', "set_at": at(8)}],
    }


def reflect(conn: Connection) -> MetaData:
    metadata = MetaData()
    metadata.reflect(conn)
    return metadata


def every_row(engine: Engine, tables: list[str], only: dict[str, list[str]] | None = None) -> dict[str, list[tuple]]:
    """Every row of ``tables``; with ``only``, just those columns (a later revision adds some)."""
    with engine.connect() as conn:
        metadata = reflect(conn)
        return {
            name: [tuple(row) for row in conn.execute(
                select(*[c for c in metadata.tables[name].c if only is None or c.name in only[name]])
                .order_by(*metadata.tables[name].primary_key.columns))]
            for name in tables
        }


def column_names(engine: Engine, tables: list[str]) -> dict[str, list[str]]:
    with engine.connect() as conn:
        metadata = reflect(conn)
    return {name: [c.name for c in metadata.tables[name].c] for name in tables}


def fill(engine: Engine, rows: dict[str, list[dict]]) -> None:
    with engine.begin() as conn:
        metadata = reflect(conn)
        assert set(metadata.tables) == set(rows), "a table of release 0.1 has no rows in this test"
        for table in metadata.sorted_tables:  # parents before children
            conn.execute(table.insert(), rows[table.name])
            if engine.dialect.name == "postgresql" and "id" in table.c and table.c.id.type.python_type is int:
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                                  f"(SELECT max(id) FROM {table.name}))"))


async def test_a_release_0_1_database_full_of_data_upgrades_with_every_row_kept(engine, make_chat):
    create_release_0_1(engine)
    rows = release_0_1_rows(engine.dialect.name)
    fill(engine, rows)
    before = every_row(engine, list(rows))
    release_columns = column_names(engine, list(rows))
    assert sum(map(len, before.values())) == sum(map(len, rows.values()))
    assert migrations.current(engine).legacy

    init_schema(engine)

    after = every_row(engine, list(rows), only=release_columns)
    assert after.pop("schema_version") == [(1, len(migrations.revisions()))]  # release 0.1 refuses it now
    assert after == {name: kept for name, kept in before.items() if name != "schema_version"}
    assert scalar(engine, "SELECT version_num FROM alembic_version") == migrations.head()
    assert differences(engine) == []

    chat = await make_chat()  # the bot starts on it and finds the old petition and its reporters
    mine = await chat.say("/我的工单", sender="res-zhang")
    assert "#12 设施：处理中" in mine[0].text
    assert "#13" not in mine[0].text


def test_a_development_database_with_timed_notices_already_keeps_them(engine):
    """Made by create_all between the timed notices and the migrations: 0.1's tables plus one."""
    create_release_0_1(engine)
    TimedNotice.__table__.create(engine)
    with Session(engine) as session:
        session.add(SchemaVersion(id=1, version=1))
        session.add(TimedNotice(author_id="officer-li", author_name="李敏", text="周五晚上停电检修",
                                room_ids="s3-1", due_at=datetime(2026, 11, 27, 14, tzinfo=timezone.utc),
                                created_at=datetime(2026, 11, 25, 2, tzinfo=timezone.utc)))
        session.commit()

    init_schema(engine)

    assert scalar(engine, "SELECT text FROM timed_notices") == "周五晚上停电检修"
    assert differences(engine) == []


# ---------------------------------------------------------------- refusals and the command line
def cli(*args: str, url: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "STAIRWELL_DATABASE_URL": url, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)


def test_a_database_from_a_newer_release_is_refused_in_one_line(engine, db_url):
    init_schema(engine)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0999'"))
    with pytest.raises(migrations.SchemaTooNew):
        init_schema(engine)

    for args in (["db", "upgrade"], ["db", "current"], ["run", "--port", "0"]):
        done = cli(*args, url=db_url)
        assert done.returncode == 2, (args, done.stderr)
        assert done.stderr.strip().splitlines() == [done.stderr.strip()]  # one line, no traceback
        assert "0999" in done.stderr and "比本程序新" in done.stderr
    assert scalar(engine, "SELECT version_num FROM alembic_version") == "0999"  # nothing was touched


def test_db_current_and_upgrade_from_the_command_line(db_url, engine):
    done = cli("db", "current", url=db_url)
    assert done.returncode == 1 and "空数据库" in done.stdout and "db upgrade" in done.stdout

    done = cli("db", "upgrade", url=db_url)
    assert done.returncode == 0, done.stderr
    assert f"→ {migrations.head()}" in done.stdout
    assert differences(engine) == []

    done = cli("db", "current", url=db_url)
    assert done.returncode == 0 and f"当前 / current: {migrations.head()}" in done.stdout
    done = cli("db", "upgrade", url=db_url)
    assert done.returncode == 0 and done.stdout.startswith("数据库已是最新版本")


def test_db_revision_writes_nothing_while_the_models_match_the_revisions():
    versions = migrations.HERE / "versions"
    files = sorted(versions.iterdir())
    done = cli("db", "revision", "-m", "nothing changed", url="sqlite://")
    assert done.returncode == 0, done.stderr
    assert "未生成新版本" in done.stdout
    assert sorted(versions.iterdir()) == files


def test_db_revision_writes_the_next_revision_from_the_models(db_url, engine, tmp_path, monkeypatch):
    """What a developer changing the models gets: a revision that adds a table and a column and
    relaxes a column (SQLite copies the table in batch mode, under the rows of other tables that
    refer to it), written with plain SQLAlchemy types, applied with every row kept."""
    copy = tmp_path / "migrations"
    shutil.copytree(migrations.HERE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(migrations, "HERE", copy)
    monkeypatch.setattr(storage_db, "MIGRATIONS_DIR", copy / "versions")  # its restart fast path
    models = MetaData()
    for table in migrations.target_metadata().tables.values():
        table.to_metadata(models)
    Table("home_visits", models, Column("id", Integer, primary_key=True), Column("text", Text, nullable=False),
          Column("due_at", UTCDateTime(), nullable=False, index=True))
    models.tables["rooms"].append_column(Column("households", AutoString(), nullable=True))
    models.tables["rooms"].c.topic.nullable = True
    monkeypatch.setattr(migrations, "target_metadata", lambda: models)
    migrations.scripts.cache_clear()
    try:
        init_schema(engine)
        with Session(engine) as session:
            session.add(Room(id="s3-1", topic=S1))
            session.flush()
            session.add(Message(transport="memory", external_id="m-1", room_id="s3-1", sender_id="res-zhang",
                                sender_name="张阿姨", text="楼道灯坏了", at=datetime.now(timezone.utc)))
            session.commit()

        following = f"{len(migrations.revisions()) + 1:04d}"
        written = migrations.new_revision("home visits")
        assert written == copy / "versions" / f"{following}_home_visits.py"
        source = written.read_text(encoding="utf-8")
        assert "batch_op.add_column(sa.Column('households', sa.String(), nullable=True))" in source
        assert "sa.Column('due_at', sa.DateTime(timezone=True), nullable=False)" in source
        assert "batch_op.alter_column('topic'" in source
        assert "storage" not in source and "sqlmodel" not in source

        init_schema(engine)
        assert migrations.current(engine).current == following
        assert scalar(engine, "SELECT topic FROM rooms JOIN messages ON messages.room_id = rooms.id") == S1
        assert [fk["referred_table"] for fk in inspect(engine).get_foreign_keys("messages")] == ["rooms"]
        assert differences(engine) == []
        assert scalar(engine, "SELECT version FROM schema_version") == int(following)
    finally:
        migrations.scripts.cache_clear()


# ---------------------------------------------------------------- concurrent first starts
STARTER = """
import asyncio, os, sys, time
from bot.app import Stairwell
from bot.clock import FrozenClock
from bot.config import load_config
from bot.transports.memory import create
from datetime import datetime

async def main(url, go):
    config = load_config("config.yaml")
    transport = create(config)
    open(f"{go}.ready.{os.getpid()}", "w").close()
    while not os.path.exists(go):  # both processes are imported and ready: start together
        time.sleep(0.005)
    app = Stairwell(config, transport, clock=FrozenClock(datetime(2026, 11, 25, 10, 0)), database_url=url)
    await app.start()
    await app.stop()
    print("up")

asyncio.run(main(sys.argv[1], sys.argv[2]))
"""


def test_two_first_starts_at_once_both_come_up(db_url, engine, tmp_path):
    go = tmp_path / "go"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    starters = [subprocess.Popen([sys.executable, "-c", STARTER, db_url, str(go)], cwd=ROOT, env=env,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    try:  # both have imported the whole bot: from here on they race
        eventually_blocking(lambda: len(list(tmp_path.glob("go.ready.*"))) == 2, timeout=120, what="both starters ready")
    finally:
        go.touch()  # (on a failure too: the starters then end instead of waiting for ever)
    outcomes = [starter.communicate(timeout=120) for starter in starters]
    for starter, (out, err) in zip(starters, outcomes, strict=True):
        assert starter.returncode == 0 and out.strip() == "up", err[-2000:]
    assert scalar(engine, "SELECT count(*) FROM alembic_version") == 1
    assert differences(engine) == []
