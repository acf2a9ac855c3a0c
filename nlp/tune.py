"""Threshold sweep: python -m nlp.tune FILE.jsonl...  (prints a table; never edits the lexicon).

Only the three per-label thresholds are swept: word weights stay hand-written in
lexicon.yaml so they keep generalising.  Rows are ranked by the worst false-ack rate
across the files first (a false ack is the worst error), then by the mean macro-F1.
Copy the chosen thresholds into lexicon.yaml by hand.
"""
from __future__ import annotations

import itertools
import json
import sys

from nlp.evaluate import confusion, metrics
from nlp.router import Router

GRID = {"petition": (2.4, 2.6, 2.8, 3.0, 3.2), "legal": (2.4, 2.6, 2.8, 3.0, 3.2), "notice": (2.2, 2.6, 3.0)}


def sweep(paths: list[str], router: Router | None = None) -> list[tuple[float, float, dict[str, float]]]:
    router = router or Router()
    data = []
    for path in paths:
        with open(path, encoding="utf-8") as fh:
            data.append([(o["text"], o["label"], o.get("staff") is True) for o in map(json.loads, fh)])
    original = dict(router.thresholds)
    results = []
    try:
        for combo in itertools.product(*GRID.values()):
            router.thresholds.update(zip(GRID, combo, strict=True))
            ms = [metrics(confusion([(g, router.route(t, staff=s).label) for t, g, s in rows])) for rows in data]
            worst_ack = max(m["false_ack"] for m in ms)
            mean_f1 = sum(m["macro_f1"] for m in ms) / len(ms)
            results.append((worst_ack, mean_f1, dict(zip(GRID, combo, strict=True))))
    finally:
        router.thresholds.update(original)
    results.sort(key=lambda r: (r[0], -r[1]))
    return results


def main(argv: list[str]) -> int:
    if not argv:
        print("usage: python -m nlp.tune LABELLED.jsonl...", file=sys.stderr)
        return 2
    for worst_ack, mean_f1, th in sweep(argv)[:15]:
        print(f"false-ack {worst_ack:.4f}  macro-F1 {mean_f1:.4f}  " + "  ".join(f"{k}={v}" for k, v in th.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
