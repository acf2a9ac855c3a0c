"""A group's open tickets by one index; four indexes no query needs

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01

Every petition reads its group's open tickets (to join the same problem rather than open a
second ticket). The index by room alone made it read every ticket the group ever had (~125 in a
district's year) to keep the dozen open ones: 0.5 ms of a petition's time on SQLite, 0.28 ms by
(room_id, status). The new index serves every query the old one did (room_id is its prefix).

``ix_messages_room_id`` and ``ix_outbox_status`` are prefixes of ``ix_messages_room_id_at`` and
``ix_outbox_status_transport_due_at``; ``ix_outbox_account`` and ``ix_outbox_due_at`` serve no
query (the outbox is always read by status and transport first, then account and due time). Every
message and every reply paid for writing them.
"""
from __future__ import annotations

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_tickets_room_id_status", "tickets", ["room_id", "status"], unique=False)
    op.drop_index("ix_tickets_room_id", table_name="tickets")
    op.drop_index("ix_messages_room_id", table_name="messages")
    op.drop_index("ix_outbox_status", table_name="outbox")
    op.drop_index("ix_outbox_account", table_name="outbox")
    op.drop_index("ix_outbox_due_at", table_name="outbox")


def downgrade() -> None:
    op.create_index("ix_outbox_due_at", "outbox", ["due_at"], unique=False)
    op.create_index("ix_outbox_account", "outbox", ["account"], unique=False)
    op.create_index("ix_outbox_status", "outbox", ["status"], unique=False)
    op.create_index("ix_messages_room_id", "messages", ["room_id"], unique=False)
    op.create_index("ix_tickets_room_id", "tickets", ["room_id"], unique=False)
    op.drop_index("ix_tickets_room_id_status", table_name="tickets")
