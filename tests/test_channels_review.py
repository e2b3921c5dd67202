"""A second pair of eyes on the other channels (issue 12), as careless and hostile people:
a wrong key pressed on a call at night, odd SMS replies and auto-replies, a rep's phone probing
for alerts, Telegram failing and coming back, addresses typed full-width. People are made up.
"""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

import pytest

from faketelegram.errors import ServerError
from faketwilio.api import gather_action
from tests.builders import BERLIN, DEADLINE, at, plan_trip, rows, said
from tests.channel_world import PUBLIC, confirm_email, mails_to, share_phone
from tests.harness import World
from tests.test_channels_ack import share_phone_zh


async def _called(world: World) -> str:
    """Rita missed her check-in and Mia, silent on Telegram, is phoned; the call's sid."""
    phone = await share_phone(world, world.manager)
    await plan_trip(world, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
    for minutes in (0, 15, 30):
        await at(world, DEADLINE + timedelta(minutes=minutes))
    await world.advance(timedelta(minutes=5))
    [call] = world.twilio.calls_to(phone)
    return call.sid


@pytest.mark.parametrize("wrong", ["2", "#", "*", "", "11"])
async def test_a_wrong_key_on_the_call_asks_again_and_1_then_acknowledges(
    reach: World, wrong: str,
) -> None:
    sid = await _called(reach)
    answer = await reach.twilio.press(sid, wrong)
    # Half asleep, she pressed the wrong key: she is asked again, not hung up on.
    assert said("channel.call.not_understood") in answer.text
    action, _ = gather_action(answer.text)
    assert action == f"{PUBLIC}/twilio/gather"
    assert said("channel.call.press") in answer.text
    again = await reach.twilio.post(action, {"CallSid": sid, "Digits": "1"})
    assert said("channel.call.acknowledged") in again.text
    await reach.tick()
    assert said("alert.ack_rep.missed", alert="A-1", by_name="Mia") in reach.rep.last.body


async def _outage(world: World) -> None:
    world.fake.fail_always("sendMessage", ServerError())
    await world.rep.send("/help")  # the reply fails: Telegram is failing
    await world.tick()
    await world.advance(timedelta(minutes=5))
    assert world.services.reach.fanout.telegram_down


async def _back(world: World) -> None:
    world.fake.clear_failures()
    await world.rep.send("/help")  # a reply goes through: no alert traffic is needed
    await world.advance(timedelta(minutes=1))
    assert not world.services.reach.fanout.telegram_down


def _told(world: World, address: str) -> list[str]:
    return [subject.removeprefix("[fieldbot] Telegram is ")[:7]
            for subject, _ in mails_to(world, address) if "Telegram" in subject]


async def test_telegram_back_is_noticed_from_a_reply_even_with_no_alert_going_out(
    reach: World,
) -> None:
    admin_mail = await confirm_email(reach, reach.admin)
    await _outage(reach)
    await _back(reach)  # else every new alert would ring phones at once, Telegram being fine
    assert _told(reach, admin_mail) == ["failing", "back"]


async def test_telegram_failing_again_within_the_hour_is_told_to_the_admins_again(
    reach: World,
) -> None:
    admin_mail = await confirm_email(reach, reach.admin)
    await _outage(reach)
    await _back(reach)
    await _outage(reach)  # the same hour: Telegram fails again, and stays down
    # The last word the admins have must be the truth: Telegram is failing.
    assert _told(reach, admin_mail) == ["failing", "back", "failing"]


async def test_a_flapping_telegram_does_not_flood_the_admins(reach: World) -> None:
    admin_mail = await confirm_email(reach, reach.admin)
    for _ in range(6):  # down and up every six minutes for over half an hour
        await _outage(reach)
        await _back(reach)
    assert _told(reach, admin_mail) == ["failing", "back"] * 3


async def test_a_restart_in_an_outage_does_not_put_the_other_channels_off_again(
    reach: World,
) -> None:
    """The bot is restarted (a deploy, a supervisor) while Telegram fails: the outage goes on
    from when it began, not from the restart, or a bot restarted every two minutes would never
    reach anyone by SMS."""
    admin_mail = await confirm_email(reach, reach.admin)
    reach.fake.fail_always("sendMessage", ServerError())
    await reach.rep.send("/help")  # the reply fails: Telegram is failing
    await reach.advance(timedelta(seconds=90))
    assert not reach.services.reach.fanout.telegram_down  # not failing for 2 minutes yet
    await reach.restart()
    await reach.rep.send("/help")  # fails again, 90 s after the first failure
    await reach.advance(timedelta(seconds=40))
    assert reach.services.reach.fanout.telegram_down
    assert _told(reach, admin_mail) == ["failing"]
    await _back(reach)
    assert _told(reach, admin_mail) == ["failing", "back"]


async def test_a_restart_that_finds_telegram_answering_ends_the_outage(reach: World) -> None:
    """The outage written down before the restart ends at the new process's first call that
    goes through: one failed call later is a new outage, not the old one going on (found by a
    review of the change)."""
    admin_mail = await confirm_email(reach, reach.admin)
    reach.fake.fail_always("sendMessage", ServerError())
    await reach.rep.send("/help")  # fails: the outage is written down
    await reach.advance(timedelta(seconds=60))
    await reach.restart()
    reach.fake.clear_failures()
    await reach.rep.send("/help")  # the new process: Telegram answers
    await reach.advance(timedelta(seconds=30))
    reach.fake.fail_always("sendMessage", ServerError())
    await reach.rep.send("/help")  # one failed reply, 90 s after the old outage began
    reach.fake.clear_failures()
    await reach.advance(timedelta(seconds=31))
    assert not reach.services.reach.fanout.telegram_down
    assert _told(reach, admin_mail) == []


async def test_an_outage_long_over_does_not_come_back_with_a_restart(reach: World) -> None:
    """The bot died in an outage and starts hours later: its first failed call is a new
    outage, with the whole telegram_down_after to wait before phones ring."""
    admin_mail = await confirm_email(reach, reach.admin)
    reach.fake.fail_always("sendMessage", ServerError())
    await reach.rep.send("/help")
    await reach.advance(timedelta(seconds=90))
    await reach.stop()  # the process dies, still in the outage
    reach.clock.advance(timedelta(hours=3))
    await reach.start()
    await reach.rep.send("/help")  # one failed reply, three hours on
    await reach.advance(timedelta(seconds=60))
    assert not reach.services.reach.fanout.telegram_down
    assert _told(reach, admin_mail) == []
    await reach.advance(timedelta(seconds=70))  # now it has failed for 2 minutes
    assert _told(reach, admin_mail) == ["failing"]


async def test_texting_ack_with_alert_numbers_from_the_reps_phone_reveals_no_duress_alert(
    reach: World,
) -> None:
    """Whoever holds Rita's phone texts "ACK A-1", "ACK A-2"...: a duress alert about her must
    read exactly like an alert that does not exist."""
    rep_phone = await share_phone(reach, reach.rep)
    duress, _ = await reach.services.escalation.raise_sos(reach.rep.id, duress=True)
    await reach.tick()
    url = f"{PUBLIC}/twilio/sms"
    probe = await reach.twilio.inbound_sms(url, rep_phone, f"ACK A-{duress}")
    absent = await reach.twilio.inbound_sms(url, rep_phone, f"ACK A-{duress + 50}")
    assert probe.text == absent.text.replace(f"A-{duress + 50}", f"A-{duress}")
    assert said("channel.reply.unknown", alert=f"A-{duress}") in probe.text


async def test_ack_for_an_alert_that_never_reached_the_person_is_not_taken(
    reach: World,
) -> None:
    manager_phone = await share_phone(reach, reach.manager)
    sos, _ = await reach.services.escalation.raise_sos(reach.officer.id)  # Olu's own SOS
    await reach.tick()
    await reach.rep.send("/sos")  # Rita's, to Mia
    await reach.tick()
    url = f"{PUBLIC}/twilio/sms"
    reply = await reach.twilio.inbound_sms(url, manager_phone, f"ACK A-{sos}")
    assert said("channel.reply.unknown", alert=f"A-{sos}") in reply.text


async def test_an_address_typed_full_width_on_a_chinese_keyboard_is_read_as_meant(
    reach: World,
) -> None:
    olu = reach.officer
    await olu.send("/contacts")
    await olu.press(said("contacts.button.email"))
    await olu.send("ｏｌｕ．ｆｉｘｔｕｒｅ＠ｅｘａｍｐｌｅ．ｏｒｇ")
    assert mails_to(reach, "olu.fixture@example.org"), olu.last.body


async def test_an_address_with_invisible_characters_is_refused(reach: World) -> None:
    olu = reach.officer
    await olu.send("/contacts")
    await olu.press(said("contacts.button.email"))
    await olu.send("olu\u202e.fixture@example.org")  # reads as another address on screen
    assert not reach.smtp.received  # type: ignore[attr-defined]
    assert said("contacts.refused.email_invalid") in olu.last.body


async def test_an_auto_reply_from_a_phone_never_starts_an_sms_ping_pong(reach: World) -> None:
    """Mia's phone answers every SMS with "I'm driving, I'll get back to you": the bot's
    "reply 1 to acknowledge" must not feed it, text for text, all night."""
    phone = await share_phone(reach, reach.manager)
    url = f"{PUBLIC}/twilio/sms"
    answers = [await reach.twilio.inbound_sms(url, phone, "I'm driving, I'll get back to you")
               for _ in range(5)]
    assert said("channel.reply.not_understood") in answers[0].text
    assert [a.text for a in answers[1:]] == ["<Response/>"] * 4
    reach.clock.advance(timedelta(hours=1))
    later = await reach.twilio.inbound_sms(url, phone, "who is this?")
    assert said("channel.reply.not_understood") in later.text  # an hour on: told again
    done = await reach.twilio.inbound_sms(url, phone, "ACK")  # a real answer always is
    assert said("channel.reply.no_alert") in done.text


async def test_one_number_belongs_to_one_person_so_an_sms_ack_is_never_ambiguous(
    reach: World,
) -> None:
    mia_phone = await share_phone(reach, reach.manager)
    olu = reach.officer
    await olu.send("/contacts")
    await olu.press(said("contacts.button.type"))
    await olu.send(mia_phone)  # Mia's number, typed by Olu
    assert said("contacts.refused.phone_taken") in olu.last.body
    await olu.send("/contacts")
    await olu.press(said("contacts.button.share"))
    await olu.share_contact(mia_phone.lstrip("+"), "Olu", contact_user_id=olu.id)
    assert said("contacts.refused.phone_taken") in olu.last.body
    assert not reach.twilio.sms_to(mia_phone)  # no code was sent to Mia's phone
    assert await reach.services.contacts.user_by_phone(mia_phone) == reach.manager.id


async def test_a_chinese_manager_acknowledges_by_texting_shoudao_in_a_hurry(
    reach: World,
) -> None:
    await reach.manager.send("/language")
    await reach.manager.press("中文")
    phone = await share_phone_zh(reach)
    await reach.rep.send("/sos")
    await reach.tick()
    url = f"{PUBLIC}/twilio/sms"
    chatter = await reach.twilio.inbound_sms(url, phone, "收到了吗？")
    done = await reach.twilio.inbound_sms(url, phone, "收到！！")
    assert said("channel.reply.not_understood", "zh") in chatter.text
    assert said("channel.reply.acknowledged", "zh", alert="A-1") in done.text


async def test_a_mail_server_that_never_answers_does_not_hold_up_an_sos(reach: World) -> None:
    """The company's mail server accepts the connection and then says nothing (a tarpit, a
    half-dead relay). Rita's SOS must still be confirmed to her at once, and the mail retried."""
    await confirm_email(reach, reach.officer)
    smtp = reach.smtp  # type: ignore[attr-defined]
    smtp.controller.stop()  # for good: the port is the silent server's now
    held: list[asyncio.StreamWriter] = []

    async def say_nothing(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    silent = await asyncio.start_server(say_nothing, "127.0.0.1", smtp.port)
    assert reach.services.sender is not None
    reach.services.sender.other_channel_wait = 1.0  # seconds; 5 in production
    try:
        before = len(reach.rep.messages)
        await asyncio.wait_for(reach.rep.send("/sos"), timeout=8)  # not SMTP's 20 s per step
        assert len(reach.rep.messages) > before  # her SOS is confirmed
        assert any("SOS" in (m.body or "") for m in reach.manager.messages)
    finally:
        for writer in held:
            writer.close()
        silent.close()
    async with reach.services.db.read() as conn, conn.execute(
            "SELECT state FROM outbox WHERE channel = 'email' AND kind = 'alert'") as cur:
        assert [r[0] for r in await cur.fetchall()] == ["pending"]  # to be sent again


async def test_a_chinese_manager_who_presses_the_wrong_key_is_asked_again_in_mandarin(
    reach: World,
) -> None:
    await reach.manager.send("/language")
    await reach.manager.press("中文")
    phone = await share_phone_zh(reach)
    await plan_trip(reach, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
    for minutes in (0, 15, 30):
        await at(reach, DEADLINE + timedelta(minutes=minutes))
    await reach.advance(timedelta(minutes=5))
    [call] = reach.twilio.calls_to(phone)
    answer = await reach.twilio.press(call.sid, "2")
    assert 'language="zh-CN"' in answer.text
    assert said("channel.call.not_understood", "zh") in answer.text
    assert said("channel.call.press", "zh") in answer.text


async def test_an_sms_reply_posted_again_acknowledges_nothing_more(reach: World) -> None:
    """Mia's "1" acknowledged A-1. The same SMS posted again an hour later (Twilio's retry, or
    a captured request replayed: its signature carries no time) must not acknowledge the
    newest alert of that moment, Rita's SOS."""
    phone = await share_phone(reach, reach.manager)
    await plan_trip(reach, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
    for minutes in (0, 15, 30):
        await at(reach, DEADLINE + timedelta(minutes=minutes))
    await reach.advance(timedelta(minutes=5))  # fallback_after: Mia is texted
    url = f"{PUBLIC}/twilio/sms"
    sid = "SM" + "f1" * 16
    first = await reach.twilio.inbound_sms(url, phone, "1", sid=sid)
    assert said("channel.reply.acknowledged", alert="A-1") in first.text
    await reach.rep.send("/checkin")
    reach.clock.advance(timedelta(hours=1))
    await reach.rep.send("/sos")  # A-2 reaches Mia by SMS at once
    await reach.tick()
    again = await reach.twilio.inbound_sms(url, phone, "1", sid=sid)
    assert again.text == "<Response/>"
    [sos] = await rows(reach, "SELECT state, acked_by FROM alerts WHERE id = 2")
    assert (sos["state"], sos["acked_by"]) == ("open", None)
    other = await reach.twilio.inbound_sms(url, phone, "1")  # a new reply: it does
    assert said("channel.reply.acknowledged", alert="A-2") in other.text


async def test_a_copy_of_an_sms_that_comes_while_it_is_handled_acknowledges_nothing(
        reach: World) -> None:
    """Mia has two open alerts on her phone (A-1, A-2). Her "1" and Twilio's copy of it come
    while the database is busy (a sweep holds the write lock): both have read that the SMS was
    not handled yet. The first acknowledges the newest, A-2; the copy must not take the next
    newest, A-1, whose ladder would stop with nobody on it (found by a hostile review)."""
    phone = await share_phone(reach, reach.manager)
    await plan_trip(reach, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
    for minutes in (0, 15, 30):
        await at(reach, DEADLINE + timedelta(minutes=minutes))
    await reach.advance(timedelta(minutes=5))  # A-1 reaches Mia by SMS
    await reach.rep.send("/sos")  # A-2 too, at once
    await reach.tick()
    url = f"{PUBLIC}/twilio/sms"
    sid = "SM" + "c0" * 16

    async with reach.services.db.transaction():  # the write lock, held as a sweep would
        first = asyncio.create_task(reach.twilio.inbound_sms(url, phone, "1", sid=sid))
        copy = asyncio.create_task(reach.twilio.inbound_sms(url, phone, "1", sid=sid))
        for _ in range(500):  # no time passes: each copy runs until it waits for the lock
            await asyncio.sleep(0)
    answers = [(await first).text, (await copy).text]

    assert sum(said("channel.reply.acknowledged", alert="A-2") in a for a in answers) == 1
    assert "<Response/>" in answers  # the copy: nothing to say, nothing done
    [missed] = await rows(reach, "SELECT state, acked_by FROM alerts WHERE id = 1")
    assert (missed["state"], missed["acked_by"]) == ("open", None)
