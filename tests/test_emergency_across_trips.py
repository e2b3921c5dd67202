"""Three missed nights in a row are an EMERGENCY whichever trip plans they belong to
(DESIGN.md §3; the policy's "three consecutive missed days"). Before, the nights were counted
per trip: Berlin 1-2 December and, as a second plan, 3-5 December, all missed, raised three
ordinary alerts and never the emergency-contact procedure (found by a hostile review)."""

from __future__ import annotations

from datetime import date, timedelta

from tests.builders import BERLIN, DEADLINE, at, plan_trip, rows
from tests.harness import World


async def test_the_third_missed_night_in_a_row_is_an_emergency_across_two_trips(
    team: World,
) -> None:
    await plan_trip(team, BERLIN, date(2026, 12, 1), date(2026, 12, 2))
    await plan_trip(team, BERLIN, date(2026, 12, 3), date(2026, 12, 5))
    for night in range(3):
        await at(team, DEADLINE + timedelta(days=night, minutes=1))

    kinds = [r["kind"] for r in await rows(team, "SELECT kind FROM alerts ORDER BY anchor")]
    assert kinds[:2] == ["missed", "missed"]
    assert kinds[2] == "emergency", kinds  # 1, 2 and 3 December: three in a row


async def test_a_day_without_a_trip_between_breaks_the_row(team: World) -> None:
    await plan_trip(team, BERLIN, date(2026, 12, 1), date(2026, 12, 2))
    await plan_trip(team, BERLIN, date(2026, 12, 4), date(2026, 12, 5))  # the 3rd at home
    for night in (0, 1, 3):
        await at(team, DEADLINE + timedelta(days=night, minutes=1))
    kinds = [r["kind"] for r in await rows(team, "SELECT kind FROM alerts ORDER BY anchor")]
    assert kinds == ["missed", "missed", "missed"]
