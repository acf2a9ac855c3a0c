"""Opening the database for the command line: read-only for listings, checked before a run.

Read commands (``python -m bot schedules``, ``report``) must not write: no create_all, no
seeding, no job-store writes, so they work beside a running bot that holds the write lock.
"""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import event, inspect, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import SQLModel, create_engine

from storage import models, state  # noqa: F401  (registers tables)

SUPPORTED_SCHEMES = ("sqlite", "postgresql", "postgresql+psycopg")


def unsupported_url(url: str) -> str | None:
    """One line naming the problem with a database URL, or None when it can be used."""
    try:
        parsed = make_url(url)
    except Exception:  # noqa: BLE001 - any unparsable URL gets the same clear line
        return f"数据库地址无法识别：“{url.split('@')[-1][:60]}”，应为 sqlite:///路径 或 postgresql://…"
    if parsed.drivername not in SUPPORTED_SCHEMES:
        return f"不支持的数据库类型“{parsed.drivername}”，只支持 sqlite:///路径 或 postgresql://…"
    if parsed.get_backend_name() == "sqlite" and (
        not parsed.database or parsed.database == ":memory:" or parsed.query.get("mode") == "memory"
    ):  # each connection would get an empty database of its own, and a restart loses everything
        return "SQLite 数据库地址没有文件路径（内存数据库，重启即丢失）：请写 sqlite:///路径"
    return None


def _sqlite_path(url: str) -> Path | None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def _read_only_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA query_only=ON")
    cursor.close()


def _empty() -> Engine:
    engine = create_engine("sqlite://", hide_parameters=True)
    SQLModel.metadata.create_all(engine)  # in memory only
    return engine


def open_read_only(url: str) -> Engine:
    """An engine that cannot write. A database that does not exist yet (or has no tables) is
    not created: the caller reads an empty in-memory one instead."""
    path = _sqlite_path(url)
    if path is not None and not path.exists():
        return _empty()
    if path is not None:
        engine = create_engine(f"sqlite:///file:{path.resolve()}?mode=ro&uri=true", hide_parameters=True,
                               connect_args={"check_same_thread": False, "timeout": 5})
        event.listen(engine, "connect", _read_only_pragmas)
    else:
        parsed = make_url(url)
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        engine = create_engine(parsed, hide_parameters=True, pool_pre_ping=True,
                               connect_args={"options": "-c default_transaction_read_only=on"})
    if not inspect(engine).has_table("schema_version"):
        engine.dispose()
        return _empty()
    return engine


def check_writable(engine: Engine) -> str | None:
    """Before a run: one line if the database cannot be written (read-only, corrupt, locked away)."""
    try:
        with engine.connect() as conn:
            conn.execute(text("UPDATE schema_version SET version = version"))
            conn.rollback()
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", exc)).splitlines()[0][:120]
        return f"数据库无法写入：{engine.url.render_as_string(hide_password=True).split('@')[-1]}（{reason}）"
    return None
