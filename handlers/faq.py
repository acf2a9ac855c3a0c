"""Legal FAQ: load ``legal_faq.yaml`` and match a resident's question to one entry.

The matcher is deliberately conservative: an entry needs at least two distinct
keyword hits, so vague messages ("你好", "谢谢", "在吗") never get a canned answer
and go to the community legal adviser instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Sequence

import yaml

DEFAULT_FAQ_PATH = Path(__file__).with_name("legal_faq.yaml")

TOPICS: tuple[str, ...] = (
    "婚姻家庭",
    "继承",
    "劳动争议",
    "借贷",
    "租赁买卖",
    "物业与相邻",
    "交通事故",
    "诈骗与消费",
    "其他法律",
    "法律援助",
)

MAX_ANSWER_CHARS = 150
MIN_HITS = 2


@dataclass(frozen=True)
class FaqEntry:
    id: str
    topic: str
    keywords: tuple[str, ...]
    question: str
    answer: str
    law: str


def _text(raw: dict[str, Any], key: str, entry_id: str) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"FAQ entry {entry_id!r}: field {key!r} must be a non-empty string")
    return value.strip()


def _entry(raw: Any, index: int) -> FaqEntry:
    if not isinstance(raw, dict):
        raise ValueError(f"FAQ entry #{index}: expected a mapping, got {type(raw).__name__}")
    entry_id = raw.get("id")
    if not isinstance(entry_id, str) or not entry_id.strip():
        raise ValueError(f"FAQ entry #{index}: missing id")
    entry_id = entry_id.strip()
    topic = _text(raw, "topic", entry_id)
    if topic not in TOPICS:
        raise ValueError(f"FAQ entry {entry_id!r}: unknown topic {topic!r}")
    keywords = raw.get("keywords")
    if not isinstance(keywords, list) or not keywords:
        raise ValueError(f"FAQ entry {entry_id!r}: keywords must be a non-empty list")
    kws = tuple(str(k).strip() for k in keywords)
    if any(not k for k in kws):
        raise ValueError(f"FAQ entry {entry_id!r}: empty keyword")
    answer = _text(raw, "answer", entry_id)
    if len(answer) > MAX_ANSWER_CHARS:
        raise ValueError(
            f"FAQ entry {entry_id!r}: answer has {len(answer)} chars (max {MAX_ANSWER_CHARS})"
        )
    law = _text(raw, "law", entry_id)
    if "《" not in law or "》" not in law:
        raise ValueError(f"FAQ entry {entry_id!r}: law must name a statute in 《》")
    return FaqEntry(
        id=entry_id,
        topic=topic,
        keywords=kws,
        question=_text(raw, "question", entry_id),
        answer=answer,
        law=law,
    )


def load_faq(path: Path | None = None) -> list[FaqEntry]:
    """Load and validate the FAQ file; raise ValueError naming the bad entry."""
    path = Path(path) if path is not None else DEFAULT_FAQ_PATH
    with path.open(encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    if not isinstance(data, list):
        raise ValueError(f"{path}: expected a list of FAQ entries")
    entries: list[FaqEntry] = []
    seen: set[str] = set()
    for i, raw in enumerate(data):
        entry = _entry(raw, i)
        if entry.id in seen:
            raise ValueError(f"FAQ entry {entry.id!r}: duplicate id")
        seen.add(entry.id)
        entries.append(entry)
    return entries


def _lcut(text: str) -> list[str]:
    import jieba  # lazy: jieba's dictionary load is slow, only pay for it when matching

    return jieba.lcut(text)


class FaqMatcher:
    """Keyword matcher: best entry with >= 2 distinct keyword hits, or None."""

    def __init__(self, entries: Sequence[FaqEntry] | Iterable[FaqEntry]) -> None:
        self.entries: tuple[FaqEntry, ...] = tuple(entries)
        # Precompute each entry's distinct, lower-cased keywords once.
        self._keywords: tuple[frozenset[str], ...] = tuple(
            frozenset(k.lower() for k in e.keywords) for e in self.entries
        )

    def _scored(self, text: str) -> list[tuple[FaqEntry, list[str]]]:
        """(entry, matched keywords) for every entry with at least one hit."""
        text = (text or "").strip().lower()
        if not text:
            return []
        tokens = {t.strip() for t in _lcut(text)}
        tokens.discard("")
        out: list[tuple[FaqEntry, list[str]]] = []
        for entry, kws in zip(self.entries, self._keywords, strict=True):
            # A keyword counts if jieba produced it as a token or it appears verbatim.
            hit = [k for k in kws if k in tokens or k in text]
            if hit:
                out.append((entry, hit))
        return out

    def hits(self, text: str) -> list[tuple[FaqEntry, int]]:
        """(entry, distinct keyword hits) for every entry with at least one hit."""
        return [(e, len(h)) for e, h in self._scored(text)]

    def match(self, text: str) -> FaqEntry | None:
        """Best entry, or None when no entry has MIN_HITS distinct keyword hits.

        Score = number of matched keyword characters (longer cue words are more
        specific); ties go to more hits, then to the earlier entry.
        """
        best: FaqEntry | None = None
        best_key = (0, 0)
        for entry, hit in self._scored(text):
            key = (sum(len(k) for k in hit), len(hit))
            # Strictly-greater keeps the earlier entry on a full tie.
            if len(hit) >= MIN_HITS and key > best_key:
                best, best_key = entry, key
        return best


__all__ = ["FaqEntry", "FaqMatcher", "TOPICS", "load_faq", "DEFAULT_FAQ_PATH"]
