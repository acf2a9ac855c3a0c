"""The hand-run benchmarks still run: both at a tiny size, numbers positive, one notice per group."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "bench"


def _load(name: str):
    """bench/ is a folder of scripts, not a package: load the file as module bench_<name>."""
    module_name = f"bench_{name}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, BENCH / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # dataclasses look their module up while the file runs
    spec.loader.exec_module(module)
    return module


def test_pipeline_bench_smoke():
    pipeline = _load("pipeline")
    lines: list[str] = []
    res = pipeline.run(60, memory=False, out=lines.append, url="")  # SQLite, whatever the environment says
    assert res["messages"] == 60 and res["database"] == "sqlite"
    for key in ("bot_rate", "handle_rate", "replay_rate", "ratio", "p50_ms", "p99_ms", "cpu_p99_ms"):
        assert res[key] > 0, key
    # The copy replays the recorded statements as the bot ran them; a statement that failed in the
    # bot too (a busy write it retried) may fail again, nothing more.
    assert res["replayed"] > 60 and res["replay_failed"] <= res["replayed"] // 50
    assert res["p99_ms"] >= res["p50_ms"]
    assert sum(res["routes"].values()) == 60
    assert res["sent"] > 0  # petitions and legal questions got answers through the outbox
    kinds = res["by_kind"]
    assert set(kinds) == {"chatter", "petition", "legal", "notice"}
    assert kinds["chatter"]["statements_p50"] <= kinds["petition"]["statements_p50"]
    assert all(d["replay_p50_ms"] > 0 for d in kinds.values())
    assert any("replay / bot" in line for line in lines)


def test_pipeline_mix_is_mostly_chatter_with_unique_ids():
    pipeline = _load("pipeline")
    messages = pipeline.build_messages(1000)
    assert len({m.message_id for m in messages}) == 1000
    chatter = sum(m.kind == "chatter" for m in messages) / len(messages)
    assert 0.6 < chatter < 0.8
    assert {m.kind for m in messages} == {"chatter", "petition", "legal", "notice"}
    assert {m.room for m in messages} == {pipeline.S1, pipeline.S2, pipeline.LEGAL}


def test_broadcast_bench_smoke():
    broadcast = _load("broadcast")
    lines: list[str] = []
    res = broadcast.run(25, out=lines.append)
    assert res["groups"] == 25 and res["notices"] == 25
    assert res["exactly_one"] and res["copies"] == {1: 25}
    assert sorted(res["per_room"]) == sorted(res["rooms"])
    for key in ("queue_s", "send_s", "total_s", "raw_s", "rate", "send_rate", "overhead_ratio"):
        assert res[key] > 0, key
    assert any("exactly one copy each" in line for line in lines)
