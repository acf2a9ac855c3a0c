"""classify_command / eval_command: streaming JSONL out, bad input -> message + exit 2."""
from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest

from nlp.evaluate import classify_command, confusion, eval_command, metrics

FIELDS = {"text", "label", "category", "urgent", "score", "keywords"}


def _run_classify(path: Path | str | None) -> tuple[int, list[dict]]:
    out = io.StringIO()
    code = classify_command(None if path is None else str(path), out)
    return code, [json.loads(line) for line in out.getvalue().splitlines()]


def test_plain_lines(tmp_path: Path) -> None:
    src = tmp_path / "in.txt"
    src.write_text("楼道灯坏了，麻烦物业修一下\n收到\n", encoding="utf-8")
    code, rows = _run_classify(src)
    assert code == 0
    assert [r["label"] for r in rows] == ["petition", "other"]
    assert all(set(r) == FIELDS for r in rows)
    assert rows[0]["text"] == "楼道灯坏了，麻烦物业修一下"
    assert isinstance(rows[0]["keywords"], list) and rows[0]["keywords"]


def test_output_is_not_ascii_escaped(tmp_path: Path) -> None:
    src = tmp_path / "in.txt"
    src.write_text("收到\n", encoding="utf-8")
    out = io.StringIO()
    assert classify_command(str(src), out) == 0
    assert "收到" in out.getvalue()


def test_jsonl_lines_with_staff(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    text = "明天上午社区医生来小区义诊，地点在东门广场"
    src.write_text(
        json.dumps({"text": text, "staff": True}, ensure_ascii=False) + "\n"
        + json.dumps({"text": "谢谢"}, ensure_ascii=False) + "\n",
        encoding="utf-8",
    )
    code, rows = _run_classify(src)
    assert code == 0
    assert rows[0]["label"] == "notice" and rows[1]["label"] == "other"


def test_bad_input_lines_stay_valid_jsonl(tmp_path: Path) -> None:
    src = tmp_path / "in.txt"
    lines = [b"", "好".encode() * 100_000, b"\xff\xfe\x00\x9c\x80garbage\x01", "😀😂🙏".encode(), "@张阿姨".encode(), b"   "]
    src.write_bytes(b"\n".join(lines) + b"\n")
    code, rows = _run_classify(src)
    assert code == 0
    assert len(rows) == len(lines)
    assert all(r["label"] == "other" and r["category"] is None for r in rows)
    assert len(rows[1]["text"]) == 100_000  # echoed whole; only classification is truncated


def test_stdin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("收到\n3号楼电梯坏了，困在里面了，快来人\n"))
    code, rows = _run_classify("-")
    assert code == 0
    assert rows[0]["label"] == "other"
    assert rows[1]["label"] == "petition" and rows[1]["urgent"] is True


def test_invalid_json_line_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text('{"text": "收到"}\n{"text": oops}\n', encoding="utf-8")
    out = io.StringIO()
    assert classify_command(str(src), out) == 2
    err = capsys.readouterr().err
    assert "line 2" in err and "Traceback" not in err
    assert len(out.getvalue().splitlines()) == 1  # the good line before it was written


@pytest.mark.parametrize("line", ['{"label": "other"}', '{"text": 5}', '{"text": null}'])
def test_json_without_string_text_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str], line: str) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text(line + "\n", encoding="utf-8")
    assert classify_command(str(src), io.StringIO()) == 2
    assert "line 1" in capsys.readouterr().err


def test_missing_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert classify_command(str(tmp_path / "nope.txt"), io.StringIO()) == 2
    err = capsys.readouterr().err
    assert "nope.txt" in err and len(err.strip().splitlines()) == 1


def test_directory_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert classify_command(str(tmp_path), io.StringIO()) == 2
    assert capsys.readouterr().err.strip()


def test_many_lines_stream(tmp_path: Path) -> None:
    src = tmp_path / "many.txt"
    src.write_text("收到\n" * 2000, encoding="utf-8")
    out = io.StringIO()
    assert classify_command(str(src), out) == 0
    assert out.getvalue().count("\n") == 2000


# ---- eval ---------------------------------------------------------------------------------
def _gold(tmp_path: Path, rows: list[dict]) -> Path:
    path = tmp_path / "gold.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def test_eval_report(tmp_path: Path) -> None:
    path = _gold(
        tmp_path,
        [
            {"text": "楼道里堆了很多纸箱，请物业清理一下", "label": "petition"},
            {"text": "公司拖欠工资三个月，可以申请劳动仲裁吗", "label": "legal"},
            {"text": "【停电通知】本周六8:00-12:00线路检修停电", "label": "notice"},
            {"text": "收到，谢谢", "label": "other"},
            {"text": "晚上一起吃饭吧", "label": "other"},
        ],
    )
    out = io.StringIO()
    assert eval_command([str(path), str(path)], out) == 0
    report = out.getvalue()
    assert report.count("macro-F1") == 2
    assert "macro-F1  1.0000" in report
    assert "false-ack 0.0000" in report
    assert "confusion" in report
    for label in ("petition", "legal", "notice", "other"):
        assert label in report


def test_metrics_false_ack() -> None:
    m = metrics(confusion([("other", "petition"), ("other", "other"), ("other", "notice"), ("legal", "legal")]))
    assert m["false_ack"] == pytest.approx(1 / 3)  # notice is not an ack
    assert m["per_class"]["legal"][2] == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ('{"text": "收到"}\n', "line 1"),                       # no label
        ('{"text": "收到", "label": "spam"}\n', "line 1"),       # unknown label
        ('{"text": "收到", "label": "other"}\nnot json\n', "line 2"),
        ('{"text": "收到", "label": "other"}\n{"label": "other"}\n', "line 2"),
    ],
)
def test_eval_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, needle: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(content, encoding="utf-8")
    assert eval_command([str(path)], io.StringIO()) == 2
    err = capsys.readouterr().err
    assert needle in err and "Traceback" not in err


def test_eval_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert eval_command([str(tmp_path / "missing.jsonl")], io.StringIO()) == 2
    assert "missing.jsonl" in capsys.readouterr().err


def test_eval_needs_a_path(capsys: pytest.CaptureFixture[str]) -> None:
    assert eval_command([], io.StringIO()) == 2
    assert capsys.readouterr().err
