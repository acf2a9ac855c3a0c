"""Engine set-up: SQLite with WAL, a busy timeout and foreign keys; PostgreSQL as well."""
from __future__ import annotations

import logging
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, SQLModel, create_engine, select

from storage import models, state  # noqa: F401  (registers tables)
from storage.models import SCHEMA_VERSION, SchemaVersion

log = logging.getLogger(__name__)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # Let SQLAlchemy emit BEGIN itself so SAVEPOINTs work with pysqlite.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin(conn) -> None:
    # Deferred: with WAL, readers (the job store, the web chat's views) never wait for a writer.
    conn.exec_driver_sql("BEGIN")


def create_db_engine(url: str) -> Engine:
    """An engine for ``url``; creates the SQLite file's folder if needed."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 5})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    if parsed.drivername == "postgresql":
        url = str(parsed.set(drivername="postgresql+psycopg"))
    return create_engine(url, pool_pre_ping=True)


def init_schema(engine: Engine) -> None:
    """Create the tables on first start and record the schema version."""
    assert models and state
    SQLModel.metadata.create_all(engine)
    with Session(engine) as session:
        row = session.exec(select(SchemaVersion)).first()
        if row is None:
            session.add(SchemaVersion(id=1, version=SCHEMA_VERSION))
            session.commit()
        elif row.version > SCHEMA_VERSION:
            raise RuntimeError(
                f"database schema version {row.version} is newer than this program ({SCHEMA_VERSION})"
            )
