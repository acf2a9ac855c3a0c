"""bot accounts

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30

Several bot accounts (processes) on one database:
- ``outbox.account``: the account that sends a row (rows already queued: 'main', the default
  account's name); ``outbox.claimed_by``: the process that marked it 'sending';
- ``rooms.account``: the account serving a group (NULL: set by the next start's config seeding);
- ``directory_stamp``: one row bumped by triggers on every write to the directory tables, so
  each process's directory cache notices another process's writes (storage.directory).
A later revision that batch-copies one of these tables on SQLite must create its trigger again.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

DIRECTORY_TABLES = ("rooms", "people", "person_aliases", "role_grants", "room_members")
BUMP = "UPDATE directory_stamp SET version = version + 1 WHERE id = 1"


def upgrade() -> None:
    op.create_table(
        "directory_stamp",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.execute("INSERT INTO directory_stamp (id, version) VALUES (1, 0)")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("account", sa.String(), server_default="main", nullable=False))
        batch_op.add_column(sa.Column("claimed_by", sa.String(), nullable=True))
        batch_op.create_index(batch_op.f("ix_outbox_account"), ["account"], unique=False)
    with op.batch_alter_table("rooms", schema=None) as batch_op:
        batch_op.add_column(sa.Column("account", sa.String(), nullable=True))
        batch_op.create_index(batch_op.f("ix_rooms_account"), ["account"], unique=False)
    _stamp_triggers()


def _stamp_triggers() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION directory_stamp_bump() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN {BUMP}; RETURN NULL; END $$"
        )
        for table in DIRECTORY_TABLES:  # once per statement: a seed of many rows bumps once
            op.execute(
                f"CREATE TRIGGER directory_stamp_{table} AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
                f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION directory_stamp_bump()"
            )
        return
    for table in DIRECTORY_TABLES:  # SQLite has row triggers only
        for action in ("INSERT", "UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER directory_stamp_{table}_{action.lower()} AFTER {action} ON {table} "
                f"BEGIN {BUMP}; END"
            )


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for table in DIRECTORY_TABLES:
        if postgres:
            op.execute(f"DROP TRIGGER directory_stamp_{table} ON {table}")
        else:
            for action in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER directory_stamp_{table}_{action}")
    if postgres:
        op.execute("DROP FUNCTION directory_stamp_bump()")
    with op.batch_alter_table("rooms", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rooms_account"))
        batch_op.drop_column("account")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_account"))
        batch_op.drop_column("claimed_by")
        batch_op.drop_column("account")
    op.drop_table("directory_stamp")
