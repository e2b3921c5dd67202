"""A trip that crosses the date line westwards (Honolulu, then Tokyo): the last Honolulu night's
check-in window overlaps the first Tokyo night's. "I'm safe" on the Honolulu reminder checks in
the Honolulu night, the one whose deadline is soonest (`domain.schedule.night_for`). Before, the
latest window opened won: the Tokyo night was checked in hours before she got there (it could
never escalate), and the Honolulu night she answered went missed (found by a hostile review)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from fieldbot.domain.places import Place
from fieldbot.domain.trips import Leg
from fieldbot.services.trips import TripPlan
from tests.builders import alerts_in, at, rows
from tests.harness import REP_ID, World
from tests.pg import BACKENDS

pytestmark = pytest.mark.parametrize("backend", BACKENDS, indirect=True)

HONOLULU = Place("Honolulu", "US", "United States", "Hawaii", 21.31, -157.86, "Pacific/Honolulu")
TOKYO = Place("Tokyo", "JP", "Japan", "Tokyo", 35.68, 139.69, "Asia/Tokyo")
SAFE = "✅ I'm safe"


async def test_im_safe_on_the_last_honolulu_night_checks_in_that_night(team: World) -> None:
    rita = await team.services.enrolment.member(REP_ID)
    assert rita is not None
    plan = TripPlan(legs=(Leg(HONOLULU, date(2026, 12, 1), date(2026, 12, 3)),
                          Leg(TOKYO, date(2026, 12, 3), date(2026, 12, 5))),
                    lodging="Hotel", contact_name="Sam", contact_phone="+4917000000",
                    contact_user_id=None, night_visits=False, companion="")
    submitted = await team.services.trips.submit(rita, plan, "dateline")
    assert submitted.trip is not None and submitted.trip.status == "approved"

    # 1 Dec in Honolulu: reminder at 20:00 HST (06:00 UTC on 2 Dec), Rita taps I'm safe.
    await at(team, datetime(2026, 12, 2, 6, 0, tzinfo=UTC))
    await team.rep.press(SAFE)
    # 2 Dec in Honolulu, her last night there: the reminder comes at 20:00 HST (06:00 UTC on
    # 3 Dec) and she taps I'm safe on it at 20:05, an hour before its 21:00 deadline.
    await at(team, datetime(2026, 12, 3, 6, 0, tzinfo=UTC))
    reminder = team.rep.last
    assert SAFE in [b for row in reminder.buttons for b in row]
    team.clock.advance(timedelta(minutes=5))
    await team.rep.press(SAFE, reminder)
    # The first Tokyo night's window opened at 12:00 JST (03:00 UTC): both are open now.
    await team.advance(timedelta(minutes=50))  # 07:00 UTC: the Honolulu deadline
    await team.advance(timedelta(minutes=40))  # +40 min: the manager tier
    states = {r["day"]: r["state"]
              for r in await rows(team, "SELECT day, state FROM nights ORDER BY day")}
    assert states["2026-12-02"] == "checked_in", states
    assert states["2026-12-03"] != "checked_in", states
    assert not alerts_in(team.manager.texts(), "missed tonight's check-in")
