"""The command line, run as a real subprocess where exit codes and messages matter."""
from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(*args: str, timeout: float = 30, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout, **kw
    )


def test_help_everywhere():
    for args in ([], ["--help"], ["run", "--help"], ["check-config", "--help"], ["classify", "--help"],
                 ["eval", "--help"], ["schedules", "--help"], ["check-wechaty", "--help"]):
        result = run(*args)
        assert "usage" in (result.stdout + result.stderr).lower(), args


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
    assert run("check-config", str(tmp_path / "missing.yaml")).returncode == 2
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
    import signal
    import time
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
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0 and time.monotonic() - started < 10
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
