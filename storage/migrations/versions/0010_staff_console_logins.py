"""The staff console's logins

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30

- ``console_tokens``: one-time login links sent by /登录 (the token's SHA-256 only; expiry, use);
- ``console_passwords``: argon2id hashes set with ``python -m bot staff set-password``.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "console_passwords",
        sa.Column("person_id", sa.String(), nullable=False),
        sa.Column("password_hash", sa.String(), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("person_id"),
    )
    op.create_table(
        "console_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(), nullable=False),
        sa.Column("person_id", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index(op.f("ix_console_tokens_person_id"), "console_tokens", ["person_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_console_tokens_person_id"), table_name="console_tokens")
    op.drop_table("console_tokens")
    op.drop_table("console_passwords")
