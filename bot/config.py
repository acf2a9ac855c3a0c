"""Configuration: config.yaml read into pydantic models.

Unknown keys are rejected with their YAML path; secrets never live in the
file, only the *names* of the environment variables that hold them.
"""
from __future__ import annotations

import os
from datetime import date
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import ErrorDetails

ROLE_NAMES: dict[str, str] = {
    "resident": "居民",
    "leader": "楼道长",
    "officer": "信息员",
    "support": "保障员",
    "grid": "网格员",
    "lawyer": "法律顾问",
    "admin": "管理员",
}
ROLE_BY_CHINESE: dict[str, str] = {v: k for k, v in ROLE_NAMES.items()}

# libyaml's C loader parses a district's config (800 groups) ~10x faster than the pure-Python one.
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
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
        """A bad field ("4th mon" misspelt, day 32) is caught by check-config, not when the job is built."""
        from apscheduler.triggers.cron import CronTrigger

        try:
            CronTrigger(timezone="Asia/Shanghai", **self.fields())
        except ValueError as exc:
            raise ValueError(f"invalid cron field: {exc}") from None
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
    # advice per danger kind (see DangerAdvice); kinds come from nlp/lexicon.yaml `danger_kinds`
    dangers: dict[str, DangerAdvice] = Field(default_factory=lambda: dict(_DANGER_DEFAULTS))

    @field_validator("dangers", mode="before")
    @classmethod
    def default_dangers(cls, value: object) -> object:
        return _merge_dangers(value)

    def danger_advice(self, kind: str | None) -> str:
        """The first line for a danger of this kind (the default line for an unknown kind)."""
        return (self.dangers.get(kind or "") or self.dangers["default"]).line()

    @model_validator(mode="after")
    def cross_references(self) -> "AppConfig":
        ids = [r.id for r in self.rooms]
        topics = [r.topic for r in self.rooms]
        for label, values in (("rooms id", ids), ("rooms topic", topics), ("people id", [p.id for p in self.people])):
            dupes = sorted({v for v in values if values.count(v) > 1})
            if dupes:
                raise ValueError(f"duplicate {label}: {', '.join(dupes)}")
        for index, person in enumerate(self.people):
            for topic in person.rooms:
                if topic not in topics:
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


def _describe(error: ErrorDetails) -> str:
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
        raise ConfigError(path, [_describe(e) for e in exc.errors()]) from None


def load_config(path: str | Path | None = None) -> AppConfig:
    path = Path(path) if path else DEFAULT_CONFIG_PATH
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(path, [f"cannot read file: {exc.strerror or exc}"]) from None
    except UnicodeDecodeError as exc:
        where = f"byte 0x{exc.object[exc.start]:02x} at position {exc.start}"
        raise ConfigError(path, [f"not UTF-8 text ({where}); save the file as UTF-8"]) from None
    try:
        data = yaml.load(text, Loader=_SAFE_LOADER)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise ConfigError(path, [f"{where}invalid YAML ({getattr(exc, 'problem', exc)})"]) from None
    return parse_config(data, path)
