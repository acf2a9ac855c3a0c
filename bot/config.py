"""Configuration: config.yaml read into pydantic models.

Unknown keys are rejected with their YAML path; secrets never live in the
file, only the *names* of the environment variables that hold them.
"""
from __future__ import annotations

import os
import re
from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import ErrorDetails

from common.yamlload import load_unique

ROLE_NAMES: dict[str, str] = {
    "resident": "居民",
    "leader": "楼道长",
    "officer": "信息员",
    "support": "保障员",
    "grid": "网格员",
    "lawyer": "法律顾问",
    "judge": "法官",  # 三官一律: the judge, prosecutor and police officer attached to a grid
    "prosecutor": "检察官",
    "police": "警官",
    "admin": "管理员",
}
# What people also call a role (律师 is the community legal adviser, 民警 the police officer).
ROLE_BY_CHINESE: dict[str, str] = {v: k for k, v in ROLE_NAMES.items()} | {"律师": "lawyer", "民警": "police", "警察": "police"}

DEFAULT_CONFIG_PATH = Path(__file__).resolve().parent.parent / "config.yaml"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Stairwell(Strict):
    name: str = Field(min_length=1)


class Grid(Strict):
    name: str = Field(min_length=1)
    stairwells: list[Stairwell] = []


class Community(Strict):
    name: str = Field(min_length=1)
    grids: list[Grid] = []


ACCOUNT_PATTERN = r"^[A-Za-z0-9_.-]{1,32}$"
DEFAULT_ACCOUNT = "main"


class RoomConfig(Strict):
    id: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    topic: str = Field(min_length=1)
    kind: Literal["stairwell", "legal", "staff"] = "stairwell"
    grid: str | None = None
    stairwell: str | None = None
    auto_tickets: bool = True
    # The bot account (one WeChat login, one process or more) that serves this group; None: bot.account.
    account: str | None = Field(default=None, pattern=ACCOUNT_PATTERN)


class Grant(Strict):
    role: str
    scope: str = "*"  # a stairwell name, a grid name, or "*" for everything

    @field_validator("role")
    @classmethod
    def known_role(cls, value: str) -> str:
        value = ROLE_BY_CHINESE.get(value, value)
        if value not in ROLE_NAMES:
            raise ValueError(f"unknown role '{value}', expected one of {', '.join(ROLE_NAMES)}")
        return value


class PersonConfig(Strict):
    id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    rooms: list[str] = []  # room topics the person is a member of
    roles: list[Grant] = []
    # The person's ids on real transports (e.g. a wxid from `check-wechaty`), so grants made to
    # the config id apply when they write from WeChat; officers can add more with /关联.
    aliases: list[str] = []


class BotConfig(Strict):
    name: str = "楼道通"
    max_message_age_seconds: int = Field(default=600, ge=1)
    # This config's bot account: the rooms without an account of their own belong to it, and a
    # process serves it unless the environment variable names another (several accounts, one
    # database: README "Several bot accounts").
    account: str = Field(default=DEFAULT_ACCOUNT, pattern=ACCOUNT_PATTERN)
    account_env: str = "STAIRWELL_ACCOUNT"

    def running_account(self) -> str:
        """The account this process sends as: the environment's choice, else ``account``."""
        return os.environ.get(self.account_env) or self.account


class StorageConfig(Strict):
    database_url: str = "sqlite:///data/stairwell.db"
    # If this environment variable is set, it wins over database_url (keeps passwords out of the file).
    database_url_env: str = "STAIRWELL_DATABASE_URL"

    def resolved_url(self) -> str:
        return os.environ.get(self.database_url_env) or self.database_url


class WebConfig(Strict):
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    # The address staff open (login links point here), e.g. https://lou.example.cn; None: http://host:port.
    public_url: str | None = Field(default=None, pattern=r"^https?://[^\s/?#]+(/[^\s?#]*)?$")
    console: bool = True  # the staff console under /staff/ (README 员工后台)
    # The local web chat page and its JSON API (a demo with no login): turn it off wherever the
    # console (or the port) is reachable by others.
    demo_chat: bool = True
    session_hours: float = Field(default=12, gt=0, le=24 * 30)  # a console login lasts this long
    session_key_env: str = "STAIRWELL_SESSION_KEY"  # 32 bytes, urlsafe base64 (a Fernet key)

    def base_url(self) -> str:
        """Where the console is reached from outside (no trailing slash)."""
        if self.public_url:
            return self.public_url.rstrip("/")
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host
        return f"http://{host}:{self.port}"


class OutboxConfig(Strict):
    room_interval_seconds: float = Field(default=2.0, ge=0)
    per_minute: int = Field(default=20, ge=0)  # 0 = no global limit
    jitter_seconds: float = Field(default=0.5, ge=0)
    max_length: int = Field(default=600, ge=50)
    max_attempts: int = Field(default=5, ge=1)
    # Rows left 'sending' by a process of this account that died are looked for this often.
    recover_seconds: float = Field(default=30.0, gt=0)
    # On PostgreSQL other processes queue rows for this account: an idle worker looks this often.
    poll_seconds: float = Field(default=2.0, gt=0)
    retry_base_seconds: float = Field(default=5.0, ge=0)


class TransportLimits(Strict):
    """Per-transport overrides of the outbox limits (the local web chat needs none)."""

    webchat: OutboxConfig = OutboxConfig(room_interval_seconds=0, per_minute=0, jitter_seconds=0)
    memory: OutboxConfig = OutboxConfig(room_interval_seconds=0, per_minute=0, jitter_seconds=0)


class TicketThrottle(Strict):
    """Per-sender limit on new tickets (a flood of petitions from one person); urgent never waits."""

    max_tickets: int = Field(default=5, ge=1)
    window_minutes: float = Field(default=10, gt=0)
    quiet_minutes: float = Field(default=60, ge=0)  # after the one polite line, silence this long


class DangerAdvice(Strict):
    """What to do first in one kind of danger: the numbers to call and one line of advice.

    ``advice`` may place the numbers itself with ``{numbers}`` ("…到室外拨打{numbers}"); otherwise
    "请立即拨打<numbers>！" comes first. Numbers live here so a city can correct them."""

    numbers: list[str] = Field(min_length=1)
    advice: str = Field(min_length=1)

    def line(self) -> str:
        numbers = " / ".join(self.numbers)
        if "{numbers}" in self.advice:
            return self.advice.replace("{numbers}", numbers)
        return f"请立即拨打{numbers}！{self.advice}"


# Only the fallback lives in code: the table per kind (gas, fire, lift, fraud...) is config.yaml's.
_DANGER_DEFAULTS: dict[str, DangerAdvice] = {
    "default": DangerAdvice(numbers=["119", "110"], advice="先确保自身安全，危险时拨打{numbers}。"),
}


def _merge_dangers(value: object) -> object:
    """A city's `dangers:` entries replace the built-in ones of the same kind; the rest stay."""
    if value is None:
        return dict(_DANGER_DEFAULTS)
    if isinstance(value, dict):
        return {**_DANGER_DEFAULTS, **value}
    return value


class TicketConfig(Strict):
    """Time limits (件件有回应): urgent, fast categories (utilities, lifts), everything else."""

    urgent_hours: float = Field(default=2, gt=0)
    fast_hours: float = Field(default=24, gt=0)
    fast_categories: list[str] = ["设施报修"]
    working_days: int = Field(default=5, ge=1)
    workday_end_hour: int = Field(default=18, ge=1, le=24)
    # Same resident or several residents, same problem, same group, ticket still open: join it.
    merge_open_tickets: bool = True
    # A resolved ticket nobody rates within this many days is closed as 未评价 (counted apart).
    rating_days: int = Field(default=7, ge=1, le=60)
    throttle: TicketThrottle = TicketThrottle()


class Cron(Strict):
    """APScheduler cron fields, in Asia/Shanghai time."""

    month: str | None = None
    day: str | None = None  # 1-31, or e.g. "4th mon", "last"
    day_of_week: str | None = None  # mon..sun
    hour: int = Field(default=9, ge=0, le=23)
    minute: int = Field(default=0, ge=0, le=59)

    def fields(self) -> dict[str, object]:
        return {k: v for k, v in self.model_dump().items() if v is not None}

    @model_validator(mode="after")
    def valid_for_apscheduler(self) -> "Cron":
        """A bad field ("4th mon" misspelt, day 32) is caught by check-config, not when the job is
        built; so are fields that name no date at all (day 30 of February): a job that never runs."""
        from common.tz import SHANGHAI
        from schedules.triggers import cron  # the jobs' own builder

        try:
            trigger = cron(**self.fields())
        except ValueError as exc:
            raise ValueError(f"invalid cron field: {exc}") from None
        if trigger.get_next_fire_time(None, datetime.now(SHANGHAI)) is None:
            raise ValueError("invalid cron field: no date matches (e.g. day 30 in February), it would never run")
        return self


class LunarDay(Strict):
    month: int = Field(ge=1, le=12)
    day: int = Field(ge=1, le=30)
    hour: int = Field(default=9, ge=0, le=23)
    minute: int = Field(default=0, ge=0, le=59)


class Campaign(Strict):
    id: str = Field(pattern=r"^[A-Za-z0-9_-]+$")
    name: str
    enabled: bool = True
    cron: Cron | None = None
    lunar: LunarDay | None = None
    targets: Literal["legal", "stairwell", "all"] = "all"
    text: str = Field(min_length=1)

    @model_validator(mode="after")
    def one_schedule(self) -> "Campaign":
        if (self.cron is None) == (self.lunar is None):
            raise ValueError("a campaign needs exactly one of 'cron' or 'lunar'")
        return self


class QuietHours(Strict):
    start: int = Field(default=21, ge=0, le=23)  # hour, local time
    end: int = Field(default=8, ge=0, le=23)


class Holidays(Strict):
    """Overrides of the chinesecalendar tables, for years they do not cover yet (the State
    Council publishes next year's holidays each November): dates off, and make-up working days."""

    days_off: list[date] = []  # public holidays, e.g. 春节 ("off" would be read by YAML as false)
    workdays: list[date] = []  # weekend days that are working days (调休上班)

    @model_validator(mode="after")
    def not_both(self) -> "Holidays":
        both = sorted(set(self.days_off) & set(self.workdays))
        if both:
            raise ValueError(f"dates both off and working: {', '.join(map(str, both))}")
        return self


class ScheduleConfig(Strict):
    enabled: bool = True
    # Several processes on one PostgreSQL: one runs the jobs; the others try to take over this often.
    leader_check_seconds: float = Field(default=10.0, gt=0, le=60)
    misfire_grace_seconds: int = Field(default=3600, ge=1)
    quiet_hours: QuietHours = QuietHours()
    skip_holidays: bool = True  # automatic pushes on public holidays wait for the next working day
    weekly_legal_push: Cron | None = Cron(day_of_week="wed", hour=9, minute=30)
    monthly_case: Cron | None = Cron(day="1st fri", hour=9, minute=30)
    daily_digest: Cron | None = Cron(hour=8, minute=30)
    visit_reminder: Cron | None = Cron(day="1", hour=9, minute=0)
    overdue_check_minutes: int = Field(default=30, ge=1)
    emergency_check_minutes: int = Field(default=5, ge=1)
    campaigns: list[Campaign] = []


class PrivacyConfig(Strict):
    # Texts older than this are blanked by a daily job (counts and categories stay); the bot's
    # introduction in each group states it.
    retention_days: int = Field(default=365, ge=1)


class LedgerConfig(Strict):
    """The household ledger (数字化底账)."""

    stale_days: int = Field(default=90, ge=1)  # /底账 缺失: flats not confirmed for longer than this
    demo: bool = False  # seed the demo households (storage/ledger_demo.yaml) into an empty ledger


class RewardItem(Strict):
    """One line of the redemption table (/兑换): what, for how many points, how many supplied."""

    item: str = Field(min_length=1, max_length=20)
    points: int = Field(gt=0)
    # How many the community has supplied in total (raise it to restock); redemptions count
    # against it in the database. None: no limit.
    stock: int | None = Field(default=None, ge=0)


class PointsConfig(Strict):
    """Volunteer hours (/志愿) and points (/积分, /兑换); README "Volunteer hours and points"."""

    per_hour: int = Field(default=10, ge=1)  # points per hour of volunteer work (半小时 = half)
    max_hours: float = Field(default=12, gt=0, le=24)  # per person and log: a typo like 20小时 is refused
    max_days_back: int = Field(default=31, ge=0)  # older work is not logged any more
    rewards: list[RewardItem] = []
    # The monthly 晾晒 in each stairwell group on the first working day of the month.
    monthly_ranking: bool = True
    ranking_size: int = Field(default=10, ge=1, le=30)
    # Names in group posts: 吴阿姨 (surname + how neighbours address her) stays; a full name
    # like 周建国 becomes 周某某.
    first_names_only: bool = False
    post_hour: int = Field(default=9, ge=8, le=20)  # local time of the monthly posts

    @model_validator(mode="after")
    def unique_items(self) -> "PointsConfig":
        items = [r.item for r in self.rewards]
        dupes = sorted({i for i in items if items.count(i) > 1})
        if dupes:
            raise ValueError(f"duplicate reward item: {', '.join(dupes)}")
        return self


STAR_TERMS = ("响应率", "按时办结率", "满意率", "通知回执率", "户均志愿时长", "走访覆盖率")


class StarsConfig(Strict):
    """Star-rated stairwells (星级楼道): weights of each term, and the score each star needs."""

    weights: dict[str, float] = {
        "响应率": 20, "按时办结率": 15, "满意率": 20, "通知回执率": 15, "户均志愿时长": 15, "走访覆盖率": 15,
    }
    # Scores (0-100) needed for 1, 2, 3, ... stars, ascending.
    thresholds: list[float] = [60, 70, 80, 90, 95]
    hours_per_household: float = Field(default=1.0, gt=0)  # this many hours per household a month scores full marks
    # A stairwell whose terms with data carry less than this share of the weights is not rated
    # (数据不足): one good answer alone must not make five stars.
    min_weight_share: float = Field(default=0.5, ge=0, le=1)
    monthly_post: bool = True  # 先锋楼道 and 先锋个人 in each stairwell group, first working day of the month

    @field_validator("weights")
    @classmethod
    def known_terms(cls, value: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(value) - set(STAR_TERMS))
        if unknown:
            raise ValueError(f"unknown term {', '.join(unknown)}; terms are {', '.join(STAR_TERMS)}")
        if any(w < 0 for w in value.values()) or not any(value.values()):
            raise ValueError("weights must be ≥ 0 and not all 0")
        return value

    @field_validator("thresholds")
    @classmethod
    def ascending(cls, value: list[float]) -> list[float]:
        if value != sorted(value) or any(not 0 <= v <= 100 for v in value):
            raise ValueError("thresholds must be ascending scores between 0 and 100")
        return value


_SPAN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(m|min|分钟|h|小时|d|天)\s*$")
_SPAN_UNITS = {"m": "minutes", "min": "minutes", "分钟": "minutes", "h": "hours", "小时": "hours", "d": "days", "天": "days"}


def parse_span(value: object) -> object:
    """'2h', '90m', '1d' (or 2小时, 90分钟) as a timedelta; a bare number is minutes."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return timedelta(minutes=value)
    if isinstance(value, str):
        match = _SPAN.match(value)
        if not match:
            raise ValueError(f"expected a span like 2h, 90m or 1d, got '{value}'")
        return timedelta(**{_SPAN_UNITS[match.group(2)]: float(match.group(1))})
    return value


class VisitsConfig(Strict):
    """每月走访全覆盖: the mid-month nudge, and who counts as a person to check on first."""

    nudge_below: float = Field(default=0.5, ge=0, le=1)  # a trio below this coverage is nudged
    nudge_at: Cron | None = Cron(day="15", hour=9, minute=0)  # when (None: never)
    at_risk_tags: list[str] = ["独居老人", "残疾", "重病", "留守儿童", "空巢"]  # listed first
    petition_mark_tags: list[str] = ["独居老人", "残疾"]  # a petition from such a flat is marked


class EmergencyConfig(Strict):
    """战时: the people to check on when an emergency of these kinds starts."""

    check_kinds: list[str] = ["寒潮", "防汛", "高温", "疫情"]  # a reason naming one starts the lists
    check_tags: list[str] = ["独居老人", "残疾", "重病", "留守儿童"]
    check_after: timedelta = timedelta(hours=2)  # then the grid worker gets who is unconfirmed

    @field_validator("check_after", mode="before")
    @classmethod
    def span(cls, value: object) -> object:
        return parse_span(value)

    @field_validator("check_after")
    @classmethod
    def positive(cls, value: timedelta) -> timedelta:
        if value <= timedelta(0) or value > timedelta(days=2):
            raise ValueError("check_after must be between 1 minute and 2 days")
        return value
class BianminConfig(Strict):
    """Everyday questions (便民) answered from content/bianmin.yaml and staff's /便民 entries."""

    enabled: bool = True
    # The same question in the same group is answered once in this time (the answer is just above).
    repeat_minutes: int = Field(default=120, ge=0)
    # Who an unknown question asked of the bot is pointed to, after the stairwell's staff.
    hotline: str = "12345政务服务便民热线"


class AppConfig(Strict):
    community: Community
    rooms: list[RoomConfig] = []
    people: list[PersonConfig] = []
    bot: BotConfig = BotConfig()
    storage: StorageConfig = StorageConfig()
    web: WebConfig = WebConfig()
    outbox: OutboxConfig = OutboxConfig()
    transport_limits: TransportLimits = TransportLimits()
    tickets: TicketConfig = TicketConfig()
    schedules: ScheduleConfig = ScheduleConfig()
    privacy: PrivacyConfig = PrivacyConfig()
    holidays: Holidays = Holidays()
    ledger: LedgerConfig = LedgerConfig()
    points: PointsConfig = PointsConfig()
    stars: StarsConfig = StarsConfig()
    visits: VisitsConfig = VisitsConfig()
    emergency: EmergencyConfig = EmergencyConfig()
    # advice per danger kind (see DangerAdvice); kinds come from nlp/lexicon.yaml `danger_kinds`
    dangers: dict[str, DangerAdvice] = Field(default_factory=lambda: dict(_DANGER_DEFAULTS))
    bianmin: BianminConfig = BianminConfig()

    @field_validator("dangers", mode="before")
    @classmethod
    def default_dangers(cls, value: object) -> object:
        return _merge_dangers(value)

    def danger_numbers(self, kind: str | None) -> str:
        """The numbers to call in a danger of this kind ("燃气抢修96777 / 119")."""
        return " / ".join((self.dangers.get(kind or "") or self.dangers["default"]).numbers)

    def danger_advice(self, kind: str | None) -> str:
        """The first line for a danger of this kind (the default line for an unknown kind)."""
        return (self.dangers.get(kind or "") or self.dangers["default"]).line()

    @model_validator(mode="after")
    def cross_references(self) -> "AppConfig":
        ids = [r.id for r in self.rooms]
        topics = [r.topic for r in self.rooms]
        for label, values in (("rooms id", ids), ("rooms topic", topics), ("people id", [p.id for p in self.people])):
            dupes = sorted(v for v, n in Counter(values).items() if n > 1)  # list.count: quadratic in 800 groups
            if dupes:
                raise ValueError(f"duplicate {label}: {', '.join(dupes)}")
        known = set(topics)
        for index, person in enumerate(self.people):
            for topic in person.rooms:
                if topic not in known:
                    raise ValueError(f"people[{index}].rooms: unknown room topic '{topic}'")
        return self

    def room_account(self, room: RoomConfig) -> str:
        return room.account or self.bot.account

    def outbox_for(self, transport: str) -> OutboxConfig:
        return getattr(self.transport_limits, transport, None) or self.outbox

class ConfigError(Exception):
    """A config file that cannot be used; ``problems`` are one line each."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        super().__init__(f"{path}: " + "; ".join(problems))


def _yaml_path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def describe_error(error: ErrorDetails) -> str:
    """One line for a pydantic error: its YAML path and what is wrong there."""
    loc = _yaml_path(tuple(error["loc"]))
    if error["type"] == "extra_forbidden":
        return f"{loc}: unknown key"
    if error["type"] == "missing":
        return f"{loc}: required key is missing"
    return f"{loc}: {error['msg']}"


def parse_config(data: object, path: Path) -> AppConfig:
    if not isinstance(data, dict):
        raise ConfigError(path, ["(top level): expected a mapping of keys"])
    try:
        return AppConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(path, [describe_error(e) for e in exc.errors()]) from None


def read_yaml(path: Path) -> object:
    """A YAML file's data (libyaml's C loader); ConfigError, naming the file, when it cannot be read."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(path, [f"cannot read file: {exc.strerror or exc}"]) from None
    except UnicodeDecodeError as exc:
        where = f"byte 0x{exc.object[exc.start]:02x} at position {exc.start}"
        raise ConfigError(path, [f"not UTF-8 text ({where}); save the file as UTF-8"]) from None
    try:
        return load_unique(text)  # libyaml's C loader; a key written twice is an error
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise ConfigError(path, [f"{where}invalid YAML ({getattr(exc, 'problem', exc)})"]) from None


def load_config(path: str | Path | None = None) -> AppConfig:
    path = Path(path) if path else DEFAULT_CONFIG_PATH
    return parse_config(read_yaml(path), path)
