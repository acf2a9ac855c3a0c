"""Loading YAML that people edit by hand (config.yaml, content files, the router's lexicon, the
ledger demo): libyaml's C loader where PyYAML has it, and a key written twice is an error."""
from __future__ import annotations

from typing import Any

import yaml

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
    return yaml.load(text, Loader=UniqueKeyLoader)
