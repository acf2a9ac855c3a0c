"""grid council and polls

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30

The grid council's agenda items and residents' topics (议事会), 最美 elections and quick polls
with one vote per resident per poll (UNIQUE poll_id, voter_id: a recount from the table is the
result). New tables only: no existing row changes.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def _ts(name: str, nullable: bool) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "polls",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("title", sa.String(), nullable=False),
        sa.Column("options", sa.Text(), nullable=False),
        sa.Column("letters", sa.Boolean(), nullable=False),
        sa.Column("room_ids", sa.String(), nullable=False),
        sa.Column("author_id", sa.String(), nullable=False),
        _ts("created_at", False),
        _ts("closes_at", False),
        sa.Column("status", sa.String(), nullable=False),
        _ts("closed_at", True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_polls_closes_at", "polls", ["closes_at"])
    op.create_index("ix_polls_status", "polls", ["status"])
    op.create_table(
        "poll_votes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("poll_id", sa.Integer(), nullable=False),
        sa.Column("voter_id", sa.String(), nullable=False),
        sa.Column("choice", sa.Integer(), nullable=False),
        sa.Column("room_id", sa.String(), nullable=True),
        _ts("at", False),
        sa.Column("changes", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["poll_id"], ["polls.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("poll_id", "voter_id", name="uq_poll_votes_poll_voter"),
    )
    op.create_index("ix_poll_votes_poll_id", "poll_votes", ["poll_id"])
    op.create_table(
        "council_topics",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("grid", sa.String(), nullable=False),
        sa.Column("room_id", sa.String(), nullable=True),
        sa.Column("proposer_id", sa.String(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("reason", sa.String(), nullable=True),
        _ts("created_at", False),
        _ts("decided_at", True),
        sa.ForeignKeyConstraint(["room_id"], ["rooms.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_council_topics_grid", "council_topics", ["grid"])
    op.create_index("ix_council_topics_proposer_id", "council_topics", ["proposer_id"])
    op.create_index("ix_council_topics_status", "council_topics", ["status"])
    op.create_table(
        "council_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("grid", sa.String(), nullable=False),
        sa.Column("month", sa.String(), nullable=False),
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("topic_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("decision", sa.Text(), nullable=True),
        sa.Column("owner", sa.String(), nullable=True),
        _ts("due_on", True),
        sa.Column("created_by", sa.String(), nullable=False),
        _ts("created_at", False),
        _ts("decided_at", True),
        _ts("done_at", True),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("grid", "month", "ticket_id", name="uq_council_items_grid_month_ticket"),
    )
    op.create_index("ix_council_items_grid_month", "council_items", ["grid", "month"])
    op.create_index("ix_council_items_status", "council_items", ["status"])


def downgrade() -> None:
    for table in ("council_items", "council_topics", "poll_votes", "polls"):
        op.drop_table(table)
