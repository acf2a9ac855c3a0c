"""Flat numbers as people write them: 502, 502室, 5-502, 3-1-502, 3幢502, 3栋1单元502, 5楼2号.

Only the text is read here; which stairwell a flat is in is decided against the caller's
stairwells (storage.ledger.resolve_flat).
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

_BUILDING = r"(?:幢|栋|号楼|座|楼(?=\s*\d+\s*单元))"
_PATTERNS = (
    # 3幢1单元502室, 1单元502, 3栋502, 502
    re.compile(rf"^(?:(?P<b>\d{{1,3}})\s*{_BUILDING})?\s*(?:(?P<u>\d{{1,2}})\s*单元)?\s*(?P<f>\d{{3,4}})\s*(?:室|号|户)?$"),
    re.compile(r"^(?P<b>\d{1,3})\s*[-－—]\s*(?P<u>\d{1,2})\s*[-－—]\s*(?P<f>\d{3,4})$"),  # 3-1-502
    re.compile(r"^(?P<x>\d{1,3})\s*[-－—]\s*(?P<f>\d{3,4})$"),  # 5-502: building or unit 5
)
# 5楼2号, 5层02室, 3幢5楼2号: floor and door
_FLOOR_DOOR = re.compile(
    rf"^(?:(?P<b>\d{{1,3}})\s*{_BUILDING})?\s*(?:(?P<u>\d{{1,2}})\s*单元)?\s*(?P<floor>\d{{1,2}})\s*[楼层]\s*(?P<door>\d{{1,2}})\s*(?:号|室|户)?$"
)
_BUILDING_CELL = re.compile(r"^\s*(?P<n>\d{1,3})\s*(?:幢|栋|号楼|座|楼)?\s*$")
_UNIT_CELL = re.compile(r"^\s*(?P<n>\d{1,2})\s*(?:单元)?\s*$")


@dataclass(frozen=True)
class FlatRef:
    flat: str  # "502"
    building: int | None = None
    unit: int | None = None
    either: int | None = None  # "5-502": building 5 or unit 5, whichever the caller has

    def fits(self, parts: tuple[int | None, int | None]) -> bool:
        """Whether a stairwell with these (building, unit) numbers can hold this flat."""
        building, unit = parts
        if self.building is not None and self.building != building:
            return False
        if self.unit is not None and self.unit != unit:
            return False
        return self.either is None or self.either in (building, unit)


def _int(value: str | None) -> int | None:
    return int(value) if value else None


def _valid(flat: str) -> bool:
    return flat[0] != "0" and int(flat[-2:]) > 0


def parse_flat(text: str) -> FlatRef | None:
    """The flat a short text names, or None when it is not a flat number."""
    text = unicodedata.normalize("NFKC", text).strip()
    for pattern in _PATTERNS:
        match = pattern.match(text)
        if match:
            flat = match["f"]
            groups = match.groupdict()
            ref = FlatRef(flat, _int(groups.get("b")), _int(groups.get("u")), _int(groups.get("x")))
            return ref if _valid(flat) else None
    match = _FLOOR_DOOR.match(text)
    if match and int(match["floor"]) > 0 and int(match["door"]) > 0:
        return FlatRef(f"{int(match['floor'])}{int(match['door']):02d}", _int(match["b"]), _int(match["u"]))
    return None


def stairwell_parts(name: str) -> tuple[int | None, int | None]:
    """'3幢1单元' -> (3, 1); '9栋' -> (9, None); names without numbers -> (None, None)."""
    name = unicodedata.normalize("NFKC", name or "")
    building = re.search(r"(\d+)\s*(?:幢|栋|号楼|座|楼)", name) or re.match(r"^\s*(\d+)", name)
    unit = re.search(r"(\d+)\s*单元", name)
    return (int(building.group(1)) if building else None, int(unit.group(1)) if unit else None)


def parse_stairwell(building: str, unit: str) -> tuple[int, int | None] | None:
    """A sheet's 楼栋 and 单元 cells ('3幢'/'3栋'/'3', '1单元'/'1'/''): their numbers, or None."""
    b = _BUILDING_CELL.match(unicodedata.normalize("NFKC", building))
    u = _UNIT_CELL.match(unicodedata.normalize("NFKC", unit)) if unit.strip() else None
    if not b or (unit.strip() and not u):
        return None
    return int(b["n"]), (int(u["n"]) if u else None)


def stairwell_name(building: int, unit: int | None) -> str:
    """The name the demo config uses for a stairwell: 3幢1单元."""
    return f"{building}幢" + (f"{unit}单元" if unit is not None else "")
