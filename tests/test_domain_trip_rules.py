"""Every rule of a trip plan holds whoever submits it: the conversation checks them as they
are typed, `TripService.submit` checks them all again (a day may have passed meanwhile)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from fieldbot.domain.places import Place
from fieldbot.domain.trips import (
    MAX_DAYS_AHEAD,
    MAX_LEGS,
    MAX_LODGING,
    DateProblem,
    Leg,
    PlanProblem,
    check_plan,
    earliest_today,
)
from fieldbot.services.trips import TripPlan, TripRefused
from tests.harness import REP_ID, World

BERLIN = Place("Berlin", "DE", "Germany", "Berlin", 52.52, 13.405, "Europe/Berlin")
HONOLULU = Place("Honolulu", "US", "United States", "Hawaii", 21.31, -157.86, "Pacific/Honolulu")
NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)  # 09:00 in Berlin, 22:00 the day before in Hawaii
TODAY = date(2026, 12, 1)


def problem(*legs: Leg, lodging: str = "Hotel", max_days: int = 60) -> object:
    return check_plan(legs, lodging=lodging, contact_name="Sam", contact_phone="+4917000000",
                      companion="", now=NOW, max_days=max_days)


def test_a_plan_within_every_rule_passes() -> None:
    assert problem(Leg(BERLIN, TODAY, TODAY + timedelta(days=2)),
                   Leg(HONOLULU, TODAY + timedelta(days=2), TODAY + timedelta(days=5))) is None


def test_today_is_the_destinations_own_date() -> None:
    yesterday = TODAY - timedelta(days=1)  # still today in Honolulu
    assert problem(Leg(HONOLULU, yesterday, TODAY)) is None
    assert problem(Leg(BERLIN, yesterday, TODAY)) is DateProblem.IN_THE_PAST


@pytest.mark.parametrize(
    ("legs", "expected"),
    [
        ((), PlanProblem.NO_LEGS),
        (tuple(Leg(BERLIN, TODAY, TODAY) for _ in range(MAX_LEGS + 1)),
         PlanProblem.TOO_MANY_LEGS),
        ((Leg(BERLIN, TODAY + timedelta(days=MAX_DAYS_AHEAD + 1),
              TODAY + timedelta(days=MAX_DAYS_AHEAD + 2)),), DateProblem.TOO_FAR),
        ((Leg(BERLIN, TODAY + timedelta(days=3), TODAY + timedelta(days=2)),),
         DateProblem.END_BEFORE_START),
        ((Leg(BERLIN, TODAY, TODAY + timedelta(days=4)),
          Leg(HONOLULU, TODAY + timedelta(days=3), TODAY + timedelta(days=6))),
         PlanProblem.BEFORE_PREVIOUS),
        ((Leg(BERLIN, TODAY, TODAY + timedelta(days=30)),
          Leg(HONOLULU, TODAY + timedelta(days=30), TODAY + timedelta(days=60))),
         DateProblem.TOO_LONG),
    ],
)
def test_a_plan_breaking_a_rule_is_refused_with_the_rule(
    legs: tuple[Leg, ...], expected: object
) -> None:
    assert problem(*legs) is expected


def test_text_fields_are_bounded() -> None:
    leg = Leg(BERLIN, TODAY, TODAY)
    assert problem(leg, lodging="L" * MAX_LODGING) is None
    assert problem(leg, lodging="L" * (MAX_LODGING + 1)) is PlanProblem.TOO_LONG_TEXT


def test_the_earliest_date_on_earth_is_at_utc_minus_twelve() -> None:
    assert earliest_today(datetime(2026, 12, 1, 11, 59, tzinfo=UTC)) == date(2026, 11, 30)
    assert earliest_today(datetime(2026, 12, 1, 12, 0, tzinfo=UTC)) == TODAY


async def test_the_service_refuses_a_plan_the_conversation_would_have_refused(
    team: World,
) -> None:
    rita = await team.services.enrolment.member(REP_ID)
    assert rita is not None
    today = team.clock.now().date()
    plan = TripPlan(legs=(Leg(BERLIN, today - timedelta(days=3), today),), lodging="Hotel",
                    contact_name="Sam Fixture", contact_phone="+4917000000",
                    contact_user_id=None, night_visits=False, companion="")
    submitted = await team.services.trips.submit(rita, plan, "past-plan")
    assert (submitted.trip, submitted.refused, submitted.problem) == (
        None, TripRefused.INVALID, DateProblem.IN_THE_PAST)
    assert await team.services.trips.current_and_upcoming(REP_ID, today - timedelta(days=5)) \
        == []
