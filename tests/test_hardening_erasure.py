"""Erasure stops the safety work about a person and makes them a recipient of nothing (issue 10,
item 2) — as Rita the rep, Mia her manager, Olu the officer and Ada the admin."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from fieldbot.domain.trips import Leg
from fieldbot.services.trips import TripPlan
from tests.builders import BERLIN, DEADLINE, at, fieldbot, plan_trip, rows, said
from tests.harness import MANAGER_ID, REP_ID, World
from tests.pg import BACKENDS

pytestmark = pytest.mark.parametrize("backend", BACKENDS, indirect=True)

ERASED = "of your team has been erased"  # the managers' notice of an erasure


def to_stand_ins(world: World) -> list[str]:
    """Every Bot API call addressed to a negative chat: an erased person's stand-in."""
    chats = [(c.method, str(c.params.get("chat_id", ""))) for c in world.fake.calls]
    return [method for method, chat in chats if chat.startswith("-")]


async def erase_myself(world: World) -> None:
    await world.rep.send("/forgetme")
    assert "Check-ins for trips planned or under way stop" in world.rep.last.body
    await world.rep.press("🗑 Erase")
    assert "Your personal data has been erased" in world.rep.last.body


async def erase_as_admin(world: World, user_id: int) -> None:
    await world.admin.send(f"/forgetme {user_id}")
    await world.admin.press("🗑 Erase")
    assert f"user {user_id} has been erased" in world.admin.last.body


async def file_for_approval(world: World, start: date, end: date) -> int:
    """A night visit without a companion: it waits for Mia's decision."""
    rita = await world.services.enrolment.member(REP_ID)
    assert rita is not None
    plan = TripPlan(legs=(Leg(BERLIN, start, end),), lodging="Hotel Fixture, Room 12",
                    contact_name="Sam Fixture", contact_phone="+4917000000",
                    contact_user_id=None, night_visits=True, companion="")
    submitted = await world.services.trips.submit(rita, plan, f"approval-{start}")
    assert submitted.trip is not None and submitted.trip.status == "awaiting_approval"
    return submitted.trip.id


async def test_erasing_a_rep_during_a_trip_stops_the_nights_and_tells_the_manager_once(
    team: World,
) -> None:
    trip_id = await plan_trip(team, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
    await erase_myself(team)
    await team.tick()
    notices = [m for m in team.manager.messages if ERASED in m.body]
    assert len(notices) == 1
    assert "Berlin, Germany, 1 Dec 2026 – 3 Dec 2026" in notices[0].body
    assert "Rita" not in notices[0].body  # nothing the erasure removed comes back in it

    for evening in range(3):  # three deadlines pass: nobody is reminded, nobody alarmed
        await at(team, DEADLINE + timedelta(days=evening, hours=3))
    assert await rows(team, "SELECT id FROM alerts") == []
    assert {r["state"] for r in await rows(team, "SELECT state FROM nights")} == {"cancelled"}
    [trip] = await rows(team, "SELECT status FROM trips WHERE id = ?", trip_id)
    assert trip["status"] == "cancelled"  # never begun: withdrawn
    assert not [t for t in team.admin.texts() if "could not be reached" in t]
    assert to_stand_ins(team) == []
    assert len([m for m in team.manager.messages if ERASED in m.body]) == 1


async def test_a_trip_under_way_is_ended_and_its_nights_stop(team: World) -> None:
    trip_id = await plan_trip(team, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
    await at(team, DEADLINE - timedelta(minutes=30))
    await team.rep.send("/checkin")  # the first night is kept for the statistics
    await erase_myself(team)
    await at(team, DEADLINE + timedelta(days=1, hours=3))
    [trip] = await rows(team, "SELECT status, ended_at FROM trips WHERE id = ?", trip_id)
    assert trip["status"] == "ended" and trip["ended_at"]
    states = [r["state"] for r in await rows(team, "SELECT state FROM nights ORDER BY day")]
    assert states == ["checked_in", "cancelled", "cancelled"]
    assert await rows(team, "SELECT id FROM alerts") == []


async def test_a_waiting_trip_of_an_erased_rep_can_no_longer_be_approved(team: World) -> None:
    await file_for_approval(team, date(2026, 12, 5), date(2026, 12, 6))
    await team.tick()
    request = team.manager.last
    assert request.buttons == [["✅ Approve", "❌ Reject"]]

    await erase_as_admin(team, REP_ID)
    toast = await team.manager.press("✅ Approve", request)
    assert toast is not None and toast.text == "This trip plan no longer exists."
    reject = await team.manager.press_data("approve:no:1", request)  # Reject: no reason asked
    assert reject is not None and reject.text == "This trip plan no longer exists."
    assert not [t for t in team.manager.texts() if "reason" in t.lower()]
    assert await rows(team, "SELECT id FROM nights") == []
    [trip] = await rows(team, "SELECT status FROM trips")
    assert trip["status"] == "cancelled"


async def test_an_approval_request_not_yet_sent_is_withdrawn(team: World) -> None:
    await file_for_approval(team, date(2026, 12, 5), date(2026, 12, 6))  # queued, not sent
    await team.services.privacy.erase(REP_ID, by=None)
    await team.tick()
    assert not [m for m in team.manager.messages if ["✅ Approve", "❌ Reject"] in m.buttons]
    assert [m.body for m in team.manager.messages if ERASED in m.body]


async def test_an_alert_acknowledged_by_a_manager_who_is_erased_goes_to_the_next_tier(
    team: World,
) -> None:
    await plan_trip(team, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
    await at(team, DEADLINE + timedelta(minutes=30))
    await team.manager.press("Acknowledge")
    assert not [t for t in team.officer.texts() if "A-1" in t]

    await erase_as_admin(team, MANAGER_ID)
    await at(team, DEADLINE + timedelta(minutes=32))  # long before the officers' own turn
    assert "Alert A-1" in team.officer.last.body
    assert team.officer.last.buttons == [["Acknowledge", "Resolve"]]
    [alert] = await rows(team, "SELECT state, acked_by FROM alerts")
    assert (alert["state"], alert["acked_by"]) == ("open", None)
    await team.officer.press("Acknowledge")
    [alert] = await rows(team, "SELECT state, acked_by FROM alerts")
    assert (alert["state"], alert["acked_by"]) == ("acknowledged", team.officer.id)
    assert to_stand_ins(team) == []


async def test_the_other_recipients_are_told_why_the_alert_is_open_again(team: World) -> None:
    await plan_trip(team, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
    await at(team, DEADLINE + timedelta(minutes=61))  # Mia and Olu both have it
    await team.manager.press("Acknowledge")
    await erase_as_admin(team, MANAGER_ID)
    note = team.officer.last.body
    assert "Alert A-1 is open again" in note and "Mia" not in note
    [entry] = await rows(team, "SELECT detail FROM audit WHERE action = 'alert_reopen'")
    assert "alert=1" in entry["detail"]
    before = team.officer.mark()
    await at(team, DEADLINE + timedelta(minutes=91))  # the ladder runs again: the repeat
    assert len([m for m in team.officer.since(before) if "Alert A-1" in m.body]) == 1


async def test_an_erased_manager_has_no_role_and_receives_no_step(team: World) -> None:
    await plan_trip(team, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
    await erase_as_admin(team, MANAGER_ID)
    [stand_in] = await rows(team, "SELECT role, team FROM users WHERE id < 0")
    assert (stand_in["role"], stand_in["team"]) == ("staff", "north")

    await at(team, DEADLINE + timedelta(minutes=35))
    assert "Alert A-1" in team.officer.last.body  # the empty manager tier went up at once
    assert to_stand_ins(team) == []
    assert not [t for t in team.admin.texts() if "could not be reached" in t]


async def test_the_operator_erasing_a_rep_during_a_trip_stops_the_nights(tmp_path: Path) -> None:
    world = World(tmp_path)
    await world.start()
    await world.enrol_team()
    await plan_trip(world, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
    await world.stop()
    done = fieldbot(tmp_path, "erase", "--user", str(REP_ID))
    assert done.returncode == 0, done.stderr

    await world.start()
    try:
        await at(world, DEADLINE + timedelta(hours=3))
        assert await rows(world, "SELECT id FROM alerts") == []
        assert [m for m in world.manager.messages if ERASED in m.body]
        assert to_stand_ins(world) == []
    finally:
        await world.stop()


async def test_a_rep_erased_by_the_operator_finds_no_old_draft_when_invited_again(
    team: World,
) -> None:
    """`fieldbot erase` runs in another process: the running bot still held Rita's half-planned
    trip in memory, which came back when she was invited again (Berlin and her dates, with the
    question after them)."""
    await team.rep.send("/trip")
    await team.rep.send("Berlin")
    await team.rep.send("today")
    assert team.app.user_data[REP_ID]["trip_draft"]
    await team.services.privacy.erase(REP_ID, by=None)  # what `fieldbot erase` does
    await team.rep.send("2026-12-03")
    assert "ask your manager for an invite" in team.rep.last.body
    assert not team.app.user_data.get(REP_ID)

    await team.enrol(team.rep, "staff", "north")
    await team.rep.send("2026-12-03")
    assert team.rep.last.body == said("fallback.staff")
    await team.rep.send("/trip")  # a new plan, not "continue where you left off"
    assert team.rep.last.body.startswith(said("trip.ask.destination")[:30])
