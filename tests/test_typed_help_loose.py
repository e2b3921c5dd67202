""""help me", "求助", "帮我" typed with no question open ask how the bot works: no SOS (they
are one only as the answer to a question that waits). Before, each alerted the manager and the
officers on every channel (found by a review of the change)."""

from __future__ import annotations

import pytest

from tests.builders import rows
from tests.harness import World


@pytest.mark.parametrize("typed", ["help me", "Help me!", "求助", "帮我"])
async def test_asking_the_bot_for_help_with_nothing_open_raises_no_sos(
        team: World, typed: str) -> None:
    await team.rep.send(typed)
    assert not await rows(team, "SELECT id, kind FROM alerts"), team.rep.texts()[-2:]
