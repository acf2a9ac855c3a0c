"""Command line: ``python -m bot`` (also installed as ``stairwell``)."""
from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from datetime import datetime
from typing import TextIO

from bot.config import ConfigError, load_config
from common.heap import StartPause

EXIT_USAGE = 2


def _setup_logging(level: str = "INFO") -> None:
    logging.basicConfig(
        level=getattr(logging, level.upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    logging.getLogger("jieba").setLevel(logging.WARNING)
    # APScheduler logs every job it adds or runs at INFO; jobs carry ids, but keep it quiet anyway.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)


def _fail(line: str) -> SystemExit:
    """A start-up error: one clear line on stderr, exit 2 (never a traceback)."""
    print(line, file=sys.stderr)
    return SystemExit(EXIT_USAGE)


def _config_or_exit(path: str | None):
    from storage.access import unsupported_url

    try:
        config = load_config(path)
    except ConfigError as exc:
        raise _fail(f"配置错误 / config error in {exc.path}: " + "; ".join(exc.problems)) from None
    problem = unsupported_url(config.storage.resolved_url())
    if problem:
        raise _fail(f"配置错误 / config error in {path or 'config.yaml'}: storage.database_url: {problem}")
    from content import validate_all

    try:  # the content files (FAQ, 便民, legal aid) are checked at start like the config
        validate_all()
    except (ValueError, OSError) as exc:
        raise _fail(f"内容文件错误 / content error: {exc}") from None
    return config


def _content_or_exit() -> dict[str, int]:
    """The 普法 content files checked like config: a bad entry stops the start with one line."""
    from schedules.content_library import ContentError, check_content

    try:
        return check_content()
    except ContentError as exc:
        raise _fail(f"内容错误 / content error in {exc.path}: " + "; ".join(exc.problems)) from None


def _open_database_or_exit(url: str) -> None:
    """Create or upgrade the schema and check the database can be written, before anything starts."""
    from sqlalchemy.exc import SQLAlchemyError

    from storage.access import check_writable
    from storage.db import create_db_engine, init_schema

    engine = None
    try:
        engine = create_db_engine(url)
        init_schema(engine)
        problem = check_writable(engine)
    except (SQLAlchemyError, OSError, RuntimeError) as exc:
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0][:120]
        problem = f"无法打开数据库 {url.split('@')[-1]}（{reason}）"
    finally:
        if engine is not None:
            engine.dispose()
    if problem:
        raise _fail(problem)


def cmd_check_config(args: argparse.Namespace) -> int:
    config = _config_or_exit(args.path)
    content = _content_or_exit()
    print(f"配置有效：{args.path or 'config.yaml'}")
    print(f"  社区 {config.community.name}，网格 {len(config.community.grids)} 个")
    for room in config.rooms:
        print(f"  群 {room.topic}（{room.kind}，{room.stairwell or room.grid or '-'}）")
    staff = [p for p in config.people if p.roles]
    print(f"  人员 {len(config.people)} 人，其中工作人员 {len(staff)} 人")
    print(f"  数据库 {config.storage.resolved_url().split('@')[-1]}")
    print(f"  普法内容 {content['weekly']} 条，以案释法 {content['cases']} 条")
    return 0


async def _serve(args: argparse.Namespace, start: StartPause) -> int:
    from bot.app import Stairwell
    from bot.transports.base import TransportError
    from bot.transports.registry import UnknownTransport, build_transport

    config = _config_or_exit(args.config)
    _content_or_exit()
    _open_database_or_exit(config.storage.resolved_url())
    options = {"port": args.port} if args.port is not None else {}
    try:
        transport = build_transport(args.transport, config, **options)
    except UnknownTransport as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_USAGE
    except ValueError as exc:  # a transport's missing settings (e.g. env vars)
        print(f"transport '{args.transport}': {exc}", file=sys.stderr)
        return EXIT_USAGE
    # The console (web.console) listens on web.host:web.port whatever the transport; the web
    # chat's own address (with --port) wins when the transport is the web chat.
    app = Stairwell(config, transport, web_address=(config.web.host, config.web.port))
    try:
        await app.start()
    except TransportError as exc:  # e.g. a wrong wechaty token
        print(f"transport '{args.transport}' 无法连接: {exc}", file=sys.stderr)
        await app.stop()
        return 1
    except OSError as exc:
        port = args.port if args.port is not None else config.web.port
        print(f"无法启动：端口 {port} 不可用（{exc.strerror or exc}）。请换一个端口：--port N", file=sys.stderr)
        await app.stop()
        return 1
    start.settle()
    where = app.web_port
    if where:
        host = app.web.host if app.web is not None else config.web.host
        console = f"  员工后台 http://{host}:{where}/staff/" if config.web.console else ""
        print(f"楼道通已启动：http://{host}:{where}{console}  （Ctrl+C 停止）", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await app.stop()
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    _setup_logging(args.log_level)
    start = StartPause()  # no garbage collection while the start builds what lives all along
    try:
        return asyncio.run(_serve(args, start))
    finally:
        start.end()


def cmd_classify(args: argparse.Namespace) -> int:
    from nlp.evaluate import classify_command

    return classify_command(args.file, sys.stdout)


def cmd_eval(args: argparse.Namespace) -> int:
    from nlp.evaluate import eval_command

    return eval_command(args.files, sys.stdout)


def _list_schedules(config) -> list[tuple[str, str, str, str]]:
    """Every job: config jobs as config.yaml asks, officers' timed notices, older stored jobs.
    Read only: it never creates, seeds or reconciles, so it works beside a running bot."""
    from sqlalchemy.exc import SQLAlchemyError

    from bot.clock import SHANGHAI, Clock
    from schedules.scheduler import listing
    from storage.access import open_read_only

    engine = None
    try:
        engine = open_read_only(config.storage.resolved_url())
        return listing(engine, config, Clock().now().astimezone(SHANGHAI))
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0][:120]
        raise _fail(f"无法读取数据库（{reason}）") from None
    finally:
        if engine is not None:
            engine.dispose()


def cmd_schedules(args: argparse.Namespace) -> int:
    config = _config_or_exit(args.config)
    rows = _list_schedules(config)
    for job_id, when, targets, preview in rows:
        print(f"{when}  {job_id}\n    → {targets}\n    {preview}")
    print(f"共 {len(rows)} 个定时任务（时间为北京时间）")
    return 0


def report_command(
    month: str,
    fmt: str,
    config_path: str | None,
    database_url: str | None,
    out: TextIO,
    now: datetime | None = None,
) -> int:
    """Write the month's report to ``out``; 2 for a bad month, format or config."""
    from sqlalchemy import inspect
    from sqlalchemy.exc import SQLAlchemyError
    from sqlmodel import Session

    from bot.clock import Clock
    from domain import stars
    from domain.visits import visit_coverage
    from handlers.report import (
        parse_month, render_csv, render_legal_csv, render_legal_markdown, render_markdown,
    )
    from storage.access import open_read_only
    from storage.consultation_stats import by_role
    from storage.stats import compute

    bounds = parse_month(month or "")
    if bounds is None:
        print(f"月份格式不对：“{month}”，请写成 YYYY-MM，例如 2026-11。", file=sys.stderr)
        return EXIT_USAGE
    if fmt not in ("md", "csv"):
        print(f"格式只能是 md 或 csv，收到“{fmt}”。", file=sys.stderr)
        return EXIT_USAGE
    try:
        config = load_config(config_path)
    except ConfigError as exc:
        print(f"配置错误 {exc.path}：" + "；".join(exc.problems), file=sys.stderr)
        return EXIT_USAGE
    # Read only: works beside a running bot; a fresh database gives an empty report, not a crash.
    engine = None
    try:
        engine = open_read_only(database_url or config.storage.resolved_url())
        with Session(engine) as session:
            stats = compute(session, *bounds, now=now or Clock().now())
            # a database the bot has not upgraded yet has no ledger: the report still comes out
            upgraded = inspect(session.connection()).has_table("visits")
            visits = visit_coverage(session, bounds[0], None) if upgraded else []
            ratings = stars.rate_month(session, config, *bounds) if upgraded else []
            legal = by_role(session, *bounds)  # consultations per 三官一律 role
    except SQLAlchemyError as exc:
        print(f"无法读取数据库（{str(getattr(exc, 'orig', None) or exc).splitlines()[0][:120]}）", file=sys.stderr)
        return EXIT_USAGE
    finally:
        if engine is not None:
            engine.dispose()
    if fmt == "md":
        render_markdown(stats, config.community.name, month, out, visits)
        stars.render_markdown(config, ratings, out)
        render_legal_markdown(legal, out)
    else:
        render_csv(stats, out, visits)
        stars.render_csv(ratings, out)
        render_legal_csv(legal, out)
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    return report_command(args.month, args.format, args.config, None, sys.stdout)


# ---- db: schema migrations (storage/migrations) -------------------------------------------
def cmd_db(args: argparse.Namespace) -> int:
    """upgrade: 0; current: 0 when up to date, 1 when an upgrade is due; 2 for a database this
    program cannot use (a newer release's, unreadable), in one line."""
    from sqlalchemy.exc import SQLAlchemyError

    from storage import migrations
    from storage.db import create_db_engine

    if args.db_command == "revision":
        path = migrations.new_revision(args.message, empty=args.empty)
        print(f"新迁移版本 / new revision: {path}" if path else "模型与迁移一致，未生成新版本 / no differences, nothing written")
        return 0
    config = _config_or_exit(args.config)
    engine = create_db_engine(config.storage.resolved_url())
    where = engine.url.render_as_string(hide_password=True)
    try:
        if args.db_command == "upgrade":
            before = migrations.upgrade(engine)
            done = "数据库已是最新版本 / up to date" if before.up_to_date else f"数据库已升级 / upgraded: {before.describe()} →"
            print(f"{done} {before.head}  ({where})")
            return 0
        state = migrations.current(engine)
        migrations.check_known(state)
    except migrations.SchemaError as exc:
        raise _fail(str(exc)) from None
    except (SQLAlchemyError, OSError) as exc:
        raise _fail(f"无法打开数据库 {where}（{str(getattr(exc, 'orig', None) or exc).splitlines()[0][:120]}）") from None
    finally:
        engine.dispose()
    print(f"数据库 / database: {where}\n  当前 / current: {state.describe()}\n  本程序 / head: {state.head}")
    if not state.up_to_date:
        print("  需要升级：python -m bot db upgrade（启动时也会自动升级） / needs: python -m bot db upgrade")
        return 1
    return 0


def _add_db_parser(sub) -> None:
    db = sub.add_parser(
        "db", help="database schema: upgrade, current, revision",
        description="Database schema migrations (Alembic; the bot also upgrades at start).",
    )
    db_sub = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    for name, text in (("upgrade", "upgrade the database to this program's schema"),
                       ("current", "show the database's revision (exit 1 when an upgrade is due)")):
        action = db_sub.add_parser(name, help=text, description=text)
        action.add_argument("--config", metavar="PATH", help="config file (default: config.yaml)")
    revision = db_sub.add_parser(
        "revision", help="developers: write the next revision from the models",
        description="Write storage/migrations/versions/NNNN_<message>.py from the differences between "
                    "the models and the revisions (autogenerate on a scratch SQLite database).",
    )
    revision.add_argument("-m", "--message", required=True)
    revision.add_argument("--empty", action="store_true", help="an empty revision for a hand-written data migration")
    db.set_defaults(func=cmd_db)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description="楼道通 Stairwell：楼道群与法润民生群助手")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = sub.add_parser("run", help="run the bot", description="Run the bot with a transport.")
    run.add_argument("--config", metavar="PATH", help="config file (default: config.yaml)")
    run.add_argument("--transport", default="webchat", help="webchat (default), wechaty, webhook")
    run.add_argument("--port", type=int, help="port for the web chat (default from config: 8080)")
    run.add_argument("--log-level", default=os.environ.get("STAIRWELL_LOG_LEVEL", "INFO"))
    run.set_defaults(func=cmd_run)

    check = sub.add_parser("check-config", help="validate a config file", description="Validate a config file.")
    check.add_argument("path", nargs="?", help="config file (default: config.yaml)")
    check.set_defaults(func=cmd_check_config)

    classify = sub.add_parser(
        "classify", help="route messages, one JSONL line each", description="Classify plain lines or JSONL."
    )
    classify.add_argument("file", nargs="?", help="input file (default: stdin)")
    classify.set_defaults(func=cmd_classify)

    schedules = sub.add_parser("schedules", help="list scheduled jobs", description="List every scheduled job.")
    schedules.add_argument("--config", metavar="PATH", help="config file (default: config.yaml)")
    schedules.set_defaults(func=cmd_schedules)

    report = sub.add_parser(
        "report", help="monthly petition statistics for the grid council (网格议事会)",
        description="Monthly statistics: received, 响应率, 按时办结率, 办结率, 满意率, times, top categories, 小急难.",
    )
    report.add_argument("--month", required=True, metavar="YYYY-MM")
    report.add_argument("--format", default="md", choices=["md", "csv"])
    report.add_argument("--config", metavar="PATH", help="config file (default: config.yaml)")
    report.set_defaults(func=cmd_report)

    sub.add_parser(
        "check-wechaty", help="check the WeChat gateway connection", add_help=False,
        description="Connect to the wechaty gateway, ding/dong, list rooms (needs the [wechaty] extra).",
    )

    evaluate = sub.add_parser("eval", help="measure the router on labelled JSONL", description="Evaluate the router.")
    evaluate.add_argument("files", nargs="+", metavar="FILE.jsonl")
    evaluate.set_defaults(func=cmd_eval)
    _add_db_parser(sub)
    from bot.ledger_cli import add_ledger_parser  # the household ledger's import / export

    add_ledger_parser(sub)
    from bot.staff_cli import add_staff_parser  # staff console passwords

    add_staff_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["check-wechaty"]:  # it has its own parser (and its own --help)
        from bot.transports.wechaty_check import main as check_main

        return check_main(argv[1:])
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_USAGE
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return 130
