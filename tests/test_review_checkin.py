"""Review of issue 10 by trying (item 6: a question about one night never acts on another):
yesterday's reminder buttons, pressed tonight, change nothing about tonight."""

from __future__ import annotations

from datetime import date, timedelta

from tests.harness import World
from tests.test_escalation_flow import BERLIN, REMINDER, at, plan_trip
from tests.test_trip_flow import rows


async def test_yesterdays_snooze_button_does_not_move_tonights_deadline(team: World) -> None:
    await plan_trip(team, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
    await at(team, REMINDER)
    yesterdays = team.rep.last
    await team.rep.send("/checkin")  # checked in by command: the reminder keeps its buttons
    await at(team, REMINDER + timedelta(days=1))
    before = await rows(team, "SELECT deadline, snoozes FROM nights ORDER BY day")
    await team.rep.press("⏰ +30 min", yesterdays)
    assert await rows(team, "SELECT deadline, snoozes FROM nights ORDER BY day") == before
    assert "another night" in team.rep.last.body
    await team.rep.press("⏰ +30 min")  # tonight's own reminder still snoozes tonight
    assert "deadline is now 21:30 Wed 2 Dec" in team.rep.last.body
