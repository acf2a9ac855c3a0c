"""jieba set-up: dictionary cache under the data dir, the domain user dict loaded once.

Everything else in ``nlp`` segments through :func:`cut`, so there is exactly one
jieba pass per message.
"""
from __future__ import annotations

import logging
import marshal
import os
import sys
import threading
from pathlib import Path

from common.datadir import data_dir


# jieba 0.42 imports pkg_resources (setuptools: ~0.1 s at every start, and a deprecation
# warning) only to open its bundled dictionary, and opens the same file by path without it.
_HIDE_PKG_RESOURCES = "pkg_resources" not in sys.modules
if _HIDE_PKG_RESOURCES:
    sys.modules["pkg_resources"] = None  # type: ignore[assignment]  # makes that import fail
try:
    import jieba
finally:
    if _HIDE_PKG_RESOURCES:
        del sys.modules["pkg_resources"]

USERDICT_PATH = Path(__file__).with_name("userdict.txt")

_lock = threading.Lock()
_ready: set[Path] = set()


def setup(userdict_path: Path | None = None) -> jieba.Tokenizer:
    """Initialise the global jieba tokenizer once (cache in the data dir, user dict loaded)."""
    path = (userdict_path or USERDICT_PATH).resolve()
    with _lock:
        if path in _ready:
            return jieba.dt
        jieba.setLogLevel(logging.WARNING)  # jieba logs "Building prefix dict" to stderr otherwise
        if not jieba.dt.initialized:
            cache_dir = data_dir()
            if os.access(cache_dir, os.W_OK):
                jieba.dt.tmp_dir = str(cache_dir)
                jieba.dt.cache_file = "jieba.cache"
                _load_cache(cache_dir / "jieba.cache")
            if not jieba.dt.initialized:
                jieba.dt.initialize()  # builds the prefix dictionary and writes the cache
        if path.is_file():
            jieba.dt.load_userdict(str(path))
        _ready.add(path)
    return jieba.dt


def _load_cache(path: Path) -> None:
    """jieba's own cache, read in one piece: jieba's ``marshal.load(file)`` calls the file's
    ``readinto`` for each of its ~500,000 entries (0.5–1 s of every start; ``loads`` on the bytes
    takes 0.3 s). A missing or unreadable cache is left to ``initialize`` to rebuild."""
    try:
        freq, total = marshal.loads(path.read_bytes())
    except (OSError, EOFError, ValueError, TypeError):
        return
    if isinstance(freq, dict) and isinstance(total, int):
        jieba.dt.FREQ, jieba.dt.total, jieba.dt.initialized = freq, total, True


def cut(text: str) -> list[str]:
    """Segment ``text`` (HMM on, so unseen place/person names stay whole)."""
    if not _ready:
        setup()
    return jieba.dt.lcut(text)
