from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from hypothesis import settings

from tests.channel_world import channel_world
from tests.harness import World
from tests.pg import PgServer

if TYPE_CHECKING:
    from playwright.async_api import Browser

    from conversations.web.desk import DeskServer

# Property tests check what happens, not how fast: speed is measured in bench/, and a per-example
# deadline only fails on a busy machine (a 2-core CI box running the suite beside other work).
settings.register_profile("fieldbot", deadline=None)
settings.load_profile("fieldbot")

# PTB 22 opts into timedelta-valued durations (retry_after) with this; the bot does too.
os.environ.setdefault("PTB_TIMEDELTA", "true")


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    server = PgServer()
    yield server
    server.drop()


@pytest.fixture(autouse=True)  # so that a module's parametrisation reaches each of its tests
def backend(request: pytest.FixtureRequest) -> str:
    """The engine a test runs on; a module that runs on both parametrises it:
    `pytestmark = pytest.mark.parametrize("backend", BACKENDS, indirect=True)`."""
    # FIELDBOT_TEST_BACKEND=postgresql runs every World test on PostgreSQL (a longer run).
    return str(getattr(request, "param", os.environ.get("FIELDBOT_TEST_BACKEND", "sqlite")))


@pytest.fixture
def db_target(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Path | str:
    """FIELDBOT_DB for this test: a file, or an empty schema of this run's PostgreSQL database."""
    if backend == "sqlite":
        return tmp_path / "fieldbot.db"
    server: PgServer = request.getfixturevalue("pg_server")
    return server.fresh()


@pytest.fixture
async def world(tmp_path: Path, db_target: Path | str) -> AsyncIterator[World]:
    w = World(tmp_path, db=db_target)
    await w.start()
    yield w
    await w.stop()


@pytest.fixture
async def team(world: World) -> World:
    await world.enrol_team()
    return world


@pytest.fixture
async def reach(tmp_path: Path, db_target: Path | str) -> AsyncIterator[World]:
    """The team with the channels live: the fake Twilio, a real SMTP server, the webhook."""
    async with channel_world(tmp_path, db=db_target) as world:
        yield world


# The desk page in a real Chromium (tests/desk_pages.py): loaded only by the tests that ask.
@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    from tests.desk_pages import chromium

    async for launched in chromium():
        yield launched


@pytest.fixture
async def desk(team: World) -> AsyncIterator[DeskServer]:
    from tests.desk_pages import desk_server

    async for server in desk_server(team):
        yield server
