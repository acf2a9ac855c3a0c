"""Excel import and export of the household ledger (python -m bot ledger …), on both databases:
import → export → import gives the same ledger; a bad sheet imports nothing and names every
problem with its row; export needs a grid worker or admin, covers their scope, and is audited."""
from __future__ import annotations

import io
import os
import subprocess
import sys
from datetime import date, datetime, timezone
from pathlib import Path

import yaml
from openpyxl import Workbook, load_workbook
from sqlmodel import Session, delete, select

from bot.config import parse_config
from bot.ledger_cli import export_command, import_command
from storage.models import Household, HouseholdMember, HouseholdTag, LedgerAudit
from tests.conftest import ROOT
from tests.test_ledger import FULL_PHONE, snapshot

NOW = datetime(2026, 11, 25, 2, 0, tzinfo=timezone.utc)
# What communities keep: a title row, 3栋 for the groups' 3幢, merged 楼栋/单元 cells (empty below),
# one column per tag with ✓/是/a note, a 类别 list, members in one cell, dates written three ways.
HEADER = ["序号", "楼栋", "单元", "房号", "户主姓名", "联系电话", "家庭成员", "独居老人", "残疾", "是否出租",
          "租户人数", "房东", "类别", "备注", "核实日期"]
GOOD_ROWS = [
    [1, "3栋", 1, 101, "王秀英", 13800001101, "", "✓", "", "", "", "", "党员", "", date(2026, 11, 1)],
    [2, None, None, "102室", "刘建华", "138 0000 1102", "张桂芳（配偶）、刘小明（儿子，13800009999）", "否", "", "", "",
     "", "", "女儿电话13812345678", "2026/10/5"],
    [3, None, None, 301, "赵德明", "", "", "", "肢体二级", "", "", "", "低保", "", "2026年7月28日"],
    [4, "3栋", "2单元", 501, "许婷", "", "", "", "", "是", 2, "许先生13900002302", "流动人口", "", "2026-09-01"],
    [5, "3栋", "2单元", 601, "高大爷", "0571-87654321", "", "是", "", "", "", "", "", "耳背", None],
]


def workbook(path: Path, header: list, rows: list[list], title: str | None = "幸福里社区3幢底账") -> Path:
    book = Workbook()
    sheet = book.active
    if title:
        sheet.append([title])
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def run_import(config, db_url, path: Path, **kw) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = import_command(path, config, db_url, now=NOW, out=out, err=err, **kw)
    return code, out.getvalue(), err.getvalue()


def run_export(config, db_url, path: Path, by: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = export_command(path, config, db_url, by=by, now=NOW, out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_import_export_import_gives_the_same_ledger(engine, db_url, config, tmp_path):
    code, out, err = run_import(config, db_url, workbook(tmp_path / "底账.xlsx", HEADER, GOOD_ROWS), by="grid-zhao")
    assert (code, err) == (0, "")
    assert "已导入5户（新增5户，更新0户）" in out and "联系电话→电话（打码保存）" in out and "序号→不导入" in out
    first = snapshot(engine)
    assert [(h[0], h[4]) for h in first] == [("3幢1单元", "101"), ("3幢1单元", "102"), ("3幢1单元", "301"),
                                             ("3幢2单元", "501"), ("3幢2单元", "601")]
    by_flat = {(h[0], h[4]): h for h in first}
    assert by_flat[("3幢1单元", "102")][7] == [("刘建华", "户主", "138****1102"), ("张桂芳", "配偶", None),
                                              ("刘小明", "儿子", "138****9999")]
    assert by_flat[("3幢1单元", "102")][5] == "女儿电话138****5678"
    assert by_flat[("3幢1单元", "301")][8] == [("低保/困难", None, None, "", date(2026, 7, 28)),
                                              ("残疾", None, None, "肢体二级", date(2026, 7, 28))]
    assert by_flat[("3幢2单元", "501")][8][0] == ("出租房", 2, "许先生139****2302", "", date(2026, 9, 1))
    assert by_flat[("3幢2单元", "601")][7] == [("高大爷", "户主", "057*****4321")]
    assert by_flat[("3幢2单元", "601")][6] is None  # never confirmed
    assert {h[1] for h in first} == {"网格A"}  # the groups' grid

    exported = tmp_path / "导出.xlsx"
    code, out, err = run_export(config, db_url, exported, by="grid-zhao")
    assert (code, err) == (0, "") and "已导出5户" in out
    cells = [str(c) for row in load_workbook(exported).active.iter_rows(values_only=True) for c in row if c]
    assert not [c for c in cells if FULL_PHONE.search(c)]  # only masked numbers leave the database

    with Session(engine) as session:  # an empty ledger again, then the export read back
        for table in (HouseholdTag, HouseholdMember, Household):
            session.exec(delete(table))
        session.commit()
    code, out, err = run_import(config, db_url, exported)
    assert (code, err) == (0, "") and "新增5户" in out
    assert snapshot(engine) == first
    code, out, err = run_import(config, db_url, exported)  # over itself: updates, same ledger
    assert code == 0 and "更新5户" in out
    assert snapshot(engine) == first


def test_a_bad_sheet_imports_nothing_and_names_every_problem(engine, db_url, config, tmp_path):
    assert run_import(config, db_url, workbook(tmp_path / "ok.xlsx", HEADER, GOOD_ROWS))[0] == 0
    before = snapshot(engine)
    header = ["楼栋", "单元", "室", "姓名", "身份证号", "独居老人", "类别", "核实日期"]
    rows = [
        ["3幢", "1单元", "101", "王秀英（改）", "", "", "", "2026-11-20"],  # a good row: not written either
        ["3幢", "1单元", "abc", "李", "", "", "", ""],
        ["3幢", "1单元", "101", "张", "", "", "", ""],
        ["3幢", "1单元", "201", "赵", "", "", "", "昨天"],
        ["3幢", "1单元", "202", "钱", "", "", "外星人", ""],
    ]
    code, out, err = run_import(config, db_url, workbook(tmp_path / "bad.xlsx", header, rows, title=None))
    assert code == 1
    lines = err.splitlines()
    assert lines[:-1] == [
        "第1行：不认识的列“身份证号”（E列）；不需要导入可加 --ignore 列名",
        "第3行：房号“abc”看不懂，应写成 502",
        "第4行：3幢1单元101与第2行重复",
        "第5行：核实日期“昨天”看不懂，应写成 2026-11-20",
        "第6行：标签“外星人”不认识，可用：党员、流动人口、出租房、独居老人、空巢、留守儿童、残疾、重病、低保/困难",
    ]
    assert lines[-1] == "未导入任何数据：bad.xlsx 有5处问题，请改正后重新导入。"
    assert snapshot(engine) == before
    with Session(engine) as session:
        assert {a.detail for a in session.exec(select(LedgerAudit)).all()} == {"ok.xlsx"}


def test_dry_run_and_ignored_columns_write_nothing(engine, db_url, config, tmp_path):
    path = workbook(tmp_path / "a.xlsx", [*HEADER, "工作单位"], [[*GOOD_ROWS[0], "某公司"]])
    assert run_import(config, db_url, path)[0] == 1
    code, out, err = run_import(config, db_url, path, dry_run=True, ignore=("工作单位",))
    assert (code, err) == (0, "") and "检查通过：1户（新增1户，更新0户）" in out and "工作单位→不导入" in out
    assert snapshot(engine) == []


def test_unreadable_files_name_the_problem(engine, db_url, config, tmp_path):
    text = tmp_path / "not.xlsx"
    text.write_text("楼栋,室\n", encoding="utf-8")
    code, _, err = run_import(config, db_url, text)
    assert code == 1 and "无法读取 not.xlsx" in err
    code, _, err = run_import(config, db_url, workbook(tmp_path / "no_flat.xlsx", ["姓名", "电话"], [["王", "1"]]))
    assert code == 1 and "没有找到房号列" in err


def test_export_needs_a_grid_worker_or_admin_and_covers_their_scope(engine, db_url, tmp_path):
    data = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    data["people"].append({"id": "grid-qian", "name": "钱网格", "roles": [{"role": "grid", "scope": "网格B"}]})
    config = parse_config(data, ROOT / "config.yaml")
    rows = [*GOOD_ROWS, [6, "9栋", 1, 101, "孙阿姨", "", "", "✓", "", "", "", "", "", "", None]]
    header = [*HEADER, "网格"]
    rows = [[*r, "网格B" if r[1] == "9栋" else None] for r in rows]
    assert run_import(config, db_url, workbook(tmp_path / "in.xlsx", header, rows))[0] == 0

    for person in ("officer-li", "leader-zhou", "lawyer-wang", "nobody"):
        code, _, err = run_export(config, db_url, tmp_path / f"{person}.xlsx", by=person)
        assert code == 2 and f"--by {person}" in err
        assert not (tmp_path / f"{person}.xlsx").exists()
    code, out, _ = run_export(config, db_url, tmp_path / "b.xlsx", by="grid-qian")
    assert code == 0 and "已导出1户（9幢1单元）" in out
    flats = [r[:3] for r in load_workbook(tmp_path / "b.xlsx").active.iter_rows(min_row=2, values_only=True)]
    assert flats == [("9幢", "1单元", "101")]
    code, out, _ = run_export(config, db_url, tmp_path / "all.xlsx", by="grid-zhao")  # admin of everything
    assert code == 0 and "已导出6户" in out
    with Session(engine) as session:
        exported = session.exec(select(LedgerAudit).where(LedgerAudit.action == "导出")).all()
        assert sorted((a.actor_id, a.detail) for a in exported) == [("grid-qian", "b.xlsx")] + [("grid-zhao", "all.xlsx")] * 6
        assert all(a.household_id is not None for a in exported)
    code, _, err = run_export(config, db_url, tmp_path / "x.csv", by="grid-zhao")
    assert code == 2 and ".xlsx" in err


def test_the_command_line(tmp_path):
    """Wiring only (SQLite): exit codes and one clear line on stderr."""
    config = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    config["storage"] = {"database_url": f"sqlite:///{tmp_path / 'cli.db'}", "database_url_env": "UNSET_FOR_TEST"}
    config_path = tmp_path / "config.yaml"
    config_path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    bad = workbook(tmp_path / "bad.xlsx", ["楼栋", "室", "籍贯"], [["3幢", "abc", "x"]], title=None)
    good = workbook(tmp_path / "good.xlsx", HEADER, GOOD_ROWS)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "bot", "ledger", *args, "--config", str(config_path)],
                              capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)

    result = run("import", str(bad))
    assert result.returncode == 1 and "第2行：房号“abc”看不懂" in result.stderr and "籍贯" in result.stderr
    assert "Traceback" not in result.stderr
    assert run("import", str(good)).returncode == 0
    result = run("export", str(tmp_path / "out.xlsx"), "--by", "officer-li")
    assert result.returncode == 2 and "只有网格员或管理员" in result.stderr
