"""A district's year of data (run by hand, not in CI): python bench/volume.py [--scale 0.1]

Generates a district — 800 groups, 40,000 residents, 5 M messages, 100 k tickets, 641 k outbox
rows at --scale 1 — with raw executemany inserts (not the ORM) into SQLite in a temporary file,
or into PostgreSQL when STAIRWELL_DATABASE_URL is set (its tables are dropped first!), then
measures on it, with a loop-lag probe running (the longest event-loop stall while each runs):

  start-up        config load (YAML + validation) and a second start's schema check + seeding
  overdue check   the 30-minute job: seconds, messages queued, longest stall
  commands        /回执 on a district-wide notice, /工单 全部, /状态, /统计, /我的工单
  chat            p50 / p99 of ordinary resident messages on the big database, then of petitions,
                  then of petitions while newcomers arrive (each empties the directory cache)
  purge           the nightly retention purge, run twice (the second must find nothing to do)

Targets (issue 15): no stall > 100 ms, one overdue digest per assignee, reports <= 1 s,
chat p99 <= 10 ms, start-up <= 2 s with a district-sized config.
"""
from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import threading
import time
import traceback
from collections import Counter
from contextlib import asynccontextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

NOW = datetime(2026, 11, 25, 2, 0, tzinfo=timezone.utc)  # Wed 10:00 Asia/Shanghai
ROOMS_PER_GRID = 40
CATEGORIES = ("设施报修", "环境卫生", "邻里纠纷", "安全隐患", "其他")
CHATTER = ("收到，谢谢", "好的好的", "早上好呀各位邻居", "今天天气真不错", "哈哈哈哈", "谢谢李敏，辛苦了",
           "楼下新开的面馆味道还可以", "晚上有人一起去广场跳舞吗", "出一台九成新的婴儿车", "大家注意保暖")
PETITIONS = ("楼道里堆了好多纸箱，走路都不方便", "电梯又坏了，老人上下楼太难了", "楼上天天半夜装修，吵得睡不着",
             "我家卫生间顶上漏水，应该是楼上的管子", "楼道灯坏了好几天了，晚上黑漆漆的", "垃圾桶满了没人清，臭得很")


class Sizes:
    def __init__(self, scale: float) -> None:
        self.rooms = max(2, round(800 * scale))
        self.residents = max(10, round(40_000 * scale))
        self.messages = max(100, round(5_000_000 * scale))
        self.tickets = max(10, round(100_000 * scale))
        self.outbox = max(10, round(641_000 * scale))
        self.grids = max(1, -(-self.rooms // ROOMS_PER_GRID))


# ---- the district's config ------------------------------------------------------------------
def room_names(i: int) -> tuple[str, str]:
    stairwell = f"{i // 4 + 1}幢{i % 4 + 1}单元"
    return stairwell, f"{stairwell}楼道群"


def district_config(sizes: Sizes) -> dict:
    base = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    grids = [{"name": f"网格{g + 1}", "stairwells": []} for g in range(sizes.grids)]
    rooms, people = [], []
    for i in range(sizes.rooms):
        stairwell, topic = room_names(i)
        grid = f"网格{i // ROOMS_PER_GRID + 1}"
        grids[i // ROOMS_PER_GRID]["stairwells"].append({"name": stairwell})
        rooms.append({"id": f"r{i:04d}", "topic": topic, "kind": "stairwell", "grid": grid, "stairwell": stairwell})
        people.append({"id": f"off-{i:04d}", "name": f"信息员{i}", "rooms": [topic],
                       "roles": [{"role": "officer", "scope": stairwell}]})
        people.append({"id": f"lead-{i:04d}", "name": f"楼道长{i}", "rooms": [topic],
                       "roles": [{"role": "leader", "scope": stairwell}]})
    for g in range(sizes.grids):
        people.append({"id": f"grid-{g + 1}", "name": f"网格员{g + 1}",
                       "rooms": [r["topic"] for r in rooms[g * ROOMS_PER_GRID:(g + 1) * ROOMS_PER_GRID]],
                       "roles": [{"role": "grid", "scope": f"网格{g + 1}"}]})
    people.append({"id": "admin", "name": "街道管理员", "rooms": [rooms[0]["topic"]],
                   "roles": [{"role": "admin", "scope": "*"}]})
    base["community"] = {"name": "幸福街道", "grids": grids}
    base["rooms"], base["people"] = rooms, people
    base["storage"]["database_url"] = "sqlite:///unused.db"
    base.setdefault("privacy", {})["retention_days"] = 180  # half the generated year is purged
    # The memory transport sends as WeChat does (the send limits of config.yaml), not unthrottled:
    # a stall measured here is the bot's own work, not a burst no real account could send.
    base["transport_limits"] = {"memory": base["outbox"]}
    return base


# ---- raw generation ----------------------------------------------------------------------------
class Writer:
    """Bulk rows through the driver: executemany on SQLite, COPY on PostgreSQL."""

    def __init__(self, engine) -> None:
        self.engine = engine
        self.sqlite = engine.dialect.name == "sqlite"

    def ts(self, when: datetime | None):
        if when is None:
            return None
        return f"{when.replace(tzinfo=None):%Y-%m-%d %H:%M:%S.%f}" if self.sqlite else when

    def insert(self, table: str, columns: tuple[str, ...], rows: list[tuple], chunk: int = 50_000) -> None:
        quoted = ", ".join(f'"{c}"' for c in columns)
        if not self.sqlite:  # COPY: executemany sends a district's rows one round trip at a time
            with self.engine.begin() as conn:
                cursor = conn.connection.dbapi_connection.cursor()
                with cursor.copy(f"COPY {table} ({quoted}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            return
        mark = "?"
        sql = f'INSERT INTO {table} ({quoted}) VALUES ({", ".join(mark for _ in columns)})'
        with self.engine.begin() as conn:
            for start in range(0, len(rows), chunk):
                conn.exec_driver_sql(sql, rows[start:start + chunk])


def insert_messages(engine, sizes: Sizes) -> None:
    """The year's chatter, generated by the database itself (a row per number, resident n % R
    writing in their home group at a random time of the year): Python-built rows took ~10 min."""
    texts = "{" + ",".join(CHATTER) + "}"
    year = 365 * 24 * 3600
    if engine.dialect.name == "sqlite":
        sql = f"""
            WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {sizes.messages - 1})
            INSERT INTO messages (transport, external_id, room_id, sender_id, sender_name, text, from_bot,
                                  route, category, at)
            SELECT 'wechaty', 'm' || i, printf('r%04d', (i % {sizes.residents}) % {sizes.rooms}),
                   printf('res-%06d', i % {sizes.residents}), '居民',
                   json_extract(:texts, '$[' || (abs(random()) % {len(CHATTER)}) || ']'), 0, 'chatter', NULL,
                   strftime('%Y-%m-%d %H:%M:%S', :now, '-' || (abs(random()) % {year}) || ' seconds') || '.000000'
            FROM n"""
        params = {"texts": json.dumps(CHATTER, ensure_ascii=False), "now": f"{NOW.replace(tzinfo=None):%Y-%m-%d %H:%M:%S}"}
    else:
        sql = f"""
            INSERT INTO messages (transport, external_id, room_id, sender_id, sender_name, text, from_bot,
                                  route, category, at)
            SELECT 'wechaty', 'm' || i, 'r' || lpad(((i % {sizes.residents}) % {sizes.rooms})::text, 4, '0'),
                   'res-' || lpad((i % {sizes.residents})::text, 6, '0'), '居民',
                   (CAST(:texts AS text[]))[1 + floor(random() * {len(CHATTER)})::int], false, 'chatter', NULL,
                   CAST(:now AS timestamptz) - floor(random() * {year}) * interval '1 second'
            FROM generate_series(0, {sizes.messages - 1}) AS i"""
        params = {"texts": texts, "now": NOW}
    from sqlalchemy import text

    with engine.begin() as conn:
        conn.execute(text(sql), params)


def layout(sizes: Sizes) -> tuple[list[str], list[str], dict[str, str]]:
    """Rooms, residents and each resident's home group: fixed by the sizes alone."""
    rooms = [f"r{i:04d}" for i in range(sizes.rooms)]
    residents = [f"res-{n:06d}" for n in range(sizes.residents)]
    return rooms, residents, {p: rooms[n % len(rooms)] for n, p in enumerate(residents)}


def generate(engine, sizes: Sizes, rnd: random.Random) -> dict:
    w = Writer(engine)
    ts = w.ts
    rooms, residents, home = layout(sizes)
    w.insert("people", ("id", "name", "deleted"), [(p, f"居民{p[-6:]}", False) for p in residents])
    w.insert("room_members", ("room_id", "person_id"), [(home[p], p) for p in residents])

    year = 365 * 24 * 3600
    def past(rnd_s: float) -> datetime:
        return NOW - timedelta(seconds=rnd_s)

    t0 = time.perf_counter()
    insert_messages(engine, sizes)
    print(f"  messages: {sizes.messages:,} in {time.perf_counter() - t0:.1f} s", flush=True)
    # A running district's groups are bound to the transport already (the first message of each
    # since the bot was installed did that): bind them here, as they would be.
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE rooms SET transport = 'memory', external_id = id")

    tickets, reporters, events = [], [], []
    for tid in range(1, sizes.tickets + 1):
        person = residents[rnd.randrange(len(residents))]
        room = home[person]
        i = int(room[1:])
        stairwell, _ = room_names(i)
        created = past(rnd.random() * year)
        due = created + timedelta(days=5)
        fate = rnd.random()
        status, assignee, responded, resolved, rating = "已关闭", None, created + timedelta(hours=5), None, None
        if fate < 0.10:  # still open: most of these are overdue, as in the district
            status = rnd.choice(("已受理", "已分派", "处理中"))
            assignee = None if status == "已受理" else f"off-{i:04d}"
            responded = None if status == "已受理" else responded
        else:
            resolved = created + timedelta(days=rnd.random() * 8)
            status, rating = rnd.choice((("已回访", "满意"), ("已回访", "基本满意"), ("已关闭", "未评价"), ("已办结", None)))
            assignee = f"off-{i:04d}"
        tickets.append((tid, room, stairwell, f"网格{i // ROOMS_PER_GRID + 1}", person, rnd.choice(CATEGORIES),
                        False, "楼道灯坏了好几天了", status, assignee, 1, rating, ts(created), ts(due),
                        ts(responded), ts(resolved), None))
        reporters.append((tid, person))
        events.append((tid, ts(created), person, "受理", ""))
        if assignee:
            events.append((tid, ts(created + timedelta(hours=5)), assignee, "分派", "已联系物业"))
        if resolved:
            events.append((tid, ts(resolved), assignee, "办结", "已修好"))
    w.insert("tickets", ("id", "room_id", "stairwell", "grid", "reporter_id", "category", "urgent", "text",
                         "status", "assignee_id", "reporters", "rating", "created_at", "due_at",
                         "responded_at", "resolved_at", "closed_at"), tickets)
    w.insert("ticket_reporters", ("ticket_id", "person_id"), reporters)
    w.insert("ticket_events", ("ticket_id", "at", "actor_id", "action", "note"), events)
    if not w.sqlite:  # explicit ids: move the sequence past them
        with engine.begin() as conn:
            conn.exec_driver_sql("SELECT setval(pg_get_serial_sequence('tickets', 'id'), (SELECT max(id) FROM tickets))")

    # A district-wide notice yesterday, half the residents confirmed; a year of smaller notices.
    notices = [(1, "admin", "明天上午停水，请提前储水", "command", False, True, ts(NOW - timedelta(hours=20)), False)]
    targets = [(1, r) for r in rooms]
    receipts = [(1, p, home[p], ts(NOW - timedelta(hours=19))) for p in residents[::2]]
    for nid in range(2, 2 + max(1, sizes.rooms // 2)):
        notices.append((nid, "admin", "楼道杂物请清理", "command", False, True, ts(past(rnd.random() * year)), False))
        targets.extend((nid, rooms[(nid * 7 + k) % len(rooms)]) for k in range(4))
    w.insert("notices", ("id", "author_id", "text", "source", "emergency", "tracked", "created_at", "chased"), notices)
    w.insert("notice_targets", ("notice_id", "room_id"), list(dict.fromkeys(targets)))
    w.insert("receipts", ("notice_id", "person_id", "room_id", "at"), receipts)
    if not w.sqlite:
        with engine.begin() as conn:
            conn.exec_driver_sql("SELECT setval(pg_get_serial_sequence('notices', 'id'), (SELECT max(id) FROM notices))")

    outbox = []
    for n in range(sizes.outbox):
        at = past(rnd.random() * year)
        outbox.append((f"gen:{n}", "wechaty", rooms[n % len(rooms)], None, "", "通知内容", 0,
                       "sent" if n % 50 else "failed", 1, None, None, ts(at), ts(at), ts(at)))
    w.insert("outbox", ("key", "transport", "room_id", "to", "mentions", "text", "priority", "status",
                        "attempts", "error", "external_id", "created_at", "due_at", "sent_at"), outbox)
    with engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE")
    if w.sqlite:  # a live database's WAL is checkpointed as it goes; don't time one huge checkpoint
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    return {"residents": residents, "home": home}


# ---- measuring ---------------------------------------------------------------------------------
class LoopProbe:
    """The longest gap between a 5 ms sleep's due time and its wake-up: the worst stall.

    A watchdog thread samples the loop thread's stack while a stall is under way (past
    ``sample_after`` seconds), so each long stall is reported with where the loop was held.
    """

    sample_after = 0.04

    def __init__(self) -> None:
        self.worst = 0.0
        self.stalls: list[tuple[float, str]] = []  # (seconds, where the loop was held)
        self._task: asyncio.Task | None = None
        self._beat = 0.0
        self._sampled: list[str] = []
        self._stop = threading.Event()

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            due = loop.time() + 0.005
            self._beat = time.monotonic()
            await asyncio.sleep(0.005)
            late = loop.time() - due
            self.worst = max(self.worst, late)
            if self._sampled:
                samples, self._sampled = self._sampled, []
                top = Counter(samples).most_common(2)
                self.stalls.append((late, " | ".join(f"{n}× {held}" for held, n in top)))

    def _watch(self, thread_id: int) -> None:
        while not self._stop.wait(0.01):  # one sample per 10 ms while the stall lasts
            if time.monotonic() - self._beat > self.sample_after:
                frame = sys._current_frames().get(thread_id)
                if frame is not None:
                    self._sampled.append(where(frame))

    @asynccontextmanager
    async def watching(self):
        self.worst, self.stalls = 0.0, []
        self._stop.clear()
        self._beat = time.monotonic()
        watchdog = threading.Thread(target=self._watch, args=(threading.get_ident(),), daemon=True)
        watchdog.start()
        self._task = asyncio.create_task(self._run())
        await asyncio.sleep(0.01)
        try:
            yield self
        finally:
            self._task.cancel()
            self._stop.set()
            watchdog.join()


def where(frame) -> str:
    """The innermost frames of the project's own code (and the library call it was in)."""
    stack = traceback.extract_stack(frame)
    ours = [f for f in stack if str(ROOT) in f.filename and "/bench/" not in f.filename
            and "/.venv/" not in f.filename]
    inner = stack[-1]
    chain = " < ".join(f"{Path(f.filename).stem}.{f.name}:{f.lineno}" for f in reversed(ours[-4:]))
    return f"{chain} [in {Path(inner.filename).name}:{inner.name}]"


STALLS: list[tuple[float, str, str]] = []  # (seconds, what ran, where the loop was held)


async def timed(probe: LoopProbe, work, label: str = "") -> tuple[float, float, object]:
    async with probe.watching():
        start = time.perf_counter()
        result = await work()
        seconds = time.perf_counter() - start
        await asyncio.sleep(0.01)
    STALLS.extend((late, label, held) for late, held in probe.stalls)
    return seconds, probe.worst, result


def _tallied(tally: Counter):
    """A cursor listener counting the event loop's thread's statements by their first words."""
    loop_thread = threading.get_ident()

    def count(_conn, _cursor, sql: str, *_args) -> None:
        if threading.get_ident() == loop_thread and not sql.lstrip().upper().startswith(("BEGIN", "COMMIT")):
            tally[" ".join(sql.split())[:90]] += 1
    return count


def drop_all(url: str) -> None:
    from sqlalchemy import create_engine, text
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()


async def measure(url: str, config_path: Path, sizes: Sizes, rnd: random.Random, out, purge: bool = True,
                  keep: str | None = None, reuse: str | None = None, profile: str | None = None) -> dict:
    from sqlalchemy import event
    from sqlmodel import Session, func, select

    from bot.app import Stairwell
    from bot.clock import FrozenClock
    from bot.config import load_config
    from bot.transports.memory import create
    from common.heap import StartPause
    from schedules import jobs
    from storage.models import OutboxItem

    results: dict[str, float] = {}
    t0 = time.perf_counter()
    config = load_config(config_path)
    results["config load s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    first = Stairwell(config, create(config), clock=FrozenClock(NOW), database_url=url, run_scheduler=False)
    results["first start (schema+seed) s"] = time.perf_counter() - t0
    first.engine.dispose()

    db_file = url.removeprefix("sqlite:///") if url.startswith("sqlite:///") else None
    if reuse and db_file:  # a district generated before with --keep: copied, so every run starts alike
        _, residents, home = layout(sizes)
        data = {"residents": residents, "home": home}
        shutil.copyfile(reuse, db_file)
        out(f"copied the district from {reuse}")
    elif reuse == "database":  # PostgreSQL: the district an earlier run left there, with what it added
        _, residents, home = layout(sizes)
        data = {"residents": residents, "home": home}
        out("measuring on the district already in the database")
    else:
        print("generating …", flush=True)
        t0 = time.perf_counter()
        data = generate(first.engine, sizes, rnd)
        out(f"generated in {time.perf_counter() - t0:.0f} s")
        if keep and db_file:
            shutil.copyfile(db_file, keep)

    run = f"{os.getpid()}-" if reuse == "database" else ""  # message ids seen before would be skipped
    start = StartPause()  # as `python -m bot run` starts: no garbage collection until started
    t0 = time.perf_counter()
    config = load_config(config_path)
    results["config load s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    transport = create(config)
    sending = transport.send

    async def send(message):  # a real transport's send waits for the network: the loop runs meanwhile
        await asyncio.sleep(0)
        return await sending(message)

    transport.send = send  # type: ignore[method-assign]
    app = Stairwell(config, transport, clock=FrozenClock(NOW), database_url=url, run_scheduler=False)
    results["restart (schema+seed) s"] = time.perf_counter() - t0
    results["start-up total s"] = results["config load s"] + results["restart (schema+seed) s"]
    await app.start()
    start.settle()
    probe = LoopProbe()
    try:
        residents, home = data["residents"], data["home"]
        names = {p.id: p.name for p in config.people}

        def name_of(who: str) -> str:  # as stored: a message under another name would rename them
            return names.get(who) or f"居民{who[-6:]}"

        # warm up: router tables, jieba, statement caches
        for n in range(20):
            await transport.say(CHATTER[n % len(CHATTER)], sender=residents[n], room=home[residents[n]],
                                sender_name=name_of(residents[n]),
                                message_id=f"{run}warm-{n}")

        # The baseline for every stall below: the probe alone for 2 s, nothing else running. On a
        # machine shared with other busy processes this is not zero (the process is descheduled).
        seconds, stall, _ = await timed(probe, lambda: asyncio.sleep(2), "idle")
        results["idle stall s (baseline)"] = stall
        with Session(app.engine) as session:
            before = session.exec(select(func.count()).select_from(OutboxItem)).one()
        seconds, stall, _ = await timed(probe, jobs.overdue_check, "overdue")
        with Session(app.engine) as session:
            queued = session.exec(select(func.count()).select_from(OutboxItem)).one() - before
        results["overdue check s"], results["overdue stall s"], results["overdue queued"] = seconds, stall, queued
        seconds, stall, _ = await timed(probe, jobs.overdue_check, "overdue again")
        results["overdue again s"], results["overdue again stall s"] = seconds, stall

        commands = [("/回执 1", "admin"), ("/工单 全部", "admin"), ("/工单 全部", "grid-1"), ("/状态", "admin"),
                    ("/统计", "admin"), ("/统计 本月", "grid-1"), ("/我的工单", residents[3])]
        for n, (text, who) in enumerate(commands):
            room = home[who] if who.startswith("res-") else None
            seconds, stall, replies = await timed(
                probe, lambda text=text, who=who, room=room, n=n: transport.say(
                    text, sender=who, room=room, sender_name=name_of(who), message_id=f"{run}cmd-{n}"), text)
            label = f"{text} ({who.split('-')[0]})"
            results[f"{label} s"], results[f"{label} stall s"] = seconds, stall

        # Residents chatting at random (most not seen since the start: the directory cache is
        # cold for them), timed in wall-clock and in this thread's CPU time (which other
        # processes on a shared machine do not inflate).
        # Then residents reporting problems: a new ticket or joining an open one of their group
        # (compared with every open ticket there), the acknowledgement and the staff's notes queued.
        # Last, petitions again while newcomers arrive (a newcomer's first words before every fifth,
        # not timed): each newcomer is a write to the directory, which empties its cache, as its
        # 30-second age limit also does; a running district has both all day.
        every: dict[str, list[float]] = {"all messages": [], "all messages CPU": []}
        for kind, texts, count in (("chat", CHATTER, 1000), ("petition", PETITIONS, 300),
                                   ("petition, newcomers arriving,", PETITIONS, 300)):
            latencies, cpu = [], []
            profiler = cProfile.Profile() if profile and kind == "petition" else None
            tally: Counter[str] = Counter()
            if profiler:  # with the statements the loop's thread ran, by their first words
                for engine in {app.engine, app.message_engine}:  # the messages' own, on PostgreSQL
                    event.listen(engine, "before_cursor_execute", _tallied(tally))
                profiler.enable()
            for n in range(count):
                person = residents[rnd.randrange(len(residents))]
                if kind.startswith("petition, newcomers") and n % 5 == 0:
                    newcomer = f"new-{run}{n}"
                    await transport.say("大家好 我是新搬来的", sender=newcomer, room=home[person],
                                        sender_name=f"新邻居{n}", message_id=f"{run}newcomer-{n}")
                c, t = time.thread_time(), time.perf_counter()
                await transport.say(rnd.choice(texts), sender=person, room=home[person],
                                    sender_name=name_of(person), message_id=f"{run}{kind}-{n}")
                latencies.append((time.perf_counter() - t) * 1000)
                cpu.append((time.thread_time() - c) * 1000)
                await asyncio.sleep(0)
            if profiler and profile:  # the loop's thread only: the outbox's worker threads are not in it
                profiler.disable()
                profiler.dump_stats(profile)
                out(f"petitions profiled into {profile} (python -m pstats {profile}); statements per petition:")
                for head, times in tally.most_common():
                    out(f"  {times / count:5.2f}  {head}")
            if kind in ("chat", "petition"):
                every["all messages"] += latencies
                every["all messages CPU"] += cpu
            for label, values in ((kind, latencies), (f"{kind} CPU", cpu)):
                values.sort()
                results[f"{label} p50 ms"] = statistics.median(values)
                results[f"{label} p99 ms"] = values[int(0.99 * (len(values) - 1))]
                results[f"{label} max ms"] = values[-1]  # a checkpoint in a COMMIT showed here (0.5-0.8 s)
        for label, values in every.items():  # the 1,300 together: 23% of them petitions
            values.sort()
            results[f"{label} p99 ms"] = values[int(0.99 * (len(values) - 1))]

        for which in ("purge 1st", "purge 2nd") if purge else ():
            seconds, stall, changed = await timed(probe, jobs.purge_old_texts, which)
            results[f"{which} s"], results[f"{which} stall s"], results[f"{which} rows"] = seconds, stall, changed
    finally:
        await app.stop()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="1 = the issue's district; 0.1 for a quick run")
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--keep", metavar="FILE", help="keep a copy of the generated SQLite database here, before "
                        "anything is measured on it (to EXPLAIN queries, or for --reuse)")
    parser.add_argument("--reuse", metavar="FILE", help="measure on a copy of a district kept with --keep (same "
                        "--scale) instead of generating one")
    parser.add_argument("--no-purge", action="store_true", help="skip the purge (its first run takes minutes)")
    parser.add_argument("--reuse-database", action="store_true", help="PostgreSQL: measure on the district an "
                        "earlier run left in STAIRWELL_DATABASE_URL (with the tickets it added) instead of a new one")
    parser.add_argument("--profile", metavar="FILE", help="cProfile the petitions (the event loop's thread) into FILE")
    args = parser.parse_args()
    sizes = Sizes(args.scale)
    print(f"district x{args.scale}: {sizes.rooms} groups, {sizes.residents:,} residents, "
          f"{sizes.messages:,} messages, {sizes.tickets:,} tickets, {sizes.outbox:,} outbox rows", flush=True)
    import logging
    logging.disable(logging.INFO)
    with tempfile.TemporaryDirectory(prefix="stairwell-volume-") as tmp:
        config_path = Path(tmp) / "config.yaml"
        config_path.write_text(yaml.safe_dump(district_config(sizes), allow_unicode=True), encoding="utf-8")
        url = os.environ.get("STAIRWELL_DATABASE_URL") or f"sqlite:///{Path(tmp) / 'district.db'}"
        reuse = args.reuse
        if url.startswith("postgresql"):
            if args.reuse_database:
                reuse = "database"
            else:
                drop_all(url)
        elif args.reuse_database:
            parser.error("--reuse-database is for PostgreSQL (STAIRWELL_DATABASE_URL); SQLite has --reuse FILE")
        results = asyncio.run(measure(url, config_path, sizes, random.Random(args.seed), print,
                                      purge=not args.no_purge, keep=args.keep, reuse=reuse, profile=args.profile))
    if STALLS:
        print(f"stalls over {LoopProbe.sample_after * 1000:.0f} ms, longest first (where the loop was held):")
        for late, label, held in sorted(STALLS, reverse=True)[:12]:
            print(f"  {late * 1000:6.0f} ms  {label:<14} {held}")
    width = max(len(k) for k in results)
    for key, value in results.items():
        shown = f"{value:,.0f}" if isinstance(value, int) else f"{value:.3f}"
        print(f"{key:<{width}}  {shown}")


if __name__ == "__main__":
    main()
