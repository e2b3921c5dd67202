"""The arrows point inward: the domain imports only the standard library, the core never
imports telegram, conversations reach storage only through services, and the fake Telegram
stands alone."""

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


ROOT = DOMAIN.parent.parent


def imported_modules(source: str, package: str, filename: str = "<source>") -> list[str]:
    """Return every module `source` imports, anywhere in it, relative imports made absolute
    (`package` is the dotted package the source lives in)."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source, filename)):
        if isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:
                base = package.split(".")[:len(package.split(".")) - node.level + 1]
                module = ".".join([*base, *filter(None, [node.module])])
            # "from fieldbot import storage" imports fieldbot.storage: name both
            found.append(module)
            found.extend(f"{module}.{alias.name}" for alias in node.names)
    return found


def banned_imports(source: str, package: str, banned: tuple[str, ...]) -> list[str]:
    """Return the imports of `source` that are one of `banned` or inside one of them."""
    return [name for name in imported_modules(source, package)
            if any(name == b or name.startswith(b + ".") for b in banned)]


def offenders(top: str, banned: tuple[str, ...]) -> dict[str, list[str]]:
    """Return {file: banned imports} for every module of the package `top`."""
    modules = sorted((ROOT / top).rglob("*.py"))
    assert modules, f"the {top} package is missing"
    out: dict[str, list[str]] = {}
    for path in modules:
        relative = path.relative_to(ROOT)
        parts = relative.with_suffix("").parts
        package = ".".join(parts if path.name == "__init__.py" else parts[:-1])
        found = banned_imports(path.read_text(encoding="utf-8"), package, banned)
        if found:
            out[str(relative)] = found
    return out


# Who may not import whom: the arrows point inward.
NO_TELEGRAM_IN_THE_CORE = ("fieldbot", ("telegram",))
NO_STORAGE_IN_CONVERSATIONS = ("conversations", ("fieldbot.storage",))
FAKETELEGRAM_STANDS_ALONE = ("faketelegram", ("telegram", "fieldbot"))
FAKETWILIO_STANDS_ALONE = ("faketwilio", ("telegram", "fieldbot", "conversations",
                                          "faketelegram"))


def test_the_core_never_imports_telegram() -> None:
    assert offenders(*NO_TELEGRAM_IN_THE_CORE) == {}


def test_conversations_reach_storage_only_through_services() -> None:
    assert offenders(*NO_STORAGE_IN_CONVERSATIONS) == {}


def test_the_fake_telegram_imports_neither_telegram_nor_fieldbot() -> None:
    assert offenders(*FAKETELEGRAM_STANDS_ALONE) == {}


def test_the_fake_twilio_imports_neither_the_bot_nor_the_fake_telegram() -> None:
    assert offenders(*FAKETWILIO_STANDS_ALONE) == {}


@pytest.mark.parametrize(
    ("rule", "package", "source"),
    [
        (NO_TELEGRAM_IN_THE_CORE, "fieldbot.services", "import telegram"),
        (NO_TELEGRAM_IN_THE_CORE, "fieldbot.services", "from telegram.ext import Application"),
        (NO_TELEGRAM_IN_THE_CORE, "fieldbot", "def f() -> None:\n    import telegram.error\n"),
        (NO_STORAGE_IN_CONVERSATIONS, "conversations.runtime", "from fieldbot.storage import kv"),
        (NO_STORAGE_IN_CONVERSATIONS, "conversations.flows", "import fieldbot.storage.db"),
        (NO_STORAGE_IN_CONVERSATIONS, "conversations.flows",
         "from fieldbot.storage.outbox import PRIORITY_SOS"),
        (FAKETELEGRAM_STANDS_ALONE, "faketelegram", "from telegram import Bot"),
        (FAKETELEGRAM_STANDS_ALONE, "faketelegram", "import fieldbot.clock"),
        (FAKETELEGRAM_STANDS_ALONE, "faketelegram", "from fieldbot.domain import trips"),
        (FAKETWILIO_STANDS_ALONE, "faketwilio", "from fieldbot.channels import twilio"),
        (FAKETWILIO_STANDS_ALONE, "faketwilio", "from faketelegram.api import FakeTelegram"),
    ],
)
def test_each_arrow_check_catches_a_planted_import(
    rule: tuple[str, tuple[str, ...]], package: str, source: str
) -> None:
    assert banned_imports(source, package, rule[1]) != []


@pytest.mark.parametrize(
    ("rule", "package", "source"),
    [
        (NO_TELEGRAM_IN_THE_CORE, "fieldbot.services", "from fieldbot.domain import trips"),
        (NO_TELEGRAM_IN_THE_CORE, "fieldbot.services", "import telegramx"),
        (NO_STORAGE_IN_CONVERSATIONS, "conversations.flows", "from fieldbot.services import x"),
        (NO_STORAGE_IN_CONVERSATIONS, "conversations.flows", "from . import drafts"),
        (FAKETELEGRAM_STANDS_ALONE, "faketelegram", "from faketelegram.api import FakeTelegram"),
        (FAKETELEGRAM_STANDS_ALONE, "faketelegram", "from .html import check"),
        (FAKETWILIO_STANDS_ALONE, "faketwilio", "from faketwilio.api import FakeTwilio"),
    ],
)
def test_each_arrow_check_allows_what_the_layer_may_import(
    rule: tuple[str, tuple[str, ...]], package: str, source: str
) -> None:
    assert banned_imports(source, package, rule[1]) == []


def test_relative_imports_are_resolved_before_the_check() -> None:
    assert "fieldbot.storage" in banned_imports("from ..storage import kv", "fieldbot.services",
                                                ("fieldbot.storage",))
    assert "fieldbot.storage.kv" in banned_imports(
        "from ...storage.kv import put", "fieldbot.services.sub", ("fieldbot.storage",))
    assert banned_imports("from fieldbot import storage", "conversations",
                          ("fieldbot.storage",)) == ["fieldbot.storage"]


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
                    if m.split(".")[0] in {"sqlite3", "aiosqlite", "asyncpg", "psycopg"}})
    }
    telegram = {
        str(path.relative_to(core.parent)): sorted(bad)
        for path in sorted(core.rglob("*.py"))
        if (bad := {m for m in _imported_modules(path) if m.split(".")[0] == "telegram"})
    }
    assert drivers == {}
    assert telegram == {}
