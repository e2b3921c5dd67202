"""A visit between two trips: back from Berlin, next week's trip to Tokyo already filed. The
visit's typed end is read in Berlin's zone, the last trip begun. Before, the trip still to come
set it: "(Tokyo time; it is now 23:00)", and "17:00", two hours ahead in Berlin, was refused as
past (found by a hostile review)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from fieldbot.domain.places import Place
from tests.builders import BERLIN, plan_trip, rows
from tests.harness import World

TOKYO = Place("Tokyo", "JP", "Japan", "Tokyo", 35.68, 139.69, "Asia/Tokyo")


async def test_a_visit_before_next_weeks_trip_is_not_in_that_trips_time_zone(
    team: World,
) -> None:
    await plan_trip(team, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
    await plan_trip(team, TOKYO, date(2026, 12, 20), date(2026, 12, 22))
    team.clock.set(datetime(2026, 12, 10, 14, 0, tzinfo=UTC))  # 15:00 in Berlin
    await team.rep.send("/visit")
    await team.rep.send("Acme GmbH")
    await team.rep.press("Alone")
    assert "Tokyo time" not in team.rep.last.body, team.rep.last.body
    assert "Berlin time" in team.rep.last.body
    await team.rep.send("17:00")
    await team.rep.press("▶️ Start")
    [row] = await rows(team, "SELECT tz_name FROM visits")
    assert row["tz_name"] == "Europe/Berlin"
