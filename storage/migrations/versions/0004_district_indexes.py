"""indexes for a district's volume

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30

Measured on a generated district (bench/volume.py): role_grants were scanned by role, reporters
by person, notice targets by group, a group's history and the retention purge scanned messages
and the outbox, the outbox worker scanned every row ever sent for the queued ones, and scope
filters scanned every ticket. Indexes only: no row changes.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

INDEXES = (
    ("ix_role_grants_role_scope", "role_grants", ["role", "scope"]),
    ("ix_ticket_reporters_person_id", "ticket_reporters", ["person_id"]),
    ("ix_notice_targets_room_id", "notice_targets", ["room_id"]),
    ("ix_messages_room_id_at", "messages", ["room_id", "at"]),
    ("ix_outbox_created_at", "outbox", ["created_at"]),
    ("ix_outbox_status_transport_due_at", "outbox", ["status", "transport", "due_at"]),
    ("ix_tickets_stairwell", "tickets", ["stairwell"]),
    ("ix_tickets_grid", "tickets", ["grid"]),
)


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    for name, table, columns in INDEXES:
        if name not in {ix["name"] for ix in inspector.get_indexes(table)}:
            op.create_index(name, table, columns)


def downgrade() -> None:
    for name, table, _ in INDEXES:
        op.drop_index(name, table_name=table)
