"""Broadcast benchmark (run by hand, not in CI): python bench/broadcast.py [N_GROUPS]

One notice to N (default 1,000) stairwell groups through the memory transport with the
outbox limits off (`transport_limits.memory`): the admin grid-zhao sends `/通知 全部 内容`
then `/确认` (privately, so each group receives the notice and nothing else), and we time

  queue: the `/确认` message being handled (the handler writes N outbox rows, one commit),
  send:  from then until the transport has received all N notices (app.idle() in a loop),

checking every group got exactly one copy. Baseline in the same run: a raw loop calling
MemoryTransport.send N times with the same messages, so the ratio is the outbox's overhead.
"""
from __future__ import annotations

import asyncio
import collections
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

ADMIN = "grid-zhao"
CONTENT = "本周六上午9点在小区广场开展消防安全演练，请各户派一人参加"
NOTICE_HEAD = "【通知】"


def build_config(n_groups: int):
    """The demo config with exactly ``n_groups`` stairwell rooms and grid-zhao (grid 网格A + admin "*")."""
    from bot.config import AppConfig, load_config

    demo = load_config(ROOT / "config.yaml").model_dump()
    grid = demo["community"]["grids"][0]["name"]
    names = [f"{i // 4 + 1}幢{i % 4 + 1}单元" for i in range(n_groups)]
    demo["community"]["grids"] = [{"name": grid, "stairwells": [{"name": n} for n in names]}]
    demo["rooms"] = [
        {"id": f"b{i:04d}", "topic": f"{n}楼道群", "kind": "stairwell", "grid": grid, "stairwell": n}
        for i, n in enumerate(names)
    ]
    admin = next(p for p in demo["people"] if p["id"] == ADMIN)
    admin["rooms"] = [demo["rooms"][0]["topic"]]
    demo["people"] = [admin]
    config = AppConfig.model_validate(demo)
    limits = config.outbox_for("memory")
    assert not limits.per_minute and not limits.room_interval_seconds and not limits.jitter_seconds
    return config


async def raw_sends(messages) -> float:
    """Seconds for MemoryTransport.send over ``messages`` (no database, no outbox)."""
    from bot.transports.memory import MemoryTransport

    transport = MemoryTransport()
    start = time.perf_counter()
    for m in messages:
        await transport.send(m)
    return time.perf_counter() - start


async def broadcast(config, db_path: Path) -> dict:
    from bot.app import Stairwell
    from bot.clock import Clock
    from bot.transports.memory import create

    n = len(config.rooms)
    transport = create(config)
    app = Stairwell(config, transport, clock=Clock(), database_url=f"sqlite:///{db_path}")
    await app.start()
    try:
        # Warm-up: one single-group notice in its own room (statement caches, router, etc.).
        await transport.say("/通知 本群 明天上午停水", sender=ADMIN, room=config.rooms[0].id, sender_name="赵磊")
        await app.idle()
        warm = len(transport.sent)

        preview = await transport.say(f"/通知 全部 {CONTENT}", sender=ADMIN, sender_name="赵磊")
        assert preview and f"将向{n}个群发送" in preview[0].text, preview[:1]
        await app.idle()  # the preview is delivered before /确认, as in real use

        before = len(transport.sent)
        t0 = time.perf_counter()
        confirm = await transport.say("/确认", sender=ADMIN, sender_name="赵磊")
        t_queued = time.perf_counter()
        assert confirm and f"已排队发往{n}个群" in confirm[0].text, confirm[:1]

        def notices() -> list:
            return [m for m in transport.sent[before:] if m.room_id and m.text.startswith(NOTICE_HEAD + CONTENT)]

        deadline = t_queued + 110
        while len(notices()) < n and time.perf_counter() < deadline:
            await app.idle(timeout=max(1.0, deadline - time.perf_counter()))
        t_sent = time.perf_counter()
        got = notices()
        per_room = collections.Counter(m.room_id for m in got)
        return {
            "groups": n,
            "queue_s": t_queued - t0,
            "send_s": t_sent - t_queued,
            "total_s": t_sent - t0,
            "notices": len(got),
            "per_room": per_room,
            "rooms": [r.id for r in config.rooms],
            "other_sent": len(transport.sent) - before - len(got),
            "warmup_sent": warm,
            "messages": got,
        }
    finally:
        await app.stop()


def run(n_groups: int = 1000, *, out=print) -> dict:
    """Run the benchmark and print the report; returns the numbers (for the smoke test)."""
    t_cfg = time.perf_counter()
    config = build_config(n_groups)
    t_cfg = time.perf_counter() - t_cfg
    with tempfile.TemporaryDirectory(prefix="stairwell-bench-") as tmp:
        res = asyncio.run(broadcast(config, Path(tmp) / "broadcast.db"))
    raw = min(asyncio.run(raw_sends(res["messages"])) for _ in range(5))

    per_room = res["per_room"]
    copies = collections.Counter(per_room.get(r, 0) for r in res["rooms"])  # copies -> groups
    exactly_one = copies.get(1, 0) == n_groups and len(per_room) == n_groups
    res.update(
        raw_s=raw,
        rate=n_groups / res["total_s"],
        send_rate=n_groups / res["send_s"],
        overhead_ratio=res["send_s"] / raw if raw else float("inf"),
        exactly_one=exactly_one,
        copies=dict(copies),
    )
    del res["messages"]
    out(f"groups: {n_groups} stairwell rooms (config built in {t_cfg:.2f} s); memory transport, limits off")
    out(f"notice via /通知 全部 … + /确认 as {ADMIN}:")
    out(f"    queue (handling /确认, {n_groups} outbox rows): {res['queue_s']:8.3f} s")
    out(f"    send  (outbox → transport, all delivered):  {res['send_s']:8.3f} s   {res['send_rate']:8.0f} msgs/s"
        f"   {1000 * res['send_s'] / n_groups:.3f} ms/msg")
    out(f"    total                                       {res['total_s']:8.3f} s   {res['rate']:8.0f} msgs/s")
    out(f"baseline: raw MemoryTransport.send × {n_groups}:      {raw:8.4f} s   {n_groups / raw:8.0f} msgs/s"
        f"   {1e6 * raw / n_groups:.1f} µs/msg")
    out(f"    outbox send time / raw send time: {res['overhead_ratio']:.0f}×"
        f"  (≈ {1000 * (res['send_s'] - raw) / n_groups:.3f} ms of outbox overhead per message)")
    spread = ", ".join(f"{c} cop{'y' if c == 1 else 'ies'}: {g} groups" for c, g in sorted(copies.items()))
    out(f"per group: {spread}; notices delivered {res['notices']}, other messages {res['other_sent']}"
        f" → {'OK, exactly one copy each' if exactly_one else 'FAILED'}")
    return res


def main(argv: list[str]) -> None:
    res = run(int(argv[0]) if argv else 1000)
    if not res["exactly_one"]:
        raise SystemExit(1)


if __name__ == "__main__":
    main(sys.argv[1:])
