"""Which trip an SOS, an alert and /endtrip are about (issue 10, items 11, 12 and 14) — as Rita
the rep, Mia her manager and Olu the officer."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from fieldbot.domain.places import Place
from fieldbot.domain.trips import Leg
from fieldbot.services.trips import TripPlan
from tests.builders import BERLIN, DEADLINE, at, rows, said
from tests.harness import REP_ID, World

TOKYO = Place("Tokyo", "JP", "Japan", "Tokyo", 35.68, 139.69, "Asia/Tokyo")


async def file(world: World, *legs: tuple[Place, date, date], lodging: str) -> int:
    rita = await world.services.enrolment.member(REP_ID)
    assert rita is not None
    plan = TripPlan(legs=tuple(Leg(p, s, e) for p, s, e in legs), lodging=lodging,
                    contact_name="Sam Fixture", contact_phone="+4917000000",
                    contact_user_id=None, night_visits=False, companion="")
    submitted = await world.services.trips.submit(rita, plan, f"test-{legs[0][1]}-{lodging}")
    assert submitted.trip is not None and submitted.trip.status == "approved"
    return submitted.trip.id


async def status_of(world: World, trip_id: int) -> str:
    [row] = await rows(world, "SELECT status FROM trips WHERE id = ?", trip_id)
    return str(row["status"])


# --- /sos: only the trip under way (item 11) ----------------------------------------------------


async def test_sos_before_a_trip_shows_no_future_hotel_or_dates(team: World) -> None:
    await file(team, (TOKYO, date(2026, 12, 10), date(2026, 12, 12)), lodging="Hotel Later")
    await team.rep.send("/sos")
    alert = team.officer.last.body
    assert "SOS A-1" in alert
    assert "Hotel Later" not in alert and "Tokyo" not in alert and "10 Dec" not in alert


async def test_sos_on_a_trip_shows_that_trip_not_next_weeks(team: World) -> None:
    await file(team, (TOKYO, date(2026, 12, 10), date(2026, 12, 12)), lodging="Hotel Later")
    await file(team, (BERLIN, date(2026, 12, 1), date(2026, 12, 3)), lodging="Hotel Now")
    await team.rep.send("/sos")
    alert = team.officer.last.body
    assert "Hotel Now" in alert and "Berlin" in alert
    assert "Hotel Later" not in alert and "Tokyo" not in alert


async def test_sos_uses_the_local_date_at_the_destination(tmp_path: Path) -> None:
    """A trip to Tokyo starting on 2 Dec is under way at 16:00 UTC on 1 Dec (01:00 in Tokyo)."""
    world = World(tmp_path, start=datetime(2026, 12, 1, 16, 0, tzinfo=UTC))
    await world.start()
    try:
        await world.enrol_team()
        await file(world, (TOKYO, date(2026, 12, 2), date(2026, 12, 4)), lodging="Hotel Shinjuku")
        await world.rep.send("/sos")
        assert "Hotel Shinjuku" in world.officer.last.body
    finally:
        await world.stop()


# --- a night's alert shows its own leg's time zone (item 12) ------------------------------------


async def test_a_missed_tokyo_night_of_a_berlin_then_tokyo_trip_shows_tokyo_time(
    team: World,
) -> None:
    await file(team, (BERLIN, date(2026, 12, 1), date(2026, 12, 2)),
               (TOKYO, date(2026, 12, 3), date(2026, 12, 4)), lodging="Hotel Fixture")
    for evening in range(2):  # Berlin's nights are checked in
        await at(team, DEADLINE + timedelta(days=evening, minutes=-30))
        await team.rep.send("/checkin")
    tokyo_deadline = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)  # 21:00 JST
    await at(team, tokyo_deadline + timedelta(minutes=30))
    alert = team.manager.last.body
    assert "Alert A-1" in alert
    assert "Missed deadline: 21:00 Thu 3 Dec (Tokyo time)" in alert
    assert "Europe/Berlin" not in alert


# --- /endtrip (item 14) -------------------------------------------------------------------------


async def test_endtrip_asks_first_and_keep_changes_nothing(team: World) -> None:
    trip_id = await file(team, (BERLIN, date(2026, 12, 1), date(2026, 12, 3)), lodging="Hotel")
    await team.rep.send("/endtrip")
    ask = team.rep.last
    assert "End your trip now?" in ask.body and "Berlin, Germany, 1 Dec 2026" in ask.body
    assert ask.buttons == [["🏁 End the trip", "Keep it"]]
    await team.rep.press("Keep it")
    assert team.rep.last.body.startswith("OK, your trip goes on")
    assert await status_of(team, trip_id) == "approved"
    assert team.rep.messages[-2].buttons == []  # the question cannot be answered twice
    await team.rep.send("/endtrip")
    await team.rep.send("/cancel")
    assert await status_of(team, trip_id) == "approved"


async def test_endtrip_never_ends_next_weeks_trip(team: World) -> None:
    later = await file(team, (TOKYO, date(2026, 12, 10), date(2026, 12, 12)), lodging="Later")
    await team.rep.send("/endtrip")  # not ended: only offered to be withdrawn, on purpose
    assert team.rep.last.body == said("endtrip.to_come")
    assert await status_of(team, later) == "approved"

    now = await file(team, (BERLIN, date(2026, 12, 1), date(2026, 12, 3)), lodging="Now")
    await team.rep.send("/endtrip")
    assert "Berlin" in team.rep.last.body and "Tokyo" not in team.rep.last.body
    await team.rep.press_data(f"endtrip:end:{later}", team.rep.last)  # forged: next week's
    assert "not under way" in team.rep.last.body
    assert (await status_of(team, later), await status_of(team, now)) == ("approved", "approved")

    await team.rep.send("/endtrip")
    await team.rep.press("🏁 End the trip")
    assert (await status_of(team, later), await status_of(team, now)) == ("approved", "ended")
    pending = await rows(team, "SELECT COUNT(*) AS n FROM nights WHERE trip_id = ?"
                         " AND state = 'pending'", later)
    assert pending[0]["n"] == 3


async def test_the_manager_receives_the_post_trip_safety_report(team: World) -> None:
    await file(team, (BERLIN, date(2026, 12, 1), date(2026, 12, 3)), lodging="Hotel")
    await team.rep.send("/endtrip")
    await team.rep.press("🏁 End the trip")
    await team.rep.send("A taxi driver tried to overcharge me at the airport")
    await team.rep.send("Use the official taxi rank at BER terminal 1")
    report = team.manager.last
    assert "Post-trip safety report from Rita" in report.body
    assert "Berlin, Germany, 1 Dec 2026 – 3 Dec 2026" in report.body
    assert "What happened: A taxi driver tried to overcharge me" in report.body
    assert "Warn colleagues: Use the official taxi rank" in report.body
    assert team.fake.sent_to(team.manager.id)[-1].protect_content
    assert not [t for t in team.officer.texts() if "Post-trip" in t]


async def test_the_manager_hears_of_a_trip_ended_without_a_report(team: World) -> None:
    await file(team, (BERLIN, date(2026, 12, 1), date(2026, 12, 3)), lodging="Hotel")
    await team.rep.send("/endtrip")
    await team.rep.press("🏁 End the trip")
    await team.rep.send("/cancel")
    assert team.rep.last.body == "OK, no report. Your trip stays ended."
    assert "Rita has ended the trip to Berlin, Germany" in team.manager.last.body
    assert "without a post-trip safety report" in team.manager.last.body
    [row] = await rows(team, "SELECT report FROM trips")
    assert row["report"] == ""


async def test_a_rep_with_an_open_missed_check_in_is_asked_are_you_safe(team: World) -> None:
    await file(team, (BERLIN, date(2026, 12, 1), date(2026, 12, 3)), lodging="Hotel")
    await at(team, DEADLINE + timedelta(minutes=30))
    assert "Alert A-1" in team.manager.last.body
    await team.rep.send("/endtrip")
    await team.rep.press("🏁 End the trip")
    [asked] = [m for m in team.rep.messages if "Are you safe?" in m.body]
    assert "Alert A-1 is still open" in asked.body
    assert asked.buttons == [["✅ I'm safe"], ["⏰ +30 min", "Skip tonight"], ["🆘 Need help"]]
    await team.rep.press("✅ I'm safe", asked)
    assert "All clear" in team.manager.last.body
    [alert] = await rows(team, "SELECT state FROM alerts")
    assert alert["state"] == "closed"
