"""jieba set-up: dictionary cache under the data dir, the domain user dict loaded once.

Everything else in ``nlp`` segments through :func:`cut`, so there is exactly one
jieba pass per message.
"""
from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

import jieba

USERDICT_PATH = Path(__file__).with_name("userdict.txt")

_lock = threading.Lock()
_ready: set[Path] = set()


def data_dir() -> Path:
    """STAIRWELL_DATA_DIR or ``data/`` relative to the CWD; created if missing."""
    path = Path(os.environ.get("STAIRWELL_DATA_DIR") or "data")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError:
        # A read-only data dir must not stop routing; jieba falls back to its temp dir.
        pass
    return path


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
            jieba.dt.initialize()
        if path.is_file():
            jieba.dt.load_userdict(str(path))
        _ready.add(path)
    return jieba.dt


def cut(text: str) -> list[str]:
    """Segment ``text`` (HMM on, so unseen place/person names stay whole)."""
    if not _ready:
        setup()
    return jieba.dt.lcut(text)
