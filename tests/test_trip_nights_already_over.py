"""A night whose deadline was over when its trip was saved or approved was never asked for:
it is not scheduled, so it is never "missed". Before, a trip filed at 21:30 on its first day
alerted the manager at once ("late … the bot or Telegram was not available", neither true),
and a trip approved on its fourth day raised three missed nights and an EMERGENCY for nights
nobody had reminded the rep of. Found by a hostile review."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.builders import DEADLINE, alerts_in, plan, rows
from tests.harness import World


async def test_a_trip_filed_after_tonights_deadline_alerts_nobody(team: World) -> None:
    team.clock.set(DEADLINE + timedelta(minutes=30))  # 21:30 in Berlin, 1 Dec
    await plan(team.rep, start="today", end="2026-12-03")
    await team.rep.press("✅ Confirm")
    assert "First deadline: 21:00 Wed 2 Dec (Berlin time)" in team.rep.last.body
    await team.tick()
    await team.advance(timedelta(minutes=45))

    days = [r["day"] for r in await rows(team, "SELECT day FROM nights ORDER BY day")]
    assert days == ["2026-12-02", "2026-12-03"]  # tonight was over before she filed
    assert not alerts_in(team.manager.texts(), "missed tonight's check-in")
    assert not await rows(team, "SELECT id FROM alerts")


async def test_a_trip_filed_before_tonights_deadline_still_asks_for_tonight(
        team: World) -> None:
    team.clock.set(DEADLINE - timedelta(minutes=30))  # 20:30: the reminder is already due
    await plan(team.rep, start="today", end="2026-12-03")
    await team.rep.press("✅ Confirm")
    await team.tick()
    days = [r["day"] for r in await rows(team, "SELECT day FROM nights ORDER BY day")]
    assert days[0] == "2026-12-01"
    await team.advance(timedelta(minutes=31))  # she never answers: tonight is missed
    assert await rows(team, "SELECT id FROM alerts WHERE kind = 'missed'")


async def test_a_trip_approved_days_after_it_began_asks_from_then_on(team: World) -> None:
    await plan(team.rep, start="today", end="2026-12-06", companion="alone")
    await team.rep.press("✅ Confirm")
    request = team.manager.last
    assert request.buttons == [["✅ Approve", "❌ Reject"]]
    team.clock.set(datetime(2026, 12, 4, 10, 0, tzinfo=UTC))  # Mia approves on 4 Dec, 11:00
    await team.manager.press("✅ Approve", request)
    assert team.rep.last.body.startswith("✅ Mia approved your trip plan.")
    await team.tick()

    days = [r["day"] for r in await rows(team, "SELECT day FROM nights ORDER BY day")]
    assert days[0] == "2026-12-04"
    assert not alerts_in(team.officer.texts(), "EMERGENCY")
    assert not await rows(team, "SELECT id FROM alerts")
