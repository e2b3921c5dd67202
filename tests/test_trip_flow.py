"""/trip, /trips, /endtrip and the manager's approval, end to end as Rita the rep and Mia her
manager. The clock starts at 2026-12-01 09:00 UTC (10:00 in Berlin)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.messages.pofile import read_po

from conversations.i18n import placeholders
from fieldbot.domain.trips import TripStatus
from tests.builders import (
    answer_up_to_summary,
    first_line,
    import_us_fixture,
    plan,
    rows,
    said,
    trips_of,
)
from tests.harness import World

FIXTURES = Path(__file__).parent / "fixtures"
LOCALES = Path(__file__).parent.parent / "conversations" / "locales"


# --- the happy paths --------------------------------------------------------------------------


async def test_a_rep_plans_a_trip_to_berlin_by_name_and_gets_the_checkin_schedule(
    team: World,
) -> None:
    rep = team.rep
    await rep.send("/trip")
    assert "Where are you going?" in rep.last.body
    assert rep.keyboard == [[{"text": "📍 Send my current location", "request_location": True}]]
    await rep.send("Berlin")
    assert "📍 Destination: Berlin, Germany (Berlin time)" in rep.texts()
    assert rep.keyboard is None  # the location button went away
    assert "When do you arrive in Berlin, Germany?" in rep.last.body
    assert rep.last.buttons[0] == ["1 Dec 2026", "2 Dec 2026", "3 Dec 2026"]
    await rep.press("1 Dec 2026")
    await rep.press("3 Dec 2026")
    await answer_up_to_summary(rep)

    summary = rep.last
    assert summary.buttons == [["✅ Confirm"], ["✏️ Edit", "✖️ Cancel"]]
    assert "📍 Berlin, Germany: 1 Dec 2026 – 3 Dec 2026" in summary.body
    assert "🏨 Lodging: Hotel Adlon, Unter den Linden 77" in summary.body
    assert "☎️ Emergency contact: Sam Lee, +491701234567" in summary.body
    assert "Night client visits: none planned" in summary.body
    assert "❔ Grey – unknown: no risk data (this does not mean safe)" in summary.body
    assert "Local time there: 10:00 Tue 1 Dec (Berlin time)" in summary.body

    await rep.press("✅ Confirm")
    assert rep.last.body.startswith(first_line("trip.saved_no_nights"))
    assert "First reminder: 20:00 Tue 1 Dec (Berlin time)" in rep.last.body
    assert "First deadline: 21:00 Tue 1 Dec (Berlin time)" in rep.last.body
    assert summary.inline_keyboard == []  # Confirm cannot be pressed again from there

    [trip] = await trips_of(team, rep)
    assert trip.status is TripStatus.APPROVED
    assert [(leg.place.name, leg.place.tz_name, str(leg.start), str(leg.end))
            for leg in trip.legs] == [("Berlin", "Europe/Berlin", "2026-12-01", "2026-12-03")]
    assert (trip.lodging, trip.contact_name, trip.contact_phone) == (
        "Hotel Adlon, Unter den Linden 77", "Sam Lee", "+491701234567")
    assert len(await rows(team, "SELECT * FROM nights WHERE trip_id = ?", trip.id)) == 3
    assert not any("for approval" in text for text in team.manager.texts())
    assert "trip_draft" not in (team.app.user_data[rep.id] if team.app else {})


async def test_a_destination_can_be_a_shared_pin(team: World) -> None:
    await team.rep.send("/trip")
    await team.rep.share_location(52.5200, 13.4050)
    assert "📍 Destination: Berlin, Germany (Berlin time)" in team.rep.texts()
    await team.rep.send("tomorrow")
    await team.rep.send("2026-12-04")
    await answer_up_to_summary(team.rep)
    await team.rep.press("✅ Confirm")
    [trip] = await trips_of(team, team.rep)
    leg = trip.legs[0]
    assert (leg.place.lat, leg.place.lon, str(leg.start)) == (52.52, 13.405, "2026-12-02")


async def test_several_springfields_are_offered_as_buttons(team: World) -> None:
    await team.rep.send("/trip")
    await team.rep.send("Springfield")
    assert team.rep.last.body == said("trip.destination.pick")
    offered = [row[0] for row in team.rep.last.buttons]
    assert "Springfield, Illinois, United States" in offered
    assert "Springfield, Massachusetts, United States" in offered
    await team.rep.press("Springfield, Illinois, United States")
    assert "Destination: <b>Springfield, Illinois, United States</b>" in (
        team.rep.messages[-3].html or "")
    await team.rep.send("2026-12-02")
    await team.rep.send("2026-12-02")
    await answer_up_to_summary(team.rep, contact="Pat Doe 0044 20 7946 0958")
    await team.rep.press("✅ Confirm")
    [trip] = await trips_of(team, team.rep)
    assert (trip.legs[0].place.region, trip.legs[0].place.tz_name) == ("Illinois",
                                                                        "America/Chicago")
    [night] = await rows(team, "SELECT * FROM nights WHERE trip_id = ?", trip.id)
    assert night["deadline"].startswith("2026-12-03T03:00:00")  # 21:00 CST is 03:00 UTC


async def test_a_trip_with_two_legs_follows_each_legs_time_zone(team: World) -> None:
    rep = team.rep
    await rep.send("/trip")
    await rep.send("Berlin")
    await rep.send("today")
    await rep.send("2026-12-03")
    assert rep.last.body == said("trip.ask.more")
    await rep.press("Add another destination")
    assert "Where do you go next?" in rep.last.body
    await rep.send("Tokyo")
    await rep.send("2026-12-02")  # before Berlin ends
    assert "cannot start before the previous one ends" in rep.texts()[-2]
    assert rep.last.buttons[0][0] == "3 Dec 2026"
    await rep.press("3 Dec 2026")
    await rep.send("2026-12-06")
    await answer_up_to_summary(rep)
    assert "📍 Berlin, Germany: 1 Dec 2026 – 3 Dec 2026" in rep.last.body
    assert "📍 Tokyo, Japan: 3 Dec 2026 – 6 Dec 2026" in rep.last.body
    await rep.press("✅ Confirm")

    [trip] = await trips_of(team, rep)
    assert [leg.place.name for leg in trip.legs] == ["Berlin", "Tokyo"]
    nights = await rows(team, "SELECT day, tz_name, deadline FROM nights WHERE trip_id = ?"
                        " ORDER BY day", trip.id)
    assert [(n["day"], n["tz_name"]) for n in nights] == [
        ("2026-12-01", "Europe/Berlin"), ("2026-12-02", "Europe/Berlin"),
        ("2026-12-03", "Asia/Tokyo"), ("2026-12-04", "Asia/Tokyo"),
        ("2026-12-05", "Asia/Tokyo"), ("2026-12-06", "Asia/Tokyo"),
    ]
    for night in nights:
        local = datetime.fromisoformat(night["deadline"]).astimezone(ZoneInfo(night["tz_name"]))
        assert (local.hour, local.minute) == (21, 0)


async def test_a_chinese_speaking_rep_plans_in_chinese(team: World) -> None:
    li = team.fake.user(5005, "Li", "zh-hans")
    await team.enrol(li, "staff", "north")
    await li.send("/trip")
    assert "您要去哪里？" in li.last.body
    await li.send("北京")
    assert "📍 目的地：北京，中国（北京时间）" in li.texts()
    await li.send("明天")
    await li.send("2026-12-05")
    await li.press("没有了")
    await li.press("暂不确定")
    await li.send("王芳 13800138000")
    await li.press("否")
    assert "☎️ 紧急联系人：王芳，13800138000" in li.last.body
    assert "🏨 住宿地址：暂不确定" in li.last.body
    assert "不代表安全" in li.last.body
    await li.press("✅ 确认")
    assert li.last.body.startswith("✅ 行程计划已保存")
    [trip] = await trips_of(team, li)
    assert (str(trip.start), trip.lodging) == ("2026-12-02", "")


# --- approval ---------------------------------------------------------------------------------


async def test_a_high_risk_trip_waits_for_the_manager_who_approves_it(team: World) -> None:
    await import_us_fixture(team)
    await plan(team.rep, "Seoul", "2026-12-02", "2026-12-04")
    summary = team.rep.last.body
    assert "🔴 Red: do not travel" in summary
    assert "US State Department (3 Mar 2099): Korea, South - Level 4: Do Not Travel" in summary
    assert "first-aid kit" in summary
    assert "needs your manager's approval" in summary
    await team.rep.press("✅ Confirm")
    assert team.rep.last.body.startswith(said("trip.awaiting"))
    [trip] = await trips_of(team, team.rep)
    assert trip.status is TripStatus.AWAITING_APPROVAL
    assert await rows(team, "SELECT * FROM nights WHERE trip_id = ?", trip.id) == []

    request = team.manager.last
    assert request.body.startswith("Trip plan for approval from Rita:")
    assert "📍 Seoul, South Korea: 2 Dec 2026 – 4 Dec 2026" in request.body
    assert request.buttons == [["✅ Approve", "❌ Reject"]]
    assert request.protect_content

    toast = await team.manager.press("✅ Approve")
    assert toast is not None and toast.text == "Approved. The field rep has been told."
    assert request.body.endswith("✅ Approved by Mia.")
    assert request.inline_keyboard == []
    assert team.rep.last.body.startswith("✅ Mia approved your trip plan.")

    nights = await rows(team, "SELECT day, tz_name, deadline, reminder_at FROM nights"
                        " WHERE trip_id = ? ORDER BY day", trip.id)
    assert [n["day"] for n in nights] == ["2026-12-02", "2026-12-03", "2026-12-04"]
    for night in nights:
        seoul = ZoneInfo("Asia/Seoul")
        deadline = datetime.fromisoformat(night["deadline"])
        assert deadline.astimezone(seoul).strftime("%H:%M") == "21:00"
        assert deadline.astimezone(UTC).strftime("%H:%M") == "12:00"
        assert datetime.fromisoformat(night["reminder_at"]).astimezone(seoul).hour == 20

    again = await team.manager.press_data(f"approve:yes:{trip.id}", request)
    assert again is not None and again.text == "This trip plan has already been decided."
    assert len(await rows(team, "SELECT * FROM nights WHERE trip_id = ?", trip.id)) == 3


async def test_the_manager_rejects_with_a_reason_the_rep_reads(team: World) -> None:
    await import_us_fixture(team)
    await plan(team.rep, "Seoul", "2026-12-02", "2026-12-04")
    await team.rep.press("✅ Confirm")
    request = team.manager.last
    await team.manager.press("❌ Reject")
    assert team.manager.last.body.startswith("Why do you reject this trip plan?")
    assert team.manager.last.reply_markup == {"force_reply": True, "selective": True}
    await team.manager.send("Not this month: the <b>client</b> can come to us")
    assert team.manager.last.body == said("approval.done.rejected")
    assert request.body.endswith(
        "❌ Rejected by Mia. Reason: Not this month: the <b>client</b> can come to us")
    assert team.rep.last.body == ("❌ Mia did not approve your trip plan. Reason: "
                                  "Not this month: the <b>client</b> can come to us")
    [trip] = await trips_of(team, team.rep)
    assert trip.status is TripStatus.REJECTED
    assert await rows(team, "SELECT * FROM nights") == []
    toast = await team.manager.press_data(f"approve:no:{trip.id}", request)
    assert toast is not None and toast.text == "This trip plan has already been decided."


async def test_night_visits_alone_need_approval_but_with_a_colleague_do_not(team: World) -> None:
    await plan(team.rep, companion="alone")
    assert "🌙 Night client visits: alone" in team.rep.last.body
    assert "needs your manager's approval" in team.rep.last.body
    await team.rep.press("✅ Confirm")
    await plan(team.rep, start="2026-12-10", end="2026-12-11", companion="Tom from sales")
    assert "🌙 Night client visits: with Tom from sales" in team.rep.last.body
    assert "needs your manager's approval" not in team.rep.last.body
    await team.rep.press("✅ Confirm")
    alone, paired = await trips_of(team, team.rep)
    assert (alone.status, alone.companion) == (TripStatus.AWAITING_APPROVAL, "")
    assert (paired.status, paired.companion) == (TripStatus.APPROVED, "Tom from sales")


async def test_a_rep_whose_team_has_no_manager_cannot_start_and_the_admins_are_told(
    team: World,
) -> None:
    sol = team.fake.user(4024, "Sol")
    await team.enrol(sol, "staff", "south")
    await plan(sol)
    await sol.press("✅ Confirm")
    assert "no manager I can reach" in sol.last.body
    assert await trips_of(team, sol) == []
    assert "Sol" in team.admin.last.body
    assert sol.messages[-2].buttons[0] == ["✅ Confirm"]  # they can confirm once it is fixed


# --- /trips and /endtrip ----------------------------------------------------------------------


async def test_trips_lists_current_and_upcoming_trips_with_their_status(team: World) -> None:
    await team.rep.send("/trips")
    assert team.rep.last.body == "You have no current or upcoming trips. File one with /trip."
    await plan(team.rep)
    await team.rep.press("✅ Confirm")
    await plan(team.rep, "Tokyo", "2026-12-20", "2026-12-22", companion="alone")
    await team.rep.press("✅ Confirm")
    await team.rep.send("/trips")
    listing = team.rep.last.body
    assert listing.index("Berlin") < listing.index("Tokyo")
    assert "— approved\n📍 Berlin, Germany: 1 Dec 2026 – 3 Dec 2026" in listing
    assert "— waiting for your manager's approval\n📍 Tokyo, Japan" in listing


async def test_endtrip_ends_the_trip_and_keeps_the_post_trip_safety_report(team: World) -> None:
    await plan(team.rep)
    await team.rep.press("✅ Confirm")
    [trip] = await trips_of(team, team.rep)
    await team.rep.send("/endtrip")
    await team.rep.press("🏁 End the trip")
    assert team.rep.texts()[-2].startswith("🏁 Your trip (Berlin, Germany) has ended")
    await team.rep.send("A taxi driver tried to overcharge me at the airport")
    await team.rep.send("Use the official taxi rank at BER terminal 1")
    assert team.rep.last.body.startswith("Thank you — your post-trip safety report is saved.")
    assert "/hazard" in team.rep.last.body
    [row] = await rows(team, "SELECT status, report FROM trips WHERE id = ?", trip.id)
    assert row["status"] == "ended"
    assert team.services.cipher.decrypt(row["report"]) == (  # stored encrypted
        "What happened: A taxi driver tried to overcharge me at the airport"
        "\nWarn colleagues: Use the official taxi rank at BER terminal 1")
    states = await rows(team, "SELECT DISTINCT state FROM nights WHERE trip_id = ?", trip.id)
    assert states == [{"state": "cancelled"}]
    await team.rep.send("/endtrip")
    assert team.rep.last.body == said("endtrip.none")


async def test_endtrip_report_with_the_nothing_buttons(team: World) -> None:
    await plan(team.rep)
    await team.rep.press("✅ Confirm")
    await team.rep.send("/endtrip")
    await team.rep.press("🏁 End the trip")
    await team.rep.press("Nothing happened")
    await team.rep.press("Nothing to warn about")
    assert team.rep.last.body == "Thank you — your post-trip safety report is saved."
    [row] = await rows(team, "SELECT report FROM trips")
    assert team.services.cipher.decrypt(row["report"]) == "What happened: -\nWarn colleagues: -"


# --- editing, cancelling, restarting ----------------------------------------------------------


async def test_the_summary_can_be_edited_field_by_field(team: World) -> None:
    await plan(team.rep)
    await team.rep.press("✏️ Edit")
    await team.rep.press("Lodging")
    await team.rep.send("Motel One, Alexanderplatz")
    assert "🏨 Lodging: Motel One, Alexanderplatz" in team.rep.last.body
    assert "☎️ Emergency contact: Sam Lee" in team.rep.last.body  # the rest is kept
    await team.rep.press("✏️ Edit")
    await team.rep.press("Destinations and dates")
    await team.rep.send("Tokyo")
    await team.rep.send("2026-12-02")
    await team.rep.send("2026-12-03")
    await team.rep.press("No, that's all")
    assert "📍 Tokyo, Japan: 2 Dec 2026 – 3 Dec 2026" in team.rep.last.body
    assert "Berlin" not in team.rep.last.body
    await team.rep.press("✅ Confirm")
    [trip] = await trips_of(team, team.rep)
    assert (trip.legs[0].place.name, trip.lodging) == ("Tokyo", "Motel One, Alexanderplatz")


async def test_cancel_halfway_leaves_nothing_saved(team: World) -> None:
    await team.rep.send("/trip")
    await team.rep.send("Berlin")
    await team.rep.send("today")
    await team.rep.send("/cancel")
    assert team.rep.last.body == said("cancel.done")
    assert team.rep.last.reply_markup == {"remove_keyboard": True}
    assert await trips_of(team, team.rep) == []
    assert await rows(team, "SELECT * FROM ptb_state WHERE kind = 'conversation:trip'") == []
    assert "trip_draft" not in (team.app.user_data[team.rep.id] if team.app else {})
    await team.rep.send("2026-12-03")  # no longer in the conversation: not taken as a date
    assert await trips_of(team, team.rep) == []


async def test_the_cancel_button_on_the_summary_saves_nothing(team: World) -> None:
    await plan(team.rep)
    await team.rep.press("✖️ Cancel")
    assert team.rep.last.body == said("cancel.done")
    assert await trips_of(team, team.rep) == []


async def test_a_restart_in_the_middle_of_trip_resumes_it(team: World) -> None:
    await team.rep.send("/trip")
    await team.rep.send("Berlin")
    await team.rep.send("2026-12-02")
    await team.restart()
    await team.rep.send("2026-12-04")
    assert team.rep.last.body == said("trip.ask.more")
    await answer_up_to_summary(team.rep)
    await team.restart()
    await team.rep.press("✅ Confirm")
    [trip] = await trips_of(team, team.rep)
    assert (str(trip.start), str(trip.end)) == ("2026-12-02", "2026-12-04")


async def test_trip_while_another_trip_is_open_offers_to_continue_or_start_over(
    team: World,
) -> None:
    await team.rep.send("/trip")
    await team.rep.send("Berlin")
    await team.rep.send("/trip")
    assert team.rep.last.body.startswith("You are already filing a trip plan.")
    assert team.rep.last.buttons == [["Continue", "Start over"]]
    await team.rep.press("Continue")
    assert first_line("trip.ask.start", place="Berlin, Germany") in team.rep.last.body
    await team.rep.send("/trip")
    await team.rep.press("Start over")
    assert "Where are you going?" in team.rep.last.body
    await team.rep.send("Tokyo")
    await team.rep.send("today")
    await team.rep.send("today")
    await answer_up_to_summary(team.rep)
    await team.rep.press("✅ Confirm")
    [trip] = await trips_of(team, team.rep)
    assert [leg.place.name for leg in trip.legs] == ["Tokyo"]


# --- bad input --------------------------------------------------------------------------------


async def test_empty_and_overlong_destinations_get_a_clear_reply(team: World) -> None:
    await team.rep.send("/trip")
    await team.rep.send("")
    assert team.rep.last.body == ("Please type the name of a place (at most 200 characters) "
                                  "or share your location.")
    await team.rep.send("Berlin " * 571 + "B")  # 3,998 characters
    assert team.rep.last.body.startswith("That is too long for a place name")
    await team.rep.send("Qxzzyqv")
    assert team.rep.last.body.startswith("I could not find “Qxzzyqv”.")
    await team.rep.send("<b>Berlin</b>")
    assert team.rep.last.body.startswith("I could not find “<b>Berlin</b>”")  # escaped, shown
    await team.rep.send("Berlin")
    assert first_line("trip.ask.start", place="Berlin, Germany") in team.rep.last.body


async def test_coordinates_out_of_range_are_refused(team: World) -> None:
    await team.rep.send("/trip")
    chat = team.fake.chat_json(team.rep.chat)
    await team.rep.send_update({"message": {
        "message_id": 9001, "date": int(team.clock.now().timestamp()), "chat": chat,
        "from": team.rep.json(), "location": {"latitude": 123.0, "longitude": 13.4},
    }})
    assert team.rep.last.body.startswith("That location is not valid")
    await team.rep.share_location(52.52, 13.405)
    assert first_line("trip.ask.start", place="Berlin, Germany") in team.rep.last.body


async def test_impossible_and_past_dates_and_end_before_start_are_refused(team: World) -> None:
    rep = team.rep
    await rep.send("/trip")
    await rep.send("Berlin")
    await rep.send("2026-02-30")
    assert rep.texts()[-2].startswith("That is not a date I can read.")
    await rep.send("2026-11-30")
    assert rep.texts()[-2] == ("That date has already passed at the destination. "
                               "The earliest possible date is 1 Dec 2026.")
    await rep.send("2026-12-05")
    await rep.send("2026-12-04")
    assert rep.texts()[-2] == "The end date cannot be before the start date (5 Dec 2026)."
    await rep.send("2027-03-01")
    assert rep.texts()[-2].startswith("A trip can last at most 60 days.")
    await rep.send("2026-12-05")
    assert rep.last.body == said("trip.ask.more")


async def test_a_contact_without_a_phone_number_is_refused(team: World) -> None:
    rep = team.rep
    await rep.send("/trip")
    await rep.send("Berlin")
    await rep.send("today")
    await rep.send("today")
    await rep.press("No, that's all")
    await rep.press("Not yet known")
    await rep.send("Mum")
    assert rep.last.body.startswith("I need a name and a valid phone number")
    await rep.share_contact("", "Mum")
    assert rep.last.body.startswith("I need a name and a valid phone number")
    await rep.share_contact("+44 7700 900123", "Rita", contact_user_id=rep.id)
    assert rep.last.body.startswith("That is your own contact card.")
    await rep.share_contact("447700900123", "Mum", "Smith", contact_user_id=777)
    assert rep.last.body == "Do you plan client visits after dark?"
    await rep.press("No")
    await rep.press("✅ Confirm")
    [trip] = await trips_of(team, rep)
    assert (trip.contact_name, trip.contact_phone, trip.contact_user_id) == (
        "Mum Smith", "447700900123", 777)


async def test_confirm_pressed_twice_saves_once(team: World) -> None:
    await plan(team.rep)
    summary = team.rep.last
    data = summary.button_data("✅ Confirm")
    await team.rep.press("✅ Confirm")
    toast = await team.rep.press_data(data, summary)
    assert toast is not None and toast.text == "This trip plan is already saved. See /trips."
    await team.rep.resend_last_update()  # Telegram delivering the same press again
    assert len(await trips_of(team, team.rep)) == 1
    assert len(await rows(team, "SELECT * FROM nights")) == 3


async def test_an_overlapping_trip_is_refused_with_the_other_trips_dates(team: World) -> None:
    await plan(team.rep)
    await team.rep.press("✅ Confirm")
    await plan(team.rep, "Tokyo", "2026-12-03", "2026-12-05")
    await team.rep.press("✅ Confirm")
    assert team.rep.last.body.startswith(
        "This trip overlaps another of your trips (Berlin, Germany, 1 Dec 2026 – 3 Dec 2026)")
    assert len(await trips_of(team, team.rep)) == 1
    await team.rep.press("✏️ Edit")
    await team.rep.press("Destinations and dates")
    await team.rep.send("Tokyo")
    await team.rep.send("2026-12-04")
    await team.rep.send("2026-12-05")
    await team.rep.press("No, that's all")
    await team.rep.press("✅ Confirm")
    assert team.rep.last.body.startswith(first_line("trip.saved_no_nights"))
    assert len(await trips_of(team, team.rep)) == 2


async def test_stray_messages_and_old_buttons_inside_the_trip_are_answered(team: World) -> None:
    await team.rep.send("/trip")
    await team.rep.send("Berlin")
    start_question = team.rep.last
    await team.rep.send("today")
    toast = await team.rep.press("2 Dec 2026", start_question)  # answered by typing already
    assert toast is not None and toast.text == "This button is no longer valid."
    assert "When do you leave?" in team.rep.last.body
    await team.rep.send("today")
    await team.rep.send("yes please")  # the question has buttons
    assert team.rep.texts()[-2] == "Sorry, that does not answer my question."
    assert team.rep.last.body == said("trip.ask.more")
    toast = await team.rep.press_data("trip:place:3")
    assert toast is not None and toast.text == "This button is no longer valid."


def test_every_trip_text_exists_in_both_languages_with_the_same_placeholders() -> None:
    catalogs = {}
    for folder in ("en", "zh_Hans"):
        with (LOCALES / folder / "LC_MESSAGES" / "trip.po").open("rb") as handle:
            catalogs[folder] = {str(m.id): str(m.string) for m in read_po(handle) if m.id}
    assert catalogs["en"].keys() == catalogs["zh_Hans"].keys()
    for key, english in catalogs["en"].items():
        assert english and catalogs["zh_Hans"][key], key
        assert placeholders(english) == placeholders(catalogs["zh_Hans"][key]), key


async def test_a_draft_erased_under_an_open_trip_starts_it_again(team: World) -> None:
    await team.rep.send("/trip")
    await team.rep.send("Berlin")
    await team.rep.send("today")
    assert team.app is not None
    team.app.user_data[team.rep.id].clear()  # e.g. /forgetme while the plan was open
    await team.rep.send("2026-12-03")
    assert "Where are you going?" in team.rep.last.body
    await team.rep.send("Tokyo")
    assert "When do you arrive in Tokyo, Japan?" in team.rep.last.body


async def test_an_approval_request_that_cannot_reach_the_manager_is_explained(
    team: World,
) -> None:
    await import_us_fixture(team)
    team.fake.block(team.manager.id)  # blocked, and the bot has not noticed yet
    await plan(team.rep, "Seoul", "2026-12-02", "2026-12-04")
    await team.rep.press("✅ Confirm")
    assert team.rep.texts()[-2:] == [
        "📨 Trip plan saved and sent to your manager for approval. I will tell you the "
        "decision; check-ins start once it is approved.",
        "⚠️ I could not reach your manager with your trip plan for approval, so it cannot "
        "start yet. The administrators have been told. Please call your manager.",
    ]
    assert "User 2002 could not be reached" in team.admin.last.body
    [trip] = await trips_of(team, team.rep)
    assert trip.status is TripStatus.AWAITING_APPROVAL
    assert await rows(team, "SELECT * FROM nights") == []


async def test_a_manager_may_put_off_a_rejection_and_a_rep_cannot_decide(team: World) -> None:
    await plan(team.rep, companion="alone")
    await team.rep.press("✅ Confirm")
    [trip] = await trips_of(team, team.rep)
    toast = await team.rep.press_data(f"approve:yes:{trip.id}")
    assert toast is not None and toast.text == "This button is no longer valid."
    await team.manager.press("❌ Reject")
    await team.manager.send("/cancel")
    assert team.manager.last.body == "Not rejected. The trip plan still waits for your decision."
    assert (await trips_of(team, team.rep))[0].status is TripStatus.AWAITING_APPROVAL
    await team.manager.press("✅ Approve")
    assert (await trips_of(team, team.rep))[0].status is TripStatus.APPROVED
    assert len(await rows(team, "SELECT * FROM nights WHERE trip_id = ?", trip.id)) == 3


async def test_dates_beyond_the_first_week_are_a_page_away(team: World) -> None:
    rep = team.rep
    await rep.send("/trip")
    await rep.send("Berlin")
    assert rep.last.buttons[-1] == ["Later ›"]
    await rep.press("Later ›")
    await rep.press("Later ›")
    assert rep.last.buttons[0][0] == "15 Dec 2026" and rep.last.buttons[-1] == [
        "‹ Earlier", "Later ›"]
    await rep.press("‹ Earlier")
    assert rep.last.buttons[0][0] == "8 Dec 2026"
    await rep.press("9 Dec 2026")
    assert rep.last.buttons[0][0] == "9 Dec 2026"  # the end date's page starts at the start
    await rep.press("Later ›")
    await rep.press("18 Dec 2026")
    await rep.press("No, that's all")
    await rep.send("Hotel Fixture")
    await rep.send("Sam Fixture +4917000000")
    await rep.press("No")
    await rep.press("✅ Confirm")
    [trip] = await trips_of(team, rep)
    assert (str(trip.start), str(trip.end)) == ("2026-12-09", "2026-12-18")


async def test_an_old_page_button_does_not_answer_a_later_question(team: World) -> None:
    rep = team.rep
    await rep.send("/trip")
    await rep.send("Berlin")
    start_keyboard = rep.last
    await rep.press("2 Dec 2026")  # the start keyboard's buttons go; a stale client still has them
    toast = await rep.press_data("trip:start:page:1", message=start_keyboard)
    assert toast is not None and toast.text == said("guard.stale_button")
    await rep.press("Later ›")  # the end date's own page
    assert rep.last.buttons[0][0] == "9 Dec 2026"
