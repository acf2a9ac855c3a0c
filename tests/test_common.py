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
