"""release 0.1 schema

Revision ID: 0001
Revises: (none: the first revision)
Create Date: 2026-11-30

The schema of release 0.1, whose databases were made by create_all and carry a
schema_version row but no alembic_version: storage.migrations stamps those at this revision.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Exactly what release 0.1 made with create_all (storage/models.py and storage/state.py).
    op.create_table("audit_log",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("actor_id", sa.String(), nullable=False),
    sa.Column("action", sa.String(), nullable=False),
    sa.Column("subject", sa.String(), nullable=False),
    sa.PrimaryKeyConstraint("id")
    )
    op.create_table("notices",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("author_id", sa.String(), nullable=False),
    sa.Column("text", sa.Text(), nullable=False),
    sa.Column("source", sa.String(), nullable=False),
    sa.Column("emergency", sa.Boolean(), nullable=False),
    sa.Column("tracked", sa.Boolean(), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("chased", sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint("id")
    )
    op.create_index("ix_notices_created_at", "notices", ["created_at"])

    op.create_table("people",
    sa.Column("id", sa.String(), nullable=False),
    sa.Column("name", sa.String(), nullable=False),
    sa.Column("deleted", sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint("id")
    )
    op.create_table("rooms",
    sa.Column("id", sa.String(), nullable=False),
    sa.Column("topic", sa.String(), nullable=False),
    sa.Column("kind", sa.String(), nullable=False),
    sa.Column("grid", sa.String(), nullable=True),
    sa.Column("stairwell", sa.String(), nullable=True),
    sa.Column("auto_tickets", sa.Boolean(), nullable=False),
    sa.Column("transport", sa.String(), nullable=True),
    sa.Column("external_id", sa.String(), nullable=True),
    sa.Column("introduced", sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint("id")
    )
    op.create_index("ix_rooms_external_id", "rooms", ["external_id"])
    op.create_index("ix_rooms_topic", "rooms", ["topic"])

    op.create_table("schema_version",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("version", sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint("id")
    )
    op.create_table("state_flags",
    sa.Column("name", sa.String(), nullable=False),
    sa.Column("value", sa.String(), nullable=False),
    sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint("name")
    )
    op.create_table("consultations",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("room_id", sa.String(), nullable=True),
    sa.Column("asker_id", sa.String(), nullable=False),
    sa.Column("category", sa.String(), nullable=False),
    sa.Column("urgent", sa.Boolean(), nullable=False),
    sa.Column("text", sa.Text(), nullable=False),
    sa.Column("faq_id", sa.String(), nullable=True),
    sa.Column("status", sa.String(), nullable=False),
    sa.Column("answer", sa.Text(), nullable=True),
    sa.Column("answered_by", sa.String(), nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(["room_id"], ["rooms.id"], ),
    sa.PrimaryKeyConstraint("id")
    )
    op.create_index("ix_consultations_asker_id", "consultations", ["asker_id"])
    op.create_index("ix_consultations_room_id", "consultations", ["room_id"])
    op.create_index("ix_consultations_status", "consultations", ["status"])

    op.create_table("messages",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("transport", sa.String(), nullable=False),
    sa.Column("external_id", sa.String(), nullable=False),
    sa.Column("room_id", sa.String(), nullable=True),
    sa.Column("sender_id", sa.String(), nullable=False),
    sa.Column("sender_name", sa.String(), nullable=False),
    sa.Column("text", sa.Text(), nullable=False),
    sa.Column("from_bot", sa.Boolean(), nullable=False),
    sa.Column("route", sa.String(), nullable=True),
    sa.Column("category", sa.String(), nullable=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(["room_id"], ["rooms.id"], ),
    sa.PrimaryKeyConstraint("id"),
    sa.UniqueConstraint("transport", "external_id")
    )
    op.create_index("ix_messages_at", "messages", ["at"])
    op.create_index("ix_messages_room_id", "messages", ["room_id"])

    op.create_table("notice_targets",
    sa.Column("notice_id", sa.Integer(), nullable=False),
    sa.Column("room_id", sa.String(), nullable=False),
    sa.ForeignKeyConstraint(["notice_id"], ["notices.id"], ),
    sa.ForeignKeyConstraint(["room_id"], ["rooms.id"], ),
    sa.PrimaryKeyConstraint("notice_id", "room_id")
    )
    op.create_table("outbox",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("key", sa.String(), nullable=False),
    sa.Column("transport", sa.String(), nullable=False),
    sa.Column("room_id", sa.String(), nullable=True),
    sa.Column("to", sa.String(), nullable=True),
    sa.Column("mentions", sa.String(), nullable=False),
    sa.Column("text", sa.Text(), nullable=False),
    sa.Column("priority", sa.Integer(), nullable=False),
    sa.Column("status", sa.String(), nullable=False),
    sa.Column("attempts", sa.Integer(), nullable=False),
    sa.Column("error", sa.String(), nullable=True),
    sa.Column("external_id", sa.String(), nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(["room_id"], ["rooms.id"], ),
    sa.PrimaryKeyConstraint("id"),
    sa.UniqueConstraint("key")
    )
    op.create_index("ix_outbox_due_at", "outbox", ["due_at"])
    op.create_index("ix_outbox_status", "outbox", ["status"])

    op.create_table("person_aliases",
    sa.Column("transport", sa.String(), nullable=False),
    sa.Column("external_id", sa.String(), nullable=False),
    sa.Column("person_id", sa.String(), nullable=False),
    sa.Column("source", sa.String(), nullable=False),
    sa.ForeignKeyConstraint(["person_id"], ["people.id"], ),
    sa.PrimaryKeyConstraint("transport", "external_id")
    )
    op.create_index("ix_person_aliases_person_id", "person_aliases", ["person_id"])

    op.create_table("receipts",
    sa.Column("notice_id", sa.Integer(), nullable=False),
    sa.Column("person_id", sa.String(), nullable=False),
    sa.Column("room_id", sa.String(), nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(["notice_id"], ["notices.id"], ),
    sa.ForeignKeyConstraint(["room_id"], ["rooms.id"], ),
    sa.PrimaryKeyConstraint("notice_id", "person_id")
    )
    op.create_table("role_grants",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("person_id", sa.String(), nullable=False),
    sa.Column("role", sa.String(), nullable=False),
    sa.Column("scope", sa.String(), nullable=False),
    sa.Column("source", sa.String(), nullable=False),
    sa.Column("granted_by", sa.String(), nullable=True),
    sa.ForeignKeyConstraint(["person_id"], ["people.id"], ),
    sa.PrimaryKeyConstraint("id"),
    sa.UniqueConstraint("person_id", "role", "scope")
    )
    op.create_index("ix_role_grants_person_id", "role_grants", ["person_id"])

    op.create_table("room_members",
    sa.Column("room_id", sa.String(), nullable=False),
    sa.Column("person_id", sa.String(), nullable=False),
    sa.ForeignKeyConstraint(["person_id"], ["people.id"], ),
    sa.ForeignKeyConstraint(["room_id"], ["rooms.id"], ),
    sa.PrimaryKeyConstraint("room_id", "person_id")
    )
    op.create_table("schedule_cursors",
    sa.Column("room_id", sa.String(), nullable=False),
    sa.Column("library", sa.String(), nullable=False),
    sa.Column("position", sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(["room_id"], ["rooms.id"], ),
    sa.PrimaryKeyConstraint("room_id", "library")
    )
    op.create_table("tickets",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("room_id", sa.String(), nullable=True),
    sa.Column("stairwell", sa.String(), nullable=True),
    sa.Column("grid", sa.String(), nullable=True),
    sa.Column("reporter_id", sa.String(), nullable=False),
    sa.Column("category", sa.String(), nullable=False),
    sa.Column("urgent", sa.Boolean(), nullable=False),
    sa.Column("text", sa.Text(), nullable=False),
    sa.Column("status", sa.String(), nullable=False),
    sa.Column("assignee_id", sa.String(), nullable=True),
    sa.Column("reporters", sa.Integer(), nullable=False),
    sa.Column("rating", sa.String(), nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("responded_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(["room_id"], ["rooms.id"], ),
    sa.PrimaryKeyConstraint("id")
    )
    op.create_index("ix_tickets_created_at", "tickets", ["created_at"])
    op.create_index("ix_tickets_reporter_id", "tickets", ["reporter_id"])
    op.create_index("ix_tickets_room_id", "tickets", ["room_id"])
    op.create_index("ix_tickets_status", "tickets", ["status"])

    op.create_table("ticket_events",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("ticket_id", sa.Integer(), nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("actor_id", sa.String(), nullable=False),
    sa.Column("action", sa.String(), nullable=False),
    sa.Column("note", sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], ),
    sa.PrimaryKeyConstraint("id")
    )
    op.create_index("ix_ticket_events_ticket_id", "ticket_events", ["ticket_id"])

    op.create_table("ticket_reporters",
    sa.Column("ticket_id", sa.Integer(), nullable=False),
    sa.Column("person_id", sa.String(), nullable=False),
    sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], ),
    sa.PrimaryKeyConstraint("ticket_id", "person_id")
    )


def downgrade() -> None:
    for table in (
        "ticket_reporters",
        "ticket_events",
        "tickets",
        "schedule_cursors",
        "room_members",
        "role_grants",
        "receipts",
        "person_aliases",
        "outbox",
        "notice_targets",
        "messages",
        "consultations",
        "state_flags",
        "schema_version",
        "rooms",
        "people",
        "notices",
        "audit_log",
    ):
        op.drop_table(table)  # its indexes go with it
