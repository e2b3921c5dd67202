"""An emergency contact who enrolled in the bot (as staff) and confirmed a phone reads the
family wording on every channel, as on Telegram (promise 21). Before, the SMS and the call at
the EMERGENCY tier were the leads' ("Reply 1 to acknowledge", "Press 1 to acknowledge and
handle this alert"), and his "1" was then refused (found by a hostile review)."""

from __future__ import annotations

from datetime import date, timedelta

from fieldbot.domain.trips import Leg
from fieldbot.services.trips import TripPlan
from tests.builders import BERLIN, DEADLINE, at, said
from tests.channel_world import PUBLIC
from tests.harness import World

SAM_PHONE = "+4915123456799"


async def test_an_enrolled_emergency_contact_is_not_asked_to_press_1_and_then_refused(
    reach: World,
) -> None:
    sam = reach.fake.user(6006, "Sam")  # Rita's partner, enrolled through his own link
    await reach.enrol(sam, "staff", "north")
    await sam.send("/contacts")
    await sam.press(said("contacts.button.share"))
    await sam.share_contact(SAM_PHONE.lstrip("+"), "Sam", contact_user_id=sam.id)
    rep = await reach.services.enrolment.member(reach.rep.id)
    assert rep is not None
    plan = TripPlan(legs=(Leg(BERLIN, date(2026, 12, 1), date(2026, 12, 5)),),
                    lodging="Hotel Fixture", contact_name="Sam", contact_phone="+4917000000",
                    contact_user_id=sam.id, night_visits=False, companion="")
    await reach.services.trips.submit(rep, plan, "family")
    for night in range(3):  # three missed nights: EMERGENCY
        await at(reach, DEADLINE + timedelta(days=night, minutes=1))
    await reach.advance(timedelta(minutes=6))
    assert sam.last.body.startswith("⚠️ You are Rita's emergency contact.")  # Telegram: right

    sms = [m.body for m in reach.twilio.sms_to(SAM_PHONE)]
    calls = reach.twilio.calls_to(SAM_PHONE)
    reply = await reach.twilio.inbound_sms(f"{PUBLIC}/twilio/sms", SAM_PHONE, "1")

    asked = [t for t in sms if "Reply 1" in t] + [c.twiml for c in calls if "Press 1" in c.twiml]
    assert not asked, (asked, reply.text)
    family = said("alert.family", name="Rita",
                  what=said("alert.family.emergency", name="Rita"),
                  places="Berlin, Germany")
    assert family.split("\n")[0] in sms[-1]
    assert calls and all("<Gather" not in c.twiml for c in calls)
