"""The bot's own folder for caches (jieba's dictionary, parsed YAML, wechaty's cache):
``STAIRWELL_DATA_DIR``, or ``data/`` in the working directory."""
from __future__ import annotations

import os
from pathlib import Path

DATA_DIR_ENV = "STAIRWELL_DATA_DIR"


def data_dir() -> Path:
    """The folder, created if missing (a read-only one is returned as it is: callers that
    write there check, and a cache that cannot be written is only slower)."""
    path = Path(os.environ.get(DATA_DIR_ENV) or "data")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError:
        pass
    return path
