"""Router benchmark (run by hand, not in CI): python bench/router.py [FILE.jsonl ...]

Reports, on the same messages (the shared dev files if present, else built-in examples):
  (a) a naive substring-keyword baseline's macro-F1 next to the router's,
  (b) router throughput in msgs/s and as a ratio to `jieba.lcut` alone (target >= 0.5),
  (c) time from process start to the first classified message in a fresh subprocess
      (target <= 1.5 s with a warm jieba cache in the data dir).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402

from nlp.evaluate import confusion, metrics  # noqa: E402
from nlp.router import LABELS, LEXICON_PATH, default_router  # noqa: E402

SHARED = [Path("/work/shared/routing/chat-dev.jsonl"), Path("/work/shared/routing/public-dev.jsonl")]
FALLBACK = [
    ("楼道里堆了很多纸箱，请物业清理一下", "petition"),
    ("3号楼电梯坏了，麻烦派人修一下", "petition"),
    ("老板拖欠工资三个月，可以申请劳动仲裁吗", "legal"),
    ("离婚后孩子抚养费一般怎么算", "legal"),
    ("【停水通知】本周四8:00-17:00管网维修停水", "notice"),
    ("社区将于周六举办重阳节活动，欢迎报名参加", "notice"),
    ("收到，谢谢", "other"),
    ("晚上一起吃饭吧", "other"),
]


def load(paths: list[Path]) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    for path in paths:
        with path.open(encoding="utf-8") as fh:
            rows += [(o["text"], o["label"]) for o in map(json.loads, fh) if o.get("label")]
    return rows


def naive_baseline() -> callable:
    """Substring search for every lexicon term with a positive weight, first label wins by sum."""
    raw = yaml.safe_load(LEXICON_PATH.read_text(encoding="utf-8"))
    terms: dict[str, dict[str, float]] = {lab: {} for lab in LABELS}
    for lab in LABELS:
        terms[lab].update({str(t): float(w) for t, w in raw["labels"][lab].items()})
        for cues in raw["categories"][lab].values():
            terms[lab].update({str(t): float(w) for t, w in cues.items()})

    def classify(text: str) -> str:
        scores = {lab: sum(w for t, w in terms[lab].items() if t in text) for lab in LABELS}
        best = max(scores, key=scores.__getitem__)
        return best if scores[best] >= raw["thresholds"][best] else "other"

    return classify


def macro(pairs: list[tuple[str, str]]) -> tuple[float, float]:
    m = metrics(confusion(pairs))
    return float(m["macro_f1"]), float(m["false_ack"])  # type: ignore[arg-type]


def throughput(texts: list[str], fn, repeat: int = 5) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for t in texts:
            fn(t)
        best = min(best, time.perf_counter() - start)
    return len(texts) / best


def startup_seconds() -> float:
    """Fresh interpreter: import, load lexicon + jieba (warm cache), classify one message."""
    code = (
        "import time; t0 = time.perf_counter()\n"
        "from nlp.router import default_router\n"
        "default_router().route('楼道灯坏了，麻烦修一下')\n"
        "print(time.perf_counter() - t0)\n"
    )
    env = dict(os.environ)
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    wall = time.perf_counter() - start  # includes interpreter start-up
    print(f"    (in-process import→first route: {float(out.stdout.strip()):.3f} s)")
    return wall


def main(argv: list[str]) -> None:
    paths = [Path(p) for p in argv] or [p for p in SHARED if p.exists()]
    rows = load(paths) if paths else FALLBACK
    source = ", ".join(map(str, paths)) if paths else "built-in examples"
    texts = [t for t, _ in rows]
    router = default_router()
    base = naive_baseline()

    print(f"messages: {len(rows)} from {source}")
    for name, fn in (("naive substring baseline", base), ("jieba keyword router", lambda t: router.route(t).label)):
        f1, fa = macro([(gold, fn(text)) for text, gold in rows])
        print(f"(a) {name:<26} macro-F1 {f1:.4f}  false-ack {fa:.4f}")

    import jieba

    jieba_rate = throughput(texts, jieba.lcut)  # same tokenizer (segment.setup loaded the user dict)
    router_rate = throughput(texts, router.route)
    print(f"(b) jieba.lcut alone          {jieba_rate:10.0f} msgs/s")
    print(f"    router                    {router_rate:10.0f} msgs/s   ratio {router_rate / jieba_rate:.2f} (target >= 0.5)")

    startup_seconds()  # first run may build the jieba cache in the data dir
    runs = sorted(startup_seconds() for _ in range(3))
    print(f"(c) process start → first classified message: {runs[1]:.3f} s median of 3, warm cache (target <= 1.5 s)")


if __name__ == "__main__":
    main(sys.argv[1:])
