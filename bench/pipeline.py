"""Whole-pipeline benchmark (run by hand, not in CI): python bench/pipeline.py [N_MESSAGES]

Pushes a realistic message mix through the whole bot — memory transport → guards → log →
route → handler → outbox — on SQLite in a temporary file, and reports, in the same run:

  (a) messages/s through the bot next to a CEILING measured on the same messages:
      `jieba.lcut` plus one raw `sqlite3` INSERT + COMMIT per message into a table like
      `messages` (WAL, synchronous=NORMAL, as storage/db.py sets). Target: ratio >= 0.4.
  (b) p50 / p99 / max handling latency per message (time inside `MemoryTransport.say`).
      Target: p99 <= 10 ms.
  (c) memory: ru_maxrss growth during the timed run, and the tracemalloc peak of a second,
      identical run on a fresh database (tracemalloc slows Python down, so it is never timed).

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
import sqlite3
import statistics
import sys
import tempfile
import time
import tracemalloc
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

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


# ---- the ceiling: jieba + one raw sqlite3 insert and commit per message ------------------------
CEILING_SCHEMA = """
CREATE TABLE messages (
    id INTEGER PRIMARY KEY, transport VARCHAR NOT NULL, external_id VARCHAR NOT NULL,
    room_id VARCHAR, sender_id VARCHAR NOT NULL, sender_name VARCHAR NOT NULL, text TEXT NOT NULL,
    from_bot BOOLEAN NOT NULL, route VARCHAR, category VARCHAR, at DATETIME NOT NULL,
    UNIQUE (transport, external_id));
CREATE INDEX ix_messages_room_id ON messages (room_id);
CREATE INDEX ix_messages_at ON messages (at);
"""


def ceiling(messages: list[Msg], path: Path) -> float:
    """Messages/s for jieba.lcut + INSERT + COMMIT per message (WAL, synchronous=NORMAL)."""
    import jieba

    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.executescript(CEILING_SCHEMA)
    conn.commit()
    sql = (
        "INSERT INTO messages (transport, external_id, room_id, sender_id, sender_name, text, from_bot, at)"
        " VALUES (?, ?, ?, ?, ?, ?, 0, ?)"
    )
    start = time.perf_counter()
    for m in messages:
        jieba.lcut(m.text)
        conn.execute(sql, ("memory", m.message_id, m.room, m.sender, m.sender_name, m.text,
                           datetime.now(timezone.utc).replace(tzinfo=None).isoformat(" ")))
        conn.commit()
    elapsed = time.perf_counter() - start
    conn.close()
    return len(messages) / elapsed


# ---- the bot ---------------------------------------------------------------------------------
@dataclass
class BotRun:
    seconds: float           # first message in → outbox drained
    latencies_ms: list[float]
    cpu_ms: list[float]      # the same spans in thread CPU time (insensitive to other processes)
    sent: int                # messages the transport received
    routes: dict[str, int]   # route → count, from the message log
    rss_growth_kb: int


async def run_bot(messages: list[Msg], db_path: Path, *, config=None, warmup: bool = True) -> BotRun:
    from sqlalchemy import func, select

    from bot.app import Stairwell
    from bot.clock import Clock
    from bot.config import load_config
    from bot.transports.memory import create
    from sqlmodel import Session
    from storage.models import Message

    config = config or load_config(ROOT / "config.yaml")
    transport = create(config)
    app = Stairwell(config, transport, clock=Clock(), database_url=f"sqlite:///{db_path}")
    await app.start()
    try:
        if warmup:  # router tables, jieba dictionary, SQLAlchemy statement caches
            for i, text in enumerate(WARMUP * 4):
                room = (S1, S2, LEGAL)[i % 3]
                await transport.say(text, sender="res-chen", sender_name="陈先生", room=room,
                                    message_id=f"warm-{i}")
            await app.idle()
        sent_before = len(transport.sent)
        gc.collect()
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        latencies: list[float] = []
        cpu: list[float] = []
        start = time.perf_counter()
        for m in messages:
            c0, t0 = time.thread_time(), time.perf_counter()
            await transport.say(m.text, sender=m.sender, sender_name=m.sender_name, room=m.room,
                                message_id=m.message_id)
            latencies.append((time.perf_counter() - t0) * 1000)
            cpu.append((time.thread_time() - c0) * 1000)
            await asyncio.sleep(0)  # let the outbox worker interleave, as under a live transport
        await app.idle(timeout=120)
        seconds = time.perf_counter() - start
        rss_growth = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before
        with Session(app.engine) as session:
            rows = session.exec(
                select(Message.route, func.count()).where(Message.external_id.like("bench-%"))
                .group_by(Message.route)
            ).all()
        routes = {str(r): int(c) for r, c in rows}
        return BotRun(seconds, latencies, cpu, len(transport.sent) - sent_before, routes, rss_growth)
    finally:
        await app.stop()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def run(n_messages: int = 2000, *, memory: bool = True, out=print) -> dict:
    """Run the benchmark and print the report; returns the numbers (for the smoke test)."""
    messages = build_messages(n_messages)
    with tempfile.TemporaryDirectory(prefix="stairwell-bench-") as tmp:
        tmpdir = Path(tmp)
        from nlp.router import default_router
        import jieba

        default_router()  # loads the lexicon and jieba's dictionary (user dict included)
        for m in messages[:200]:
            jieba.lcut(m.text)
        ceiling(messages[: min(200, len(messages))], tmpdir / "warm-ceiling.db")

        # The ceiling runs are short, so they are repeated around the bot's run (3 before, 2 after)
        # and the median is used: robust to other processes stealing the CPU for a moment.
        ceil_runs = [ceiling(messages, tmpdir / f"ceiling-{i}.db") for i in range(3)]
        from bot.config import load_config

        config = load_config(ROOT / "config.yaml")
        bot = asyncio.run(run_bot(messages, tmpdir / "bot.db", config=config))
        ceil_runs += [ceiling(messages, tmpdir / f"ceiling-{i}.db") for i in range(3, 5)]
        ceil_rate = statistics.median(ceil_runs)

        peak_mb = None
        if memory:
            gc.collect()
            tracemalloc.start()
            asyncio.run(run_bot(messages, tmpdir / "bot-mem.db", config=config))
            peak_mb = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()

    rate = n_messages / bot.seconds
    handle_rate = 1000 * n_messages / sum(bot.latencies_ms)
    p50, p99 = percentile(bot.latencies_ms, 0.50), percentile(bot.latencies_ms, 0.99)
    result = {
        "messages": n_messages,
        "ceiling_rate": ceil_rate,
        "bot_rate": rate,
        "handle_rate": handle_rate,
        "ratio": rate / ceil_rate,
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
    out(f"messages: {n_messages} ({mix}); replies/notes sent by the outbox: {bot.sent}")
    out(f"(a) ceiling: jieba.lcut + sqlite3 INSERT+COMMIT  {ceil_rate:8.0f} msgs/s"
        f"   (median of 5 runs around the bot's: {min(ceil_runs):.0f}..{max(ceil_runs):.0f})")
    out(f"    whole bot, in → outbox drained             {rate:8.0f} msgs/s"
        f"   ratio {rate / ceil_rate:.3f} (target >= 0.4)")
    out(f"    handling only (sum of say() times)          {handle_rate:8.0f} msgs/s"
        f"   ratio {handle_rate / ceil_rate:.3f}")
    out(f"(b) latency per message: p50 {p50:.2f} ms  p99 {p99:.2f} ms (target <= 10)  "
        f"max {result['max_ms']:.2f} ms  mean {result['mean_ms']:.2f} ms")
    cpu50, cpu99 = percentile(bot.cpu_ms, 0.50), percentile(bot.cpu_ms, 0.99)
    result["cpu_p50_ms"], result["cpu_p99_ms"] = cpu50, cpu99
    out(f"    same spans in thread CPU time: p50 {cpu50:.2f} ms  p99 {cpu99:.2f} ms  max {max(bot.cpu_ms):.2f} ms")
    by_kind: dict[str, list[float]] = {}
    cpu_by_kind: dict[str, list[float]] = {}
    for m, ms, cms in zip(messages, bot.latencies_ms, bot.cpu_ms, strict=True):
        by_kind.setdefault(m.kind, []).append(ms)
        cpu_by_kind.setdefault(m.kind, []).append(cms)
    result["by_kind"] = {
        k: {"n": len(v), "p50_ms": percentile(v, 0.5), "p99_ms": percentile(v, 0.99),
            "cpu_p50_ms": percentile(cpu_by_kind[k], 0.5), "cpu_p99_ms": percentile(cpu_by_kind[k], 0.99)}
        for k, v in by_kind.items()
    }
    out("    by kind (wall p50/p99 | CPU p50/p99, ms):")
    for k, d in sorted(result["by_kind"].items(), key=lambda kv: -kv[1]["n"]):
        out(f"      {k:<8} n={d['n']:<5} {d['p50_ms']:6.2f} / {d['p99_ms']:6.2f} | "
            f"{d['cpu_p50_ms']:6.2f} / {d['cpu_p99_ms']:6.2f}")
    mem = f"tracemalloc peak {peak_mb:.1f} MiB (separate untimed run)" if peak_mb is not None else "tracemalloc skipped"
    out(f"(c) memory: ru_maxrss growth during the timed run {result['rss_growth_mb']:.1f} MiB; {mem}")
    return result


def main(argv: list[str]) -> None:
    run(int(argv[0]) if argv else 2000)


if __name__ == "__main__":
    main(sys.argv[1:])
