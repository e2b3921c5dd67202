"""Drills, client visits and roll-calls beyond Telegram, end to end: the fake Twilio posting
signed callbacks into our HTTP routes, a real SMTP server, the company's webhook, a fake clock.

Rita (rep), Mia (manager), Olu (safety officer); all made up.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest

from tests.builders import BERLIN, plan_for, said
from tests.channel_world import PHONES, channel_world, confirm_email, mails_to, share_phone
from tests.harness import World

EVERYTHING = (
    '[channels]\nmanager = ["telegram", "sms", "call", "email", "webhook"]\n'
    'rep = ["telegram", "sms", "call", "email", "webhook"]\n'
    '[emergency_contact]\nnotify = "sms+call"\ncompany_phone = "+49 30 1234567"\n'
)


async def test_a_drill_says_drill_on_every_channel_and_never_reaches_an_emergency_contact(
    tmp_path: Path, db_target: Path | str,
) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text(EVERYTHING, encoding="utf-8")
    events: list[dict[str, object]] = []

    def tool(request: httpx.Request) -> httpx.Response:
        events.append(json.loads(request.content))
        return httpx.Response(200)

    async with channel_world(
        tmp_path, policy=policy, db=db_target, webhook_out_url="https://paging.example/hook",
        webhook_out_secret="fixture-secret-0123456789",
        _before_start=lambda w: setattr(w, "webhook_transport", httpx.MockTransport(tool)),
    ) as world:
        rep_phone = await share_phone(world, world.rep)
        phone = await share_phone(world, world.manager)
        address = await confirm_email(world, world.manager)
        await world.officer.send("/drill")
        await world.officer.press("north (1)")
        await world.officer.press("🧪 Start the drill")
        for minutes in (5, 10, 15, 5):  # the rep's own, the rep's reminder, Mia's, Mia's others
            await world.advance(timedelta(minutes=minutes))
        [call] = world.twilio.calls_to(phone)
        await world.twilio.press(call.sid, "1")
        await world.tick()
        assert "Rita: acknowledged by Mia after 35 minutes" in world.officer.last.body

        texts = [m.body for m in world.twilio.sms_to(rep_phone) + world.twilio.sms_to(phone)]
        spoken = [c.twiml for c in world.twilio.calls_to(rep_phone) + world.twilio.calls_to(phone)]
        mails = mails_to(world, address)[1:]  # after the address's own code
        assert texts and spoken and mails and events
        assert all("DRILL" in text for text in texts), texts
        assert all("drill" in twiml for twiml in spoken), spoken
        assert all("DRILL" in subject and "DRILL" in body for subject, body in mails), mails
        assert all(event["drill"] is True for event in events), events
        numbers = {m.to for m in world.twilio.messages} | {c.to for c in world.twilio.calls}
        assert numbers <= {rep_phone, phone}  # nobody else: no emergency contact, ever
        assert said("channel.sms.drill", alert="A-1", name="Rita") in texts


async def _chinese_manager(world: World) -> str:
    await world.manager.send("/language")
    await world.manager.press("中文")
    number = PHONES[world.manager.id]
    await world.manager.send("/contacts")
    await world.manager.press(said("contacts.button.share", "zh"))
    await world.manager.share_contact(number.lstrip("+"), "Mia", contact_user_id=world.manager.id)
    return number


async def _visit(world: World) -> None:
    await world.rep.send("/visit")
    await world.rep.send("Acme GmbH")
    await world.rep.press("Alone")
    await world.rep.press("+1 h")
    await world.rep.press("▶️ Start")


@pytest.mark.parametrize("language", ["en", "zh"])
async def test_a_missed_visit_climbs_to_sms_and_a_call_naming_the_visit_and_1_acknowledges(
    tmp_path: Path, db_target: Path | str, language: str,
) -> None:
    async with channel_world(tmp_path, db=db_target) as world:
        phone = (await _chinese_manager(world) if language == "zh"
                 else await share_phone(world, world.manager))
        await _visit(world)
        for minutes in (60, 5, 5):  # the end, the rep's reminders, then Mia's Telegram alert
            await world.advance(timedelta(minutes=minutes))
        assert world.twilio.sms_to(phone) == []
        await world.advance(timedelta(minutes=5))  # fallback_after
        [sms] = world.twilio.sms_to(phone)
        [call] = world.twilio.calls_to(phone)
        assert sms.body == said("channel.sms.visit", language, alert="A-1", name="Rita")
        spoken = said("channel.call.visit", language, number="1", name="Rita")
        assert spoken in call.twiml
        assert said("channel.sms.missed", language, alert="A-1", name="Rita") != sms.body
        answer = await world.twilio.press(call.sid, "1")
        assert said("channel.call.acknowledged", language) in answer.text
        await world.tick()
        async with world.services.db.read() as conn, conn.execute(
                "SELECT kind, acked_by FROM alerts WHERE id = 1") as cur:
            assert tuple(await cur.fetchone() or ()) == ("visit", world.manager.id)


@pytest.mark.parametrize("language", ["en", "zh"])
async def test_need_help_on_a_visit_reaches_the_manager_by_sms_at_once_naming_the_visit(
    tmp_path: Path, db_target: Path | str, language: str,
) -> None:
    async with channel_world(tmp_path, db=db_target) as world:
        phone = (await _chinese_manager(world) if language == "zh"
                 else await share_phone(world, world.manager))
        await _visit(world)
        await world.advance(timedelta(minutes=50))
        await world.rep.press("🆘 Need help")
        await world.tick()
        [sms] = world.twilio.sms_to(phone)  # an SOS: no waiting for fallback_after
        [call] = world.twilio.calls_to(phone)
        assert sms.body == said("channel.sms.sos_visit", language, alert="A-1", name="Rita")
        assert said("channel.call.sos_visit", language, number="1", name="Rita") in call.twiml
        answer = await world.twilio.press(call.sid, "1")
        assert said("channel.call.acknowledged", language) in answer.text
        await world.tick()
        async with world.services.db.read() as conn, conn.execute(
                "SELECT kind, acked_by FROM alerts WHERE id = 1") as cur:
            assert tuple(await cur.fetchone() or ()) == ("sos", world.manager.id)


async def test_roll_call_silence_goes_beyond_telegram_as_the_channel_policy_says(
    tmp_path: Path, db_target: Path | str,
) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text('[channels]\nmanager = ["telegram", "sms", "call", "email"]\n',
                      encoding="utf-8")
    async with channel_world(tmp_path, policy=policy, db=db_target) as world:
        rep_phone = await share_phone(world, world.rep)
        phone = await share_phone(world, world.manager)
        address = await confirm_email(world, world.manager)
        await plan_for(world, world.rep, BERLIN, date(2026, 12, 1), date(2026, 12, 4))
        officer = world.officer
        await officer.send("/rollcall")
        await officer.press("📍 A place")
        await officer.send("Berlin")
        await officer.press("50 km")
        await officer.press(next(b for row in officer.last.buttons for b in row
                                 if b.startswith("📣")))
        assert world.twilio.sms_to(rep_phone) == []  # Telegram first: she may just answer

        await world.advance(timedelta(minutes=15))  # remind_after: asked again, by SMS too
        assert "asking again" in world.rep.last.body
        assert [m.body for m in world.twilio.sms_to(rep_phone)] == [
            said("channel.sms.rollcall_ask", rollcall="R-1")]
        assert world.twilio.sms_to(phone) == []

        await world.advance(timedelta(minutes=15))  # manager_after: Mia told on every channel
        assert [t for t in world.manager.texts() if "has not answered" in t]
        [told] = world.twilio.sms_to(phone)
        assert "R-1" in told.body and "Rita" in told.body and "<b>" not in told.body
        assert world.twilio.calls_to(phone) == []  # nothing to press 1 for: no call
        [(subject, body)] = mails_to(world, address)[1:]
        assert subject == said("channel.mail.subject.rollcall_silent", rollcall="R-1")
        assert "Rita" in body
        await world.advance(timedelta(hours=2))
        assert len(world.twilio.sms_to(phone)) == 1 and len(world.twilio.sms_to(rep_phone)) == 1

        await world.rep.press("✅ I'm safe")  # Mia, texted to try her, is texted she answered
        await world.tick()
        answered = world.twilio.sms_to(phone)[1].body
        assert "Rita" in answered and "safe" in answered and "<b>" not in answered
        assert mails_to(world, address)[-1][0] == said(
            "channel.mail.subject.rollcall_answered", rollcall="R-1")
        assert len(world.twilio.sms_to(rep_phone)) == 1


async def test_how_a_drill_ended_is_mailed_as_a_drill_too(
    tmp_path: Path, db_target: Path | str,
) -> None:
    async with channel_world(tmp_path, db=db_target) as world:
        phone = await share_phone(world, world.manager)
        address = await confirm_email(world, world.officer)  # officers: e-mail too, by default
        await world.officer.send("/drill")
        await world.officer.press("north (1)")
        await world.officer.press("🧪 Start the drill")
        for _ in range(14):  # nobody reacts: the officers' turn, and their e-mail 5 min later
            await world.advance(timedelta(minutes=5))
        assert len(mails_to(world, address)) > 1, "the officers' drill alert was not mailed"
        call = world.twilio.calls_to(phone)[-1]
        await world.twilio.press(call.sid, "1")
        await world.tick()
        mails = mails_to(world, address)[1:]
        assert len(mails) >= 2  # the alert, then how it ended
        assert all("DRILL" in subject and "DRILL" in body for subject, body in mails), mails


async def test_the_reps_own_visit_reminder_by_sms_is_about_the_visit(
    tmp_path: Path, db_target: Path | str,
) -> None:
    async with channel_world(tmp_path, db=db_target) as world:
        rep_phone = await share_phone(world, world.rep)
        await _visit(world)
        for minutes in (60, 5, 5):  # the end and the rep's reminders, each SMS 5 min later
            await world.advance(timedelta(minutes=minutes))
        texts = [m.body for m in world.twilio.sms_to(rep_phone)]
        assert texts and set(texts) == {said("channel.sms.visit_rep", alert="A-1")}
        assert not [t for t in texts if "checked in tonight" in t]


async def test_the_officers_e_mail_about_a_missed_visit_gives_the_visits_facts(
    tmp_path: Path, db_target: Path | str,
) -> None:
    async with channel_world(tmp_path, db=db_target) as world:
        address = await confirm_email(world, world.officer)
        await _visit(world)
        for minutes in (60, 20, 5):  # the end, the officers' turn, their e-mail 5 min later
            await world.advance(timedelta(minutes=minutes))
        [(subject, body)] = mails_to(world, address)[1:]
        assert subject == said("channel.mail.subject.visit", alert="A-1", name="Rita")
        assert "Acme GmbH" in body and "<b>" not in body
