"""volunteer hours and points (积分)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30

Volunteer hour logs (/志愿), the append-only points ledger, the per-person balance it sums to,
redemptions (/兑换) and reward stock. The CHECK constraints are the last guard against a negative
balance or over-issued stock (storage.points updates both conditionally); Alembic's autogenerate
does not compare CHECK constraints, so they are written here by hand and tested in
tests/test_points_storage.py. New tables only: nothing to copy on SQLite.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reward_stock",
        sa.Column("item", sa.String(), nullable=False),
        sa.Column("stock", sa.Integer(), nullable=True),
        sa.Column("issued", sa.Integer(), nullable=False),
        sa.CheckConstraint("issued >= 0 AND (stock IS NULL OR issued <= stock)", name="ck_reward_stock_issued"),
        sa.PrimaryKeyConstraint("item"),
    )
    op.create_table(
        "point_balances",
        sa.Column("person_id", sa.String(), nullable=False),
        sa.Column("balance", sa.Integer(), nullable=False),
        sa.CheckConstraint("balance >= 0", name="ck_point_balances_not_negative"),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"]),
        sa.PrimaryKeyConstraint("person_id"),
    )
    op.create_table(
        "redemptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.String(), nullable=False),
        sa.Column("item", sa.String(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("stairwell", sa.String(), nullable=True),
        sa.Column("by_id", sa.String(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_redemptions_at", "redemptions", ["at"])
    op.create_index("ix_redemptions_person_id", "redemptions", ["person_id"])
    op.create_table(
        "volunteer_logs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.String(), nullable=False),
        sa.Column("stairwell", sa.String(), nullable=False),
        sa.Column("room_id", sa.String(), nullable=True),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("activity", sa.String(), nullable=False),
        sa.Column("logged_by", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"]),
        sa.ForeignKeyConstraint(["room_id"], ["rooms.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("person_id", "day", "activity"),
    )
    op.create_index("ix_volunteer_logs_day", "volunteer_logs", ["day"])
    op.create_index("ix_volunteer_logs_person_id", "volunteer_logs", ["person_id"])
    op.create_index("ix_volunteer_logs_stairwell", "volunteer_logs", ["stairwell"])
    op.create_table(
        "point_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.String(), nullable=False),
        sa.Column("delta", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("volunteer_log_id", sa.Integer(), nullable=True),
        sa.Column("redemption_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"]),
        sa.ForeignKeyConstraint(["redemption_id"], ["redemptions.id"]),
        sa.ForeignKeyConstraint(["volunteer_log_id"], ["volunteer_logs.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_point_entries_at", "point_entries", ["at"])
    op.create_index("ix_point_entries_person_id", "point_entries", ["person_id"])


def downgrade() -> None:
    for table in ("point_entries", "volunteer_logs", "redemptions", "point_balances", "reward_stock"):
        op.drop_table(table)
