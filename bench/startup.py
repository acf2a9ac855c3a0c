"""Start-up with a district-sized config (run by hand, not in CI): python bench/startup.py [--scale 1]

Writes bench/volume.py's district config (800 groups, 1,601 staff, 20 grids at --scale 1) with a
SQLite file in a temporary folder, then runs the real ``python -m bot run --transport webchat
--port 0`` several times and times each from the process start to its "楼道通已启动" line (wall clock, and the process's
CPU time, which a loaded machine inflates far less) (the web
chat listening, the outbox and scheduler running), then stops it with SIGTERM. The first start
creates the schema and seeds the config; the ones after it are restarts (nothing to migrate,
nothing changed to seed). Also reports the same process's Python imports alone (``-c "import
bot.app"``), the part of a start no config size changes. Target (issue 15): <= 2 s.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.volume import Sizes, district_config  # noqa: E402

READY = "楼道通已启动"


def cpu_seconds(pid: int) -> float:
    """The process's CPU time so far (user + system, Linux /proc): what other processes on a
    shared machine do not inflate, unlike the wall-clock time."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start_to_ready(config: Path, env: dict[str, str]) -> tuple[float, float]:
    """Wall-clock and CPU seconds from the process start to its ready line."""
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "bot", "run", "--config", str(config), "--port", "0"],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            if READY in line:
                return time.perf_counter() - t0, cpu_seconds(proc.pid)
        raise SystemExit(f"the bot exited ({proc.wait()}) before it was ready")
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def imports_only(env: dict[str, str]) -> tuple[float, float]:
    t0, before = time.perf_counter(), os.times()
    subprocess.run([sys.executable, "-c", "import bot.app, bot.cli"], cwd=ROOT, env=env, check=True)
    after = os.times()
    return time.perf_counter() - t0, after.children_user + after.children_system - before.children_user - before.children_system


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--restarts", type=int, default=5)
    args = parser.parse_args()
    sizes = Sizes(args.scale)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("STAIRWELL_DATABASE_URL", None)
    with tempfile.TemporaryDirectory(prefix="stairwell-startup-") as tmp:
        data = district_config(sizes)
        data["storage"]["database_url"] = f"sqlite:///{Path(tmp) / 'district.db'}"
        data.setdefault("web", {})["port"] = 0
        config = Path(tmp) / "config.yaml"
        config.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
        print(f"config: {len(data['rooms'])} groups, {len(data['people'])} people, "
              f"{config.stat().st_size / 1024:.0f} KiB; load average {os.getloadavg()[0]:.1f}", flush=True)
        first = start_to_ready(config, env)
        restarts = [start_to_ready(config, env) for _ in range(args.restarts)]
        imports = [imports_only(env) for _ in range(3)]
    def show(label: str, runs: list[tuple[float, float]]) -> None:
        wall, cpu = [w for w, _ in runs], [c for _, c in runs]
        print(f"{label:<24} wall {statistics.median(wall):5.2f} s (min {min(wall):.2f})   "
              f"CPU {statistics.median(cpu):5.2f} s (min {min(cpu):.2f})   median of {len(runs)}")

    show("first start (schema+seed)", [first])
    show("restart", restarts)
    show("imports alone", imports)
    print(f"load average after {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
