"""monthly visits and the 战时 check-on lists

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30

Three new tables, no change to existing rows: visits (one per household visit, 每月走访全覆盖),
emergencies (one per 战时 period, with the grid worker's follow-up time) and emergency_checks
(the households to check on in one emergency and who confirmed contact). They point at the
ledger's households (revision 0005).
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "emergencies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=True),
        sa.Column("started_by", sa.String(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("check_due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("followed_up_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_emergencies_check_due_at", "emergencies", ["check_due_at"])
    op.create_table(
        "emergency_checks",
        sa.Column("emergency_id", sa.Integer(), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.Column("stairwell", sa.String(), nullable=False),
        sa.Column("tags", sa.String(), nullable=False),
        sa.Column("contacted_by", sa.String(), nullable=True),
        sa.Column("contacted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["emergency_id"], ["emergencies.id"]),
        sa.ForeignKeyConstraint(["household_id"], ["households.id"]),
        sa.PrimaryKeyConstraint("emergency_id", "household_id"),
    )
    op.create_index("ix_emergency_checks_stairwell", "emergency_checks", ["stairwell"])
    op.create_table(
        "visits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.Column("visitor_id", sa.String(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["household_id"], ["households.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_visits_at", "visits", ["at"])
    op.create_index("ix_visits_household_id_at", "visits", ["household_id", "at"])
    op.create_index("ix_visits_visitor_id", "visits", ["visitor_id"])


def downgrade() -> None:
    op.drop_table("visits")
    op.drop_table("emergency_checks")
    op.drop_table("emergencies")
