"""The domain imports nothing from the outside world: only the standard library and itself."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

DOMAIN = Path(__file__).parent.parent / "fieldbot" / "domain"
FORBIDDEN = {"telegram", "aiosqlite", "apscheduler", "geopy", "httpx", "pydantic"}


def foreign_imports(source: str, filename: str = "<source>") -> list[str]:
    """Return the modules imported by `source` that a domain module may not import."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source, filename)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level == 1:
                continue  # "from . import x": a sibling in fieldbot.domain
            names = ["." * node.level + (node.module or "")]
        else:
            continue
        for name in names:
            top = name.split(".")[0]
            allowed = name == "fieldbot.domain" or name.startswith("fieldbot.domain.")
            if top in FORBIDDEN or not (allowed or top in sys.stdlib_module_names):
                found.append(name)
    return found


def test_domain_modules_import_only_the_standard_library_and_the_domain() -> None:
    modules = sorted(DOMAIN.rglob("*.py"))
    assert modules, "the domain package is missing"

    offenders = {
        str(path.relative_to(DOMAIN.parent.parent)): foreign
        for path in modules
        if (foreign := foreign_imports(path.read_text(encoding="utf-8"), str(path)))
    }

    assert offenders == {}


@pytest.mark.parametrize(
    "source",
    [
        "import telegram",
        "from telegram.ext import Application",
        "import aiosqlite",
        "from apscheduler.schedulers.asyncio import AsyncIOScheduler",
        "import geopy.geocoders",
        "import httpx",
        "from pydantic import BaseModel",
        "import babel",
        "from fieldbot.storage import db",
        "from fieldbot import clock",
        "from .. import config",
        "def f() -> None:\n    import telegram\n",
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import telegram\n",
    ],
)
def test_the_check_catches_outside_imports(source: str) -> None:
    assert foreign_imports(source) != []


@pytest.mark.parametrize(
    "source",
    [
        "from __future__ import annotations",
        "import zoneinfo",
        "from datetime import UTC, datetime",
        "from collections.abc import Mapping",
        "from fieldbot.domain.trips import Trip",
        "from . import places",
    ],
)
def test_the_check_allows_the_standard_library_and_the_domain(source: str) -> None:
    assert foreign_imports(source) == []


def _imported_modules(path: Path) -> set[str]:
    """Return every module `path` imports, wherever in the file (absolute names)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
    return found


def test_services_never_reach_the_driver_and_the_core_never_imports_telegram() -> None:
    core = DOMAIN.parent
    services = sorted((core / "services").rglob("*.py"))
    assert services, "the services package is missing"
    drivers = {
        str(path.relative_to(core.parent)): sorted(bad)
        for path in services
        if (bad := {m for m in _imported_modules(path)
                    if m.split(".")[0] in {"sqlite3", "aiosqlite"}})
    }
    telegram = {
        str(path.relative_to(core.parent)): sorted(bad)
        for path in sorted(core.rglob("*.py"))
        if (bad := {m for m in _imported_modules(path) if m.split(".")[0] == "telegram"})
    }
    assert drivers == {}
    assert telegram == {}
