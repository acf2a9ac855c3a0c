"""Masking of personal numbers before anything is stored or echoed (个人信息保护法)."""
from __future__ import annotations

import re

# Mainland mobile numbers, not inside a longer digit run; spaces/dashes between groups allowed.
_PHONE = re.compile(r"(?<!\d)(1[3-9]\d)[ -]?(\d{4})[ -]?(\d{4})(?!\d)")
# 18-digit resident ID numbers (last character may be X).
_ID_CARD = re.compile(r"(?<![0-9A-Za-z])(\d{6})(\d{8})(\d{3}[0-9Xx])(?![0-9A-Za-z])")


def mask_id_numbers(text: str) -> str:
    return _ID_CARD.sub(lambda m: f"{m.group(1)}********{m.group(3)}", text)


def mask_phones(text: str) -> str:
    return _PHONE.sub(lambda m: f"{m.group(1)}****{m.group(3)}", text)


def mask(text: str) -> str:
    """Mask ID numbers first (they contain phone-like runs), then phone numbers."""
    return mask_phones(mask_id_numbers(text))


_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")
MAX_STORED_CHARS = 10_000


def clean_text(text: str) -> str:
    """Drop zero-width and direction characters; trim; cap the stored length."""
    return _INVISIBLE.sub("", text).strip()[:MAX_STORED_CHARS]
