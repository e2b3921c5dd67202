from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from hypothesis import settings

from tests.harness import World

# Property tests check what happens, not how fast: speed is measured in bench/, and a per-example
# deadline only fails on a busy machine (a 2-core CI box running the suite beside other work).
settings.register_profile("fieldbot", deadline=None)
settings.load_profile("fieldbot")

# PTB 22 opts into timedelta-valued durations (retry_after) with this; the bot does too.
os.environ.setdefault("PTB_TIMEDELTA", "true")


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    w = World(tmp_path)
    await w.start()
    yield w
    await w.stop()


@pytest.fixture
async def team(world: World) -> World:
    await world.enrol_team()
    return world
