"""/privacy for a heavy user: five trips on record and five client safety notes of the length
the bot accepts. It answers in one message, the notes bounded like the trips ("… and K more").
Before, the reply was over Telegram's 4,096 characters and she only ever read "Sorry, something
went wrong" (promise 19; found by a hostile review)."""

from __future__ import annotations

from datetime import date, timedelta

from fieldbot.domain.places import Place
from fieldbot.domain.trips import Leg
from fieldbot.services.trips import TripPlan
from tests.harness import World
from tests.test_visit_notes import leave_note

FRANKFURT = Place("Frankfurt am Main", "DE", "Germany", "Hesse", 50.11, 8.68, "Europe/Berlin")
LODGING = ("Hotel Frankfurter Hof, Kaiserplatz 1, 60311 Frankfurt am Main, room booked under the"
           " company name, late check-in arranged with the night porter; if it is full:"
           " Steigenberger Icon, Am Kaiserplatz, or the Marriott at Hamburger Allee 2")
NOTE = ("The client's warehouse manager shouted at me and blocked the door when I tried to"
        " leave; the site is at the end of an unlit road with no taxis after dark. ") * 4


async def test_privacy_of_a_rep_with_five_trips_and_five_notes_answers(team: World) -> None:
    rep = await team.services.enrolment.member(team.rep.id)
    assert rep is not None
    for k in range(5):
        start = date(2026, 12, 2) + timedelta(days=10 * k)
        plan = TripPlan(legs=(Leg(FRANKFURT, start, start + timedelta(days=2)),),
                        lodging=LODGING, contact_name="Sam Fixture", contact_phone="+4917000000",
                        contact_user_id=None, night_visits=False, companion="")
        assert (await team.services.trips.submit(rep, plan, f"heavy-{k}")).trip is not None
    for i in range(5):
        await leave_note(team.rep, client=f"Client {i}", text=NOTE[:500])
        await team.advance(timedelta(hours=2))

    await team.rep.send("/privacy")

    answer = team.rep.last.body or ""
    assert "something went wrong" not in answer, answer
    assert "Client visits" in answer
    assert len(answer) <= 4096 and "more." in answer
