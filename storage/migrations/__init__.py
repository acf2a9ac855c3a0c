"""Schema migrations (Alembic), shipped inside the package and run at every start.

``storage.db.init_schema`` (the bot's start, ``python -m bot run`` and ``db upgrade``) calls
``upgrade(engine)``, which brings any database to the newest revision in ``versions/``:

- at the newest revision already: one SELECT, nothing else;
- empty: every revision from 0001;
- made by release 0.1 (tables from ``create_all``, a ``schema_version`` row, no
  ``alembic_version``): its schema is exactly revision 0001, so it is stamped 0001, then upgraded;
- at a revision this program does not know (a newer release upgraded it): refused with one
  line (``SchemaTooNew``), before anything is written.

An upgrade runs in one transaction under ``storage.db.startup_lock`` (a PostgreSQL advisory
lock; a file lock beside a SQLite file), so processes starting at once upgrade once, the others
wait. On SQLite foreign keys are off while it runs (batch mode copies tables) and are checked
before the commit.
The ``schema_version`` row counts the revisions applied, so release 0.1 refuses a newer database.

Adding a revision (developers)
------------------------------
1. Change the models (``storage/models.py``; a table in another module must be imported by
   ``storage/db.py``, so the models' metadata has it).
2. ``python -m bot db revision -m "home visits"`` writes ``versions/000N_home_visits.py`` (N next):
   the differences between the models and the previous revisions (Alembic's autogenerate on a
   scratch SQLite database, batch mode, plain SQLAlchemy types).
3. Read it. A NOT NULL column added to an existing table needs a ``server_default``; data moves
   are written by hand. Never edit a revision that has been released: add another.
4. ``tests/test_migrations.py`` checks on SQLite and PostgreSQL that the revisions give exactly the
   models' schema and that a release-0.1 database full of data upgrades with every row kept.
The APScheduler job table (``apscheduler_jobs``) lives in the same database and is left alone.
"""
from __future__ import annotations

import contextlib
import functools
import logging
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

# Before Alembic is imported: it logs its plugin set-up at INFO then. Ours says what ran.
logging.getLogger("alembic").setLevel(logging.WARNING)

from alembic import command  # noqa: E402
from alembic.config import Config  # noqa: E402
from alembic.runtime.migration import MigrationContext  # noqa: E402
from alembic.script import Script, ScriptDirectory  # noqa: E402
from sqlalchemy import MetaData, inspect, text  # noqa: E402
from sqlalchemy.engine import Connection, Engine  # noqa: E402
from sqlmodel.sql.sqltypes import AutoString  # noqa: E402

from storage.db import create_db_engine, startup_lock  # noqa: E402
from storage.models import UTCDateTime  # noqa: E402

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
BASELINE = "0001"  # release 0.1's schema, made by create_all before there were migrations
LEGACY_TABLE = "schema_version"
EXCLUDED_TABLES = frozenset({"apscheduler_jobs"})  # APScheduler's own job store


class SchemaError(RuntimeError):
    """The database cannot be used by this program; the message is one line for the operator."""


class SchemaTooNew(SchemaError):
    pass


@dataclass(frozen=True)
class Status:
    current: str | None  # the alembic revision recorded in the database
    legacy: bool  # release 0.1's tables without an alembic revision
    head: str  # this program's newest revision

    @property
    def up_to_date(self) -> bool:
        return self.current == self.head

    def describe(self) -> str:
        if self.legacy:
            return f"0.1 版数据库（迁移前），升级时记为 {BASELINE} / release 0.1 database, stamped {BASELINE} on upgrade"
        return self.current or "空数据库 / empty"


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic's configuration in code: no alembic.ini is needed at run time."""
    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    cfg.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    cfg.attributes["connection"] = connection
    return cfg


@functools.cache
def scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


def head() -> str:
    return scripts().get_current_head() or ""


def revisions() -> list[str]:
    """Every revision, oldest first."""
    return [script.revision for script in reversed(list(scripts().walk_revisions()))]


def target_metadata() -> MetaData:
    """The models' tables (storage.db imports every table module)."""
    from sqlmodel import SQLModel

    return SQLModel.metadata


def include_object(obj: Any, name: str | None, type_: str, _reflected: bool, _compare_to: Any) -> bool:
    table = name if type_ == "table" else getattr(getattr(obj, "table", None), "name", None)
    return table not in EXCLUDED_TABLES


def render_item(type_: str, obj: Any, _autogen_context: Any) -> str | bool:
    """Plain SQLAlchemy types in revisions, so a revision never imports today's model code."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    if type_ == "type" and isinstance(obj, AutoString):
        return f"sa.String(length={obj.length})" if obj.length else "sa.String()"
    return False


def _skip_empty(_context: Any, _revision: Any, directives: list) -> None:
    if directives and directives[0].upgrade_ops.is_empty():
        directives[:] = []  # autogenerate found no difference: write no empty revision


def context_options() -> dict[str, Any]:
    """For env.py and for comparing a database with the models (alembic.autogenerate)."""
    return {
        "target_metadata": target_metadata(),
        "include_object": include_object,
        "render_item": render_item,
        "render_as_batch": True,  # SQLite alters tables by copying them
        "compare_type": True,
        "process_revision_directives": _skip_empty,
    }


def status(connection: Connection) -> Status:
    current = MigrationContext.configure(connection).get_current_revision()
    legacy = current is None and inspect(connection).has_table(LEGACY_TABLE)
    return Status(current, legacy, head())


def check_known(state: Status) -> None:
    if state.current is not None and state.current not in revisions():
        raise SchemaTooNew(  # short: start-up errors show the first 120 characters
            f"数据库结构版本 {state.current} 比本程序新（最高 {state.head}），请升级楼道通 / "
            f"schema {state.current} is newer than this program ({state.head})"
        )


def current(engine: Engine) -> Status:
    with engine.connect() as conn:
        return status(conn)


def upgrade(engine: Engine) -> Status:
    """Bring the database to the newest revision; returns where it was before."""
    before = current(engine)
    check_known(before)
    if before.up_to_date:
        return before
    with _exclusive(engine) as conn:
        state = status(conn)  # again: another process may have upgraded while this one waited
        check_known(state)
        if state.legacy:
            command.stamp(alembic_config(conn), BASELINE)
        if not state.up_to_date:
            command.upgrade(alembic_config(conn), "head")
            _record_schema_version(conn)
            log.info("database schema upgraded: %s -> %s", state.describe(), state.head)
    return before


@contextlib.contextmanager
def _exclusive(engine: Engine) -> Iterator[Connection]:
    """One transaction that one process at a time gets; on SQLite with foreign keys off."""
    with startup_lock(engine), engine.connect() as conn, _foreign_keys_off(conn), conn.begin():
        yield conn
        _check_foreign_keys(conn)


@contextlib.contextmanager
def _foreign_keys_off(conn: Connection) -> Iterator[None]:
    if conn.dialect.name != "sqlite":
        yield
        return
    raw = conn.connection.driver_connection
    assert raw is not None, "an open connection has its driver's connection"
    raw.execute("PRAGMA foreign_keys=OFF")  # batch mode copies tables; set outside a transaction
    try:
        yield
    finally:
        raw.execute("PRAGMA foreign_keys=ON")


def _record_schema_version(conn: Connection) -> None:
    """schema_version = how many revisions are applied: release 0.1 refuses anything above 1."""
    if not inspect(conn).has_table(LEGACY_TABLE):
        return
    applied = revisions().index(head()) + 1
    if conn.execute(text("UPDATE schema_version SET version = :v WHERE id = 1"), {"v": applied}).rowcount == 0:
        conn.execute(text("INSERT INTO schema_version (id, version) VALUES (1, :v)"), {"v": applied})


def _check_foreign_keys(conn: Connection) -> None:
    if conn.dialect.name != "sqlite":
        return  # PostgreSQL checks them during the upgrade
    broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        raise SchemaError(f"升级后外键不一致，已回滚 / foreign keys broken by the upgrade, rolled back: {broken[:5]}")


def new_revision(message: str, *, empty: bool = False) -> Path | None:
    """Write the next revision from the models' differences (None when there are none),
    or an empty one for a data migration written by hand."""
    rev_id = f"{len(revisions()) + 1:04d}"
    if empty:
        script = command.revision(alembic_config(), message=message, rev_id=rev_id)
        scripts.cache_clear()
        assert isinstance(script, Script), "one revision on the single branch"
        return Path(script.path)
    with tempfile.TemporaryDirectory() as scratch:
        engine = create_db_engine(f"sqlite:///{scratch}/head.db")
        try:
            upgrade(engine)
            with engine.connect() as conn, conn.begin():
                script = command.revision(alembic_config(conn), message=message, autogenerate=True, rev_id=rev_id)
        finally:
            engine.dispose()
    scripts.cache_clear()
    return Path(script.path) if script is not None and not isinstance(script, list) else None
