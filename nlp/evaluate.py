"""`classify` and `eval` commands for the router (wired into `python -m bot` by the CLI).

Both stream their input line by line, so memory stays flat on large files, and report
bad input as a one-line message with the line number (exit code 2), never a traceback.
"""
from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, TextIO, TypedDict

from nlp.router import Route, Router, default_router

LABEL_ORDER = ("petition", "legal", "notice", "other")
ACK_LABELS = ("petition", "legal")  # labels that make the bot answer "已受理"


class InputError(Exception):
    """Bad input, reported as one line and exit code 2."""


@contextmanager
def _open_text(path: str | None) -> Iterator[IO[str]]:
    """Open `path` (None or "-" = stdin) as UTF-8 text, replacing undecodable bytes."""
    if path is None or path == "-":
        stream = sys.stdin
        if hasattr(stream, "reconfigure"):
            try:
                stream.reconfigure(encoding="utf-8", errors="replace")
            except (ValueError, OSError):
                pass
        yield stream
        return
    try:
        handle = open(path, encoding="utf-8", errors="replace", newline=None)
    except FileNotFoundError:
        raise InputError(f"error: file not found: {path}") from None
    except IsADirectoryError:
        raise InputError(f"error: is a directory, not a file: {path}") from None
    except OSError as exc:
        raise InputError(f"error: cannot read {path}: {exc.strerror or exc}") from None
    with handle:
        yield handle


def _parse_line(line: str, lineno: int, where: str) -> tuple[str, bool]:
    """Return (text, staff) for a plain or JSONL line."""
    stripped = line.strip()
    if not stripped.startswith("{"):
        return line.rstrip("\r\n"), False
    try:
        obj = json.loads(stripped)
    except json.JSONDecodeError as exc:
        raise InputError(f"error: {where} line {lineno}: invalid JSON ({exc.msg})") from None
    if not isinstance(obj, dict) or not isinstance(obj.get("text"), str):
        raise InputError(f'error: {where} line {lineno}: JSON object without a string "text"')
    return obj["text"], obj.get("staff") is True


def _route_json(text: str, route: Route) -> str:
    return json.dumps(
        {
            "text": text,
            "label": route.label,
            "category": route.category,
            "urgent": route.urgent,
            "score": route.score,
            "keywords": list(route.keywords),
        },
        ensure_ascii=False,
    )


def classify_command(path: str | None, out: TextIO, router: Router | None = None) -> int:
    """Classify each input line; one JSONL result per line. Returns the exit code."""
    where = "stdin" if path in (None, "-") else str(path)
    try:
        router = router or default_router()
        with _open_text(path) as stream:
            for lineno, line in enumerate(stream, 1):
                text, staff = _parse_line(line, lineno, where)
                out.write(_route_json(text, router.route(text, staff=staff)) + "\n")
    except InputError as exc:
        out.flush()
        print(str(exc), file=sys.stderr)
        return 2
    except OSError as exc:  # read error mid-stream, or a closed stdout pipe
        print(f"error: {where}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    return 0


# ---- evaluation ----------------------------------------------------------------------------
def _read_gold(path: str) -> Iterator[tuple[str, str, bool]]:
    with _open_text(path) as stream:
        for lineno, line in enumerate(stream, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(f"error: {path} line {lineno}: invalid JSON ({exc.msg})") from None
            if not isinstance(obj, dict) or not isinstance(obj.get("text"), str):
                raise InputError(f'error: {path} line {lineno}: JSON object without a string "text"')
            label = obj.get("label")
            if label not in LABEL_ORDER:
                raise InputError(
                    f"error: {path} line {lineno}: missing or unknown label {label!r}"
                    f" (expected one of {', '.join(LABEL_ORDER)})"
                )
            yield obj["text"], label, obj.get("staff") is True


def confusion(pairs: list[tuple[str, str]]) -> dict[str, dict[str, int]]:
    """gold -> predicted -> count."""
    matrix = {g: {p: 0 for p in LABEL_ORDER} for g in LABEL_ORDER}
    for gold, pred in pairs:
        matrix[gold][pred] += 1
    return matrix


class Metrics(TypedDict):
    per_class: dict[str, tuple[float, float, float, int]]  # label -> precision, recall, F1, support
    macro_f1: float
    accuracy: float
    false_ack: float
    false_ack_count: int
    gold_other: int
    total: int


def metrics(matrix: dict[str, dict[str, int]]) -> Metrics:
    """Per-class precision/recall/F1, macro-F1, accuracy and the false-ack rate."""
    per: dict[str, tuple[float, float, float, int]] = {}
    for lab in LABEL_ORDER:
        tp = matrix[lab][lab]
        predicted = sum(matrix[g][lab] for g in LABEL_ORDER)
        support = sum(matrix[lab].values())
        p = tp / predicted if predicted else 0.0
        r = tp / support if support else 0.0
        f = 2 * p * r / (p + r) if p + r else 0.0
        per[lab] = (p, r, f, support)
    present = [lab for lab in LABEL_ORDER if per[lab][3] > 0]
    macro = sum(per[lab][2] for lab in present) / len(present) if present else 0.0
    total = sum(sum(row.values()) for row in matrix.values())
    correct = sum(matrix[lab][lab] for lab in LABEL_ORDER)
    gold_other = sum(matrix["other"].values())
    acks = sum(matrix["other"][lab] for lab in ACK_LABELS)
    return {
        "per_class": per,
        "macro_f1": macro,
        "accuracy": correct / total if total else 0.0,
        "false_ack": acks / gold_other if gold_other else 0.0,
        "false_ack_count": acks,
        "gold_other": gold_other,
        "total": total,
    }


def format_report(path: str, matrix: dict[str, dict[str, int]]) -> str:
    m = metrics(matrix)
    lines = [f"== {path} ({m['total']} messages)", f"{'label':<10}{'prec':>7}{'recall':>8}{'F1':>7}{'n':>6}"]
    for lab, (p, r, f, n) in m["per_class"].items():
        lines.append(f"{lab:<10}{p:>7.3f}{r:>8.3f}{f:>7.3f}{n:>6}")
    lines.append(f"macro-F1  {m['macro_f1']:.4f}    accuracy {m['accuracy']:.4f}")
    lines.append(
        f"false-ack {m['false_ack']:.4f}    ({m['false_ack_count']} of {m['gold_other']} gold-other"
        " routed to petition/legal)"
    )
    lines.append("confusion (rows = gold, columns = predicted):")
    lines.append(" " * 10 + "".join(f"{lab:>10}" for lab in LABEL_ORDER))
    for g in LABEL_ORDER:
        lines.append(f"{g:<10}" + "".join(f"{matrix[g][p]:>10}" for p in LABEL_ORDER))
    return "\n".join(lines)


def eval_command(paths: list[str], out: TextIO, router: Router | None = None) -> int:
    """Print an evaluation report per labelled JSONL file. Returns the exit code."""
    if not paths:
        print("error: eval needs at least one labelled JSONL file", file=sys.stderr)
        return 2
    try:
        router = router or default_router()
        for i, path in enumerate(paths):
            pairs = [(gold, router.route(text, staff=staff).label) for text, gold, staff in _read_gold(path)]
            if i:
                out.write("\n")
            out.write(format_report(path, confusion(pairs)) + "\n")
    except InputError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    return 0


def main(argv: list[str] | None = None) -> int:
    """`python -m nlp.evaluate classify [FILE]` / `python -m nlp.evaluate eval FILE...`."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["classify"] and len(args) <= 2:
        return classify_command(args[1] if len(args) == 2 else None, sys.stdout)
    if args[:1] == ["eval"]:
        return eval_command(args[1:], sys.stdout)
    print("usage: python -m nlp.evaluate classify [FILE] | eval FILE...", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
