"""Reading untrusted JSON from HTTP bodies (the web chat API, the webhook bridge's form fields).

``json.loads`` alone turns hostile input into 500s or silent losses: nesting a thousand levels
deep raises RecursionError, a 100,000-digit number raises ValueError (Python's int limit), a
``"\\ud800"`` escape yields a string that cannot be stored, and a ``"\\u0000"`` in an id is a 500
on PostgreSQL (its text cannot hold NUL). :func:`loads` turns all of these into :class:`BadInput`,
which the endpoints answer with 400.
"""
from __future__ import annotations

import json
import re
from typing import Any

MAX_DEPTH = 16  # our bodies are flat objects; the bridge's "source" is three levels deep
MAX_NUMBER_CHARS = 32
_SURROGATE = re.compile("[\ud800-\udfff]")
_NUL = "\x00"


class BadInput(ValueError):
    """The body is not something we accept; the message is safe to show to the sender."""


def _number(text: str) -> float | int:
    if len(text) > MAX_NUMBER_CHARS:
        raise BadInput("a number in the body is too long")
    return float(text) if any(c in text for c in ".eE") else int(text)


def _no_constant(name: str) -> Any:
    raise BadInput(f"'{name}' is not valid JSON")


def check_string(value: str, what: str = "the body") -> str:
    """``value`` unless it holds a lone surrogate or a NUL (not text; storing either would fail)."""
    if _SURROGATE.search(value):
        raise BadInput(f"{what} contains an invalid character (a lone surrogate)")
    if _NUL in value:
        raise BadInput(f"{what} contains an invalid character (NUL)")
    return value


def _check(value: Any) -> None:
    """Depth and strings of a parsed value, without recursion."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            check_string(item)
            continue
        if not isinstance(item, (dict, list)):
            continue
        if depth > MAX_DEPTH:
            raise BadInput(f"the body is nested more than {MAX_DEPTH} levels deep")
        if isinstance(item, dict):
            for key, child in item.items():
                check_string(key)
                stack.append((child, depth + 1))
        else:
            stack.extend((child, depth + 1) for child in item)


def loads(raw: str | bytes) -> Any:
    """Parse JSON from an untrusted source, or raise :class:`BadInput`."""
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        value = json.loads(text, parse_int=_number, parse_float=_number, parse_constant=_no_constant)
    except BadInput:
        raise
    except RecursionError as exc:
        raise BadInput(f"the body is nested more than {MAX_DEPTH} levels deep") from exc
    except (ValueError, UnicodeDecodeError) as exc:  # JSONDecodeError is a ValueError
        raise BadInput("the body is not valid JSON (UTF-8)") from exc
    _check(value)
    return value
