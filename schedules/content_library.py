"""普法 content library: weekly legal-knowledge posts and monthly case studies.

Data lives in ``schedules/content/*.yaml``, validated by the pydantic models below like
config.yaml (unknown keys rejected; a bad entry is named by file, YAML path and id); this module
also renders the exact text posted to a 法润民生 WeChat group. ``python -m bot check-config`` and
the start check the files, so a bad edit stops the bot before a job would fail on it.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Annotated, TypeVar

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator, model_validator

from bot.config import ConfigError, describe_error, read_yaml

CONTENT_DIR = Path(__file__).with_name("content")
DEFAULT_WEEKLY_PATH = CONTENT_DIR / "weekly_pushes.yaml"
DEFAULT_CASES_PATH = CONTENT_DIR / "monthly_cases.yaml"

# Length bounds (characters), see the content guidelines in the YAML headers.
TITLE_MAX = 20
TEXT_MIN, TEXT_MAX = 80, 200
CASE_MIN, CASE_MAX = 80, 200
LESSON_MIN, LESSON_MAX = 60, 150
CASE_TITLE_MAX = 30
MESSAGE_MAX = 600


class ContentError(ConfigError):
    """A content file that cannot be used; ``problems`` are one line each, naming the entry."""


Text = Annotated[str, Field(min_length=1)]  # stripped first: blank is missing


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True, strict=True)

    id: Text
    topic: Text
    title: Text
    law: Text

    @field_validator("law")
    @classmethod
    def names_a_statute(cls, law: str) -> str:
        if "《" not in law or "》" not in law:
            raise ValueError("law must name a statute in 《》, e.g. 《中华人民共和国民法典》第一千一百二十七条")
        return law

    def rendered(self) -> str:
        """The group message (each kind of entry has its own format)."""
        return ""

    @model_validator(mode="after")
    def fits_one_message(self) -> "_Entry":
        size = len(self.rendered())
        if size > MESSAGE_MAX:
            raise ValueError(f"rendered message too long ({size} chars, at most {MESSAGE_MAX})")
        return self


class PushItem(_Entry):
    """A weekly 普法 post."""

    title: Annotated[str, Field(min_length=1, max_length=TITLE_MAX)]
    text: Annotated[str, Field(min_length=TEXT_MIN, max_length=TEXT_MAX)]

    def rendered(self) -> str:
        return render_push(self)


class CaseItem(_Entry):
    """A monthly 以案释法 case study."""

    title: Annotated[str, Field(min_length=1, max_length=CASE_TITLE_MAX)]
    case: Annotated[str, Field(min_length=CASE_MIN, max_length=CASE_MAX)]
    lesson: Annotated[str, Field(min_length=LESSON_MIN, max_length=LESSON_MAX)]

    def rendered(self) -> str:
        return render_case(self)


Entry = TypeVar("Entry", bound=_Entry)


def _entry_name(data: list, loc: tuple) -> str:
    """" (entry 'wk-x')" for an error inside a list entry that has an id, else ""."""
    raw = data[loc[0]] if loc and isinstance(loc[0], int) and loc[0] < len(data) else None
    entry_id = raw.get("id") if isinstance(raw, dict) else None
    return f" (entry {entry_id.strip()!r})" if isinstance(entry_id, str) and entry_id.strip() else ""


@functools.cache
def _adapter(model: type[_Entry]) -> TypeAdapter:
    return TypeAdapter(list[model])  # type: ignore[valid-type]  # built once per kind of entry


def load_entries(path: Path, model: type[Entry]) -> list[Entry]:
    """A content file's entries; ContentError naming the file, each bad entry's YAML path and id."""
    try:
        data = read_yaml(path)
    except ConfigError as exc:
        raise ContentError(exc.path, exc.problems) from None
    if not isinstance(data, list):
        raise ContentError(path, ["(top level): expected a list of entries"])
    try:
        entries = _adapter(model).validate_python(data)
    except ValidationError as exc:
        raise ContentError(path, [describe_error(e) + _entry_name(data, tuple(e["loc"])) for e in exc.errors()]) from None
    first: dict[str, int] = {}
    problems = []
    for index, entry in enumerate(entries):
        if entry.id in first:
            problems.append(f"[{index}].id: duplicate id {entry.id!r} (first at [{first[entry.id]}])")
        first.setdefault(entry.id, index)
    if problems:
        raise ContentError(path, problems)
    return entries


def load_weekly(path: Path | None = None) -> list[PushItem]:
    """Load weekly 普法 posts; ContentError naming the bad entry."""
    return load_entries(Path(path) if path else DEFAULT_WEEKLY_PATH, PushItem)


def load_cases(path: Path | None = None) -> list[CaseItem]:
    """Load monthly 以案释法 cases; ContentError naming the bad entry."""
    return load_entries(Path(path) if path else DEFAULT_CASES_PATH, CaseItem)


def check_content() -> dict[str, int]:
    """Every content file validated (ContentError at the first bad one): entries per library."""
    return {"weekly": len(load_weekly()), "cases": len(load_cases())}


def render_push(item: PushItem) -> str:
    """Group message for a weekly post."""
    return f"【每周普法】{item.title}\n{item.text}\n（依据：{item.law}）"


def render_case(item: CaseItem) -> str:
    """Group message for a monthly case study."""
    return (
        f"【以案释法】{item.title}\n"
        f"案例：{item.case}\n"
        f"释法：{item.lesson}\n"
        f"（依据：{item.law}）"
    )


__all__ = [
    "PushItem",
    "CaseItem",
    "load_weekly",
    "load_cases",
    "check_content",
    "ContentError",
    "render_push",
    "render_case",
    "DEFAULT_WEEKLY_PATH",
    "DEFAULT_CASES_PATH",
]
