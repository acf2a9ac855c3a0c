"""Tables. One class per table; queries live in the per-concern modules."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import Column, DateTime, Index, Text, UniqueConstraint
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel


class UTCDateTime(TypeDecorator):
    """Stored as UTC, always returned aware (SQLite keeps no zone of its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def _ts(**kw):  # aware timestamps on both SQLite and PostgreSQL (untyped like Field(): the column types it)
    return Field(sa_column=Column(UTCDateTime(), **kw))


class SchemaVersion(SQLModel, table=True):
    """How many migrations are applied (storage.migrations keeps it; release 0.1 refuses above 1)."""

    __tablename__ = "schema_version"
    id: int = Field(default=1, primary_key=True)
    version: int


class Room(SQLModel, table=True):
    __tablename__ = "rooms"
    id: str = Field(primary_key=True)  # stable key: from config, or "room-<random hex>" for a group found later
    topic: str = Field(index=True)
    kind: str = "stairwell"  # stairwell | legal | staff | unbound
    grid: str | None = None
    stairwell: str | None = None
    auto_tickets: bool = True
    transport: str | None = None
    external_id: str | None = Field(default=None, index=True)  # the transport's current id for it
    introduced: bool = False
    account: str | None = Field(default=None, index=True)  # the bot account serving it (None: the first start's)

    def covered_by(self, scope: str) -> bool:
        """Whether a grant's scope ("*", a stairwell, a grid or a group's topic) reaches this room.

        The one definition of the scope rule; bot.permissions applies it to callers."""
        return scope == "*" or scope in (self.stairwell, self.grid, self.topic)


class Person(SQLModel, table=True):
    __tablename__ = "people"
    id: str = Field(primary_key=True)  # the transport's stable id (or the config id)
    name: str
    deleted: bool = False


class PersonAlias(SQLModel, table=True):
    """A transport's id for a known person (e.g. the wxid of 李敏 = officer-li); transport '*' = any."""

    __tablename__ = "person_aliases"
    transport: str = Field(primary_key=True)
    external_id: str = Field(primary_key=True)
    person_id: str = Field(foreign_key="people.id", index=True)
    source: str = "config"  # config | chat


class RoomMember(SQLModel, table=True):
    __tablename__ = "room_members"
    room_id: str = Field(foreign_key="rooms.id", primary_key=True)
    person_id: str = Field(foreign_key="people.id", primary_key=True)


class RoleGrant(SQLModel, table=True):
    __tablename__ = "role_grants"
    __table_args__ = (
        UniqueConstraint("person_id", "role", "scope"),
        Index("ix_role_grants_role_scope", "role", "scope"),  # who holds a role where
    )
    id: int | None = Field(default=None, primary_key=True)
    person_id: str = Field(foreign_key="people.id", index=True)
    role: str
    scope: str = "*"
    source: str = "config"  # config | chat
    granted_by: str | None = None


class Message(SQLModel, table=True):
    """Every message seen or sent. The UNIQUE (transport, external_id) insert is the dedup check."""

    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("transport", "external_id"),
        Index("ix_messages_room_id_at", "room_id", "at"),  # a group's history
    )
    id: int | None = Field(default=None, primary_key=True)
    transport: str
    external_id: str
    room_id: str | None = Field(default=None, foreign_key="rooms.id", index=True)
    sender_id: str
    sender_name: str
    text: str = Field(sa_column=Column(Text, nullable=False))  # masked
    from_bot: bool = False
    route: str | None = None
    category: str | None = None
    at: datetime = _ts(nullable=False, index=True)


class OutboxItem(SQLModel, table=True):
    """A message the bot will send; queued in the same transaction as what caused it."""

    __tablename__ = "outbox"
    # The worker's queue: the few queued rows of a transport by due time, never a scan of the
    # hundreds of thousands already sent (due_items, next_due_at).
    __table_args__ = (Index("ix_outbox_status_transport_due_at", "status", "transport", "due_at"),)
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True)  # idempotency key: a crash can never double-queue
    transport: str
    # The bot account that sends it (its room's, else the queuing process's); only that
    # account's processes claim it. claimed_by: the process that marked it 'sending'.
    account: str = Field(default="main", sa_column_kwargs={"server_default": "main"}, index=True)
    claimed_by: str | None = None
    room_id: str | None = Field(default=None, foreign_key="rooms.id")  # core room id
    to: str | None = None  # person id for a private message
    mentions: str = ""  # space-separated person ids
    text: str = Field(sa_column=Column(Text, nullable=False))
    priority: int = 0  # higher first (emergency notices)
    status: str = Field(default="queued", index=True)  # queued | sending | sent | failed
    attempts: int = 0
    error: str | None = None
    external_id: str | None = None
    created_at: datetime = _ts(nullable=False, index=True)  # the retention purge
    due_at: datetime = _ts(nullable=False, index=True)
    sent_at: datetime | None = _ts(nullable=True)


class DirectoryStamp(SQLModel, table=True):
    """One row counting committed writes to the directory tables (bumped by database triggers,
    revision 0003), so every process's directory cache notices another process's changes."""

    __tablename__ = "directory_stamp"
    id: int = Field(default=1, primary_key=True)
    version: int = 0


class Ticket(SQLModel, table=True):
    """A petition (诉求/工单), numbered, followed to the end."""

    __tablename__ = "tickets"
    id: int | None = Field(default=None, primary_key=True)  # the short number residents see
    room_id: str | None = Field(default=None, foreign_key="rooms.id", index=True)
    stairwell: str | None = Field(default=None, index=True)  # scope filters (/工单, /统计)
    grid: str | None = Field(default=None, index=True)
    reporter_id: str = Field(index=True)
    category: str = "其他"
    urgent: bool = False
    text: str = Field(sa_column=Column(Text, nullable=False))  # masked
    status: str = Field(default="已受理", index=True)
    assignee_id: str | None = None
    reporters: int = 1
    rating: str | None = None
    created_at: datetime = _ts(nullable=False, index=True)
    due_at: datetime = _ts(nullable=False)
    responded_at: datetime | None = _ts(nullable=True)
    resolved_at: datetime | None = _ts(nullable=True)
    closed_at: datetime | None = _ts(nullable=True)


class TicketReporter(SQLModel, table=True):
    __tablename__ = "ticket_reporters"
    ticket_id: int = Field(foreign_key="tickets.id", primary_key=True)
    person_id: str = Field(primary_key=True, index=True)  # /我的工单, pending ratings


class TicketEvent(SQLModel, table=True):
    """The timestamped history of a ticket."""

    __tablename__ = "ticket_events"
    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="tickets.id", index=True)
    at: datetime = _ts(nullable=False)
    actor_id: str
    action: str  # 受理 | 追加 | 分派 | 处理 | 办结 | 延期 | 评价 | 撤销 | 重开 | 催办
    note: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))


class Consultation(SQLModel, table=True):
    """A legal question handed to the community legal adviser."""

    __tablename__ = "consultations"
    id: int | None = Field(default=None, primary_key=True)  # shown as L<id>
    room_id: str | None = Field(default=None, foreign_key="rooms.id", index=True)
    asker_id: str = Field(index=True)
    category: str = "其他法律"
    urgent: bool = False
    text: str = Field(sa_column=Column(Text, nullable=False))  # masked
    faq_id: str | None = None
    status: str = Field(default="待答复", index=True)  # 待答复 | 已答复
    answer: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    answered_by: str | None = None
    created_at: datetime = _ts(nullable=False)
    answered_at: datetime | None = _ts(nullable=True)


class AuditEntry(SQLModel, table=True):
    """Staff reads of residents' full texts, grants and deletions (个人信息保护法)."""

    __tablename__ = "audit_log"
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = _ts(nullable=False)
    actor_id: str
    action: str
    subject: str


class Notice(SQLModel, table=True):
    """An announcement: sent by /通知, or a staff member's plain notice in a group."""

    __tablename__ = "notices"
    id: int | None = Field(default=None, primary_key=True)
    author_id: str
    text: str = Field(sa_column=Column(Text, nullable=False))
    source: str = "command"  # command | plain | resident
    emergency: bool = False
    tracked: bool = True  # receipts are counted
    created_at: datetime = _ts(nullable=False, index=True)
    chased: bool = False  # emergency: non-confirmers sent to the trio


class NoticeTarget(SQLModel, table=True):
    __tablename__ = "notice_targets"
    notice_id: int = Field(foreign_key="notices.id", primary_key=True)
    room_id: str = Field(foreign_key="rooms.id", primary_key=True, index=True)  # a group's notices


class Receipt(SQLModel, table=True):
    """A resident's 收到 / 已阅 / 好的 after a notice."""

    __tablename__ = "receipts"
    notice_id: int = Field(foreign_key="notices.id", primary_key=True)
    person_id: str = Field(primary_key=True)
    room_id: str = Field(foreign_key="rooms.id")
    at: datetime = _ts(nullable=False)


class ScheduleCursor(SQLModel, table=True):
    """Where each group is in a content library, so rotation survives restarts."""

    __tablename__ = "schedule_cursors"
    room_id: str = Field(foreign_key="rooms.id", primary_key=True)
    library: str = Field(primary_key=True)  # weekly | cases
    position: int = 0


class TimedNotice(SQLModel, table=True):
    """An officer's /定时 or /每周 notice: the durable intent. The APScheduler job only wakes it,
    so a crash between the job leaving its store and the notice being queued loses nothing."""

    __tablename__ = "timed_notices"
    id: int | None = Field(default=None, primary_key=True)  # the number shown in /任务
    author_id: str = Field(index=True)
    author_name: str
    title: str = ""  # how the author signs (信息员, 网格员…)
    text: str = Field(sa_column=Column(Text, nullable=False))  # masked
    room_ids: str  # space-separated core room ids
    due_at: datetime = _ts(nullable=False, index=True)  # the next time it is due
    weekly: str | None = None  # "fri 22:30" for /每周; None for a one-off /定时
    status: str = Field(default="pending", index=True)  # pending | queued | missed | cancelled
    created_at: datetime = _ts(nullable=False)
    done_at: datetime | None = _ts(nullable=True)
