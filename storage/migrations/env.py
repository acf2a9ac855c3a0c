"""Alembic's environment: always called by storage.migrations with an open connection."""
from __future__ import annotations

from alembic import context

from storage.migrations import context_options

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `python -m bot db ...` (storage.migrations), not the alembic CLI")
context.configure(connection=connection, **context_options())
with context.begin_transaction():
    context.run_migrations()
