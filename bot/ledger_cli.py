"""``python -m bot ledger import FILE.xlsx [--dry-run]`` and ``… export FILE.xlsx --by PERSON``.

Import is all or nothing: the sheet is read and checked completely first (every problem named
with its row), and only a sheet without problems is written, in one transaction. Export needs a
grid worker or an admin (``--by``), covers their scope, and leaves one audit row per household.
"""
from __future__ import annotations

import argparse
import sys
from datetime import datetime
from pathlib import Path
from typing import TextIO

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the work's imports wait for the command (openpyxl is not needed for --help)
    from sqlalchemy.exc import SQLAlchemyError
    from sqlmodel import Session

    from bot.config import AppConfig
    from bot.permissions import Caller

EXIT_PROBLEMS = 1
EXIT_USAGE = 2
CLI_ACTOR = "命令行"  # the audit's actor for an import without --by
EXPORT_ROLES = frozenset({"grid", "admin"})  # who may take the ledger out of the database


def _caller(session: Session, config: AppConfig, person_id: str) -> Caller | None:
    """A person's grants: the database's (chat grants too) and config's (a database not yet
    seeded by a start)."""
    from sqlmodel import select

    from bot.permissions import Caller
    from storage.models import RoleGrant

    grants = {(g.role, g.scope) for g in session.exec(select(RoleGrant).where(RoleGrant.person_id == person_id)).all()}
    person = next((p for p in config.people if p.id == person_id), None)
    grants |= {(g.role, g.scope) for g in (person.roles if person else [])}
    if person is None and not grants:
        return None
    return Caller(person_id, person.name if person else person_id, tuple(sorted(grants)))


def _known_stairwells(session: Session, config: AppConfig) -> dict[str, str | None]:
    from storage import ledger

    known = {r.stairwell: r.grid for r in config.rooms if r.stairwell}
    for name, place in ledger.stairwells(session).items():
        known.setdefault(name, place.grid)
    return known


def _db_error(exc: SQLAlchemyError) -> str:
    return str(getattr(exc, "orig", None) or exc).splitlines()[0][:120]


def import_command(path: Path, config: AppConfig, database_url: str, *, dry_run: bool = False,
                   ignore: tuple[str, ...] = (), by: str | None = None, now: datetime,
                   out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    from sqlalchemy.exc import SQLAlchemyError
    from sqlmodel import Session

    from domain.ledger_sheet import label, read_sheet
    from domain import ledger_io
    from storage.db import create_db_engine, writer

    engine = create_db_engine(database_url)
    try:
        with Session(writer(engine)) as session:
            if by is not None and _caller(session, config, by) is None:
                print(f"--by {by}：没有这个人员（config.yaml 的 people id）。", file=err)
                return EXIT_USAGE
            sheet = read_sheet(path, _known_stairwells(session, config), ignore)
            if sheet.columns:
                print("列：" + "，".join(f"{k}→{label(v)}" for k, v in sheet.columns.items()), file=out)
            if sheet.problems:
                for line in sheet.problems:
                    print(line, file=err)
                print(f"未导入任何数据：{path.name} 有{len(sheet.problems)}处问题，请改正后重新导入。", file=err)
                return EXIT_PROBLEMS
            have = ledger_io.existing(session, sheet.rows)
            new = sum((r.stairwell, r.flat) not in have for r in sheet.rows)
            if dry_run:
                print(f"检查通过：{len(sheet.rows)}户（新增{new}户，更新{len(sheet.rows) - new}户）；--dry-run 未写入。", file=out)
                return 0
            ledger_io.store_rows(session, sheet.rows, by or CLI_ACTOR, now, f"{path.name}")
            session.commit()
    except SQLAlchemyError as exc:
        print(f"未导入任何数据：数据库错误（{_db_error(exc)}）", file=err)
        return EXIT_PROBLEMS
    finally:
        engine.dispose()
    print(f"已导入{len(sheet.rows)}户（新增{new}户，更新{len(sheet.rows) - new}户）。", file=out)
    return 0


def export_command(path: Path, config: AppConfig, database_url: str, *, by: str, now: datetime,
                   out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    from sqlalchemy.exc import SQLAlchemyError
    from sqlmodel import Session

    from domain.ledger_sheet import write_sheet
    from domain import ledger_io
    from storage import ledger
    from storage.db import create_db_engine, writer
    from storage.models import LedgerAudit

    if path.suffix.lower() != ".xlsx":
        print(f"导出文件名应以 .xlsx 结尾：{path}", file=err)
        return EXIT_USAGE
    if not path.parent.is_dir():
        print(f"目录不存在：{path.parent}", file=err)
        return EXIT_USAGE
    engine = create_db_engine(database_url)
    try:
        with Session(writer(engine)) as session:
            caller = _caller(session, config, by)
            if caller is None or not any(role in EXPORT_ROLES for role, _ in caller.grants):
                print(f"--by {by}：只有网格员或管理员可以导出底账。", file=err)
                return EXIT_USAGE
            places = [s.name for s in ledger.visible_stairwells(session, caller, EXPORT_ROLES)]
            households = ledger.in_stairwells(session, places)
            rows = ledger_io.sheet_rows(session, households)
            session.add_all(LedgerAudit(at=now, actor_id=by, action="导出", household_id=h.id, detail=path.name[:200])
                            for h in households)
            write_sheet(path, rows, f"{config.community.name}底账")
            try:
                session.commit()
            except SQLAlchemyError:
                path.unlink(missing_ok=True)  # an export that is not logged is not kept
                raise
    except SQLAlchemyError as exc:
        print(f"未导出：数据库错误（{_db_error(exc)}）", file=err)
        return EXIT_PROBLEMS
    finally:
        engine.dispose()
    print(f"已导出{len(rows)}户（{'、'.join(places) or '无'}）到 {path}；已记入底账审计。", file=out)
    return 0


def cmd_ledger(args: argparse.Namespace) -> int:
    from bot.cli import _config_or_exit, _open_database_or_exit
    from bot.clock import Clock

    config = _config_or_exit(args.config)
    url = config.storage.resolved_url()
    _open_database_or_exit(url)
    if args.ledger_command == "import":
        if not Path(args.file).is_file():
            print(f"找不到文件：{args.file}", file=sys.stderr)
            return EXIT_USAGE
        return import_command(Path(args.file), config, url, dry_run=args.dry_run, ignore=tuple(args.ignore),
                              by=args.by, now=Clock().now())
    return export_command(Path(args.file), config, url, by=args.by, now=Clock().now())


def add_ledger_parser(sub) -> None:
    parser = sub.add_parser("ledger", help="household ledger (底账): import / export Excel sheets",
                            description="Import or export the household ledger (底账) as an .xlsx sheet.")
    actions = parser.add_subparsers(dest="ledger_command", metavar="ACTION", required=True)
    load = actions.add_parser("import", help="import a sheet: all or nothing",
                              description="Read FILE.xlsx; any problem (named with its row) imports nothing.")
    load.add_argument("file", metavar="FILE.xlsx")
    load.add_argument("--dry-run", action="store_true", help="check and show the column mapping, write nothing")
    load.add_argument("--ignore", action="append", default=[], metavar="COLUMN", help="a column not to import")
    load.add_argument("--by", metavar="PERSON", help="who imports (a people id), for the audit")
    load.add_argument("--config", metavar="PATH", help="config file (default: config.yaml)")
    save = actions.add_parser("export", help="export the ledger a grid worker or admin may see",
                              description="Write FILE.xlsx; needs --by a grid worker or admin; logged.")
    save.add_argument("file", metavar="FILE.xlsx")
    save.add_argument("--by", required=True, metavar="PERSON", help="a grid worker's or admin's people id")
    save.add_argument("--config", metavar="PATH", help="config file (default: config.yaml)")
    parser.set_defaults(func=cmd_ledger)
