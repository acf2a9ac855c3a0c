"""Splitting a long text into messages a chat network accepts."""
from __future__ import annotations

from typing import Callable


def utf8_size(text: str) -> int:
    return len(text.encode())


def split_text(text: str, limit: int, size: Callable[[str], int] = len) -> list[str]:
    """Pieces of at most ``limit`` (as ``size`` measures: characters, or UTF-8 bytes with
    ``utf8_size``), split at line breaks where possible, never mid-way through a short line;
    a single over-long line is cut between characters."""
    if size(text) <= limit:
        return [text]
    pieces: list[str] = []
    current = ""
    for line in text.splitlines(keepends=True):
        if size(current + line) <= limit:
            current += line
            continue
        if current:
            pieces.append(current)
            current = ""
        while size(line) > limit:  # a single over-long line: hard cut
            cut = _fitting(line, limit, size)
            pieces.append(line[:cut])
            line = line[cut:]
        current = line
    if current:
        pieces.append(current)
    return [p.rstrip("\n") for p in pieces if p.strip()]  # a newline at a cut carries no content


def _fitting(line: str, limit: int, size: Callable[[str], int]) -> int:
    """How many leading characters of ``line`` fit in ``limit`` (at least one, so cutting ends)."""
    total = 0
    for i, ch in enumerate(line):
        total += size(ch)
        if total > limit:
            return max(i, 1)
    return len(line)


def split_utf8(text: str, limit: int) -> list[str]:
    """Pieces of at most ``limit`` UTF-8 bytes (WeCom's robot counts bytes)."""
    return split_text(text, limit, utf8_size)
