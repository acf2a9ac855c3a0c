"""Phone and ID masking in the forms residents actually type."""
from __future__ import annotations

import pytest

from bot.privacy import clean_text, mask


@pytest.mark.parametrize(
    "raw, masked",
    [
        ("电话13812345678", "电话138****5678"),
        ("电话 138 1234 5678 谢谢", "电话 138****5678 谢谢"),
        ("电话138-1234-5678", "电话138****5678"),
        ("电话138.1234.5678", "电话138****5678"),
        ("+8613812345678", "138****5678"),
        ("+86 138 1234 5678", "138****5678"),
        ("008613812345678", "138****5678"),
        ("１３８１２３４５６７８", "138****5678"),
        ("身份证110105194912310021", "身份证110105********0021"),
        ("身份证11010519491231002X", "身份证110105********002X"),
        ("身份证 110105 19491231 0021", "身份证 110105********0021"),
        ("老身份证110105491231002", "老身份证110105*****1002"),
        ("身份证110105-19491231-0021", "身份证110105********0021"),
        ("卡号6222 0212 3456 7890 128", "卡号****0128"),
    ],
)
def test_numbers_are_masked(raw, masked):
    assert mask(raw) == masked


@pytest.mark.parametrize("text", ["订单号20261125123456789012", "3幢502室", "门牌1301", "金额12345元", "2026-11-25"])
def test_other_numbers_are_left_alone(text):
    assert mask(text) == text


def test_clean_text_makes_fullwidth_digits_plain():
    assert clean_text("\u200b电话１３８１２３４５６７８") == "电话13812345678"


@pytest.mark.parametrize(
    "raw, masked",
    [
        ("3幢502室门口的纸箱已清理", "***室门口的纸箱已清理"),
        ("3号楼1单元502室", "***室"),
        ("3-1-502漏水已修好", "***室漏水已修好"),
        ("1101房的住户", "***室的住户"),
        ("3单元502", "***室"),
        ("5楼502漏水", "***室漏水"),
        ("3幢502房产证", "***室房产证"),
    ],
)
def test_flat_numbers_are_masked_for_group_posts(raw, masked):
    from bot.privacy import mask_flats

    assert mask_flats(raw) == masked


@pytest.mark.parametrize("text", ["2026-11-25", "2室1厅", "12月1日", "3天", "12月5号 1500人参加", "5号1380元", "1-15-2024"])
def test_flat_masking_leaves_dates_and_layouts(text):
    from bot.privacy import mask_flats

    assert mask_flats(text) == text
