"""The desk's lists are bounded, most urgent first across every team, and say how many were
left out. Before, the people were cut at 500 in team order (a missed check-in in team south
was dropped behind 499 people who were fine in team north) and the alerts at 200, both without
a word (found by a hostile review of the desk)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from conversations.web.desk.view import MAX_ALERTS, MAX_PEOPLE, snapshot
from fieldbot.domain.places import Place
from fieldbot.domain.roles import Role
from fieldbot.domain.trips import Leg
from fieldbot.services.trips import TripPlan
from tests.builders import BERLIN, at, enrol_south, plan_for
from tests.harness import World

NAIROBI = Place("Nairobi", "KE", "Kenya", "Nairobi", -1.2864, 36.8172, "Africa/Nairobi")


async def _travellers(world: World, team: str, count: int, first_id: int) -> list[int]:
    """`count` staff of `team`, each on an approved trip to Berlin (1-3 Dec)."""
    s, ids = world.services, []
    for i in range(count):
        invite = await s.enrolment.create_invite(None, Role.STAFF, team)
        member = await s.enrolment.redeem(invite.code, first_id + i, f"Traveller {i}", "en")
        plan = TripPlan(legs=(Leg(BERLIN, date(2026, 12, 1), date(2026, 12, 3)),),
                        lodging="Hotel", contact_name="Sam", contact_phone="+4917000000",
                        contact_user_id=None, night_visits=False, companion="")
        submitted = await s.trips.submit(member, plan, f"bulk-{first_id + i}")
        assert submitted.trip is not None and submitted.trip.status == "approved"
        ids.append(member.id)
    return ids


async def test_an_officer_with_many_travellers_still_sees_the_one_who_missed_her_check_in(
        team: World) -> None:
    # Team north: Rita pressed SOS, and 500 colleagues travel in Berlin, all fine so far.
    # Team south: Sven in Nairobi missed tonight's check-in (21:00 there = 18:00 UTC).
    _, sven = await enrol_south(team)
    await _travellers(team, "north", MAX_PEOPLE, 900_000)
    await plan_for(team, team.rep, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
    await plan_for(team, sven, NAIROBI, date(2026, 12, 1), date(2026, 12, 3))
    await at(team, datetime(2026, 12, 1, 18, 40, tzinfo=UTC))
    await team.services.escalation.raise_sos(team.rep.id)
    olu = await team.services.enrolment.member(team.officer.id)
    assert olu is not None

    shown = (await snapshot(team.services, olu, None)).data

    states = {p["name"]: p["state"] for p in shown["people"]}
    assert "Sven" in states
    assert shown["people_more"] == len(shown["people"]) + shown["people_more"] - MAX_PEOPLE
    assert shown["people_more"] > 0


async def test_more_open_alerts_than_the_page_lists_are_not_dropped_without_a_word(
        team: World) -> None:
    ids = await _travellers(team, "north", MAX_ALERTS + 1, 900_000)
    await at(team, datetime(2026, 12, 1, 12, 0, tzinfo=UTC))
    for uid in ids:  # a crisis: everyone presses SOS
        await team.services.escalation.raise_sos(uid)
    olu = await team.services.enrolment.member(team.officer.id)
    assert olu is not None

    shown = (await snapshot(team.services, olu, None)).data

    assert (len(shown["alerts"]), shown["alerts_more"]) == (MAX_ALERTS, 1)
