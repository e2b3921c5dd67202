"""An alert that is over (resolved by someone, or ended by the rep's check-in) reads as over on
every path, never as "Mia is already handling it"; and an erased person's e-mailed link is no
one's. Found by a hostile review: a late acknowledgement of a resolved SOS was told by SMS, call
and page that Mia had acknowledged it; the desk said "? is already handling this alert" of one
the rep had closed by checking in; Olu's link still offered its button after he was erased."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, timedelta

import httpx
import pytest

from conversations.web.desk import desk_app
from tests.builders import BERLIN, DEADLINE, at, init_data, plan_for, said
from tests.channel_world import EMAILS, PUBLIC, confirm_email, mails_to, share_phone, web_client
from tests.harness import World


async def test_a_late_acknowledgement_of_a_resolved_alert_hears_it_is_over(
        reach: World) -> None:
    officer_phone = await share_phone(reach, reach.officer)
    await confirm_email(reach, reach.officer)
    await reach.rep.send("/sos")  # every channel at once
    await reach.tick()
    [call] = reach.twilio.calls_to(officer_phone)[-1:]
    [(_, mail)] = [m for m in mails_to(reach, EMAILS[reach.officer.id]) if "SOS" in m[0]]
    link = next(line for line in mail.splitlines() if line.startswith(PUBLIC + "/ack/"))

    await reach.manager.press("Resolve")  # Mia resolves it at once: a false alarm
    await reach.manager.press(said("resolve.false_alarm"))
    await reach.tick()

    sms = await reach.twilio.inbound_sms(f"{PUBLIC}/twilio/sms", officer_phone, "1")
    pressed = await reach.twilio.press(call.sid, "1")
    async with web_client(reach) as browser:
        page = await browser.get(link.removeprefix(PUBLIC))
    assert said("channel.reply.closed", alert="A-1") in sms.text
    assert said("channel.call.closed") in pressed.text
    assert said("channel.page.closed", alert="A-1") in page.text
    await reach.officer.press("Acknowledge")  # and his old Telegram button
    assert reach.officer.toasts[-1].text == said("alert.err.closed")


@pytest.fixture
async def desk(team: World) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=desk_app(team.services, team.app.bot if team.app
                                                 else None))
    async with httpx.AsyncClient(transport=transport, base_url="https://desk.test") as c:
        yield c


async def test_the_desk_says_an_alert_the_rep_closed_is_over(
        team: World, desk: httpx.AsyncClient) -> None:
    await plan_for(team, team.rep, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
    await at(team, DEADLINE + timedelta(minutes=31))  # Mia's alert A-1
    login = await desk.post("/api/login",
                            json={"init_data": init_data(team.manager.id, team.clock.now())})
    csrf = login.json()["csrf"]
    alert_id = (await desk.get("/api/state")).json()["alerts"][0]["id"]

    await team.rep.send("/checkin")  # Rita was fine: the all-clear goes out
    await team.tick()
    late = await desk.post(f"/api/alerts/{alert_id}/ack",
                           headers={"x-desk-csrf": csrf, "origin": "https://desk.test"})
    assert late.status_code == 409
    assert late.json() == {"error": "closed", "message": said("alert.err.closed")}


async def test_the_link_of_an_erased_person_is_no_longer_offered(reach: World) -> None:
    await confirm_email(reach, reach.officer)
    await reach.rep.send("/sos")
    await reach.tick()
    [(_, mail)] = [m for m in mails_to(reach, EMAILS[reach.officer.id]) if "SOS" in m[0]]
    link = next(line for line in mail.splitlines() if line.startswith(PUBLIC + "/ack/"))

    await reach.admin.send(f"/forgetme {reach.officer.id}")  # Olu leaves the company
    await reach.admin.press("🗑 Erase")
    assert "has been erased" in reach.admin.last.body

    async with web_client(reach) as browser:
        page = await browser.get(link.removeprefix(PUBLIC))
    assert page.status_code == 404 and said("channel.page.invalid") in page.text
    assert "Rita" not in page.text
