"""A colleague's "✅ I'm done, safe" (or "done") forwarded during her visit does not end it:
forwarded words are not hers, and a visit ended on them would alert nobody if she never came
out (found by a review of the change)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from tests.builders import BERLIN, lone_visit, plan_trip, rows
from tests.harness import World


@pytest.mark.parametrize("words", ["✅ I'm done, safe", "done"])
async def test_a_forwarded_im_done_does_not_end_her_visit(team: World, words: str) -> None:
    await plan_trip(team, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
    team.clock.set(datetime(2026, 12, 1, 12, 30, tzinfo=UTC))
    await lone_visit(team.rep)
    [visit] = await rows(team, "SELECT state FROM visits")
    assert visit["state"] != "ended"

    await team.rep.forward(words, written_by=team.manager)

    [visit] = await rows(team, "SELECT state FROM visits")
    assert visit["state"] != "ended", team.rep.texts()[-2:]
