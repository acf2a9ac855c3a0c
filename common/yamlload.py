"""Loading YAML that people edit by hand (config.yaml, content files, the router's lexicon, the
ledger demo): libyaml's C loader where PyYAML has it, and a key written twice is an error.

A large file's parsed data is kept in the data folder, named by a hash of its text: a district's
config (800 groups, 320 KB) takes 0.35 s to parse at every start and 4 ms to read back (issue
15's start-up). Any edit changes the hash, so a stale copy is never read; validation (pydantic)
still runs on every load.
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import io
import os
import pickle
import tempfile
from pathlib import Path
from typing import Any

import yaml

from common.datadir import data_dir

CACHE_FROM = 32 * 1024  # smaller files parse in a few ms: not worth a file each
CACHE_KEEP = 8  # parsed copies kept (older versions of an edited config are removed)
_CACHE_VERSION = b"yaml-cache-1"  # part of every name: a change of the loader's rules starts afresh

# libyaml's C loader when it is installed (parses a district's config ~10x faster).
_BASE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class UniqueKeyLoader(_BASE_LOADER):  # type: ignore[valid-type,misc]  # the base is chosen at run time (C or Python)
    """The safe loader refusing a key written twice in one mapping: YAML would keep the last one
    silently, so a second ``people:`` or ``schedules:`` pasted lower down drops the first."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: set = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)
            if isinstance(key, (str, int, float, bool)) and key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"the key '{key}' is written twice in the same section", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def load_unique(text: str) -> Any:
    """YAML data from ``text``; yaml.YAMLError (with the line) for bad YAML or a key written twice."""
    if len(text) < CACHE_FROM:
        return yaml.load(text, Loader=UniqueKeyLoader)
    folder = data_dir() / "cache"
    digest = hashlib.sha256(_CACHE_VERSION + yaml.__version__.encode() + text.encode("utf-8")).hexdigest()
    path = folder / f"yaml-{digest[:40]}.pickle"
    data = _read_cached(path)
    if data is not _MISSING:
        return data
    data = yaml.load(text, Loader=UniqueKeyLoader)  # a YAML error is raised here, never cached
    _write_cached(folder, path, data)
    return data


_MISSING = object()


class _PlainDataUnpickler(pickle.Unpickler):
    """Only what the safe loader produces (plain containers, strings, numbers, dates): a file
    in the cache that holds anything else is not loaded."""

    _ALLOWED = {("datetime", "date"), ("datetime", "datetime"), ("datetime", "timezone"),
                ("datetime", "timedelta")}

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in self._ALLOWED:
            return getattr(_dt, name)
        raise pickle.UnpicklingError(f"{module}.{name} is not plain YAML data")


def _read_cached(path: Path) -> Any:
    try:
        return _PlainDataUnpickler(io.BytesIO(path.read_bytes())).load()
    except (OSError, pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError):
        return _MISSING


def _write_cached(folder: Path, path: Path, data: Any) -> None:
    """Atomically (a temporary file renamed), and best effort: a folder that cannot be written
    only means parsing again next time."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".yaml-", suffix=".tmp")
        with os.fdopen(fd, "wb") as out:
            pickle.dump(data, out, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
        kept = sorted(folder.glob("yaml-*.pickle"), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in kept[CACHE_KEEP:]:
            old.unlink(missing_ok=True)
    except OSError:
        pass
