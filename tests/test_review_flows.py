"""Review of issue 10 by trying (item 6): a command that starts the open flow again must not
fall through to "not available" — it closes the open question visibly and starts afresh."""

from __future__ import annotations

from datetime import date

from tests.harness import World
from tests.test_escalation_flow import BERLIN, plan_trip
from tests.test_trip_flow import rows

NOT_AVAILABLE = "This is not available yet in this version of the bot."


async def test_endtrip_sent_twice_asks_again_and_ends_the_trip_once(team: World) -> None:
    await plan_trip(team, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
    await team.rep.send("/endtrip")
    mark = team.rep.mark()
    await team.rep.send("/endtrip")
    bodies = [m.body for m in team.rep.since(mark)]
    assert NOT_AVAILABLE not in bodies
    assert bodies[-1].startswith("🏁 End your trip now?")
    await team.rep.press("🏁 End the trip")
    assert [r["status"] for r in await rows(team, "SELECT status FROM trips")] == ["ended"]
    mark = team.rep.mark()
    await team.rep.send("/endtrip")  # the post-trip report question is open now
    assert NOT_AVAILABLE not in [m.body for m in team.rep.since(mark)]


async def test_risk_sent_twice_asks_again(team: World) -> None:
    await team.rep.send("/risk")
    mark = team.rep.mark()
    await team.rep.send("/risk")
    bodies = [m.body for m in team.rep.since(mark)]
    assert NOT_AVAILABLE not in bodies
