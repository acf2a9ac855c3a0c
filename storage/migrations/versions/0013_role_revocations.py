"""Roles from config.yaml taken back in chat

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03

``role_revocations``: a grant that config.yaml makes and /撤销 took back. Seeding leaves it out
at every start (the grid worker replacing a 楼道长 cannot edit the server's file); /授权 of the
same role and scope removes the row.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "role_revocations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.String(), nullable=False),
        sa.Column("role", sa.String(), nullable=False),
        sa.Column("scope", sa.String(), nullable=False),
        sa.Column("revoked_by", sa.String(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("person_id", "role", "scope"),
    )


def downgrade() -> None:
    op.drop_table("role_revocations")
