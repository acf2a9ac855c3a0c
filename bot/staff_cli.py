"""``python -m bot staff set-password PERSON``: a staff console password (argon2id).

The password is read twice: with getpass at a terminal, else the first two lines of stdin (for
scripts). Exit codes: 0 set; 1 refused (unknown person, a resident, the two differ, too short);
2 the config or database cannot be used.
"""
from __future__ import annotations

import argparse
import getpass
import sys
from typing import TextIO

EXIT_REFUSED = 1


def _read_twice(stdin: TextIO) -> tuple[str, str]:
    if stdin.isatty():
        return getpass.getpass("新密码 / new password: "), getpass.getpass("再输入一次 / again: ")
    first, second = stdin.readline(), stdin.readline()
    return first.rstrip("\r\n"), second.rstrip("\r\n")


def set_password(person_id: str, config, database_url: str, stdin: TextIO | None = None) -> int:
    from sqlmodel import Session

    from bot.clock import Clock
    from bot.console.passwords import hash_password, weak
    from bot.ledger_cli import _caller
    from storage import console as logins
    from storage.db import create_db_engine

    engine = create_db_engine(database_url)
    try:
        with Session(engine) as session:
            caller = _caller(session, config, person_id)
        if caller is None:
            print(f"没有这个人 / unknown person: {person_id}", file=sys.stderr)
            return EXIT_REFUSED
        if not caller.is_staff:
            print(f"{person_id} 不是工作人员，居民没有后台账号 / not staff: residents have no console login", file=sys.stderr)
            return EXIT_REFUSED
        password, again = _read_twice(stdin or sys.stdin)
        if password != again:
            print("两次输入的密码不一致 / the two passwords differ", file=sys.stderr)
            return EXIT_REFUSED
        problem = weak(password)
        if problem:
            print(problem, file=sys.stderr)
            return EXIT_REFUSED
        with Session(engine) as session:
            logins.set_password_hash(session, person_id, hash_password(password), Clock().now())
            session.commit()
    finally:
        engine.dispose()
    print(f"已设置 {caller.name}（{person_id}）的后台密码 / password set")
    return 0


def cmd_staff(args: argparse.Namespace) -> int:
    from bot.cli import _config_or_exit, _open_database_or_exit

    config = _config_or_exit(args.config)
    url = config.storage.resolved_url()
    _open_database_or_exit(url)
    return set_password(args.person, config, url)


def add_staff_parser(sub) -> None:
    parser = sub.add_parser("staff", help="staff console (员工后台) accounts: set-password",
                            description="Staff console accounts.")
    actions = parser.add_subparsers(dest="staff_command", metavar="ACTION", required=True)
    setpw = actions.add_parser("set-password", help="set a staff member's console password (asked twice)",
                               description="Set a console password (argon2id); read twice from the terminal, "
                                           "or the first two lines of stdin.")
    setpw.add_argument("person", metavar="PERSON", help="a people id, e.g. grid-zhao")
    setpw.add_argument("--config", metavar="PATH", help="config file (default: config.yaml)")
    parser.set_defaults(func=cmd_staff)
