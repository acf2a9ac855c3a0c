"""The leaf helpers in common/: one table of Chinese numerals, one text splitter."""
from __future__ import annotations

import pytest

from common.numerals import cn_number
from common.text import split_text, split_utf8, utf8_size
from handlers.petitions import places


@pytest.mark.parametrize(
    ("text", "value"),
    [("9", 9), ("09", 9), ("九", 9), ("十", 10), ("十二", 12), ("二十", 20), ("二十三", 23), ("两", 2),
     ("〇", 0), ("零", 0), ("一二", 12), ("十十", 10)],
)
def test_cn_number(text: str, value: int) -> None:
    assert cn_number(text) == value


def test_places_and_dates_read_numerals_alike() -> None:
    """Floors and units in petitions use the same numerals as dates in /定时."""
    assert places("五楼楼道灯坏了") == {"floor": 5}
    assert places("十二层的电梯") == {"floor": 12}
    assert places("三单元2楼") == {"unit": 3, "floor": 2}


def test_split_by_characters_keeps_lines_whole() -> None:
    text = "\n".join(f"第{i}行：" + "字" * 10 for i in range(10))
    parts = split_text(text, 40)
    assert all(len(p) <= 40 for p in parts)
    assert "\n".join(parts) == text  # cut only at line breaks, nothing lost
    assert split_text("短", 40) == ["短"]
    assert split_text("长" * 95, 40) == ["长" * 40, "长" * 40, "长" * 15]


def test_split_by_utf8_bytes() -> None:
    text = "楼道灯坏了\n" * 300  # 16 bytes a line
    parts = split_utf8(text, 2048)
    assert all(utf8_size(p) <= 2048 for p in parts) and len(parts) == 3
    assert "\n".join(parts) == text.rstrip("\n")
    # a character wider than the limit is still cut off on its own (no endless loop)
    assert split_text("楼楼", 2, utf8_size) == ["楼", "楼"]


def test_yaml_written_by_hand_refuses_a_key_written_twice():
    """config.yaml, the content files and the router's lexicon: YAML keeps the last of two equal
    keys silently (the lexicon had 不转 twice with different weights)."""
    import yaml

    from common.yamlload import load_unique

    with pytest.raises(yaml.YAMLError, match="'不转' is written twice"):
        load_unique("设施报修:\n  不转: 1.2\n  不亮: 2.0\n  不转: 1.5\n")
    assert load_unique("base: &b {a: 1, b: 2}\nx:\n  <<: *b\n  b: 3\n")["x"] == {"a": 1, "b": 3}
    assert load_unique("a: {x: 1}\nb: {x: 1}\n") == {"a": {"x": 1}, "b": {"x": 1}}


def _big_yaml(rooms: int, extra: str = "") -> str:
    lines = ["holidays: {2027-01-01: 元旦}", "rooms:"]
    lines += [f"  - {{id: r{n:04d}, topic: 幸福里{n}号楼楼道群, kind: stairwell}}" for n in range(rooms)]
    return "\n".join(lines) + "\n" + extra


def test_a_large_yaml_file_is_parsed_once_and_read_back_from_the_data_folder(tmp_path, monkeypatch):
    """A district's config takes a third of a second to parse at every start (issue 15): its
    parsed data is kept under the data folder by the hash of its text, so an edit is never
    missed, an error is never kept, and a cache file holding anything but plain data is ignored."""
    import pickle
    from datetime import date

    import yaml

    from common import yamlload

    monkeypatch.setenv("STAIRWELL_DATA_DIR", str(tmp_path))
    text = _big_yaml(800)
    assert len(text) > yamlload.CACHE_FROM
    first = yamlload.load_unique(text)
    cached = list((tmp_path / "cache").glob("yaml-*.pickle"))
    assert len(cached) == 1
    assert yamlload.load_unique(text) == first
    assert first["holidays"] == {date(2027, 1, 1): "元旦"} and len(first["rooms"]) == 800

    # the cache is what is read: a changed copy (same name) shows through ...
    changed = dict(first, rooms=first["rooms"][:1])
    cached[0].write_bytes(pickle.dumps(changed))
    assert len(yamlload.load_unique(text)["rooms"]) == 1
    # ... but never an object that plain YAML cannot make, nor a broken file
    cached[0].write_bytes(pickle.dumps({"x": pytest.MonkeyPatch}))
    assert yamlload.load_unique(text) == first
    cached[0].write_bytes(b"not a pickle")
    assert yamlload.load_unique(text) == first

    # an edit is a new text: parsed afresh, and its error raised, not kept
    edited = text.replace("r0001", "r9999")
    assert yamlload.load_unique(edited)["rooms"][1]["id"] == "r9999"
    with pytest.raises(yaml.YAMLError, match="written twice"):
        yamlload.load_unique(_big_yaml(800, "rooms: []\n"))
    with pytest.raises(yaml.YAMLError, match="written twice"):
        yamlload.load_unique(_big_yaml(800, "rooms: []\n"))
    assert len(list((tmp_path / "cache").glob("yaml-*.pickle"))) == 2


def test_an_unwritable_data_folder_only_means_parsing_again(tmp_path, monkeypatch):
    from common import yamlload

    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    monkeypatch.setenv("STAIRWELL_DATA_DIR", str(blocked))
    text = _big_yaml(800)
    assert yamlload.load_unique(text) == yamlload.load_unique(text)
    assert len(yamlload.load_unique(text)["rooms"]) == 800


async def test_the_collector_pauses_nest_across_threads_and_come_back():
    """common.heap (issue 15's stalls): bulk work in a worker thread runs with the cyclic collector
    paused, pauses nest, and the collector runs again when the last ends; the start's pause ends
    with the start's objects frozen (never walked again)."""
    import gc

    from common import heap

    assert gc.isenabled()
    seen: list[bool] = []
    heap.pause()
    try:
        await heap.bulk_in_thread(lambda: seen.append(gc.isenabled()))
        assert not gc.isenabled()  # the outer pause still holds after the inner one ended
    finally:
        heap.resume()
    assert seen == [False] and gc.isenabled()
    with pytest.raises(ZeroDivisionError):
        await heap.bulk_in_thread(lambda: 1 / 0)
    assert gc.isenabled()  # an error in the work ends its pause too

    start = heap.StartPause()
    assert not gc.isenabled()
    frozen = gc.get_freeze_count()
    try:
        start.settle()
        assert gc.isenabled() and gc.get_freeze_count() > frozen
        start.end()  # once only
        assert gc.isenabled()
    finally:
        gc.unfreeze()
    failed = heap.StartPause()
    failed.end()  # a start that failed: no freeze, the collector back
    assert gc.isenabled()
