"""Content files (YAML) the bot answers from, each validated by a pydantic model at start:
the legal FAQ (nlp.faq), everyday questions (便民, nlp.faq) and legal aid (content.legal_aid).
A bad file stops the start with one line naming the file and the entry."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ValidationError

CONTENT_DIR = Path(__file__).resolve().parent
LEGAL_FAQ = CONTENT_DIR / "legal_faq.yaml"
BIANMIN = CONTENT_DIR / "bianmin.yaml"
LEGAL_AID = CONTENT_DIR / "legal_aid.yaml"


def validate_all() -> None:
    """Load every content file once (cached by its loader); raises ValueError naming the entry."""
    from content.legal_aid import aid_content
    from nlp.faq import bianmin_faq, legal_faq

    legal_faq()
    bianmin_faq()
    aid_content()


def describe_errors(exc: ValidationError, data: Any = None) -> str:
    """One line per problem, naming the entry: ``documents[1] ('hardship').label: …``."""
    lines = []
    for error in exc.errors():
        loc, node, path = error["loc"], data, ""
        for part in loc:
            path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
            node = node[part] if _has(node, part) else None
            if isinstance(part, int) and isinstance(node, dict) and node.get("id"):
                path += f" ({node['id']!r})"
        lines.append(f"{path or 'entry'}: {str(error['msg']).removeprefix('Value error, ')}")
    return "; ".join(lines)


def _has(node: Any, part: Any) -> bool:
    return (isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)) or (
        isinstance(node, dict) and part in node)
