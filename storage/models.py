"""Tables. One class per table; queries live in the per-concern modules."""
from __future__ import annotations

from datetime import date, datetime, timezone

from sqlalchemy import CheckConstraint, Column, DateTime, Index, Text, UniqueConstraint
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


class RoleRevocation(SQLModel, table=True):
    """A config.yaml grant taken back in chat (/撤销): seeding leaves it out at every start until
    /授权 gives it back. The grid worker replacing a 楼道长 from the phone cannot edit the server's
    file, and a role that came back at the next restart would hand residents' tickets to someone
    who has left."""

    __tablename__ = "role_revocations"
    __table_args__ = (UniqueConstraint("person_id", "role", "scope"),)
    id: int | None = Field(default=None, primary_key=True)
    person_id: str
    role: str
    scope: str
    revoked_by: str
    at: datetime = _ts(nullable=False)


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
    room_id: str | None = Field(default=None, foreign_key="rooms.id")  # indexed first in (room_id, at)
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
    account: str = Field(default="main", sa_column_kwargs={"server_default": "main"})
    claimed_by: str | None = None
    room_id: str | None = Field(default=None, foreign_key="rooms.id")  # core room id
    to: str | None = None  # person id for a private message
    mentions: str = ""  # space-separated person ids
    text: str = Field(sa_column=Column(Text, nullable=False))
    priority: int = 0  # higher first (emergency notices)
    status: str = Field(default="queued")  # queued | sending | sent | failed (indexed first in the queue's index)
    attempts: int = 0
    error: str | None = None
    external_id: str | None = None
    created_at: datetime = _ts(nullable=False, index=True)  # the retention purge
    due_at: datetime = _ts(nullable=False)  # indexed after status and transport (the queue)
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
    # A group's open tickets: every petition compares itself with them (revision 0012)
    __table_args__ = (Index("ix_tickets_room_id_status", "room_id", "status"),)
    id: int | None = Field(default=None, primary_key=True)  # the short number residents see
    room_id: str | None = Field(default=None, foreign_key="rooms.id")
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
    __table_args__ = (Index("ix_ticket_events_actor_id_at", "actor_id", "at"),)  # a sender's recent reports
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
    # Who follows it (三官一律): lawyer | judge | police | prosecutor, the legal adviser when the
    # routed role has nobody in the grid; /转交 changes it.
    role: str = Field(default="lawyer", sa_column_kwargs={"server_default": "lawyer"}, index=True)
    status: str = Field(default="待答复", index=True)  # 待答复 | 已答复
    answer: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    answered_by: str | None = None
    created_at: datetime = _ts(nullable=False)
    answered_at: datetime | None = _ts(nullable=True)


class AuditEntry(SQLModel, table=True):
    """Staff reads of residents' full texts, grants and deletions (个人信息保护法)."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_actor_id_at", "actor_id", "at"),)  # a sender's throttle warnings
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


# ---- household ledger (数字化底账) ----------------------------------------------------------------
# The community's record of its flats, kept by each stairwell's trio. Sensitive (health,
# disability, minors: 个人信息保护法): phones are stored masked only (the bot never calls anyone,
# so it never needs a full number), every staff read and export leaves a LedgerAudit row, and
# a resident's /删除我的信息 leaves these rows alone (they are the community's, not chat data).
LEDGER_TAGS = ("党员", "流动人口", "出租房", "独居老人", "空巢", "留守儿童", "残疾", "重病", "低保/困难")


class Household(SQLModel, table=True):
    """One flat. (stairwell, flat) is unique: the same flat can never be stored twice."""

    __tablename__ = "households"
    __table_args__ = (UniqueConstraint("stairwell", "flat", name="uq_households_stairwell_flat"),)
    id: int | None = Field(default=None, primary_key=True)
    stairwell: str = Field(index=True)  # Room.stairwell, e.g. "3幢1单元": the trio's scope
    grid: str | None = Field(default=None, index=True)  # the grid worker's scope
    building: str  # "3幢"
    unit: str = ""  # "1单元"
    flat: str  # "502"
    note: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    last_confirmed: date | None = Field(default=None, index=True)  # /底账 缺失: never or > stale_days
    updated_at: datetime = _ts(nullable=False)
    updated_by: str | None = None


class HouseholdMember(SQLModel, table=True):
    __tablename__ = "household_members"
    __table_args__ = (UniqueConstraint("household_id", "name", name="uq_household_members_name"),)
    id: int | None = Field(default=None, primary_key=True)
    household_id: int = Field(foreign_key="households.id", index=True)
    name: str
    relation: str = ""  # 与户主关系: 户主, 配偶, 子女, 租户…
    phone: str | None = None  # masked (138****5678), never the full number


class HouseholdTag(SQLModel, table=True):
    """A tag from LEDGER_TAGS on a flat, with when it was last confirmed."""

    __tablename__ = "household_tags"
    household_id: int = Field(foreign_key="households.id", primary_key=True)
    tag: str = Field(primary_key=True, index=True)  # the 战时 check-on lists select by tag
    tenants: int | None = None  # 出租房: how many tenants
    landlord: str | None = None  # 出租房: the landlord's name and masked phone
    note: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    confirmed_at: date | None = None


class LedgerAudit(SQLModel, table=True):
    """Who read, changed, imported or exported which household, and when."""

    __tablename__ = "ledger_audit"
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = _ts(nullable=False, index=True)
    actor_id: str = Field(index=True)
    action: str  # 查看 | 缺失 | 标记 | 取消标记 | 出租 | 成员 | 确认 | 导入 | 导出
    household_id: int | None = Field(default=None, index=True)  # None: a whole-sheet import/export
    detail: str = ""


# ---- volunteer hours and points (积分) ---------------------------------------------------------
# The ledger is append-only (point_entries); point_balances keeps the running sum per person so a
# redemption is one conditional UPDATE that the database itself refuses to take below zero.


class VolunteerLog(SQLModel, table=True):
    """Hours a trio member logged for one resident's volunteer work (/志愿)."""

    __tablename__ = "volunteer_logs"
    # One activity per person and day: two trio members logging the same clean-up credit it once.
    __table_args__ = (UniqueConstraint("person_id", "day", "activity"),)
    id: int | None = Field(default=None, primary_key=True)
    person_id: str = Field(foreign_key="people.id", index=True)
    stairwell: str = Field(index=True)  # the stairwell the work was for (rankings, stars)
    room_id: str | None = Field(default=None, foreign_key="rooms.id")
    day: date = Field(index=True)  # the day the work was done (Asia/Shanghai)
    minutes: int = Field(sa_column_kwargs={"nullable": False})  # exact: 半小时 is 30, 1.5h is 90
    activity: str
    logged_by: str
    created_at: datetime = _ts(nullable=False)


class PointBalance(SQLModel, table=True):
    """The sum of a person's point entries, kept in the same transaction as every entry."""

    __tablename__ = "point_balances"
    __table_args__ = (CheckConstraint("balance >= 0", name="ck_point_balances_not_negative"),)
    person_id: str = Field(foreign_key="people.id", primary_key=True)
    balance: int = 0


class PointEntry(SQLModel, table=True):
    """One append-only change of a person's points: +earned from hours, -spent on a redemption."""

    __tablename__ = "point_entries"
    id: int | None = Field(default=None, primary_key=True)
    person_id: str = Field(foreign_key="people.id", index=True)
    delta: int
    kind: str  # 志愿 | 兑换
    volunteer_log_id: int | None = Field(default=None, foreign_key="volunteer_logs.id")
    redemption_id: int | None = Field(default=None, foreign_key="redemptions.id")
    at: datetime = _ts(nullable=False, index=True)


class Redemption(SQLModel, table=True):
    """Points exchanged for a reward (/兑换), by a trio member for a resident."""

    __tablename__ = "redemptions"
    id: int | None = Field(default=None, primary_key=True)
    person_id: str = Field(foreign_key="people.id", index=True)
    item: str
    quantity: int = 1
    points: int
    stairwell: str | None = None
    by_id: str
    at: datetime = _ts(nullable=False, index=True)


class RewardStock(SQLModel, table=True):
    """How many of a reward were supplied (config) and how many are given out: issued ≤ stock."""

    __tablename__ = "reward_stock"
    __table_args__ = (
        CheckConstraint("issued >= 0 AND (stock IS NULL OR issued <= stock)", name="ck_reward_stock_issued"),
    )
    item: str = Field(primary_key=True)
    stock: int | None = None  # None: unlimited
    issued: int = 0


# ---- grid council (议事会) and polls (评选/投票) ------------------------------------------------


class CouncilItem(SQLModel, table=True):
    """One item of a grid council's agenda: a 小急难 ticket, a resident's topic, or one the grid
    worker added. A decision gives it an owner and a due date; undone decisions carry over."""

    __tablename__ = "council_items"
    __table_args__ = (
        UniqueConstraint("grid", "month", "ticket_id", name="uq_council_items_grid_month_ticket"),  # a hot ticket enters a month's agenda once
        Index("ix_council_items_grid_month", "grid", "month"),
    )
    id: int | None = Field(default=None, primary_key=True)  # the number the agenda shows
    grid: str
    month: str  # YYYY-MM: the agenda it was put on
    source: str = "添加"  # 小急难 | 议题 | 添加
    ticket_id: int | None = Field(default=None, foreign_key="tickets.id")
    topic_id: int | None = None
    title: str = Field(sa_column=Column(Text, nullable=False))  # masked; never a resident's text for tickets
    status: str = Field(default="待议", index=True)  # 待议 | 已决定 | 已完成 | 已删除
    decision: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    owner: str | None = None
    due_on: datetime | None = _ts(nullable=True)
    created_by: str
    created_at: datetime = _ts(nullable=False)
    decided_at: datetime | None = _ts(nullable=True)
    done_at: datetime | None = _ts(nullable=True)


class CouncilTopic(SQLModel, table=True):
    """A resident's proposed topic (/议题 …), accepted into the agenda or declined with a reason."""

    __tablename__ = "council_topics"
    id: int | None = Field(default=None, primary_key=True)  # shown as T<id>
    grid: str = Field(index=True)
    room_id: str | None = Field(default=None, foreign_key="rooms.id")
    proposer_id: str = Field(index=True)
    text: str = Field(sa_column=Column(Text, nullable=False))  # masked
    status: str = Field(default="待定", index=True)  # 待定 | 已采纳 | 未采纳
    reason: str | None = None
    created_at: datetime = _ts(nullable=False)
    decided_at: datetime | None = _ts(nullable=True)


class Poll(SQLModel, table=True):
    """A 最美 election or a quick poll, open in some groups until ``closes_at``."""

    __tablename__ = "polls"
    id: int | None = Field(default=None, primary_key=True)  # shown as P<id>
    kind: str = "投票"  # 评选 | 投票
    title: str
    options: str = Field(sa_column=Column(Text, nullable=False))  # one option a line, in order
    letters: bool = False  # options are answered A, B, C… (quick polls) instead of 1, 2, 3…
    room_ids: str  # space-separated core room ids
    author_id: str
    created_at: datetime = _ts(nullable=False)
    closes_at: datetime = _ts(nullable=False, index=True)
    status: str = Field(default="open", index=True)  # open | closed
    closed_at: datetime | None = _ts(nullable=True)


class PollVote(SQLModel, table=True):
    """One resident's vote in one poll, whatever group it was cast in; a change replaces it."""

    __tablename__ = "poll_votes"
    __table_args__ = (UniqueConstraint("poll_id", "voter_id", name="uq_poll_votes_poll_voter"),)
    id: int | None = Field(default=None, primary_key=True)
    poll_id: int = Field(foreign_key="polls.id", index=True)
    voter_id: str
    choice: int  # 1-based option number
    room_id: str | None = None  # where it was cast (None: privately)
    at: datetime = _ts(nullable=False)
    changes: int = 0  # how many times the voter changed it
# ---- monthly visits and the 战时 check-on lists (每月走访全覆盖) ------------------------------------
# A visit and a check-on row point at a ledger household; notes are masked like every text.


class Visit(SQLModel, table=True):
    """One visit (入户走访) to a household by a trio member or the grid worker."""

    __tablename__ = "visits"
    __table_args__ = (Index("ix_visits_household_id_at", "household_id", "at"),)
    id: int | None = Field(default=None, primary_key=True)
    household_id: int = Field(foreign_key="households.id")
    visitor_id: str = Field(index=True)
    at: datetime = _ts(nullable=False, index=True)  # coverage counts visits in a month's range
    note: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))  # masked


class Emergency(SQLModel, table=True):
    """One 战时 period: the check-on lists sent when it opened and the grid worker's follow-up."""

    __tablename__ = "emergencies"
    id: int | None = Field(default=None, primary_key=True)
    reason: str
    kind: str | None = None  # 寒潮 | 防汛 | 高温 | 疫情 (config emergency.check_kinds); None: no lists
    started_by: str
    started_at: datetime = _ts(nullable=False)
    check_due_at: datetime | None = _ts(nullable=True, index=True)  # when the grid worker hears who is left
    followed_up_at: datetime | None = _ts(nullable=True)
    ended_at: datetime | None = _ts(nullable=True)


class CheckOn(SQLModel, table=True):
    """A household to check on in one emergency (the list as sent), and who confirmed contact."""

    __tablename__ = "emergency_checks"
    emergency_id: int = Field(foreign_key="emergencies.id", primary_key=True)
    household_id: int = Field(foreign_key="households.id", primary_key=True)
    stairwell: str = Field(index=True)
    tags: str = ""  # the tags that put it on the list, space-separated
    contacted_by: str | None = None
    contacted_at: datetime | None = _ts(nullable=True)
    note: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))  # masked
class BianminEntry(SQLModel, table=True):
    """An everyday question (便民) staff added with /便民 添加; the content file holds the rest."""

    __tablename__ = "bianmin_entries"
    id: int | None = Field(default=None, primary_key=True)  # the number /便民 删除 takes
    scope: str = Field(default="*", index=True)  # the grid it was added for ("*": everywhere)
    question: str = Field(sa_column=Column(Text, nullable=False))
    answer: str = Field(sa_column=Column(Text, nullable=False))  # masked like any staff text
    keywords: str = ""  # space-separated content words of the question, for the FAQ matcher
    author_id: str
    created_at: datetime = _ts(nullable=False)


class AidApplication(SQLModel, table=True):
    """A legal-aid application (法律援助) taken in a private chat, shown as A<id>."""

    __tablename__ = "aid_applications"
    id: int | None = Field(default=None, primary_key=True)
    asker_id: str = Field(index=True)
    grid: str | None = Field(default=None, index=True)  # the adviser's scope (where it was asked)
    matter: str = Field(sa_column=Column(Text, nullable=False))  # masked
    matter_kind: str = "其他"  # an item of 《法律援助法》第三十一条, or 其他
    income: str = ""  # the income answer's key (content file)
    documents: str = ""  # space-separated keys of the documents the resident has
    status: str = Field(default="待受理", index=True)  # 待受理 | 已受理 | 补材料 | 已办结 | 不予受理
    note: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))  # the adviser's last word
    adviser_id: str | None = None
    created_at: datetime = _ts(nullable=False)
    updated_at: datetime = _ts(nullable=False)


# ---- the staff console (员工后台): one-time login links and passwords --------------------------------


class ConsoleToken(SQLModel, table=True):
    """A one-time login link sent by /登录: only the token's SHA-256 is kept; single use, expires."""

    __tablename__ = "console_tokens"
    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(unique=True)
    person_id: str = Field(index=True)
    created_at: datetime = _ts(nullable=False)
    expires_at: datetime = _ts(nullable=False)
    used_at: datetime | None = _ts(nullable=True)


class ConsolePassword(SQLModel, table=True):
    """A staff member's console password (``python -m bot staff set-password``), as an argon2id hash."""

    __tablename__ = "console_passwords"
    person_id: str = Field(primary_key=True)
    password_hash: str
    set_at: datetime = _ts(nullable=False)
