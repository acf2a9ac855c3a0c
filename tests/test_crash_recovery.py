"""A broadcast to 200 groups survives SIGKILL midway: after a restart every group has exactly one copy."""
from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
GROUPS = 200
TEXT = "今晚20点起小区停电检修，请提前做好准备"


def write_config(tmp_path: Path) -> Path:
    data = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    grid = data["community"]["grids"][0]
    for i in range(GROUPS):
        grid["stairwells"].append({"name": f"{10 + i // 4}幢{i % 4 + 1}单元"})
        data["rooms"].append(
            {"id": f"b{i:03d}", "topic": f"{10 + i // 4}幢{i % 4 + 1}单元楼道群", "kind": "stairwell",
             "grid": "网格A", "stairwell": f"{10 + i // 4}幢{i % 4 + 1}单元"}
        )
    # slow enough to be killed midway: 20 messages a second
    data["transport_limits"] = {"webchat": {"room_interval_seconds": 0, "per_minute": 1200, "jitter_seconds": 0}}
    data["storage"] = {"database_url": f"sqlite:///{tmp_path / 'crash.db'}"}
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def start(config: Path) -> tuple[subprocess.Popen, str]:
    env = {k: v for k, v in os.environ.items() if k != "STAIRWELL_DATABASE_URL"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "run", "--config", str(config), "--port", "0"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    line = proc.stdout.readline()
    assert "http://" in line, line
    return proc, "http://" + line.split("http://", 1)[1].split()[0]


def post(base: str, text: str) -> dict:
    body = json.dumps({"sender_id": "grid-zhao", "sender_name": "赵磊", "text": text}).encode()
    req = urllib.request.Request(f"{base}/api/rooms/s3-1/messages", data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.loads(resp.read())


def counts(db: Path) -> tuple[int, int]:
    with sqlite3.connect(db, timeout=5) as conn:
        sent = conn.execute("SELECT count(*) FROM outbox WHERE key LIKE 'notice:%' AND status='sent'").fetchone()[0]
        left = conn.execute("SELECT count(*) FROM outbox WHERE key LIKE 'notice:%' AND status IN ('queued','sending')").fetchone()[0]
    return sent, left


def test_broadcast_resumes_after_sigkill_without_duplicates(tmp_path):
    config = write_config(tmp_path)
    db = tmp_path / "crash.db"
    proc, base = start(config)
    try:
        post(base, f"/通知 全部 {TEXT}")
        assert "/确认" not in json.dumps(post(base, "/确认"), ensure_ascii=False)
        deadline = time.monotonic() + 30
        while counts(db)[0] < 40 and time.monotonic() < deadline:
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    sent_before, left = counts(db)
    assert 40 <= sent_before < GROUPS and left > 0, (sent_before, left)  # really killed midway

    proc, base = start(config)
    try:
        deadline = time.monotonic() + 60
        while counts(db)[1] and time.monotonic() < deadline:
            time.sleep(0.1)
        assert counts(db)[1] == 0
        with sqlite3.connect(db) as conn:
            per_room = dict(
                conn.execute(
                    "SELECT room_id, count(*) FROM messages WHERE from_bot AND text LIKE ? GROUP BY room_id",  # the notices only
                    (f"【通知】{TEXT}%",),
                ).fetchall()
            )
            rooms = [r for (r,) in conn.execute("SELECT id FROM rooms WHERE kind != 'unbound'")]
        assert len(rooms) == GROUPS + 3
        assert {room: per_room.get(room, 0) for room in rooms} == {room: 1 for room in rooms}
        # the page's history agrees for a room sent before and one sent after the crash
        for room in ("b000", "b199"):
            with urllib.request.urlopen(f"{base}/api/rooms/{room}/messages", timeout=10) as resp:
                history = json.loads(resp.read())
            assert [m["text"].startswith("【通知】") for m in history] == [True]
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)
