"""The lock files (what `make` and CI install, with hashes) agree with pyproject.toml."""
from __future__ import annotations

import re
import tomllib

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from tests.conftest import ROOT

PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)\s*(?:;\s*([^\\]+?))?\s*\\?$")
PYTHONS = ("3.11", "3.12", "3.13")


def locked(name: str) -> dict[str, list[tuple[Version, Marker | None]]]:
    pins: dict[str, list[tuple[Version, Marker | None]]] = {}
    for line in (ROOT / name).read_text(encoding="utf-8").splitlines():
        match = PIN.match(line)
        if match:
            marker = Marker(match.group(3)) if match.group(3) else None
            pins.setdefault(canonicalize_name(match.group(1)), []).append((Version(match.group(2)), marker))
    return pins


def requirements(*extras: str) -> list[Requirement]:
    wanted = [*PROJECT["dependencies"], *(r for extra in extras for r in PROJECT["optional-dependencies"][extra])]
    return [Requirement(r) for r in wanted if not r.startswith(PROJECT["name"])]  # not the self-reference


@pytest.mark.parametrize("lock, extras", [("requirements.lock", ()), ("requirements-test.lock", ("wechaty", "test"))])
@pytest.mark.parametrize("python", PYTHONS)
def test_every_dependency_is_locked_for_every_python(lock, extras, python):
    pins = locked(lock)
    env = {"python_version": python, "python_full_version": f"{python}.0", "sys_platform": "linux",
           "platform_system": "Linux", "implementation_name": "cpython",
           "platform_python_implementation": "CPython"}
    for req in requirements(*extras):
        if req.marker is not None and not req.marker.evaluate(env):
            continue
        versions = [v for v, marker in pins.get(canonicalize_name(req.name), [])
                    if marker is None or marker.evaluate(env)]
        assert versions, f"{req.name} is not in {lock} for Python {python}: run `make lock`"
        assert all(req.specifier.contains(v, prereleases=True) for v in versions), \
            f"{lock} pins {req.name} {versions}, pyproject.toml wants {req.specifier}: run `make lock`"


def test_the_wechaty_pins_stay_in_the_wechaty_extra():
    core = locked("requirements.lock")
    assert "urllib3" not in core and "wechaty" not in core
    test = locked("requirements-test.lock")
    assert all(marker is not None and not marker.evaluate({"python_full_version": "3.13.0", "python_version": "3.13"})
               for _, marker in test["urllib3"])
