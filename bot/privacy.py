"""Masking of personal numbers before anything is stored or echoed (个人信息保护法)."""
from __future__ import annotations

import re

# Mainland mobile numbers, not inside a longer digit run; an optional +86 / 0086 prefix, and
# spaces, dashes or dots between the groups.
_SEP = r"[ \-.\u3000]?"
_PHONE = re.compile(rf"(?<!\d)(?:(?:\+|00)?86{_SEP})?(1[3-9]\d){_SEP}(\d{{4}}){_SEP}(\d{{4}})(?!\d)")
# 18-digit resident ID numbers (last character may be X), spaces allowed after the 6th and 14th
# digits as people write them; and the old 15-digit numbers.
_ID_CARD = re.compile(r"(?<![0-9A-Za-z])(\d{6})[ -]?(\d{8})[ -]?(\d{3}[0-9Xx])(?![0-9A-Za-z])")
# Bank card numbers (16-19 digits, Luhn-valid), spaces allowed in groups of four.
_CARD = re.compile(r"(?<![0-9])(?:\d[ ]?){15,18}\d(?![0-9])")
_OLD_ID_CARD = re.compile(  # region (not starting with 0), YYMMDD, 3 digits
    r"(?<![0-9A-Za-z])(?=[1-9]\d{7}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}(?![0-9A-Za-z]))"
    r"(\d{6})(\d{5})(\d{4})"
)


def mask_id_numbers(text: str) -> str:
    text = _ID_CARD.sub(lambda m: f"{m.group(1)}********{m.group(3)}", text)
    return _OLD_ID_CARD.sub(lambda m: f"{m.group(1)}*****{m.group(3)}", text)


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def mask_cards(text: str) -> str:
    def repl(m: re.Match[str]) -> str:
        digits = m.group(0).replace(" ", "")
        return f"****{digits[-4:]}" if 16 <= len(digits) <= 19 and _luhn_ok(digits) else m.group(0)

    return _CARD.sub(repl, text)


def mask_phones(text: str) -> str:
    return _PHONE.sub(lambda m: f"{m.group(1)}****{m.group(3)}", text)


def mask(text: str) -> str:
    """Mask ID numbers first (they contain phone-like runs), then phone numbers."""
    return mask_phones(mask_cards(mask_id_numbers(text.translate(_FULLWIDTH_DIGITS))))


_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")
MAX_STORED_CHARS = 10_000


_FULLWIDTH_DIGITS = str.maketrans("０１２３４５６７８９＋", "0123456789+")


def clean_text(text: str) -> str:
    """Drop zero-width and direction characters, make full-width digits plain (so masking sees
    them); trim; cap the stored length."""
    return _INVISIBLE.sub("", text).translate(_FULLWIDTH_DIGITS).strip()[:MAX_STORED_CHARS]


# Flat and room numbers in what staff write to a whole group: 3幢502室, 3号楼1单元502室, 502室,
# 3栋1单元502, 3-1-502 (not a date: its first part is 1 to 3 digits).
_NOT_A_FLAT_AFTER = r"(?![0-9-]|\s*(?:元|块|人|点|年|月|个|次|分|米|平|号|产|间))"
_FLATS = re.compile(
    r"(?<![0-9月])(?:"
    r"[0-9]+\s*(?:幢|栋|号楼|号|单元|楼)\s*(?:[0-9]+\s*单元\s*)?[0-9]{3,4}\s*(?:室|号房|房(?!产))?"
    r"|[0-9]{3,4}\s*(?:室|号房|房(?!产))"
    r"|[0-9]{1,3}-[0-9]{1,2}-(?!(?:19|20)[0-9]{2}(?![0-9]))[0-9]{3,4}"
    r")" + _NOT_A_FLAT_AFTER
)


def mask_flats(text: str) -> str:
    """'3幢502室张阿姨家门口' -> '***室张阿姨家门口': no flat number in a group post."""
    return _FLATS.sub("***室", text)
