"""household ledger (数字化底账)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30

Four new tables, no change to existing rows: households (one per stairwell + flat, unique),
their members (phones masked), their tags (独居老人, 出租房 …, each with its confirmation date)
and the ledger's own audit of reads, changes, imports and exports.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("households",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("stairwell", sa.String(), nullable=False),
    sa.Column("grid", sa.String(), nullable=True),
    sa.Column("building", sa.String(), nullable=False),
    sa.Column("unit", sa.String(), nullable=False),
    sa.Column("flat", sa.String(), nullable=False),
    sa.Column("note", sa.Text(), nullable=False),
    sa.Column("last_confirmed", sa.Date(), nullable=True),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_by", sa.String(), nullable=True),
    sa.PrimaryKeyConstraint("id"),
    sa.UniqueConstraint("stairwell", "flat", name="uq_households_stairwell_flat")
    )
    with op.batch_alter_table("households", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_households_grid"), ["grid"], unique=False)
        batch_op.create_index(batch_op.f("ix_households_last_confirmed"), ["last_confirmed"], unique=False)
        batch_op.create_index(batch_op.f("ix_households_stairwell"), ["stairwell"], unique=False)

    op.create_table("ledger_audit",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("actor_id", sa.String(), nullable=False),
    sa.Column("action", sa.String(), nullable=False),
    sa.Column("household_id", sa.Integer(), nullable=True),
    sa.Column("detail", sa.String(), nullable=False),
    sa.PrimaryKeyConstraint("id")
    )
    with op.batch_alter_table("ledger_audit", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ledger_audit_actor_id"), ["actor_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_ledger_audit_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_ledger_audit_household_id"), ["household_id"], unique=False)

    op.create_table("household_members",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("household_id", sa.Integer(), nullable=False),
    sa.Column("name", sa.String(), nullable=False),
    sa.Column("relation", sa.String(), nullable=False),
    sa.Column("phone", sa.String(), nullable=True),
    sa.ForeignKeyConstraint(["household_id"], ["households.id"], ),
    sa.PrimaryKeyConstraint("id"),
    sa.UniqueConstraint("household_id", "name", name="uq_household_members_name")
    )
    with op.batch_alter_table("household_members", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_household_members_household_id"), ["household_id"], unique=False)

    op.create_table("household_tags",
    sa.Column("household_id", sa.Integer(), nullable=False),
    sa.Column("tag", sa.String(), nullable=False),
    sa.Column("tenants", sa.Integer(), nullable=True),
    sa.Column("landlord", sa.String(), nullable=True),
    sa.Column("note", sa.Text(), nullable=False),
    sa.Column("confirmed_at", sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(["household_id"], ["households.id"], ),
    sa.PrimaryKeyConstraint("household_id", "tag")
    )
    with op.batch_alter_table("household_tags", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_household_tags_tag"), ["tag"], unique=False)



def downgrade() -> None:
    with op.batch_alter_table("household_tags", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_household_tags_tag"))

    op.drop_table("household_tags")
    with op.batch_alter_table("household_members", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_household_members_household_id"))

    op.drop_table("household_members")
    with op.batch_alter_table("ledger_audit", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ledger_audit_household_id"))
        batch_op.drop_index(batch_op.f("ix_ledger_audit_at"))
        batch_op.drop_index(batch_op.f("ix_ledger_audit_actor_id"))

    op.drop_table("ledger_audit")
    with op.batch_alter_table("households", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_households_stairwell"))
        batch_op.drop_index(batch_op.f("ix_households_last_confirmed"))
        batch_op.drop_index(batch_op.f("ix_households_grid"))

    op.drop_table("households")
