"""Whole-pipeline benchmark (run by hand, not in CI): python bench/pipeline.py [N_MESSAGES]

Pushes a realistic message mix through the whole bot — memory transport → guards → log →
route → handler → outbox — on SQLite in a temporary file, or on PostgreSQL when
STAIRWELL_DATABASE_URL is set (that database is emptied first, and a second one named
<database>_replay is created next to it), and reports, in the same run:

  (a) per message kind (chatter, petition, legal question, notice): the bot's time per message
      next to a RAW-DRIVER REPLAY of the very statements that message ran (recorded from
      SQLAlchemy's cursor events, with their parameters, commits and rollbacks, per connection),
      replayed with sqlite3 / psycopg on a copy of the database taken just before the run.
      The ratio replay / bot says how much of a message's cost is the database's own work
      (1.0 = nothing but the statements; target for chatter >= 0.5).
  (b) p50 / p99 / max handling latency per message (time inside `MemoryTransport.say`), in
      wall-clock and thread CPU time. Target: p99 <= 10 ms.
  (c) memory: ru_maxrss growth during the timed run, and the tracemalloc peak of a second,
      identical run on a fresh SQLite database (tracemalloc slows Python down: never timed).

The mix (~70% chatter, plus petitions, legal questions and notices) is written here, with
unique message ids, from res-zhang / res-chen and some new residents, over the three demo
groups. Petitions open tickets and later ones merge into open duplicates, as in real use.
"""
from __future__ import annotations

import asyncio
import gc
import os
import random
import resource
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
if str(ROOT / "bench") not in sys.path:
    sys.path.insert(0, str(ROOT / "bench"))

from statements import COMMIT, ROLLBACK, StreamLog, bookkeeping, replay  # noqa: E402  (bench/statements.py)

S1, S2, LEGAL = "3幢1单元楼道群", "3幢2单元楼道群", "幸福里法润民生群"
STAIRWELLS = (S1, S2)
RESIDENTS = [("res-zhang", "张阿姨"), ("res-chen", "陈先生")] + [
    (f"res-new-{i:02d}", name)
    for i, name in enumerate(("刘奶奶", "孙大哥", "吴老师", "郑阿姨", "冯师傅", "何女士", "许先生", "马大爷"), 1)
]

# Written for this benchmark (not taken from the routing data sets).
CHATTER = [
    "收到，谢谢",
    "好的好的",
    "早上好呀各位邻居",
    "今天天气真不错，适合晒被子",
    "谢谢李敏，辛苦了",
    "哈哈哈哈",
    "👍👍👍",
    "晚上有人一起去广场跳舞吗",
    "楼下新开的面馆味道还可以",
    "我家孩子今天考试，紧张死了",
    "有没有人知道哪里修自行车便宜",
    "出一台九成新的婴儿车，有需要的私聊",
    "谁的钥匙掉在一楼信箱旁边了，我放在门卫室了",
    "中午吃什么好呢",
    "周末去郊区摘草莓，有一起的吗",
    "明天降温了，大家多穿点",
    "这个小程序怎么用啊，我不太会",
    "[表情]",
    "好的，知道了",
    "辛苦辛苦",
    "我刚到家，快递放门口就行",
    "今天菜市场的青菜好便宜",
    "大家国庆节快乐",
    "我家猫又跑到楼顶去了",
    "晚安各位",
    "有团购大米的吗，算我一份",
    "孙子放学我去接，顺路可以帮忙带一下",
    "这周的广场舞改到七点了吗",
    "拼车去火车站，还差一个人",
    "小区门口的桂花开了，好香",
    "哈哈，确实是这样",
    "我也觉得挺好的",
    "谢谢大家的关心",
    "在吗在吗",
    "刚才那个视频挺有意思的",
]
PETITIONS = [
    ("楼道里堆满了纸箱和旧家具，消防通道都堵了，麻烦处理一下", STAIRWELLS),
    ("5楼的楼道灯坏了好几天了，晚上黑漆漆的，老人走路不安全", STAIRWELLS),
    ("电梯又坏了，卡在三楼不动，麻烦尽快派人来修", STAIRWELLS),
    ("楼上每天半夜装修噪音太大了，孩子根本睡不着", STAIRWELLS),
    ("我家天花板漏水，应该是楼上水管破了，墙都泡了", STAIRWELLS),
    ("楼道里有很浓的煤气味，大家注意，赶紧来人看看", STAIRWELLS),
    ("单元门的门禁坏了，关不上，陌生人随便进出", STAIRWELLS),
    ("有人在楼道里给电动车充电，电线拖了一地，太危险了", STAIRWELLS),
    ("化粪池堵了，一楼下水道往上冒污水，味道很大", STAIRWELLS),
    ("楼下垃圾桶好几天没人清运了，臭气熏天", STAIRWELLS),
]
LEGAL_QS = [
    "老板拖欠我三个月工资不给，我可以去申请劳动仲裁吗",
    "父亲去世没留遗嘱，房子怎么继承，兄妹几个都有份吗",
    "朋友借了我五万块钱一直不还，只有微信聊天记录，能起诉吗",
    "房东不退押金，合同还没到期他就要收回房子，怎么办",
    "离婚以后孩子的抚养费一般是怎么计算的",
    "在网上买东西收到假货，商家不给退，可以要求赔偿吗",
    "上下班路上被车撞了，算不算工伤，怎么申请",
    "物业费涨价没开业主大会，业主可以拒交吗",
]
NOTICES = [
    "【停水通知】因管网维修，本周四8:00-17:00小区停水，请提前储水",
    "关于开展秋季消防安全检查的通知",
    "【停电通知】下周二9:00至12:00线路检修，电梯暂停使用",
    "社区将于本周六上午在活动中心举办重阳节敬老活动，欢迎报名参加",
    "请各户于本月30日前到社区服务中心办理电动车登记",
    "【温馨提示】近期电信诈骗高发，请勿向陌生人转账",
]
WARMUP = ["早上好", "楼道灯坏了，麻烦修一下", "房租合同纠纷可以咨询吗", "【通知】明天停水", "谢谢"]


@dataclass(frozen=True)
class Msg:
    message_id: str
    text: str
    sender: str
    sender_name: str
    room: str
    kind: str  # what it was written as: chatter | petition | legal | notice


def build_messages(n: int, seed: int = 7) -> list[Msg]:
    """~70% chatter, ~12% petitions, ~10% legal questions, ~8% notices; deterministic."""
    rng = random.Random(seed)
    out: list[Msg] = []
    for i in range(n):
        sender, name = rng.choice(RESIDENTS[:2]) if rng.random() < 0.6 else rng.choice(RESIDENTS)
        r = rng.random()
        if r < 0.70:
            kind, text, room = "chatter", rng.choice(CHATTER), rng.choice((S1, S2, S1, S2, LEGAL))
        elif r < 0.82:
            text, rooms = rng.choice(PETITIONS)
            kind, room = "petition", rng.choice(rooms)
        elif r < 0.92:
            kind, text, room = "legal", rng.choice(LEGAL_QS), rng.choice((LEGAL, LEGAL, LEGAL, S1))
        else:
            kind, text, room = "notice", rng.choice(NOTICES), rng.choice((S1, S2))
        out.append(Msg(f"bench-{seed}-{i:06d}", text, sender, name, room, kind))
    return out


# ---- databases: the bot's, and a copy of it for the replay -------------------------------------
class Databases:
    """The bot's database and, once snapshot() ran, an identical copy the replay runs on."""

    def __init__(self, tmpdir: Path, url: str | None) -> None:
        self.pg = bool(url and url.startswith("postgresql"))
        if self.pg:
            from sqlalchemy.engine import make_url

            assert url is not None
            parsed = make_url(url)
            self.name = parsed.database or "stairwell"
            self.url = url
            self.replay_url = parsed.set(database=f"{self.name}_replay").render_as_string(hide_password=False)
            self.admin = parsed.set(database="postgres", drivername="postgresql").render_as_string(hide_password=False)
            self._reset()
        else:
            self.path, self.copy = tmpdir / "bot.db", tmpdir / "replay.db"
            self.url = f"sqlite:///{self.path}"
            self.replay_url = f"sqlite:///{self.copy}"

    def _admin(self, *sql: str) -> None:
        import psycopg

        with psycopg.connect(self.admin, autocommit=True) as conn:
            for statement in sql:
                conn.execute(statement)

    def _reset(self) -> None:
        from sqlalchemy import create_engine, text

        engine = create_engine(self.url.replace("postgresql://", "postgresql+psycopg://", 1))
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        engine.dispose()

    def snapshot(self) -> None:
        """Copy the bot's database (no connection may be open to it)."""
        if self.pg:
            self._admin(f'DROP DATABASE IF EXISTS "{self.name}_replay"',
                        f'CREATE DATABASE "{self.name}_replay" TEMPLATE "{self.name}"')
        else:
            shutil.copyfile(self.path, self.copy)

    def raw_connection(self):
        """A DB-API connection to the copy, set up as storage/db.py sets the bot's."""
        if self.pg:
            import psycopg

            return psycopg.connect(self.replay_url.replace("postgresql+psycopg://", "postgresql://", 1))
        conn = sqlite3.connect(self.copy, isolation_level=None, check_same_thread=False, timeout=5)
        for pragma in ("journal_mode=WAL", "busy_timeout=5000", "foreign_keys=ON", "synchronous=NORMAL"):
            conn.execute(f"PRAGMA {pragma}")
        return conn

    def drop(self) -> None:
        if self.pg:
            self._admin(f'DROP DATABASE IF EXISTS "{self.name}_replay"')


# ---- the bot ---------------------------------------------------------------------------------
@dataclass
class BotRun:
    seconds: float           # first message in → outbox drained
    latencies_ms: list[float]
    cpu_ms: list[float]      # the same spans in thread CPU time (insensitive to other processes)
    sent: int                # messages the transport received
    routes: dict[str, int]   # route → count, from the message log
    rss_growth_kb: int
    entries: list = field(default_factory=list)  # the recorded statement stream (bench/statements.py)
    lazy_keys: set = field(default_factory=set)  # its connections that committed lazily (StreamLog)


async def run_bot(messages: list[Msg], url: str, *, config=None, warmup: bool = True,
                  snapshot=None, record: bool = False) -> BotRun:
    """Start the bot on ``url``, warm it up, then (after ``snapshot()``, with the bot stopped so
    the copy is exact) restart it and time ``messages``; ``record`` keeps every statement."""
    from sqlalchemy import func, select

    from bot.app import Stairwell
    from bot.clock import Clock
    from bot.config import load_config
    from bot.transports.memory import create
    from sqlmodel import Session
    from storage.models import Message

    config = config or load_config(ROOT / "config.yaml")

    async def start():
        transport = create(config)
        app = Stairwell(config, transport, clock=Clock(), database_url=url)
        await app.start()
        return app, transport

    app, transport = await start()
    try:
        if warmup:  # router tables, jieba dictionary, SQLAlchemy statement caches
            for i, text in enumerate(WARMUP * 4):
                room = (S1, S2, LEGAL)[i % 3]
                await transport.say(text, sender="res-chen", sender_name="陈先生", room=room,
                                    message_id=f"warm-{i}")
            await app.idle()
        log = None
        if snapshot is not None:
            await app.stop()
            app.engine.dispose()
            snapshot()
            app, transport = await start()
            log = StreamLog(app.engine, app.message_engine) if record else None  # from here on the copy replays it all
            for i, text in enumerate(WARMUP):  # this engine's statement cache
                await transport.say(text, sender="res-chen", sender_name="陈先生", room=(S1, S2, LEGAL)[i % 3],
                                    message_id=f"rewarm-{i}")
            await app.idle()
        sent_before = len(transport.sent)
        gc.collect()
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        latencies: list[float] = []
        cpu: list[float] = []
        start_time = time.perf_counter()
        for n, m in enumerate(messages):
            if log is not None:
                log.segment = n
            c0, t0 = time.thread_time(), time.perf_counter()
            await transport.say(m.text, sender=m.sender, sender_name=m.sender_name, room=m.room,
                                message_id=m.message_id)
            latencies.append((time.perf_counter() - t0) * 1000)
            cpu.append((time.thread_time() - c0) * 1000)
            if log is not None:
                log.segment = None
            await asyncio.sleep(0)  # let the outbox worker interleave, as under a live transport
        await app.idle(timeout=120)
        seconds = time.perf_counter() - start_time
        rss_growth = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before
        entries = log.entries if log is not None else []
        if log is not None:
            log.close()
        with Session(app.engine) as session:
            rows = session.exec(
                select(Message.route, func.count()).where(Message.external_id.like("bench-%"))
                .group_by(Message.route)
            ).all()
        routes = {str(r): int(c) for r, c in rows}
        return BotRun(seconds, latencies, cpu, len(transport.sent) - sent_before, routes, rss_growth, entries,
                      log.lazy_keys if log is not None else set())
    finally:
        await app.stop()
        app.engine.dispose()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def run(n_messages: int = 2000, *, memory: bool = True, out=print, url: str | None = None) -> dict:
    """Run the benchmark and print the report; returns the numbers (for the smoke test)."""
    messages = build_messages(n_messages)
    url = url if url is not None else os.environ.get("STAIRWELL_DATABASE_URL")
    with tempfile.TemporaryDirectory(prefix="stairwell-bench-") as tmp:
        tmpdir = Path(tmp)
        from nlp.router import default_router

        default_router()  # loads the lexicon and jieba's dictionary (user dict included)
        from bot.config import load_config

        config = load_config(ROOT / "config.yaml")
        dbs = Databases(tmpdir, url)
        try:
            bot = asyncio.run(run_bot(messages, dbs.url, config=config, snapshot=dbs.snapshot, record=True))
            spent, failed = replay(bot.entries, dbs.raw_connection, bot.lazy_keys)
        finally:
            dbs.drop()

        peak_mb = None
        if memory:
            gc.collect()
            tracemalloc.start()
            asyncio.run(run_bot(messages, f"sqlite:///{tmpdir / 'bot-mem.db'}", config=config))
            peak_mb = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()

    rate = n_messages / bot.seconds
    handle_rate = 1000 * n_messages / sum(bot.latencies_ms)
    p50, p99 = percentile(bot.latencies_ms, 0.50), percentile(bot.latencies_ms, 0.99)
    replay_ms = [spent.get(n, 0.0) * 1000 for n in range(n_messages)]
    statements = Counter(seg for seg, _, sql, _, _ in bot.entries
                         if seg is not None and sql not in (COMMIT, ROLLBACK) and not bookkeeping(sql))
    result = {
        "database": "postgresql" if dbs.pg else "sqlite",
        "messages": n_messages,
        "bot_rate": rate,
        "handle_rate": handle_rate,
        "replay_rate": 1000 * n_messages / sum(replay_ms),
        "ratio": sum(replay_ms) / sum(bot.latencies_ms),
        "replay_failed": failed,
        "replayed": len(bot.entries),
        "p50_ms": p50,
        "p99_ms": p99,
        "max_ms": max(bot.latencies_ms),
        "mean_ms": statistics.fmean(bot.latencies_ms),
        "sent": bot.sent,
        "routes": bot.routes,
        "rss_growth_mb": bot.rss_growth_kb / 1024,
        "tracemalloc_peak_mb": peak_mb,
    }
    mix = ", ".join(f"{k} {v}" for k, v in sorted(bot.routes.items(), key=lambda kv: -kv[1]))
    load = os.getloadavg()[0]
    out(f"machine: {os.cpu_count()} cores, load average {load:.2f} at the end "
        f"(other processes competing for the CPU inflate wall-clock tails; see the CPU-time line)")
    out(f"database: {result['database']}; messages: {n_messages} ({mix}); replies/notes sent by the outbox: {bot.sent}")
    out(f"(a) whole bot, in → outbox drained {rate:8.0f} msgs/s; handling only (sum of say() times) "
        f"{handle_rate:8.0f} msgs/s")
    out(f"    raw-driver replay of the same statements, same run: {result['replay_rate']:8.0f} msgs/s; "
        f"replay / bot {result['ratio']:.3f} ({failed} of {len(bot.entries)} replayed statements failed: "
        f"the bot's own busy retries, replayed)")
    by_kind: dict[str, list[int]] = {}
    for n, m in enumerate(messages):
        by_kind.setdefault(m.kind, []).append(n)
    result["by_kind"] = {}
    out("    per kind: bot ms (wall p50 / p99 | CPU p50 / p99) · replay ms p50 · statements p50 · "
        "replay / bot (sums; target chatter >= 0.5)")
    for kind, ns in sorted(by_kind.items(), key=lambda kv: -len(kv[1])):
        wall = [bot.latencies_ms[n] for n in ns]
        cpu = [bot.cpu_ms[n] for n in ns]
        raw = [replay_ms[n] for n in ns]
        d = {"n": len(ns), "p50_ms": percentile(wall, 0.5), "p99_ms": percentile(wall, 0.99),
             "cpu_p50_ms": percentile(cpu, 0.5), "cpu_p99_ms": percentile(cpu, 0.99),
             "replay_p50_ms": percentile(raw, 0.5), "statements_p50": percentile([statements[n] for n in ns], 0.5),
             "ratio": sum(raw) / sum(wall)}
        result["by_kind"][kind] = d
        out(f"      {kind:<8} n={d['n']:<5} {d['p50_ms']:6.2f} / {d['p99_ms']:6.2f} | "
            f"{d['cpu_p50_ms']:6.2f} / {d['cpu_p99_ms']:6.2f} · {d['replay_p50_ms']:6.2f} · "
            f"{d['statements_p50']:3.0f} · {d['ratio']:.2f}")
    out(f"(b) latency per message: p50 {p50:.2f} ms  p99 {p99:.2f} ms (target <= 10)  "
        f"max {result['max_ms']:.2f} ms  mean {result['mean_ms']:.2f} ms")
    cpu50, cpu99 = percentile(bot.cpu_ms, 0.50), percentile(bot.cpu_ms, 0.99)
    result["cpu_p50_ms"], result["cpu_p99_ms"] = cpu50, cpu99
    out(f"    same spans in thread CPU time: p50 {cpu50:.2f} ms  p99 {cpu99:.2f} ms  max {max(bot.cpu_ms):.2f} ms")
    mem = f"tracemalloc peak {peak_mb:.1f} MiB (separate untimed run)" if peak_mb is not None else "tracemalloc skipped"
    out(f"(c) memory: ru_maxrss growth during the timed run {result['rss_growth_mb']:.1f} MiB; {mem}")
    return result


def main(argv: list[str]) -> None:
    run(int(argv[0]) if argv else 2000)


if __name__ == "__main__":
    main(sys.argv[1:])
