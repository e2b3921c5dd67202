"""Alerts beyond Telegram, end to end: the real Application, the fake Telegram, the fake Twilio
posting signed callbacks into our HTTP routes, a real SMTP server, a fake clock.

Rita (rep) misses her check-in in Berlin; Mia (manager) does not look at Telegram; Olu is the
safety officer. All made up.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest

from faketelegram.errors import ServerError
from faketwilio.api import Call
from fieldbot.domain.policy import EmergencyContactPolicy
from fieldbot.domain.trips import Leg
from fieldbot.services.trips import TripPlan
from tests.builders import BERLIN, DEADLINE, at, plan_trip, said
from tests.channel_world import (
    PUBLIC,
    channel_world,
    confirm_email,
    mails_to,
    missed_night,
    share_phone,
)
from tests.harness import World


async def test_a_manager_silent_on_telegram_gets_an_sms_and_a_call_at_fallback_after(
    reach: World,
) -> None:
    phone = await share_phone(reach, reach.manager)
    await missed_night(reach)
    assert said("alert.head.missed", alert="A-1", attempt=1, name="Rita") in \
        reach.manager.last.body
    await reach.advance(timedelta(minutes=4, seconds=59))
    assert reach.twilio.sms_to(phone) == [] and reach.twilio.calls_to(phone) == []

    await reach.advance(timedelta(seconds=1))  # fallback_after: 5 minutes unacknowledged

    [sms] = reach.twilio.sms_to(phone)
    assert sms.body == said("channel.sms.missed", alert="A-1", name="Rita")
    assert sms.status_callback == f"{PUBLIC}/twilio/status"
    [call] = reach.twilio.calls_to(phone)
    assert 'language="en-US"' in call.twiml and "Press 1 to acknowledge" in call.twiml
    assert f'action="{PUBLIC}/twilio/gather"' in call.twiml and 'numDigits="1"' in call.twiml


async def test_telegram_down_for_30_minutes_an_sos_reaches_the_manager_by_sms_at_once(
    reach: World,
) -> None:
    phone = await share_phone(reach, reach.manager)
    admin_mail = await confirm_email(reach, reach.admin)
    reach.fake.fail_always("sendMessage", ServerError())
    await reach.rep.send("/help")  # the reply fails: Telegram is failing
    await reach.tick()
    await reach.advance(timedelta(minutes=30))
    assert reach.services.reach.fanout.telegram_down
    assert any("Telegram is failing" in subject for subject, _ in mails_to(reach, admin_mail))

    await reach.rep.send("/sos")
    await reach.tick()

    [sms] = reach.twilio.sms_to(phone)
    assert sms.body == said("channel.sms.sos", alert="A-1", name="Rita")
    assert reach.twilio.calls_to(phone)

    reach.fake.clear_failures()
    await reach.advance(timedelta(minutes=1))
    assert not reach.services.reach.fanout.telegram_down
    assert any("Telegram is back" in subject for subject, _ in mails_to(reach, admin_mail))


async def test_while_telegram_is_down_a_missed_check_in_reaches_the_manager_by_sms_at_once(
    reach: World,
) -> None:
    phone = await share_phone(reach, reach.manager)
    await plan_trip(reach, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
    await at(reach, DEADLINE)
    reach.fake.fail_always("sendMessage", ServerError())
    await at(reach, DEADLINE + timedelta(minutes=15))  # the rep's 2nd reminder fails
    await at(reach, DEADLINE + timedelta(minutes=30))  # down: the manager's step goes now
    assert [m.body for m in reach.twilio.sms_to(phone)] == [
        said("channel.sms.missed", alert="A-1", name="Rita")]


@asynccontextmanager
async def manager_reached_by(
    tmp_path: Path, db: Path | str, *channels: str
) -> AsyncIterator[World]:
    """The world whose policy reaches the manager tier on `channels` (Telegram first)."""
    policy = tmp_path / "policy.toml"
    policy.write_text(f"[channels]\nmanager = {json.dumps(['telegram', *channels])}\n",
                      encoding="utf-8")
    async with channel_world(tmp_path, policy=policy, db=db) as world:
        yield world


@pytest.fixture
async def sms_only(tmp_path: Path, db_target: Path | str) -> AsyncIterator[World]:
    async with manager_reached_by(tmp_path, db_target, "sms") as world:
        yield world


async def test_a_failed_sms_moves_the_ladder_on_at_once(sms_only: World) -> None:
    world = sms_only
    phone = await share_phone(world, world.manager)
    await missed_night(world)
    await world.advance(timedelta(minutes=5))
    [sms] = world.twilio.sms_to(phone)
    assert not [t for t in world.officer.texts() if "A-1" in t]

    posted = await world.twilio.message_status(sms.sid, "undelivered", error_code=30003)
    await world.tick()

    assert posted.status == 204
    assert [t for t in world.officer.texts() if "Alert A-1" in t]  # at +35, not +60


Called = tuple[World, str, Call]  # the world, Mia's phone, the call placed to it


@pytest.fixture
async def mia_called(tmp_path: Path, db_target: Path | str) -> AsyncIterator[Called]:
    """Rita missed her check-in; Mia, silent on Telegram, is phoned at fallback_after."""
    async with manager_reached_by(tmp_path, db_target, "call") as world:
        phone = await share_phone(world, world.manager)
        await missed_night(world)
        await world.advance(timedelta(minutes=5))
        [call] = world.twilio.calls_to(phone)
        yield world, phone, call


async def test_a_call_that_voicemail_took_moves_the_ladder_on_at_once(mia_called: Called) -> None:
    # Twilio says "completed" when voicemail answers: without asking who answered, Mia's
    # answering machine counted as Mia, and the officers waited for the step's end.
    world, phone, call = mia_called
    assert call.machine_detection == "Enable" and call.amd_callback == f"{PUBLIC}/twilio/status"

    verdict = await world.twilio.answered_by(call.sid, "machine_start")
    ended = await world.twilio.call_status(call.sid, "completed")  # after: changes nothing
    await world.tick()

    assert (verdict.status, ended.status) == (204, 204)
    assert [t for t in world.officer.texts() if "Alert A-1" in t]  # at +35, not +60
    # A message was left there all the same: how the alert ended is said on her phone too.
    before = len(world.twilio.sms_to(phone))
    await world.rep.send("/checkin")
    await world.tick()
    assert world.twilio.sms_to(phone)[before:]


async def test_voicemail_said_after_the_call_ended_still_counts(mia_called: Called) -> None:
    world, _, call = mia_called

    await world.twilio.call_status(call.sid, "completed")  # the verdict comes second
    await world.tick()
    assert not [t for t in world.officer.texts() if "A-1" in t]
    await world.twilio.answered_by(call.sid, "fax")
    await world.tick()

    assert [t for t in world.officer.texts() if "Alert A-1" in t]


async def test_a_calls_end_that_names_a_machine_counts_as_voicemail(mia_called: Called) -> None:
    # Should Twilio say who answered beside the call's status rather than on its own callback.
    world, _, call = mia_called
    assert call.status_callback is not None
    ended = await world.twilio.post(call.status_callback, {
        "CallSid": call.sid, "AccountSid": world.twilio.account_sid, "CallStatus": "completed",
        "AnsweredBy": "machine_end_beep", "ApiVersion": "2010-04-01"})
    await world.tick()

    assert ended.status == 204
    assert [t for t in world.officer.texts() if "Alert A-1" in t]


async def test_a_call_a_person_answered_waits_for_their_key_press(mia_called: Called) -> None:
    world, _, call = mia_called

    for answerer in ("human", "unknown"):  # unsure: a person, who may still press 1
        assert (await world.twilio.answered_by(call.sid, answerer)).status == 204
    assert (await world.twilio.call_status(call.sid, "completed")).status == 204
    assert (await world.twilio.answered_by(call.sid, "machine_start",
                                           signature="forged=")).status == 403
    await world.tick()

    assert not [t for t in world.officer.texts() if "A-1" in t]
    await at(world, DEADLINE + timedelta(minutes=60))
    assert [t for t in world.officer.texts() if "Alert A-1" in t]  # on time, as planned


async def test_unsigned_forged_unknown_and_replayed_callbacks_change_nothing(
    sms_only: World,
) -> None:
    world = sms_only
    phone = await share_phone(world, world.manager)
    await missed_night(world)
    await world.advance(timedelta(minutes=5))
    [sms] = world.twilio.sms_to(phone)

    forged = await world.twilio.message_status(sms.sid, "failed", signature="forged")
    unsigned = await world.twilio.message_status(sms.sid, "failed", signature="")
    sms.sid = "SM" + "0" * 32  # a message we never sent, correctly signed
    unknown = await world.twilio.message_status(sms.sid, "failed")
    await world.tick()
    assert (forged.status, unsigned.status, unknown.status) == (403, 403, 403)
    assert not [t for t in world.officer.texts() if "A-1" in t]


async def test_calls_to_a_person_are_capped_per_hour(
    tmp_path: Path, db_target: Path | str,
) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text("[channels]\nmax_calls_per_hour = 2\n", encoding="utf-8")
    async with channel_world(tmp_path, policy=policy, db=db_target) as world:
        phone = await share_phone(world, world.manager)
        await world.rep.send("/sos")  # repeats every 5 minutes, each with a call
        await world.tick()
        for _ in range(6):
            await world.advance(timedelta(minutes=5))
        assert len(world.twilio.calls_to(phone)) == 2  # 7 SOS messages, 2 calls
        assert len(world.twilio.sms_to(phone)) == 7
        await world.advance(timedelta(minutes=35))  # an hour after the first call
        assert len(world.twilio.calls_to(phone)) == 3


FAMILY = "+4915123456799"  # made up: the trip's emergency contact (family, not enrolled)


@pytest.mark.parametrize(("notify", "calls"), [("off", 0), ("sms", 0), ("sms+call", 1)])
async def test_the_emergency_contact_is_reached_only_when_the_policy_says_so(
    tmp_path: Path, db_target: Path | str, notify: str, calls: int,
) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text(f'[emergency_contact]\nnotify = "{notify}"\n'
                      'company_phone = "+49 30 1234567"\n', encoding="utf-8")
    async with channel_world(tmp_path, policy=policy, db=db_target) as world:
        rep = await world.services.enrolment.member(world.rep.id)
        assert rep is not None
        plan = TripPlan(legs=(Leg(BERLIN, date(2026, 12, 1), date(2026, 12, 5)),),
                        lodging="Hotel Fixture", contact_name="Sam Fixture",
                        contact_phone="+49 151 23456799", contact_user_id=None,
                        night_visits=False, companion="")
        assert (await world.services.trips.submit(rep, plan, "family")).trip is not None
        for night in range(3):
            await at(world, DEADLINE + timedelta(days=night, minutes=1))
        await world.advance(timedelta(minutes=30))  # the EMERGENCY repeats: still once
        texts = [m.body for m in world.twilio.sms_to(FAMILY)]
        if notify == "off":
            assert texts == []
        else:
            assert texts == [EmergencyContactPolicy().message_en.format(
                name="Rita", company_phone="+49 30 1234567")]
        assert len(world.twilio.calls_to(FAMILY)) == calls


async def test_a_replayed_or_late_callback_never_undoes_a_delivery(sms_only: World) -> None:
    world = sms_only
    phone = await share_phone(world, world.manager)
    await missed_night(world)
    await world.advance(timedelta(minutes=5))
    [sms] = world.twilio.sms_to(phone)
    assert (await world.twilio.message_status(sms.sid, "delivered")).status == 204
    again = await world.twilio.message_status(sms.sid, "undelivered")  # out of order, or forged
    await world.tick()
    assert again.status == 204  # genuine and known: accepted, but a final status stays final
    assert not [t for t in world.officer.texts() if "A-1" in t]
    await at(world, DEADLINE + timedelta(minutes=60))
    assert [t for t in world.officer.texts() if "Alert A-1" in t]  # on time, as planned


async def test_a_manager_who_blocked_the_bot_is_phoned_at_once(reach: World) -> None:
    phone = await share_phone(reach, reach.manager)
    await plan_trip(reach, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
    await reach.manager.block()  # after the trip was approved, before the night
    for minutes in (0, 15, 30):
        await at(reach, DEADLINE + timedelta(minutes=minutes))
    # Telegram refused for good: her SMS and call do not wait for fallback_after.
    assert [m.body for m in reach.twilio.sms_to(phone)] == [
        said("channel.sms.missed", alert="A-1", name="Rita")]
    [call] = reach.twilio.calls_to(phone)
    assert not [t for t in reach.officer.texts() if "Alert A-1" in t]  # she may still answer
    await reach.twilio.call_status(call.sid, "no-answer")
    await reach.twilio.message_status(reach.twilio.sms_to(phone)[0].sid, "undelivered")
    await reach.tick()
    assert [t for t in reach.officer.texts() if "Alert A-1" in t]  # nobody reached: next tier


async def test_a_missed_visit_end_reaches_the_manager_by_sms_and_a_call_too(
    reach: World,
) -> None:
    phone = await share_phone(reach, reach.manager)
    rep = reach.rep
    await rep.send("/visit")
    await rep.send("Acme GmbH")
    await rep.press("Alone")
    await rep.press("+1 h")
    await rep.press("▶️ Start")
    for minutes in (60, 5, 5):  # the end, the rep's reminders, then the manager's Telegram
        await reach.advance(timedelta(minutes=minutes))
    assert "Alert A-1" in reach.manager.last.body
    assert reach.twilio.sms_to(phone) == []
    await reach.advance(timedelta(minutes=5))
    assert [m.body for m in reach.twilio.sms_to(phone)] == [
        said("channel.sms.visit", alert="A-1", name="Rita")]
    [call] = reach.twilio.calls_to(phone)
    assert "client visit" in call.twiml


async def test_a_drill_goes_on_to_sms_and_a_call_labelled_drill_and_pressing_1_counts(
    reach: World,
) -> None:
    phone = await share_phone(reach, reach.manager)
    await reach.officer.send("/drill")
    await reach.officer.press("north (1)")
    await reach.officer.press("🧪 Start the drill")
    for minutes in (15, 15, 5):  # the rep's reminders, the manager's Telegram, then more
        await reach.advance(timedelta(minutes=minutes))
    [sms] = reach.twilio.sms_to(phone)
    [call] = reach.twilio.calls_to(phone)
    assert sms.body == said("channel.sms.drill", alert="A-1", name="Rita")
    assert "drill" in call.twiml
    await reach.twilio.press(call.sid, "1")
    await reach.tick()
    assert "Rita: acknowledged by Mia after 35 minutes" in reach.officer.last.body


async def test_an_sos_is_posted_to_the_companys_webhook_once_per_step_without_names(
    tmp_path: Path, db_target: Path | str,
) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text('[channels]\nsos = ["telegram", "sms", "webhook"]\n', encoding="utf-8")
    received: list[dict[str, object]] = []

    def tool(request: httpx.Request) -> httpx.Response:
        received.append(json.loads(request.content))
        return httpx.Response(200)

    async with channel_world(
        tmp_path, policy=policy, db=db_target, webhook_out_url="https://paging.example/hook",
        webhook_out_secret="fixture-secret-0123456789",
        _before_start=lambda w: setattr(w, "webhook_transport", httpx.MockTransport(tool)),
    ) as world:
        await world.rep.send("/sos")
        await world.tick()
        await world.advance(timedelta(minutes=5))  # the SOS repeats: one more event
    assert [(e["type"], e["alert"], e["alert_kind"], e["attempt"]) for e in received] == [
        ("alert", "A-1", "sos", 1), ("alert", "A-1", "sos", 2)]
    assert "Rita" not in json.dumps(received)
