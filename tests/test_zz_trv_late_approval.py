"""A trip approved by the manager after it began: the nights before the approval are not
missed check-ins (the rep was never asked to check in for them)."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.builders import alerts_in, plan, rows
from tests.harness import World


async def test_approving_a_trip_days_after_it_began_raises_no_alert_for_the_nights_before(
    team: World,
) -> None:
    # Rita files a Berlin trip 1-6 Dec with night visits alone: it waits for Mia's approval.
    await plan(team.rep, start="today", end="2026-12-06", companion="alone")
    await team.rep.press("✅ Confirm")
    request = team.manager.last
    assert request.buttons == [["✅ Approve", "❌ Reject"]]
    # Mia is busy and approves on 4 Dec at 11:00 Berlin time.
    team.clock.set(datetime(2026, 12, 4, 10, 0, tzinfo=UTC))
    await team.manager.press("✅ Approve", request)
    assert team.rep.last.body.startswith("✅ Mia approved your trip plan.")
    await team.tick()
    # What happens: the nights of 1, 2 and 3 Dec, which passed while the plan waited and for
    # which Rita was never reminded, are "missed" at once: Mia is alerted that Rita missed her
    # check-in, and the third in a row is an EMERGENCY to the safety officer (Olu).
    # What should happen: nights already over when the trip is approved are not scheduled (or
    # not counted as missed); only tonight (4 Dec) onwards is asked for.
    states = await rows(team, "SELECT day, state FROM nights ORDER BY day")
    assert [n["state"] for n in states if n["day"] < "2026-12-04"] != ["missed"] * 3
    assert not alerts_in(team.officer.texts(), "EMERGENCY")
    assert not await rows(team, "SELECT id FROM alerts")
