"""Masking of personal numbers before anything is stored or echoed (个人信息保护法)."""
from __future__ import annotations

import re
import unicodedata

from common.numerals import CN_DIGITS, FINANCIAL_DIGITS, FULLWIDTH_DIGITS, SPOKEN_DIGITS

# ---- personal numbers --------------------------------------------------------------------------
# People spell numbers every which way: 138 1234 5678, 138-1234-5678, "1 3 8 1 2 …", with a
# no-break or WeChat's U+2005 space, full-width or circled digits, 一三八… in Chinese numerals,
# 110101-1990-0307-1234. So masking works on a "digit view" of the text (every digit-like
# character as an ASCII digit, same length), finds runs of digit groups joined by short gaps,
# and masks the consecutive groups that together form a phone, ID or bank card number. A group
# (a run of adjacent digits) is never split: a phone inside a longer digit run is not a phone.


class _DigitView(dict):
    """str.translate table: any digit-like character -> its ASCII digit (filled lazily)."""

    def __missing__(self, code: int) -> str:
        char = chr(code)
        digit = unicodedata.digit(char, None)  # digits of every script, full-width, ①, ¹, ⒈ …
        value = self[code] = char if digit is None else str(digit)
        return value


_VIEW = _DigitView()
# Chinese numerals get a view of their own: in one view with the digits, "李四13812345678" would
# be the 12-digit run "413812345678" and not a phone number.
_CJK_VIEW = str.maketrans(
    {c: str(d) for c, d in {**CN_DIGITS, **FINANCIAL_DIGITS, "幺": SPOKEN_DIGITS["幺"]}.items()}
)
# What people put between digit groups: spaces of every width, dashes, dots, slashes, tildes,
# brackets (full-width ones too, as a Chinese keyboard types them), zero-width characters, the
# emoji parts of keycap digits (1️⃣). At most three in a row; never a colon or comma (times, amounts).
_GAP = (
    "[ \t\u00a0\u1680\u2000-\u200f\u2010-\u2015\u2060\u202f\u205f\u2212\u3000\ufeff\ufe0f\u20e3"
    "\uff0d\uff0e\uff0f\uff5e~._/·•()（）\\-]"
)
_KEYCAP = "\ufe0f\u20e3"
_RUN = re.compile(rf"\+?[0-9]+(?:{_GAP}{{1,3}}[0-9]+)*(?:[XxＸｘ](?![A-Za-zＡ-Ｚａ-ｚ]))?")
_GROUP = re.compile(r"[0-9]+")
_MAX_DIGITS = 19


def _date_ok(year: str, month: str, day: str) -> bool:
    return 1 <= int(month) <= 12 and 1 <= int(day) <= 31 and len(year) in (2, 4) and (
        len(year) == 2 or year[:2] in ("19", "20"))


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def _phone(digits: str) -> str | None:
    for prefix in ("", "86", "0086"):
        rest = digits[len(prefix):]
        if digits.startswith(prefix) and len(rest) == 11 and rest[0] == "1" and rest[1] in "3456789":
            return f"{rest[:3]}****{rest[-4:]}"
    return None


def _classify(digits: str, joined: bool) -> str | None:
    """The masked form when ``digits`` (a trailing X allowed) is a phone, ID or card number.

    ``joined``: the digits come from several groups; an ID number then needs a birth date.
    """
    n = len(digits)
    if n == 18 and digits[:17].isdigit() and (not joined or _date_ok(digits[6:10], digits[10:12], digits[12:14])):
        return f"{digits[:6]}********{digits[14:]}"
    if not digits.isdigit():
        return None
    phone = _phone(digits)
    if phone:
        return phone
    if n == 15 and digits[0] != "0" and _date_ok(digits[6:8], digits[8:10], digits[10:12]):
        return f"{digits[:6]}*****{digits[11:]}"  # the old 15-digit ID
    if 16 <= n <= _MAX_DIGITS and _luhn_ok(digits):
        return f"****{digits[-4:]}"
    return None


def _mask_run(view: str, start: int, end: int) -> list[tuple[int, int, str]]:
    """(start, end, masked) for the sensitive numbers in the run view[start:end]."""
    run = view[start:end]
    groups = [(m.start() + start, m.end() + start, m.group()) for m in _GROUP.finditer(run)]
    check_x = run[-1] in "XxＸｘ"  # an ID number's check character, after the last group
    found: list[tuple[int, int, str]] = []
    i = 0
    while i < len(groups):
        best: tuple[int, int, str] | None = None  # (last group, end, masked)
        digits = ""
        for j in range(i, len(groups)):
            digits += groups[j][2]
            if len(digits) > _MAX_DIGITS:
                break
            joined, group_end = j > i, groups[j][1]
            masked = _classify(digits + "X", joined) if check_x and j == len(groups) - 1 else None
            if masked is not None:
                group_end += 1
            else:
                masked = _classify(digits, joined)
            if masked is not None:
                best = (j, group_end, masked)
                if not joined:  # one group is a number by itself: take it as written
                    break
        if best is None:
            i += 1
            continue
        j, group_end, masked = best
        first = groups[i][0] - (1 if i == 0 and run[0] == "+" else 0)
        found.append((first, group_end, masked))
        i = j + 1
    return found


def mask(text: str) -> str:
    """Phone, ID (18 and 15 digits) and bank card (16-19 digits, Luhn) numbers, however spelt."""
    views = [text] if text.isascii() else [text.translate(_VIEW), text.translate(_CJK_VIEW)]
    spans: list[tuple[int, int, str]] = []
    for view in views:
        for run in _RUN.finditer(view):
            if run.end() - run.start() >= 11:
                spans.extend(_mask_run(view, run.start(), run.end()))
    if not spans:
        return text
    spans.sort(key=lambda span: (span[0], -span[1]))
    out, at = [], 0
    for start, end, masked in spans:
        while end < len(text) and text[end] in _KEYCAP:  # the last digit's keycap emoji goes with it
            end += 1
        if start < at:  # found in both views: the first (longest) one stands for both
            at = max(at, end)
            continue
        out += [text[at:start], masked]
        at = end
    out.append(text[at:])
    return "".join(out)


# ---- text and names as they come in ----------------------------------------------------------
# Invisible characters: zero-width, direction marks/overrides/isolates, soft hyphen, Mongolian
# vowel separator, invisible math operators, the Hangul fillers used for "blank" names, BOM.
_INVISIBLE = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180e\u200b-\u200f\u202a-\u202e"
    "\u2060-\u206f\u3164\ufeff\uffa0\ufff9-\ufffb]"
)
# Control characters other than tab and newline; lone surrogates (not text: storing them fails).
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]|[\ud800-\udfff]")
MAX_STORED_CHARS = 10_000
_FULLWIDTH_DIGITS = str.maketrans(FULLWIDTH_DIGITS + "＋", "0123456789+")


def clean_text(text: str) -> str:
    """Drop invisible and control characters (a lone surrogate becomes U+FFFD), make full-width
    digits plain (so masking sees them); trim; cap the stored length."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL.sub(lambda m: "\ufffd" if "\ud800" <= m.group() <= "\udfff" else "", text)
    return _INVISIBLE.sub("", text).translate(_FULLWIDTH_DIGITS).strip()[:MAX_STORED_CHARS]


# Display names are input too: a name can carry newlines, runs of WeChat's U+2005 (which ends a
# mention), direction overrides or a fake 【通知】 header, and it is echoed in "@name …" replies.
MAX_NAME_CHARS = 32
NAMELESS = "居民"
_SPACES = re.compile(r"[\s\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+")
# 【通知】, 〖公告〗, [紧急], 〔系统〕, 「通知」, 《公告》, 【 通 知 】 …: bracketed words the bot itself
# puts at the head of a post (in any bracket, spaced out or not), and "通知：" as a heading.
_HEADER_WORDS = "通知|公告|通告|告知|紧急|重要|提醒|警告|注意|系统|官方|管理员|群主|物业|社区|居委|街道|派出所|公安|新工单|工单|回执|私信"
_HEADER = re.compile(_HEADER_WORDS)
_OPEN, _CLOSE = "【〖〔［[（(「『《〈<｛{〘〚", "】〗〕］]）)」』》〉>｝}〙〛"
_BRACKETED = re.compile(rf"[{re.escape(_OPEN)}]([^{re.escape(_CLOSE)}]*)[{re.escape(_CLOSE)}]")
_HEADING = re.compile(rf"(?:{_HEADER_WORDS})\s*[:：]")


def _drop_fake_header(match: re.Match[str]) -> str:
    return " " if _HEADER.search(re.sub(r"[\W_]+", "", match.group(1))) else match.group(0)

_BRACKETS = str.maketrans({"【": "(", "】": ")", "〖": "(", "〗": ")", "〔": "(", "〕": ")", "［": "(", "］": ")",
                           "@": None, "＠": None, "#": None, "＃": None})


_MENTION_ALL = frozenset({"所有人", "全体成员", "全体", "all", "everyone"})
# The bot's own name (config's bot.name is added at start): "@楼道通 已收到…" or "【工单 #1 追加】楼道通："
# under a resident's name would read as the bot speaking.
_RESERVED = {"楼道通"}


def reserve_name(name: str) -> None:
    """No one's display name may read as ``name`` (the bot's)."""
    if name.strip():
        _RESERVED.add(_SPACES.sub("", name).lower())


def clean_name(name: str, limit: int = MAX_NAME_CHARS) -> str:
    """A display name fit to store and echo: cleaned like text, on one line with single spaces,
    without fake headers, @ or #, phone/ID numbers masked, at most ``limit`` characters."""
    cleaned = _SPACES.sub(" ", clean_text(name))
    cleaned = _HEADING.sub(" ", _BRACKETED.sub(_drop_fake_header, cleaned)).translate(_BRACKETS)
    cleaned = _SPACES.sub(" ", mask(cleaned)).strip()[:limit].strip()
    squashed = _SPACES.sub("", cleaned).lower()
    if squashed in _MENTION_ALL or squashed.startswith(tuple(_RESERVED)):
        return NAMELESS  # "@所有人 已收到…" would mention everyone; "@楼道通 …" the bot itself
    return cleaned or (NAMELESS if name.strip() else "")


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
