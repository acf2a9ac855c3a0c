"""The loop's writes behind an outbox thread's, with and without writer turns (run by hand):
python bench/writer_turns.py [--rounds 3] [--writes 400]

One process, one SQLite file, the bot's engine (storage.db.create_db_engine): a thread commits
small write transactions back to back with a short pause between them, as the outbox does while
it sends a backlog; the main thread meanwhile runs short write transactions of its own, as the
dispatcher does for each message, and times how long each waited to begin (BEGIN IMMEDIATE,
after taking its turn when turns are on). The two modes alternate in rounds in the same run
(storage.db.WRITER_TURNS), so the machine's own swings hit both alike; the figure that matters
is the ratio of the waits' tails.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402
from sqlalchemy.exc import OperationalError  # noqa: E402

import storage.db as db  # noqa: E402


def background_writer(engine, stop: threading.Event, pause: float) -> None:
    writer = db.writer(engine)
    n = 0
    while not stop.is_set():
        with writer.connect() as conn:
            conn.execute(text("UPDATE counter SET n = n + 1 WHERE id = 1"))
            conn.execute(text("INSERT INTO log (who, at) VALUES ('outbox', :n)"), {"n": n})
            conn.commit()
        n += 1
        time.sleep(pause)


def timed_writes(engine, count: int, busy: list[int]) -> list[float]:
    """Each write's wait to begin, in ms; a begin that met the lock past the writer step (the
    dispatcher would retry it: storage.db.retry_busy) is tried again at once and counted in busy."""
    writer = db.writer(engine)
    waits = []
    for n in range(count):
        started = time.perf_counter()
        while True:
            try:
                with writer.connect() as conn:
                    conn.execute(text("SELECT 1"))  # begins: the turn, then BEGIN IMMEDIATE
                    waits.append((time.perf_counter() - started) * 1000)
                    conn.execute(text("INSERT INTO log (who, at) VALUES ('loop', :n)"), {"n": n})
                    conn.commit()
                break
            except OperationalError as exc:
                if not db.is_busy(exc):
                    raise
                busy[0] += 1
        time.sleep(0.0005)
    return waits


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--writes", type=int, default=400)
    parser.add_argument("--pause-ms", type=float, default=0.2, help="the background writer's pause between commits")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="stairwell-turns-") as tmp:
        engine = db.create_db_engine(f"sqlite:///{Path(tmp) / 'turns.db'}")
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER)"))
            conn.execute(text("INSERT INTO counter VALUES (1, 0)"))
            conn.execute(text("CREATE TABLE log (id INTEGER PRIMARY KEY, who TEXT, at INTEGER)"))
        results: dict[bool, list[float]] = {True: [], False: []}
        busy: dict[bool, list[int]] = {True: [0], False: [0]}
        for _ in range(args.rounds):
            for turns in (False, True):
                db.WRITER_TURNS = turns
                stop = threading.Event()
                thread = threading.Thread(target=background_writer, args=(engine, stop, args.pause_ms / 1000))
                thread.start()
                try:
                    results[turns] += timed_writes(engine, args.writes, busy[turns])
                finally:
                    stop.set()
                    thread.join()
        db.WRITER_TURNS = True
        engine.dispose()
    print(f"{args.rounds} rounds x {args.writes} writes per mode, a background writer committing every "
          f"{args.pause_ms} ms")
    summary = {}
    for turns, waits in results.items():
        waits.sort()
        p50, p99 = statistics.median(waits), waits[int(0.99 * (len(waits) - 1))]
        over1 = sum(w > 1.0 for w in waits) / len(waits)
        summary[turns] = (p50, p99, waits[-1], over1)
        print(f"  turns {'on ' if turns else 'off'}: wait to begin p50 {p50:.3f} ms  p99 {p99:.3f} ms  "
              f"max {waits[-1]:.2f} ms  over 1 ms {over1:.1%}  busy past the step {busy[turns][0]}")
    print(f"  p99 on / off: {summary[True][1] / summary[False][1]:.2f}")


if __name__ == "__main__":
    main()
