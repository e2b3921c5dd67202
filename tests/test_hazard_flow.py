"""Hazard reports end to end (安全隐患随手拍): Rita reports, Mia and Olu review, colleagues are
warned — through the real Application, the fake Telegram and a fake clock.

Every picture is generated here (flat colours with a stripe), every place and person made up.
"""

from __future__ import annotations

import io
from datetime import date, timedelta

from PIL import Image

from faketelegram.users import FakeUser
from fieldbot.domain.places import Place
from fieldbot.domain.trips import Leg
from fieldbot.services.trips import TripPlan
from tests.builders import (
    BERLIN,
    PDF,
    RED,
    ROAD,
    SEND,
    SPOT,
    YELLOW,
    encoded,
    jpeg,
    made_up,
    png_declaring,
    report,
    said,
    stored_photos,
    with_gps,
)
from tests.harness import OTHER_REP_ID, World

LAGOS = Place("Lagos", "NG", "Nigeria", "Lagos", 6.4541, 3.3947, "Africa/Lagos")


async def rows(world: World, sql: str) -> list[tuple[object, ...]]:
    async with world.services.db.read() as conn, conn.execute(sql) as cur:
        return [tuple(row) for row in await cur.fetchall()]


async def colleague_with_trip(world: World, place: Place) -> FakeUser:
    """Cato, another rep of team north, with an approved trip to `place` next week."""
    cato = world.fake.user(OTHER_REP_ID, "Cato", "en")
    await world.enrol(cato, "staff", "north")
    member = await world.services.enrolment.member(cato.id)
    assert member is not None
    plan = TripPlan(legs=(Leg(place, date(2026, 12, 7), date(2026, 12, 9)),),
                    lodging="Hotel Fixture", contact_name="Sam Fixture",
                    contact_phone="+4917000000", contact_user_id=None, night_visits=False,
                    companion="")
    submitted = await world.services.trips.submit(member, plan, f"cato-{place.name}")
    assert submitted.trip is not None
    return cato


async def test_a_red_report_reaches_the_manager_and_the_officer_with_its_photo(
    team: World,
) -> None:
    await report(team.rep, photos=(jpeg(),))

    assert "H-1 is saved and was sent to 2" in team.rep.last.body
    for lead in (team.manager, team.officer):
        alert = lead.last
        assert alert.photo_bytes is not None
        assert alert.caption is not None and "Hazard report H-1: 🔴 Red" in alert.caption
        assert "Open manhole" in alert.caption and "Reported by: Rita" in alert.caption
        assert alert.buttons == [["✅ Verify", "Dismiss"]]
        assert alert.protect_content
    stored = stored_photos(team)
    assert len(stored) == 1 and team.manager.last.photo_bytes == (
        team.services.cipher.decrypt_bytes(stored[0].read_bytes()))
    assert await rows(team, "SELECT state, severity, category FROM hazards") == [
        ("open", 4, "road")]


async def test_verifying_awards_points_and_warns_a_colleague_travelling_there(
    team: World,
) -> None:
    cato = await colleague_with_trip(team, BERLIN)
    await report(team.rep, photos=(jpeg(),))

    await team.manager.press("✅ Verify")

    assert "1 colleague(s) with a trip nearby were told" in team.manager.last.body
    assert "verified by Mia" in team.rep.last.body and "30 points" in team.rep.last.body
    assert "Heads-up for your trip" in cato.last.body and "Open manhole" in cato.last.body
    toast = await team.officer.press("✅ Verify")
    assert toast is not None and toast.text == "Already verified by Mia."
    assert await rows(team, "SELECT user_id, points FROM points") == [(team.rep.id, 30)]

    await team.rep.send("/points")
    assert "You have 30 points" in team.rep.last.body
    assert "1. Rita – 30" in team.rep.last.body


async def test_a_dismissed_report_earns_nothing_and_warns_nobody(team: World) -> None:
    cato = await colleague_with_trip(team, BERLIN)
    await report(team.rep)
    before = len(cato.messages)

    await team.officer.press("Dismiss")

    assert "dismissed" in team.rep.last.body and "Olu" in team.rep.last.body
    assert len(cato.messages) == before
    assert await rows(team, "SELECT state FROM hazards") == [("dismissed",)]
    assert await rows(team, "SELECT * FROM points") == []


async def test_a_yellow_report_waits_in_the_managers_queue(team: World) -> None:
    mark = team.manager.mark()
    await report(team.rep, severity=YELLOW)
    assert "your manager will review it" in team.rep.last.body
    assert team.manager.since(mark) == []

    await team.manager.send("/hazards")

    card = team.manager.last
    assert card.body is not None and "H-1: 🟡 Yellow" in card.body
    await team.manager.press("✅ Verify", card)
    assert "10 points" in team.rep.last.body


async def test_risk_shows_a_verified_report_nearby_and_it_raises_the_level(team: World) -> None:
    await team.rep.send("/risk Berlin")
    assert "Verified hazard report" not in team.rep.last.body

    await report(team.rep, description="Tram rails <b>broken</b> & sticking out")
    await team.manager.press("✅ Verify")
    await team.rep.send("/risk Berlin")

    answer = team.rep.last
    assert "Risk: 🟠 Orange" in answer.body  # a verified red report: at least orange
    assert "Verified hazard report" in answer.body
    assert "Tram rails <b>broken</b> & sticking out" in answer.body
    assert "&lt;b&gt;broken&lt;/b&gt; &amp; sticking" in answer.html
    await team.rep.send("/risk Lagos, Nigeria")
    assert "Verified hazard report" not in team.rep.last.body


async def test_html_in_the_description_is_shown_as_typed(team: World) -> None:
    await report(team.rep, description='<a href="https://x.example">Click</a> & <i>hurry')

    alert = team.manager.last
    assert alert.body is not None
    assert '<a href="https://x.example">Click</a> & <i>hurry' in alert.body
    assert "&lt;a href=" in (alert.html or "")


async def test_a_report_cancelled_halfway_saves_nothing(team: World) -> None:
    await team.rep.send("/hazard")
    await team.rep.send_photo(jpeg())
    await team.rep.press("Done")
    await team.rep.press(ROAD)
    assert len(stored_photos(team)) == 1

    await team.rep.send("/cancel")

    assert "Nothing was saved" in team.rep.last.body
    assert await rows(team, "SELECT * FROM hazards") == []
    assert stored_photos(team) == []
    await team.rep.send("Still there?")  # the conversation is over
    assert "That does not answer" not in team.rep.last.body


async def test_a_photo_sent_out_of_the_blue_starts_a_report(team: World) -> None:
    await team.rep.send_photo(jpeg())
    assert "Do you want to report a hazard with it?" in team.rep.last.body

    await team.rep.press("Done")
    await team.rep.press(ROAD)
    await team.rep.press(YELLOW)
    await team.rep.send("Berlin")
    await team.rep.send("Broken street light at the corner")
    await team.rep.press(SEND)

    [(place, radius)] = await rows(team, "SELECT place, radius_km FROM hazards")
    assert (team.services.cipher.decrypt(place), radius) == ("Berlin, Germany", 10.0)
    assert await rows(team, "SELECT COUNT(*) FROM hazard_photos") == [(1,)]


async def test_the_trips_destination_can_be_the_location(team: World) -> None:
    member = await team.services.enrolment.member(team.rep.id)
    assert member is not None
    plan = TripPlan(legs=(Leg(LAGOS, date(2026, 12, 2), date(2026, 12, 4)),), lodging="",
                    contact_name="Sam Fixture", contact_phone="+4917000000",
                    contact_user_id=None, night_visits=False, companion="")
    await team.services.trips.submit(member, plan, "rita-lagos")
    await team.rep.send("/hazard")
    await team.rep.press("No photo")
    await team.rep.press(ROAD)
    await team.rep.press(YELLOW)

    await team.rep.tap("🧳 My trip: Lagos")

    assert "Location: Lagos, Nigeria" in team.rep.texts()[-2]


async def test_bad_files_are_refused_clearly_and_the_report_goes_on(team: World) -> None:
    rep = team.rep
    await rep.send("/hazard")
    await rep.send_photo(jpeg())
    getfile_calls = len(team.fake.calls_to("getFile"))

    await rep.send_document(jpeg((10, 10, 200)), "huge.jpg", "image/jpeg",
                            file_size=25 * 1024 * 1024)
    assert "over 20 MB" in rep.last.body
    assert len(team.fake.calls_to("getFile")) == getfile_calls  # not even asked for
    await rep.send_document(png_declaring(100_000, 100_000), "bomb.png", "image/png")
    assert "far more pixels than any camera" in rep.last.body
    await rep.send_photo(PDF)
    assert "not a picture I can use" in rep.last.body
    await rep.send_document(PDF, "report.pdf", "application/pdf")
    assert "not a picture I can use" in rep.last.body
    await rep.send_photo(jpeg())
    assert "already in this report" in rep.last.body

    await rep.press("Done")
    await rep.press(ROAD)
    await rep.press(RED)
    await rep.share_location(*SPOT)
    await rep.send("Fallen tree across the road")
    await rep.press(SEND)
    assert await rows(team, "SELECT COUNT(*) FROM hazard_photos") == [(1,)]
    assert len(stored_photos(team)) == 1


async def test_a_photo_sent_as_file_is_stored_without_its_gps_position(team: World) -> None:
    original = encoded(made_up(), "JPEG", exif=with_gps())
    await team.rep.send("/hazard")
    await team.rep.send_document(original, "IMG_0001.JPG", "image/jpeg")
    await team.rep.press("Done")
    await team.rep.press(ROAD)
    await team.rep.press(RED)
    await team.rep.share_location(*SPOT)
    await team.rep.send("Loose paving stones")
    await team.rep.press(SEND)

    [(path,)] = await rows(team, "SELECT path FROM hazard_photos")
    stored = team.services.cipher.decrypt_bytes(
        (team.settings.data_dir / str(path)).read_bytes())  # encrypted at rest
    image = Image.open(io.BytesIO(stored))
    assert dict(image.getexif()) == {} and b"FixtureCam" not in stored
    assert team.manager.last.photo_bytes == stored  # what leads see is the clean copy


async def test_a_rep_cannot_review_and_a_lead_cannot_review_their_own(team: World) -> None:
    await report(team.manager)
    card = team.officer.last
    forged = await team.rep.press_data(card.button_data("✅ Verify"), card)
    assert forged is not None and forged.show_alert  # the guard: leads only
    toast = await team.manager.press_data(card.button_data("✅ Verify"), card)
    assert toast is not None and toast.text == "You cannot review your own report."
    assert await rows(team, "SELECT state FROM hazards") == [("open",)]


async def test_the_draft_survives_a_restart(team: World) -> None:
    await team.rep.send("/hazard")
    await team.rep.send_photo(jpeg())
    await team.rep.press("Done")
    await team.restart()

    await team.rep.press(ROAD)
    await team.rep.press(YELLOW)
    await team.rep.share_location(*SPOT)
    await team.rep.send("Icy steps at the station exit")
    await team.rep.press(SEND)
    assert await rows(team, "SELECT COUNT(*) FROM hazard_photos") == [(1,)]


async def test_the_chinese_texts_follow_the_policy_wording(team: World) -> None:
    await team.rep.send("/language")
    await team.rep.press("中文")
    await team.rep.send("/hazard")
    assert "安全隐患随手拍" in team.rep.last.body
    await team.rep.press("无照片")
    await team.rep.press("🚧 道路／交通")
    assert "🔴 红色" in team.rep.last.buttons[0][0]


async def test_a_verified_report_leaves_risk_after_thirty_days(team: World) -> None:
    await report(team.rep)
    await team.manager.press("✅ Verify")
    team.clock.advance(timedelta(days=31))

    await team.rep.send("/risk Berlin")

    assert "Verified hazard report" not in team.rep.last.body


async def test_a_long_description_is_cut_to_fit_beside_the_photo(team: World) -> None:
    await report(team.rep, photos=(jpeg(),), description="Deep potholes. " * 66)

    alert = team.manager.last
    assert alert.photo_bytes is not None and alert.caption is not None
    assert len(alert.caption) <= 1024 and alert.caption.endswith("…”")


async def test_hazards_shows_every_photo_of_a_report(team: World) -> None:
    photos = (jpeg(), jpeg((40, 200, 40)), jpeg((40, 40, 200)))
    await report(team.rep, photos=photos, severity=YELLOW)
    mark = team.manager.mark()

    await team.manager.send("/hazards")

    shown = team.manager.since(mark)
    assert [m.photo_bytes is not None for m in shown] == [False, True, True, True]
    assert shown[1].buttons == [["✅ Verify", "Dismiss"]]
    assert shown[3].caption == "H-1: photo 3 of 3"
    assert len(stored_photos(team)) == 3


async def test_the_severity_levels_are_explained_on_request_not_every_time(team: World) -> None:
    rep = team.rep
    await rep.send("/hazard")
    await rep.press("No photo")
    await rep.press(ROAD)
    asked = rep.last
    assert asked.body == said("hazard.ask.severity")
    assert asked.buttons[-1] == [said("hazard.button.severity_help")]
    await rep.press(said("hazard.button.severity_help"))
    assert "serious danger to people right now" in asked.body  # the same message, explained
    assert [said("hazard.button.severity_help")] not in asked.buttons
    await rep.press(RED, asked)
    assert rep.last.body == said("hazard.ask.location")
