"""普法 content library: weekly legal-knowledge posts and monthly case studies.

Data lives in ``schedules/content/*.yaml``; this module loads and validates it and
renders the exact text posted to a 法润民生 WeChat group.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

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


@dataclass(frozen=True)
class PushItem:
    id: str
    topic: str
    title: str
    text: str
    law: str


@dataclass(frozen=True)
class CaseItem:
    id: str
    topic: str
    title: str
    case: str
    lesson: str
    law: str


def _field(raw: dict[str, Any], key: str, item_id: str, lo: int = 1, hi: int | None = None) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"content item {item_id!r}: field {key!r} must be a non-empty string")
    value = value.strip()
    if len(value) < lo or (hi is not None and len(value) > hi):
        raise ValueError(
            f"content item {item_id!r}: {key!r} has {len(value)} chars (allowed {lo}–{hi})"
        )
    return value


def _law(raw: dict[str, Any], item_id: str) -> str:
    law = _field(raw, "law", item_id)
    if "《" not in law or "》" not in law:
        raise ValueError(f"content item {item_id!r}: law must name a statute in 《》")
    return law


def _load_list(path: Path) -> list[tuple[str, dict[str, Any]]]:
    """Read a YAML list of mappings; return (id, mapping) pairs, ids checked unique."""
    with path.open(encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    if not isinstance(data, list):
        raise ValueError(f"{path}: expected a list of items")
    out: list[tuple[str, dict[str, Any]]] = []
    seen: set[str] = set()
    for i, raw in enumerate(data):
        if not isinstance(raw, dict):
            raise ValueError(f"{path}: item #{i} is not a mapping")
        item_id = raw.get("id")
        if not isinstance(item_id, str) or not item_id.strip():
            raise ValueError(f"{path}: item #{i} has no id")
        item_id = item_id.strip()
        if item_id in seen:
            raise ValueError(f"content item {item_id!r}: duplicate id")
        seen.add(item_id)
        out.append((item_id, raw))
    return out


def load_weekly(path: Path | None = None) -> list[PushItem]:
    """Load weekly 普法 posts; raise ValueError naming the bad item."""
    items: list[PushItem] = []
    for item_id, raw in _load_list(Path(path) if path else DEFAULT_WEEKLY_PATH):
        item = PushItem(
            id=item_id,
            topic=_field(raw, "topic", item_id),
            title=_field(raw, "title", item_id, hi=TITLE_MAX),
            text=_field(raw, "text", item_id, lo=TEXT_MIN, hi=TEXT_MAX),
            law=_law(raw, item_id),
        )
        if len(render_push(item)) > MESSAGE_MAX:
            raise ValueError(f"content item {item_id!r}: rendered message too long")
        items.append(item)
    return items


def load_cases(path: Path | None = None) -> list[CaseItem]:
    """Load monthly 以案释法 cases; raise ValueError naming the bad item."""
    items: list[CaseItem] = []
    for item_id, raw in _load_list(Path(path) if path else DEFAULT_CASES_PATH):
        item = CaseItem(
            id=item_id,
            topic=_field(raw, "topic", item_id),
            title=_field(raw, "title", item_id, hi=CASE_TITLE_MAX),
            case=_field(raw, "case", item_id, lo=CASE_MIN, hi=CASE_MAX),
            lesson=_field(raw, "lesson", item_id, lo=LESSON_MIN, hi=LESSON_MAX),
            law=_law(raw, item_id),
        )
        if len(render_case(item)) > MESSAGE_MAX:
            raise ValueError(f"content item {item_id!r}: rendered message too long")
        items.append(item)
    return items


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
    "render_push",
    "render_case",
    "DEFAULT_WEEKLY_PATH",
    "DEFAULT_CASES_PATH",
]
