"""The Excel sheets communities already keep for their 底账: read into rows, written back.

One row per household. The header row is found among the first rows (a title row above it is
common) by its 室/房号 column; column names are matched to fields by the names communities use
(楼栋/幢, 单元, 室/房号, 姓名/户主, 与户主关系, 电话, 家庭成员, 标签/类别 or one column per tag
with ✓/是, 出租人数, 房东, 备注, 核实日期 …). Merged 楼栋/单元 cells (empty below their first
row) carry down. Reading never touches the database and collects every problem with its row
number; the importer writes only a sheet without problems (bot.ledger_cli).
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Iterable

from openpyxl import Workbook, load_workbook
from openpyxl.utils import get_column_letter

from common.flats import parse_flat, parse_stairwell, stairwell_name, stairwell_parts
from storage.ledger import RENTED, mask_phone, tag_named
from storage.models import LEDGER_TAGS

HEADER_SEARCH_ROWS = 10
FIELDS: dict[str, tuple[str, ...]] = {  # field -> the column names that mean it (normalised)
    "building": ("楼栋", "幢", "栋", "楼号", "幢号", "栋号", "楼幢", "楼宇", "楼栋号"),
    "unit": ("单元", "单元号"),
    "flat": ("室", "房号", "室号", "门牌号", "房间号", "户号", "房屋"),
    "stairwell": ("楼道",),
    "grid": ("网格", "所属网格"),
    "name": ("姓名", "户主", "户主姓名", "联系人"),
    "relation": ("与户主关系", "关系"),
    "phone": ("电话", "联系电话", "手机", "手机号", "手机号码", "联系方式"),
    "others": ("家庭成员", "其他成员", "同住人员", "同住成员", "成员"),
    "tags": ("标签", "类别", "人员类别", "户类别", "重点人群", "特殊人群"),
    "tenants": ("出租人数", "租户人数", "租住人数"),
    "landlord": ("房东", "房东联系方式", "房东电话", "房东及电话"),
    "note": ("备注", "说明"),
    "confirmed": ("核实日期", "核实时间", "确认日期", "更新日期", "最近核实", "最后核实"),
    "skip": ("序号", "编号", "序"),
}
LABELS = {  # how the column mapping is shown
    "building": "楼栋", "unit": "单元", "flat": "室", "stairwell": "楼道", "grid": "网格", "name": "姓名",
    "relation": "与户主关系", "phone": "电话（打码保存）", "others": "其他成员", "tags": "标签", "tenants": "出租人数",
    "landlord": "房东（电话打码）", "note": "备注", "confirmed": "核实日期", "skip": "不导入",
}
CARRIED = ("building", "unit", "stairwell", "grid")  # merged cells: empty means "as above"
NO = {"", "否", "无", "×", "x", "0", "n", "no", "-", "—", "false"}
YES = {"✓", "√", "✔", "是", "有", "1", "y", "yes", "●", "true"}
_LIST_SPLIT = re.compile(r"[、，,;；\s]+")
_MEMBER = re.compile(r"^(?P<name>[^（(]+?)\s*(?:[（(](?P<inside>[^)）]*)[)）])?$")
_DATE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
EXPORT_HEADER = ("楼栋", "单元", "室", "网格", "姓名", "与户主关系", "电话", "其他成员", *LEDGER_TAGS,
                 "出租人数", "房东", "备注", "核实日期")


@dataclass
class SheetTag:
    note: str = ""
    tenants: int | None = None
    landlord: str | None = None


@dataclass
class SheetRow:
    row: int  # the row number in Excel
    stairwell: str
    building: str
    unit: str
    flat: str
    grid: str | None
    members: list[tuple[str, str, str | None]] = field(default_factory=list)  # name, relation, masked phone
    tags: dict[str, SheetTag] = field(default_factory=dict)
    note: str = ""
    confirmed: date | None = None


@dataclass
class Sheet:
    rows: list[SheetRow] = field(default_factory=list)
    columns: dict[str, str] = field(default_factory=dict)  # column name -> field (or "tag:…")
    problems: list[str] = field(default_factory=list)


def _norm(text: Any) -> str:
    text = unicodedata.normalize("NFKC", str(text or "")).strip()
    text = re.sub(r"\s+", "", text)
    return re.sub(r"[（(][^)）]*[)）]$", "", text)  # 电话（手机） -> 电话


def label(name: str) -> str:
    """A field's name for people: 楼栋, 电话（打码保存）, 标签:独居老人."""
    return f"标签:{name[4:]}" if name.startswith("tag:") else LABELS.get(name, name)


def _field_of(header: str) -> str | None:
    for name, words in FIELDS.items():
        if header in words:
            return name
    tag = tag_named(re.sub(r"^是否", "", header))
    return f"tag:{tag}" if tag else None


def _cell(value: Any) -> str:
    """A cell as text: Excel numbers without '.0' (phones and flats are often numbers)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return unicodedata.normalize("NFKC", str(value)).strip()


def _date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    match = _DATE.match(_cell(value))
    if not match:
        raise ValueError
    return date(int(match[1]), int(match[2]), int(match[3]))


def _members(name: str, relation: str, phone: str, others: str) -> list[tuple[str, str, str | None]]:
    """The named person (户主 unless 与户主关系 says otherwise) and the 家庭成员 cell:
    '李强（儿子，138…）、王芳（儿媳）'."""
    found = [(name, relation or "户主", mask_phone(phone) or None)] if name else []
    for part in re.split(r"[、;；\n]+", others):
        match = _MEMBER.match(part.strip()) if part.strip() else None
        if not match:
            if part.strip():
                raise ValueError(f"家庭成员“{part.strip()[:12]}”看不懂，应写成 姓名（关系，电话）")
            continue
        inside = [x.strip() for x in re.split(r"[，,]", match["inside"] or "") if x.strip()]
        found.append((match["name"].strip(), next((x for x in inside if not re.search(r"\d", x)), ""),
                      next((mask_phone(x) for x in inside if re.search(r"\d", x)), None)))
    names = [m[0] for m in found]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ValueError(f"成员“{twice[0]}”写了两次")
    return found


def _tag_cell(value: Any) -> tuple[bool, str]:
    """A per-tag column: ✓/是 -> tagged; 否/empty -> not; other text -> tagged with it as note."""
    if isinstance(value, bool):
        return value, ""
    text = _cell(value)
    if text.lower() in NO:
        return False, ""
    return True, ("" if text.lower() in YES else mask_phone(text))


class _RowReader:
    """Turns one data row into a SheetRow; raises ValueError with what is wrong."""

    def __init__(self, columns: list[tuple[int, str]], stairwells: dict[str, str | None]) -> None:
        self.columns = columns  # (column index, field)
        self.stairwells = stairwells  # known stairwell name -> grid
        self.by_parts: dict[tuple[int | None, int | None], str] = {}  # (3, 1) -> "3幢1单元"
        for name in stairwells:
            self.by_parts.setdefault(stairwell_parts(name), name)
        self.carried: dict[str, str] = {}

    def _place(self, cells: dict[str, str]) -> tuple[str, str, str]:
        if cells.get("stairwell"):
            building, unit = stairwell_parts(cells["stairwell"])
        else:
            parsed = parse_stairwell(cells.get("building", ""), cells.get("unit", ""))
            if parsed is None:
                raise ValueError(f"楼栋“{cells.get('building', '')[:8]}”单元“{cells.get('unit', '')[:8]}”看不懂")
            building, unit = parsed
        if building is None:
            raise ValueError(f"楼道“{cells.get('stairwell', '')[:12]}”看不懂，应写成 3幢1单元")
        known = self.by_parts.get((building, unit))
        return known or stairwell_name(building, unit), f"{building}幢", f"{unit}单元" if unit is not None else ""

    def read(self, number: int, values: tuple[Any, ...]) -> SheetRow:
        cells: dict[str, str] = {}
        tags: dict[str, SheetTag] = {}
        for index, name in self.columns:
            value = values[index] if index < len(values) else None
            if name.startswith("tag:"):
                yes, note = _tag_cell(value)
                if yes:
                    tags[name[4:]] = SheetTag(note=note)
            elif name == "confirmed":
                cells[name] = value  # type: ignore[assignment]  # a date cell stays a date
            elif name != "skip":
                cells[name] = _cell(value)
        for name in CARRIED:
            if cells.get(name):
                self.carried[name] = cells[name]
            elif name in cells or name in self.carried:
                cells[name] = self.carried.get(name, "")
        ref = parse_flat(cells.get("flat", ""))
        if ref is None:
            raise ValueError(f"房号“{cells.get('flat', '')[:10]}”看不懂，应写成 502")
        stairwell, building, unit = self._place(cells)
        for word in _LIST_SPLIT.split(cells.get("tags", "")):
            if word and tag_named(word) is None:
                raise ValueError(f"标签“{word[:10]}”不认识，可用：{'、'.join(LEDGER_TAGS)}")
            if word:
                tags.setdefault(tag_named(word) or word, SheetTag())
        tenants = cells.get("tenants", "")
        if tenants and not re.fullmatch(r"\d{1,2}\s*人?", tenants):
            raise ValueError(f"出租人数“{tenants[:8]}”应是数字")
        if tenants or cells.get("landlord"):
            rented = tags.setdefault(RENTED, SheetTag())
            rented.tenants = int(re.sub(r"\D", "", tenants)) if tenants else None
            rented.landlord = mask_phone(cells.get("landlord", "")) or None
        try:
            confirmed = _date(cells["confirmed"]) if _cell(cells.get("confirmed")) else None
        except ValueError:
            raise ValueError(f"核实日期“{_cell(cells.get('confirmed'))[:12]}”看不懂，应写成 2026-11-20") from None
        grid = cells.get("grid") or None
        if stairwell in self.stairwells and self.stairwells[stairwell] and grid and grid != self.stairwells[stairwell]:
            raise ValueError(f"网格“{grid}”与{stairwell}楼道群所属的{self.stairwells[stairwell]}不一致")
        return SheetRow(
            row=number, stairwell=stairwell, building=building, unit=unit, flat=ref.flat,
            grid=self.stairwells.get(stairwell) or grid,
            members=_members(cells.get("name", ""), cells.get("relation", ""), cells.get("phone", ""),
                             cells.get("others", "")),
            tags=tags, note=mask_phone(cells.get("note", "")), confirmed=confirmed,
        )


def _header(rows: list[tuple[Any, ...]]) -> int | None:
    for index, values in enumerate(rows[:HEADER_SEARCH_ROWS]):
        if any(_field_of(_norm(v)) == "flat" for v in values):
            return index
    return None


def read_sheet(path: Path, stairwells: dict[str, str | None], ignore: Iterable[str] = ()) -> Sheet:
    """Every household of the workbook's first sheet, and every problem (with its row number).
    ``stairwells``: the known stairwell names and their grids (a sheet's 3栋 is the group's 3幢)."""
    sheet = Sheet()
    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - a missing, corrupt or non-xlsx file: one line
        sheet.problems.append(f"无法读取 {path.name}：{str(exc)[:80] or type(exc).__name__}（应为 .xlsx 文件）")
        return sheet
    rows = [tuple(r) for r in book.worksheets[0].iter_rows(values_only=True)]
    book.close()
    top = _header(rows)
    if top is None:
        sheet.problems.append(f"前{HEADER_SEARCH_ROWS}行里没有找到房号列（室、房号或门牌号），无法读取。")
        return sheet
    skipped = {_norm(name) for name in ignore}
    columns: list[tuple[int, str]] = []
    for index, value in enumerate(rows[top]):
        header, letter = _norm(value), get_column_letter(index + 1)
        name = _field_of(header) if header not in skipped else "skip"
        if name is None:
            has_data = any(_cell(r[index]) for r in rows[top + 1:] if index < len(r))
            if header or has_data:
                sheet.problems.append(f"第{top + 1}行：不认识的列“{header or '（无列名）'}”（{letter}列）；"
                                      "不需要导入可加 --ignore 列名")
            continue
        if name in {c for _, c in columns} and name != "skip":
            sheet.problems.append(f"第{top + 1}行：“{header}”（{letter}列）与前面的列重复")
            continue
        columns.append((index, name))
        sheet.columns[str(value).strip()] = name
    if "flat" not in {c for _, c in columns} or not {"building", "stairwell"} & {c for _, c in columns}:
        sheet.problems.append(f"第{top + 1}行：需要楼栋（或楼道）和室（房号）两列。")
        return sheet
    reader = _RowReader(columns, stairwells)
    seen: dict[tuple[str, str], int] = {}
    for offset, values in enumerate(rows[top + 1:], start=top + 2):
        if not any(_cell(v) for v in values):
            continue
        try:
            row = reader.read(offset, values)
        except ValueError as exc:
            sheet.problems.append(f"第{offset}行：{exc}")
            continue
        key = (row.stairwell, row.flat)
        if key in seen:
            sheet.problems.append(f"第{offset}行：{row.stairwell}{row.flat}与第{seen[key]}行重复")
            continue
        seen[key] = offset
        sheet.rows.append(row)
    return sheet


# ---- writing -----------------------------------------------------------------------------------

def _member_text(name: str, relation: str, phone: str | None) -> str:
    inside = "，".join(x for x in (relation, phone) if x)
    return f"{name}（{inside}）" if inside else name


def write_sheet(path: Path, rows: Iterable[SheetRow], title: str) -> int:
    """The households as one sheet readable by read_sheet (and by people): returns the count."""
    book = Workbook()
    ws = book.active
    ws.title = title[:31]
    ws.append(EXPORT_HEADER)
    count = 0
    for count, row in enumerate(rows, start=1):
        head = row.members[0] if row.members else ("", "", None)
        rented = row.tags.get(RENTED)
        ws.append([
            row.building, row.unit, row.flat, row.grid or "", head[0], head[1] if row.members else "",
            head[2] or "", "、".join(_member_text(*m) for m in row.members[1:]),
            *[(row.tags[t].note or "✓") if t in row.tags else "" for t in LEDGER_TAGS],
            rented.tenants if rented and rented.tenants is not None else "", (rented.landlord or "") if rented else "",
            row.note, row.confirmed,
        ])
        ws.cell(row=count + 1, column=len(EXPORT_HEADER)).number_format = "yyyy-mm-dd"  # not max_row: a scan
    for letter in ("E", "G", "H"):  # names, phones and members are read by people too
        ws.column_dimensions[letter].width = 18
    book.save(path)
    return count
