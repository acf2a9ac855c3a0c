"""YAML read with libyaml's C loader where PyYAML was built with it (a district's config, the
router's lexicon and the FAQ parse several times faster than with the pure-Python SafeLoader;
the same safe subset: plain data, no Python objects)."""
from __future__ import annotations

from typing import IO, Any

import yaml

SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def safe_load(stream: str | bytes | IO[str] | IO[bytes]) -> Any:
    """yaml.safe_load, with the C loader when available (raises yaml.YAMLError the same way)."""
    return yaml.load(stream, Loader=SAFE_LOADER)
