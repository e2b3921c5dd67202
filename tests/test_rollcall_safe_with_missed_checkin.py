"""Rita missed tonight's check-in (alert A-1 is with her manager). An officer's roll-call asks
"Are you safe?" and she presses "✅ I'm safe": she is told that answered only the roll-call and
her check-in is still missing, as a drill's answer tells her. Before, she read "Thank you" and
nothing else while her missed check-in climbed to the officers (found by a hostile review)."""

from __future__ import annotations

from datetime import date, timedelta

from tests.builders import BERLIN, DEADLINE, at, plan_trip, rollcall_near_berlin, said
from tests.harness import World


async def test_im_safe_on_a_roll_call_says_her_check_in_is_still_missing(team: World) -> None:
    await plan_trip(team, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
    await at(team, DEADLINE + timedelta(minutes=35))  # her manager is alerted
    await rollcall_near_berlin(team.officer)
    question = next(m for m in team.rep.messages if (m.body or "").startswith("🔔"))
    mark = team.rep.mark()
    await team.rep.press("✅ I'm safe", question)
    assert said("rollcall.checkin_still_missing") in [m.body for m in team.rep.since(mark)]

    await team.rep.send("/checkin")  # as it says: the alert ends with an all-clear
    assert "checked in" in (team.rep.last.body or "").lower()


async def test_im_safe_on_a_roll_call_with_tonight_done_says_only_thank_you(
        team: World) -> None:
    await plan_trip(team, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
    await at(team, DEADLINE - timedelta(minutes=30))
    await team.rep.send("/checkin")
    await rollcall_near_berlin(team.officer)
    question = next(m for m in team.rep.messages if (m.body or "").startswith("🔔"))
    mark = team.rep.mark()
    await team.rep.press("✅ I'm safe", question)
    assert said("rollcall.checkin_still_missing") not in [m.body for m in team.rep.since(mark)]
