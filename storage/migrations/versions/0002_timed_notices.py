"""timed notices

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30

The durable row per /定时 and /每周 (storage.models.TimedNotice). A database made by a development
build between that feature and the migrations (create_all, stamped 0001) has the table already,
exactly like this: it is kept.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if sa.inspect(op.get_bind()).has_table("timed_notices"):
        return
    op.create_table(
        "timed_notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.String(), nullable=False),
        sa.Column("author_name", sa.String(), nullable=False),
        sa.Column("title", sa.String(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("room_ids", sa.String(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("weekly", sa.String(), nullable=True),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_timed_notices_author_id", "timed_notices", ["author_id"])
    op.create_index("ix_timed_notices_due_at", "timed_notices", ["due_at"])
    op.create_index("ix_timed_notices_status", "timed_notices", ["status"])


def downgrade() -> None:
    op.drop_table("timed_notices")
