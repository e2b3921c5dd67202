"""Careless and hostile input (issue 10, items 15, 16, 18, 19, 22): invites never change a role,
an emergency contact gets a family message, edits and business messages never act, odd dates
and vanished messages are answered, and free text gets a short answer."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

from fieldbot.domain.roles import Role
from fieldbot.domain.trips import Leg
from fieldbot.services.trips import TripPlan
from fieldbot.storage import alerts
from tests.builders import BERLIN, DEADLINE, at, first_line, import_us_fixture, plan, trips_of
from tests.harness import ADMIN_ID, OTHER_MANAGER_ID, World


async def _invite_link(world: World, role: str, team: str = "") -> str:
    await world.admin.send(f"/invite {role} {team}".strip())
    found = re.search(r"start=([A-Za-z0-9_-]+)", world.admin.last.body or "")
    assert found
    return found.group(1)


async def _sos_count(world: World) -> int:
    async with world.services.db.read() as conn, conn.execute(
            "SELECT COUNT(*) FROM alerts WHERE kind = 'sos'") as cur:
        row = await cur.fetchone()
    assert row is not None
    return int(row[0])


# --- 15: an invite never changes who someone is ----------------------------------------------


async def test_a_configured_admin_opening_a_staff_link_stays_admin_and_is_told_who_decides(
    team: World,
) -> None:
    code = await _invite_link(team, "staff", "north")
    await team.admin.send(f"/start {code}")
    assert team.admin.last.body.startswith("Your role is already administrator")
    assert "Only an administrator can change a role" in team.admin.last.body
    admin = await team.services.enrolment.member(ADMIN_ID)
    assert admin is not None and admin.role is Role.ADMIN
    stranger = team.fake.user(7777, "Noor")
    await stranger.send(f"/start {code}")  # the link was not used up: it still works
    noor = await team.services.enrolment.member(7777)
    assert noor is not None and (noor.role, noor.team) == (Role.STAFF, "north")


async def test_a_rep_opening_a_manager_link_is_refused_and_names_the_admins(team: World) -> None:
    code = await _invite_link(team, "manager", "south")
    await team.rep.send(f"/start {code}")
    assert "field rep (team north)" in team.rep.last.body
    assert team.rep.last.body.endswith("Only an administrator can change a role: Ada.")
    rep = await team.services.enrolment.member(team.rep.id)
    assert rep is not None and (rep.role, rep.team) == (Role.STAFF, "north")


# --- 16: an emergency contact enrolled as staff ------------------------------------------------


async def test_an_enrolled_emergency_contact_gets_a_family_message_without_buttons(
    team: World,
) -> None:
    sam = team.fake.user(6006, "Sam")
    await team.enrol(sam, "staff", "north")
    rep = await team.services.enrolment.member(team.rep.id)
    assert rep is not None
    plan_ = TripPlan(legs=(Leg(BERLIN, date(2026, 12, 1), date(2026, 12, 5)),),
                     lodging="Hotel Fixture", contact_name="Sam", contact_phone="+4917000000",
                     contact_user_id=sam.id, night_visits=False, companion="")
    submitted = await team.services.trips.submit(rep, plan_, "family")
    assert submitted.trip is not None
    for night in range(3):
        await at(team, DEADLINE + timedelta(days=night, minutes=1))
    assert any("EMERGENCY A-3" in (m.body or "") for m in team.manager.messages)
    family = sam.last
    assert family.body.startswith("⚠️ You are Rita's emergency contact.")
    assert "Rita has not checked in for several nights" in family.body
    assert "Acknowledge" not in family.body and "EMERGENCY" not in family.body
    assert family.inline_keyboard == []


# --- 18: edits and business messages never act -------------------------------------------------


def _raw_message(world: World, text: str, message_id: int) -> dict[str, Any]:
    user = world.rep
    return {"message_id": message_id, "date": int(world.clock.now().timestamp()),
            "edit_date": int(world.clock.now().timestamp()),
            "chat": {"id": user.id, "type": "private", "first_name": user.first_name},
            "from": user.json(), "text": text,
            "entities": [{"type": "bot_command", "offset": 0, "length": len(text)}]}


async def test_editing_an_old_sos_message_raises_nothing(team: World) -> None:
    sos = await team.rep.send("/sos")
    await team.tick()
    await team.manager.press("Acknowledge")
    await team.manager.press("Reached by phone")
    assert await _sos_count(team) == 1
    before = len(team.rep.messages)
    await team.rep.send_update({"edited_message": _raw_message(team, "/sos", sos.message_id)})
    await team.tick()
    assert await _sos_count(team) == 1
    assert len(team.rep.messages) == before  # not even an answer


async def test_business_messages_pass_no_guard(team: World) -> None:
    raw = _raw_message(team, "/sos", 99_001)
    raw.pop("edit_date")
    raw["business_connection_id"] = "biz-1"
    before = len(team.rep.messages)
    await team.rep.send_update({"business_message": raw})
    await team.tick()
    assert await _sos_count(team) == 0
    assert len(team.rep.messages) == before


# --- 19: odd dates, vanished requests, other teams ---------------------------------------------


async def test_a_trip_starting_in_the_year_9999_is_refused_politely(team: World) -> None:
    await team.rep.send("/trip")
    await team.rep.send("Berlin")
    await team.rep.send("9999-12-25")
    texts = team.rep.texts()
    assert any("at most a year from now" in t for t in texts)
    assert not any("something went wrong" in t for t in texts)
    assert first_line("trip.ask.start", place="Berlin, Germany") in team.rep.last.body


async def test_approve_on_a_deleted_request_approves_and_says_so(team: World) -> None:
    await import_us_fixture(team)
    await plan(team.rep, "Seoul", "2026-12-02", "2026-12-04")
    await team.rep.press("✅ Confirm")
    request = team.manager.last
    request.deleted = True  # the manager deleted it on another device
    toast = await team.manager.press_data(request.inline_keyboard[0][0]["callback_data"],
                                          request)
    assert toast is not None and toast.text == "Approved. The field rep has been told."
    assert team.manager.last.body.endswith("✅ Approved by Mia.")
    assert not any("something went wrong" in t for t in team.manager.texts())
    [trip] = await trips_of(team, team.rep)
    assert trip.status == "approved"


async def test_reject_on_another_teams_trip_is_refused_at_once(team: World) -> None:
    await import_us_fixture(team)
    await plan(team.rep, "Seoul", "2026-12-02", "2026-12-04")
    await team.rep.press("✅ Confirm")
    request = team.manager.last
    other = team.fake.user(OTHER_MANAGER_ID, "Otto")
    await team.enrol(other, "manager", "south")
    toast = await other.press_data(request.inline_keyboard[0][1]["callback_data"], request)
    assert toast is not None and toast.text == "This trip belongs to another team."
    assert not any("Why do you reject" in t for t in other.texts())


# --- 22: free text outside any flow ------------------------------------------------------------


async def test_free_text_outside_any_flow_gets_a_short_role_aware_answer(team: World) -> None:
    await team.rep.send("hello? is this thing on")
    assert team.rep.last.body.startswith("I only act on commands.")
    assert "/checkin" in team.rep.last.body and "/team" not in team.rep.last.body
    await team.manager.send("ok thanks")
    assert "/alerts" in team.manager.last.body
    await team.rep.send("/language")
    await team.rep.press("中文")
    await team.rep.send("你好")
    assert team.rep.last.body.startswith("我只响应命令。")


async def test_a_live_location_moving_is_still_kept(team: World) -> None:
    await team.rep.share_location(52.52, 13.405, live_period=3600)
    team.clock.advance(timedelta(minutes=5))
    await team.rep.update_live_location(52.53, 13.41)
    async with team.services.db.read() as conn:
        where = await alerts.last_location(conn, team.rep.id, cipher=team.services.cipher)
    assert where is not None and where[:2] == (52.53, 13.41)
