""""I need help" (the roll-call's own 🆘 words) typed to a roll-call's "Are you safe?" raises
the SOS and is recorded as the roll-call's answer, as the button is: before, the tally counted
her as silent and her manager was told she had not answered (found by a review)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from tests.builders import BERLIN, plan_trip, rollcall_near_berlin, rows
from tests.harness import World


async def test_typed_i_need_help_to_a_roll_call_is_recorded_as_help(team: World) -> None:
    await plan_trip(team, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
    team.clock.set(datetime(2026, 12, 1, 12, 0, tzinfo=UTC))  # 13:00 in Berlin, no reminder
    await rollcall_near_berlin(team.officer)
    assert (team.rep.last.body or "").startswith("🔔")

    await team.rep.send("I need help")

    assert any("SOS" in (m.body or "") for m in team.manager.messages)  # the SOS is out
    [person] = await rows(team, "SELECT answer FROM rollcall_people WHERE user_id = ?",
                          team.rep.id)
    assert person["answer"] == "help", person


async def test_typed_help_to_a_roll_call_is_not_chased_as_silence(team: World) -> None:
    await plan_trip(team, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
    team.clock.set(datetime(2026, 12, 1, 12, 0, tzinfo=UTC))
    await rollcall_near_berlin(team.officer)
    await team.rep.send("救命")
    for _ in range(12):  # an hour: the roll-call's reminder and its manager notice are due
        await team.advance(timedelta(minutes=5))
    told_silent = [m.body for m in team.manager.messages if "has not answered" in (m.body or "")]
    assert not told_silent, told_silent
