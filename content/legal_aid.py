"""Legal aid (法律援助) content: the conditions, documents and intake questions residents see,
each citing an article of 《中华人民共和国法律援助法》 (content/legal_aid.yaml)."""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from common.yamlload import load_unique
from content import LEGAL_AID, describe_errors

# "第三十一条", "第三十一条第五项", "第四十一条、第四十二条", "第三十一条第二项、第三项"
ARTICLE = re.compile(r"^第[一二三四五六七八九十百]+条(第[一二三四五六七八九十]+项)?([、，](第[一二三四五六七八九十百]+[条项])+)*$")
REQUIRED_ARTICLES = ("第三十一条", "第四十一条", "第四十二条")  # matters, hardship, exemptions


class _Item(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str = Field(min_length=1, pattern=r"^[a-z0-9-]+$")
    law: str

    @field_validator("law")
    @classmethod
    def an_article(cls, value: str) -> str:
        if not ARTICLE.match(value.strip()):
            raise ValueError(f"law must cite an article as 第X条 or 第X条第Y项, got {value!r}")
        return value.strip()


class Condition(_Item):
    text: str = Field(min_length=10, max_length=160)


class Document(_Item):
    label: str = Field(min_length=2, max_length=60)


class Matter(_Item):
    label: str = Field(min_length=2, max_length=40)
    words: tuple[str, ...] = Field(min_length=1)


class Income(_Item):
    label: str = Field(min_length=2, max_length=40)
    exempt: bool


class AidContent(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    law: str
    where: str = Field(min_length=10, max_length=200)
    where_law: str
    conditions: tuple[Condition, ...] = Field(min_length=1)
    documents: tuple[Document, ...] = Field(min_length=1)
    matters: tuple[Matter, ...] = Field(min_length=1)
    incomes: tuple[Income, ...] = Field(min_length=2, max_length=9)  # answered with one digit

    @field_validator("law")
    @classmethod
    def the_legal_aid_law(cls, value: str) -> str:
        if value != "《中华人民共和国法律援助法》":
            raise ValueError("law must be 《中华人民共和国法律援助法》")
        return value

    @model_validator(mode="after")
    def cites_what_residents_need(self) -> "AidContent":
        cited = " ".join(c.law for c in self.conditions)
        missing = [a for a in REQUIRED_ARTICLES if a not in cited]
        if missing:
            raise ValueError(f"conditions must cite {'、'.join(missing)}")
        for group in ("conditions", "documents", "matters", "incomes"):
            ids = [item.id for item in getattr(self, group)]
            dupes = sorted({i for i in ids if ids.count(i) > 1})
            if dupes:
                raise ValueError(f"{group}: duplicate id {', '.join(dupes)}")
        return self

    def matter_of(self, text: str) -> Matter | None:
        """The first item of 第三十一条 (or 第三十二条) whose words the resident's answer uses."""
        return next((m for m in self.matters if any(w in text for w in m.words)), None)


def load_aid(path: Path = LEGAL_AID) -> AidContent:
    """Load and validate; a ValueError names the file and the entry (``documents[1] ('hardship')``)."""
    data = load_unique(Path(path).read_text(encoding="utf-8"))
    try:
        return AidContent.model_validate(data)
    except ValidationError as exc:
        raise ValueError(f"{Path(path).name}: {describe_errors(exc, data)}") from None


@lru_cache(maxsize=4)
def aid_content(path: Path = LEGAL_AID) -> AidContent:
    return load_aid(path)
