"""The command line, run as a real subprocess where exit codes and messages matter."""
from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

from tests.conftest import stop_cleanly

ROOT = Path(__file__).resolve().parent.parent


def run(*args: str, timeout: float = 30, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout, **kw
    )


def test_help_everywhere():
    bare = run()  # no command: the usage, as an error
    assert bare.returncode == 2 and "usage" in bare.stdout.lower() and "Traceback" not in bare.stderr
    for args in (["--help"], ["run", "--help"], ["check-config", "--help"], ["classify", "--help"],
                 ["eval", "--help"], ["schedules", "--help"], ["check-wechaty", "--help"], ["report", "--help"]):
        result = run(*args)
        assert result.returncode == 0 and "usage" in result.stdout.lower(), (args, result.stderr)


def test_check_config_summarises_the_demo():
    result = run("check-config")
    assert result.returncode == 0, result.stderr
    assert "幸福里社区" in result.stdout and "3幢1单元楼道群" in result.stdout


def test_bad_config_names_each_bad_key(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "community:\n  name: x\n  colour: red\nrooms:\n  - {id: a, topic: t, kind: castle}\n"
        "outbox: {per_minute: -1}\n",
        encoding="utf-8",
    )
    result = run("check-config", str(bad))
    assert result.returncode == 2
    assert "community.colour: unknown key" in result.stderr
    assert "rooms[0].kind" in result.stderr
    assert "outbox.per_minute" in result.stderr
    assert "Traceback" not in result.stderr


def test_unreadable_and_invalid_yaml(tmp_path):
    missing = run("check-config", str(tmp_path / "missing.yaml"))
    assert missing.returncode == 2 and "missing.yaml" in missing.stderr and "Traceback" not in missing.stderr
    broken = tmp_path / "broken.yaml"
    broken.write_text("community: [unclosed\n", encoding="utf-8")
    result = run("check-config", str(broken))
    assert result.returncode == 2 and "line" in result.stderr and "Traceback" not in result.stderr


def test_busy_port_is_one_clear_line(tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        env = {"STAIRWELL_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}", "PATH": "/usr/bin:/bin"}
        result = run("run", "--port", str(port), env=env)
    assert result.returncode == 1
    assert f"端口 {port}" in result.stderr and "Traceback" not in result.stderr


def test_unknown_transport(tmp_path):
    env = {"STAIRWELL_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}", "PATH": "/usr/bin:/bin"}
    result = run("run", "--transport", "pigeon", env=env)
    assert result.returncode == 2 and "pigeon" in result.stderr


def test_run_serves_the_web_chat_and_stops_cleanly(tmp_path):
    import json
    import urllib.request

    env = {"STAIRWELL_DATABASE_URL": f"sqlite:///{tmp_path / 'run.db'}", "PATH": "/usr/bin:/bin"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "run", "--port", "0"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        line = proc.stdout.readline()  # "楼道通已启动：http://127.0.0.1:PORT ..."
        assert "http://127.0.0.1:" in line, proc.stderr.read() if proc.poll() is not None else line
        base = line.split("http://", 1)[1].split()[0]
        with urllib.request.urlopen(f"http://{base}/", timeout=5) as resp:
            assert "楼道通" in resp.read().decode()
        body = json.dumps({"sender_id": "res-zhang", "sender_name": "张阿姨", "text": "3单元楼道里堆满了纸箱,消防通道都堵了"})
        req = urllib.request.Request(
            f"http://{base}/api/rooms/s3-1/messages", data=body.encode(), headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(req, timeout=10) as resp:
            replies = json.loads(resp.read())["replies"]
        assert any("编号" in r["text"] for r in replies)
        stop_cleanly(proc)
        assert "Traceback" not in proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()


def test_report_command_for_the_grid_council(tmp_path):
    env = {"STAIRWELL_DATABASE_URL": f"sqlite:///{tmp_path / 'r.db'}", "PATH": "/usr/bin:/bin"}
    md = run("report", "--month", "2026-11", env=env)
    assert md.returncode == 0, md.stderr
    assert "2026" in md.stdout and "响应率" in md.stdout
    csv = run("report", "--month", "2026-11", "--format", "csv", env=env)
    assert csv.returncode == 0 and "," in csv.stdout
    bad = run("report", "--month", "2026-13", env=env)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr


def make_database(db: Path) -> None:
    """What the bot's first start leaves: the tables (read commands never create them)."""
    from storage.db import create_db_engine, init_schema

    engine = create_db_engine(f"sqlite:///{db}")
    init_schema(engine)
    engine.dispose()


def _config_with(tmp_path, extra: str) -> Path:
    path = tmp_path / "c.yaml"
    path.write_text((ROOT / "config.yaml").read_text(encoding="utf-8") + extra, encoding="utf-8")
    return path


def test_start_up_errors_are_one_clear_line_with_exit_2(tmp_path):
    latin = tmp_path / "latin.yaml"
    latin.write_bytes("community:\n  name: 幸福里\n".encode("gbk"))
    bad_cron = tmp_path / "cron.yaml"
    text = (ROOT / "config.yaml").read_text(encoding="utf-8").replace('day: 3rd mon', 'day: 3rd monday-ish')
    bad_cron.write_text(text, encoding="utf-8")
    mysql = _config_with(tmp_path, "")
    env = {"STAIRWELL_DATABASE_URL": "mysql://u@localhost/x", "PATH": "/usr/bin:/bin"}
    memory = {"STAIRWELL_DATABASE_URL": "sqlite://", "PATH": "/usr/bin:/bin"}
    for args, kw, phrase in [
        (["check-config", str(latin)], {}, "not UTF-8"),
        (["check-config", str(mysql)], {"env": memory}, "内存数据库"),
        (["check-config", str(bad_cron)], {}, "invalid cron field"),
        (["check-config", str(mysql)], {"env": env}, "不支持的数据库类型"),
        (["run", "--config", str(mysql), "--port", "0"], {"env": env}, "不支持的数据库类型"),
    ]:
        result = run(*args, **kw)
        assert result.returncode == 2, (args, result.stderr)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and phrase in lines[0] and "Traceback" not in result.stderr, (args, result.stderr)


def test_config_mistakes_that_would_pass_silently_are_refused(tmp_path):
    """A key written twice (YAML keeps the last: a second people: drops the first), a campaign on a
    date that never comes (2月30日: the job would never run), a database only in memory (every
    connection its own empty database, all lost at a restart): refused before anything starts."""
    from bot.config import ConfigError, load_config
    from storage.access import unsupported_url

    text = (ROOT / "config.yaml").read_text(encoding="utf-8")
    twice = tmp_path / "twice.yaml"
    twice.write_text(text + "\ncommunity:\n  name: 第二个社区\n", encoding="utf-8")
    never = tmp_path / "never.yaml"
    never.write_text(text.replace('cron: {month: "3", day: "8",', 'cron: {month: "2", day: "30",'), encoding="utf-8")
    for path, phrase in ((twice, "'community' is written twice"), (never, "would never run")):
        try:
            load_config(path)
        except ConfigError as exc:
            assert any(phrase in p for p in exc.problems), exc.problems
        else:
            raise AssertionError(f"{path.name} was accepted")
    leap = tmp_path / "leap.yaml"  # 2月29日 comes every four years: a valid date
    leap.write_text(text.replace('cron: {month: "3", day: "8",', 'cron: {month: "2", day: "29",'), encoding="utf-8")
    assert load_config(leap).schedules.campaigns
    for url in ("sqlite://", "sqlite:///", "sqlite:///:memory:", "sqlite:///file:x?mode=memory&uri=true"):
        assert "内存数据库" in (unsupported_url(url) or ""), url
    assert unsupported_url("sqlite:///data/stairwell.db") is None


def test_a_corrupt_or_read_only_database_is_one_line_at_start(tmp_path):
    import os

    corrupt = tmp_path / "corrupt.db"
    corrupt.write_bytes(b"this is not a database at all" * 100)
    env = {"STAIRWELL_DATABASE_URL": f"sqlite:///{corrupt}", "PATH": "/usr/bin:/bin"}
    for args in (["run", "--port", "0"], ["schedules"], ["report", "--month", "2026-11"]):
        result = run(*args, env=env)
        assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1, (args, result.stderr)
        assert "数据库" in result.stderr and "Traceback" not in result.stderr

    folder = tmp_path / "ro"
    folder.mkdir()
    db = folder / "ro.db"
    env = {"STAIRWELL_DATABASE_URL": f"sqlite:///{db}", "PATH": "/usr/bin:/bin"}
    make_database(db)
    # read-only even for root (the tests run as root, who ignores chmod): the immutable attribute
    lock = ["chattr", "+i"] if os.geteuid() == 0 else ["chmod", "a-w"]
    unlock = ["chattr", "-i"] if os.geteuid() == 0 else ["chmod", "u+w"]
    subprocess.run([*lock, str(db), str(folder)], check=True)
    try:
        result = run("run", "--port", "0", env=env)
        assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert "数据库" in result.stderr and "Traceback" not in result.stderr
    finally:
        subprocess.run([*unlock, str(db), str(folder)], check=True)


def test_schedules_listing_writes_nothing_and_works_while_the_bot_holds_the_database(tmp_path):
    import sqlite3

    db = tmp_path / "s.db"
    env = {"STAIRWELL_DATABASE_URL": f"sqlite:///{db}", "PATH": "/usr/bin:/bin"}
    fresh = run("schedules", env=env)
    assert fresh.returncode == 0 and "个定时任务" in fresh.stdout
    assert not db.exists()  # a listing creates no database
    assert run("report", "--month", "2026-11", env=env).returncode == 0
    assert not db.exists()  # nor does a report
    make_database(db)
    with sqlite3.connect(db) as conn:
        conn.execute("INSERT INTO timed_notices (author_id, author_name, title, text, room_ids, due_at, status, created_at)"
                     " VALUES ('officer-li', '李敏', '信息员', '周六楼道大扫除 13812345678', 's3-1',"
                     " '2030-01-01 01:00:00', 'pending', '2026-11-25 02:00:00')")
    holder = sqlite3.connect(db, timeout=5, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")  # a running bot in the middle of a write
        holder.execute("UPDATE schema_version SET version = version")
        listing = run("schedules", env=env, timeout=30)
        report = run("report", "--month", "2026-11", env=env, timeout=30)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert listing.returncode == 0, listing.stderr
    assert report.returncode == 0 and "响应率" in report.stdout, report.stderr
    assert "周六楼道大扫除" in listing.stdout and "13812345678" not in listing.stdout
    with sqlite3.connect(db) as conn:  # no job store created, nothing reconciled into one
        assert not conn.execute("SELECT name FROM sqlite_master WHERE name='apscheduler_jobs'").fetchall()
