"""/trips for a rep who filed the year's weekly trips ahead: the soonest, then "… and K more",
in one message. Before, the list was one message of every trip: over 4,096 characters,
Telegram refused it, and she read only "Sorry, something went wrong" (found by a hostile
review)."""

from __future__ import annotations

from datetime import date, timedelta

from fieldbot.domain.places import Place
from fieldbot.domain.trips import Leg
from fieldbot.services.trips import TripPlan
from tests.builders import said
from tests.harness import REP_ID, World

FRANKFURT = Place("Frankfurt am Main", "DE", "Germany", "Hesse", 50.11, 8.68, "Europe/Berlin")


async def test_trips_with_a_year_of_weekly_trips_still_answers(team: World) -> None:
    rita = await team.services.enrolment.member(REP_ID)
    assert rita is not None
    for week in range(52):  # every Tuesday-Thursday in Frankfurt for a year, filed ahead
        start = date(2026, 12, 1) + timedelta(weeks=week)
        plan = TripPlan(legs=(Leg(FRANKFURT, start, start + timedelta(days=2)),),
                        lodging="Hotel", contact_name="Sam", contact_phone="+4917000000",
                        contact_user_id=None, night_visits=False, companion="")
        submitted = await team.services.trips.submit(rita, plan, f"week-{week}")
        assert submitted.trip is not None
    before = team.rep.mark()
    await team.rep.send("/trips")
    answers = [m.body for m in team.rep.since(before)]
    assert answers and "Your current and upcoming trips" in answers[-1], answers
    assert all(len(a) <= 4096 for a in answers)
    assert answers[-1].rstrip().endswith(said("list.more", count=52 - 20))
    assert "Trip 1 — approved" in answers[-1]  # the soonest first
