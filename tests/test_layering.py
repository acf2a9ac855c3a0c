"""The packages' layering, checked on the source: which package may import which.

    common    leaf helpers (time zone, privacy rules, numerals, text splitting): imports no package
    nlp       words, dates, routing: common only
    storage   tables and queries: common (and nlp), never the bot, handlers, jobs or domain rules
    domain    rules shared by handlers and jobs: never handlers
    schedules the scheduler and its jobs: never handlers
    handlers, bot  the top; only bot/transports touches a chat library (wechaty and its kin)

Every import counts, also those inside functions and under TYPE_CHECKING: a lazy import is still
a dependency. Read with ``ast``, so nothing is imported to check it.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "common", "domain", "handlers", "nlp", "schedules", "storage")
FORBIDDEN: dict[str, frozenset[str]] = {
    "common": frozenset(PACKAGES) - {"common"},
    "nlp": frozenset({"bot", "domain", "handlers", "schedules", "storage"}),
    "storage": frozenset({"bot", "domain", "handlers", "schedules"}),
    "domain": frozenset({"handlers"}),
    "schedules": frozenset({"handlers"}),
}
# The chat libraries of the [wechaty] extra: the core runs (and its tests pass) without them.
TRANSPORT_LIBRARIES = frozenset({"wechaty", "wechaty_puppet", "wechaty_puppet_service", "wechaty_grpc",
                                 "betterproto", "grpclib", "pyee"})
TRANSPORTS_DIR = ROOT / "bot" / "transports"


def imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) for every absolute import in the file; relative ones resolved to their package."""
    package = path.relative_to(ROOT).parts[0]
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            found.append((node.lineno, package if node.level else node.module or ""))
    return found


def sources(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def violations(package: str) -> list[str]:
    """'path:line imports module' for each import that breaks the rules above."""
    out = []
    for path in sources(package):
        for line, module in imports(path):
            top = module.split(".")[0]
            banned = top in FORBIDDEN.get(package, ()) or (
                top in TRANSPORT_LIBRARIES and TRANSPORTS_DIR not in path.parents)
            if banned:
                out.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    return out


@pytest.mark.parametrize("package", PACKAGES)
def test_package_imports_only_what_its_layer_may(package: str) -> None:
    assert sources(package), f"no sources found for {package}"
    assert violations(package) == []


def test_the_checker_sees_imports_in_functions_and_reports_them(tmp_path: Path, monkeypatch) -> None:
    """The rule bites: a lazy storage -> bot import and a wechaty import outside transports are caught."""
    for name in ("storage", "bot"):
        (tmp_path / name).mkdir()
    (tmp_path / "storage" / "bad.py").write_text(
        "import sqlalchemy\n\ndef f():\n    from bot.config import AppConfig\n    return AppConfig\n")
    (tmp_path / "bot" / "bad.py").write_text("from wechaty import Wechaty\nfrom . import config\n")
    monkeypatch.setitem(globals(), "ROOT", tmp_path)
    monkeypatch.setitem(globals(), "TRANSPORTS_DIR", tmp_path / "bot" / "transports")
    assert violations("storage") == ["storage/bad.py:4 imports bot.config"]
    assert violations("bot") == ["bot/bad.py:1 imports wechaty"]



def test_transport_capabilities_are_declared_with_defaults() -> None:
    """The core reads optional capabilities as attributes (no getattr probing): the Transport
    protocol declares each one, TransportBase defaults it, and every transport extends TransportBase."""
    import importlib
    import inspect
    import pkgutil

    import bot.staff
    import bot.transports
    from bot.transports.base import Transport, TransportBase

    declared = set(Transport.__annotations__) - {"name"}
    assert {"idempotent_sends", "stable_ids", "connects_later", "bound_port"} <= declared
    assert all(hasattr(TransportBase, capability) for capability in declared)
    assert TransportBase.idempotent_sends is False  # unknown delivery: never resend after a crash

    found = []
    for package in (bot.transports, bot.staff):
        for info in pkgutil.iter_modules(package.__path__, package.__name__ + "."):
            try:
                module = importlib.import_module(info.name)
            except ImportError:  # the [wechaty] extra is optional
                continue
            for _, cls in inspect.getmembers(module, inspect.isclass):
                if cls.__module__ == module.__name__ and cls is not Transport and hasattr(cls, "send") and hasattr(cls, "start"):
                    found.append(cls)
    assert len(found) >= 4 and all(issubclass(cls, TransportBase) for cls in found), found
    assert all(isinstance(cls.idempotent_sends, bool) for cls in found)
