"""三官一律 roles on consultations, everyday questions (便民), legal-aid applications

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30

- ``consultations.role``: who follows a consultation (lawyer | judge | prosecutor | police);
  existing rows were all the legal adviser's ('lawyer');
- ``bianmin_entries``: everyday questions staff add with /便民 添加;
- ``aid_applications``: legal-aid applications A<n> taken in a private chat.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("consultations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("role", sa.String(), server_default="lawyer", nullable=False))
        batch_op.create_index(batch_op.f("ix_consultations_role"), ["role"], unique=False)
    op.create_table(
        "bianmin_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("keywords", sa.String(), nullable=False),
        sa.Column("author_id", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_bianmin_entries_scope"), "bianmin_entries", ["scope"], unique=False)
    op.create_table(
        "aid_applications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("asker_id", sa.String(), nullable=False),
        sa.Column("grid", sa.String(), nullable=True),
        sa.Column("matter", sa.Text(), nullable=False),
        sa.Column("matter_kind", sa.String(), nullable=False),
        sa.Column("income", sa.String(), nullable=False),
        sa.Column("documents", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("adviser_id", sa.String(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    for column in ("asker_id", "grid", "status"):
        op.create_index(op.f(f"ix_aid_applications_{column}"), "aid_applications", [column], unique=False)


def downgrade() -> None:
    for column in ("asker_id", "grid", "status"):
        op.drop_index(op.f(f"ix_aid_applications_{column}"), table_name="aid_applications")
    op.drop_table("aid_applications")
    op.drop_index(op.f("ix_bianmin_entries_scope"), table_name="bianmin_entries")
    op.drop_table("bianmin_entries")
    with op.batch_alter_table("consultations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_consultations_role"))
        batch_op.drop_column("role")
