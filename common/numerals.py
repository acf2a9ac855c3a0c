"""Chinese numerals as people type them: one table for masking, dates, floors and units."""
from __future__ import annotations

# The ten digits; 〇 and 零 are both zero.
CN_DIGITS: dict[str, int] = {
    "〇": 0, "零": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9,
}
# Spoken variants: 两 in counts and times (两点, 两周), 幺 when reading out a phone number (幺三八…).
SPOKEN_DIGITS: dict[str, int] = {"两": 2, "幺": 1}
# 大写 (financial) digits, as on cheques and receipts; someone may spell a number with them too.
FINANCIAL_DIGITS: dict[str, int] = {
    "壹": 1, "贰": 2, "貳": 2, "叁": 3, "參": 3, "肆": 4, "伍": 5, "陆": 6, "陸": 6, "柒": 7, "捌": 8, "玖": 9,
}
FULLWIDTH_DIGITS = "０１２３４５６７８９"
_VALUES = {**CN_DIGITS, **SPOKEN_DIGITS}


def cn_number(text: str) -> int:
    """'9', '09', '九', '十', '十二', '二十三', '两', '一二' -> int (0..99); an unknown character counts 0."""
    if text.isdigit():
        return int(text)
    if "十" in text:
        tens, _, ones = text.partition("十")
        return (_VALUES.get(tens, 0) if tens else 1) * 10 + _VALUES.get(ones, 0)
    value = 0
    for ch in text:
        value = value * 10 + _VALUES.get(ch, 0)
    return value
