"""FAQ content and the one matcher serving the legal FAQ and the everyday questions (便民).

Each file is a YAML list of entries validated by a pydantic model; a bad entry is reported with
its file and id. The matcher is deliberately conservative: an entry needs at least two distinct
keyword hits (one when the entry has a single keyword, as staff-added questions may), so vague
messages ("你好", "谢谢", "在吗") never get a canned answer.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import ClassVar, Generic, Iterable, Literal, Sequence, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from common.yamlload import load_unique
from content import BIANMIN, LEGAL_FAQ, describe_errors

DEFAULT_FAQ_PATH = LEGAL_FAQ

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
MAX_EVERYDAY_ANSWER_CHARS = 200
MIN_HITS = 2


def _text(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("must be a non-empty string")
    return value.strip()


class FaqEntry(BaseModel):
    """What every FAQ entry has: an id, cue words, the question it answers and the answer."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    max_answer: ClassVar[int] = MAX_EVERYDAY_ANSWER_CHARS
    id: str
    keywords: tuple[str, ...]
    question: str
    answer: str

    @field_validator("answer")
    @classmethod
    def short(cls, value: str) -> str:
        if len(value) > cls.max_answer:
            raise ValueError(f"answer has {len(value)} chars (max {cls.max_answer})")
        return value

    @field_validator("id", "question", "answer", mode="before")
    @classmethod
    def non_empty(cls, value: object) -> str:
        return _text(value)

    @field_validator("keywords", mode="before")
    @classmethod
    def cue_words(cls, value: object) -> tuple[str, ...]:
        if not isinstance(value, (list, tuple)) or not value:
            raise ValueError("keywords must be a non-empty list")
        words = tuple(str(k).strip() for k in value)
        if any(not k for k in words):
            raise ValueError("empty keyword")
        return words


class LegalFaqEntry(FaqEntry):
    """A legal FAQ entry: its topic and the statute it rests on."""

    max_answer: ClassVar[int] = MAX_ANSWER_CHARS
    topic: Literal[TOPICS]  # type: ignore[valid-type]
    law: str

    @field_validator("topic", mode="before")
    @classmethod
    def known_topic(cls, value: object) -> str:
        if value not in TOPICS:
            raise ValueError(f"unknown topic {value!r}")
        return str(value)

    @field_validator("law", mode="before")
    @classmethod
    def cites_a_statute(cls, value: object) -> str:
        law = _text(value)
        if "《" not in law or "》" not in law:
            raise ValueError("law must name a statute in 《》")
        return law


class EverydayEntry(FaqEntry):
    """An everyday question (便民): 物业电话, 办事大厅的时间, 老年卡…"""


E = TypeVar("E", bound=FaqEntry)


def load_entries(path: Path, model: type[E]) -> list[E]:
    """Load and validate a FAQ file; raise ValueError naming the file and the bad entry."""
    data = load_unique(Path(path).read_text(encoding="utf-8"))
    if not isinstance(data, list):
        raise ValueError(f"{path}: expected a list of FAQ entries")
    entries: list[E] = []
    seen: set[str] = set()
    for index, raw in enumerate(data):
        name = str(raw.get("id") or f"#{index}") if isinstance(raw, dict) else f"#{index}"
        try:
            entry = model.model_validate(raw)
        except ValidationError as exc:
            raise ValueError(f"{Path(path).name}: FAQ entry {name!r}: {describe_errors(exc)}") from None
        if entry.id in seen:
            raise ValueError(f"{Path(path).name}: FAQ entry {entry.id!r}: duplicate id")
        seen.add(entry.id)
        entries.append(entry)
    return entries


def load_faq(path: Path | None = None) -> list[LegalFaqEntry]:
    """The legal FAQ (content/legal_faq.yaml unless ``path``)."""
    return load_entries(Path(path) if path is not None else LEGAL_FAQ, LegalFaqEntry)


@lru_cache(maxsize=1)
def legal_faq() -> tuple[LegalFaqEntry, ...]:
    return tuple(load_faq())


@lru_cache(maxsize=4)
def bianmin_faq(path: Path = BIANMIN) -> tuple[EverydayEntry, ...]:
    return tuple(load_entries(path, EverydayEntry))


def lcut(text: str) -> list[str]:
    from nlp.segment import cut  # lazy: jieba's dictionary load is slow, only pay for it when matching

    return cut(text)


class FaqMatcher(Generic[E]):
    """Keyword matcher: the best entry with enough distinct keyword hits, or None."""

    def __init__(self, entries: Sequence[E] | Iterable[E]) -> None:
        self.entries: tuple[E, ...] = tuple(entries)
        # Precompute each entry's distinct, lower-cased keywords once.
        self._keywords: tuple[frozenset[str], ...] = tuple(
            frozenset(k.lower() for k in e.keywords) for e in self.entries
        )

    def _scored(self, text: str) -> list[tuple[E, list[str]]]:
        """(entry, matched keywords) for every entry with at least one hit."""
        text = (text or "").strip().lower()
        if not text:
            return []
        tokens = {t.strip() for t in lcut(text)}
        tokens.discard("")
        out: list[tuple[E, list[str]]] = []
        for entry, kws in zip(self.entries, self._keywords, strict=True):
            # A keyword counts if jieba produced it as a token or it appears verbatim.
            hit = [k for k in kws if k in tokens or k in text]
            if hit:
                out.append((entry, hit))
        return out

    def hits(self, text: str) -> list[tuple[E, int]]:
        """(entry, distinct keyword hits) for every entry with at least one hit."""
        return [(e, len(h)) for e, h in self._scored(text)]

    def match(self, text: str) -> E | None:
        """Best entry, or None when no entry has enough distinct keyword hits (MIN_HITS, or
        every keyword of an entry with fewer).

        Score = number of matched keyword characters (longer cue words are more
        specific); ties go to more hits, then to the earlier entry.
        """
        best: E | None = None
        best_key = (0, 0)
        for entry, hit in self._scored(text):
            key = (sum(len(k) for k in hit), len(hit))
            needed = min(MIN_HITS, len(set(entry.keywords)))
            # Strictly-greater keeps the earlier entry on a full tie.
            if len(hit) >= needed and key > best_key:
                best, best_key = entry, key
        return best


__all__ = [
    "EverydayEntry", "FaqEntry", "FaqMatcher", "LegalFaqEntry", "TOPICS", "bianmin_faq", "legal_faq",
    "load_entries", "load_faq", "DEFAULT_FAQ_PATH",
]
