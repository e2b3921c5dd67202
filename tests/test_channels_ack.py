"""Acknowledging from outside Telegram, end to end: pressing 1 on a call, an SMS reply, the
e-mailed link; all through the one acknowledge service. Careless and hostile cases too (old
links, forged posts, strangers' numbers, ACK A-999, two at once). People are made up.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import pytest

from tests.builders import DEADLINE, at, said
from tests.channel_world import (
    EMAILS,
    PHONES,
    PUBLIC,
    confirm_email,
    mails_to,
    missed_night,
    share_phone,
    web_client,
)
from tests.harness import World


async def test_pressing_1_acknowledges_and_everyone_alerted_is_told_on_their_channels(
    reach: World,
) -> None:
    manager_phone = await share_phone(reach, reach.manager)
    officer_phone = await share_phone(reach, reach.officer)
    await missed_night(reach)
    await at(reach, DEADLINE + timedelta(minutes=60))  # the safety officer and the manager
    await at(reach, DEADLINE + timedelta(minutes=65))  # their other channels
    [call] = reach.twilio.calls_to(manager_phone)[-1:]
    assert reach.twilio.calls_to(officer_phone)

    answer = await reach.twilio.press(call.sid, "1")
    await reach.tick()

    assert answer.status == 200
    assert said("channel.call.acknowledged") in answer.text
    assert said("alert.ack_notice", alert="A-1", by_name="Mia") in reach.officer.last.body
    assert reach.twilio.sms_to(officer_phone)[-1].body == said(
        "alert.ack_notice", alert="A-1", by_name="Mia")  # Olu was reached by SMS too
    assert said("alert.ack_rep.missed", alert="A-1", by_name="Mia") in reach.rep.last.body
    # Olu's own call is answered too late: Mia was first.
    [officer_call] = reach.twilio.calls_to(officer_phone)[-1:]
    late = await reach.twilio.press(officer_call.sid, "1")
    assert said("channel.call.already", by_name="Mia") in late.text
    # The ladder stopped: nothing more goes out on any channel.
    sent = len(reach.twilio.messages), len(reach.twilio.calls)
    await reach.advance(timedelta(hours=2))
    assert (len(reach.twilio.messages), len(reach.twilio.calls)) == sent


async def test_the_emailed_link_acknowledges_once_and_refuses_a_second_use(
    reach: World,
) -> None:
    await confirm_email(reach, reach.officer)
    await reach.rep.send("/sos")  # SOS: every channel at once, no waiting
    await reach.tick()
    [(subject, text)] = [m for m in mails_to(reach, EMAILS[3003]) if "SOS" in m[0]]
    assert subject == said("channel.mail.subject.sos", alert="A-1", name="Rita")
    link = next(line for line in text.splitlines() if line.startswith(PUBLIC + "/ack/"))
    path = link.removeprefix(PUBLIC)

    async with web_client(reach) as browser:
        shown = await browser.get(path)  # a mail scanner opening it changes nothing
        assert shown.status_code == 200 and "Acknowledge alert A-1" in shown.text
        assert "frame-ancestors 'none'" in shown.headers["content-security-policy"]
        token = path.rsplit("/", 1)[1]
        forged = await browser.post(path, data={"token": token},
                                    headers={"Origin": "https://evil.example"})
        assert forged.status_code == 404  # another site's form: refused, nothing changed
        # "Origin: null" is a sandboxed frame's or a no-referrer page's: from this site only if
        # the browser says so (Sec-Fetch-Site), never on its own.
        hidden = await browser.post(path, data={"token": token}, headers={"Origin": "null"})
        assert hidden.status_code == 404
        across = await browser.post(path, data={"token": token}, headers={
            "Origin": "null", "Sec-Fetch-Site": "cross-site"})
        assert across.status_code == 404
        done = await browser.post(path, data={"token": token}, headers={"Origin": PUBLIC})
        again = await browser.post(path, data={"token": token}, headers={"Origin": PUBLIC})
        reopened = await browser.get(path)
    assert done.status_code == 200
    assert said("channel.page.acknowledged", alert="A-1") in done.text
    assert again.status_code == 410 and said("channel.page.used") in again.text
    assert reopened.status_code == 410
    await reach.tick()
    assert said("alert.ack_notice", alert="A-1", by_name="Olu") in reach.manager.last.body


async def test_an_old_or_tampered_link_shows_a_clear_page_and_changes_nothing(
    reach: World,
) -> None:
    await confirm_email(reach, reach.officer)
    await reach.rep.send("/sos")
    await reach.tick()
    [(_, text)] = [m for m in mails_to(reach, EMAILS[3003]) if "SOS" in m[0]]
    path = next(line for line in text.splitlines()
                if line.startswith(PUBLIC)).removeprefix(PUBLIC)
    token = path.rsplit("/", 1)[1]
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    async with web_client(reach) as browser:
        bad = await browser.get(f"/ack/{tampered}")
        junk = await browser.post("/ack/%3Cscript%3E", data={"token": "<script>"})
        reach.clock.advance(timedelta(hours=25))
        old = await browser.get(path)
        old_post = await browser.post(path, data={"token": token})
    assert bad.status_code == 404 and said("channel.page.invalid") in bad.text
    assert junk.status_code == 404 and "<script>" not in junk.text
    assert old.status_code == 410 and said("channel.page.expired") in old.text
    assert old_post.status_code == 410
    assert "Olu has acknowledged" not in reach.manager.texts()[-1]


async def test_sms_replies_acknowledge_through_the_one_service(reach: World) -> None:
    phone = await share_phone(reach, reach.manager)
    rep_phone = await share_phone(reach, reach.rep)
    await missed_night(reach)
    await reach.advance(timedelta(minutes=5))
    url = f"{PUBLIC}/twilio/sms"

    stranger = await reach.twilio.inbound_sms(url, "+4915199999999", "ACK")
    own = await reach.twilio.inbound_sms(url, rep_phone, "1")
    unknown = await reach.twilio.inbound_sms(url, phone, "ACK A-999")
    chatter = await reach.twilio.inbound_sms(url, phone, "who is this?")
    forged = await reach.twilio.inbound_sms(url, phone, "1", signature="forged")
    assert stranger.text == "<Response/>"  # ignored, no answer at all
    assert said("channel.reply.own") in own.text
    assert said("channel.reply.unknown", alert="A-999") in unknown.text
    assert said("channel.reply.not_understood") in chatter.text
    assert forged.status == 403

    done = await reach.twilio.inbound_sms(url, phone, "ack a-1")
    again = await reach.twilio.inbound_sms(url, phone, "1")
    assert said("channel.reply.acknowledged", alert="A-1") in done.text
    assert said("channel.reply.already", alert="A-1", by_name="Mia") in again.text


async def test_two_acknowledgements_at_once_the_first_wins(reach: World) -> None:
    manager_phone = await share_phone(reach, reach.manager)
    officer_phone = await share_phone(reach, reach.officer)
    await reach.rep.send("/sos")
    await reach.tick()
    url = f"{PUBLIC}/twilio/sms"
    answers = await asyncio.gather(
        reach.twilio.inbound_sms(url, manager_phone, "1"),
        reach.twilio.inbound_sms(url, officer_phone, "1"),
    )
    won = [a for a in answers if "you acknowledged" in a.text]
    lost = [a for a in answers if "already acknowledged" in a.text]
    assert (len(won), len(lost)) == (1, 1)


async def test_numbers_addresses_and_links_never_reach_the_log(
    reach: World, caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.DEBUG):
        phone = await share_phone(reach, reach.manager)
        address = await confirm_email(reach, reach.officer)
        await reach.rep.send("/sos")
        await reach.tick()
        url = f"{PUBLIC}/twilio/sms"
        await reach.twilio.inbound_sms(url, "+4915199999999", "ACK")
        await reach.twilio.message_status(reach.twilio.sms_to(phone)[0].sid, "delivered")
        [call] = reach.twilio.calls_to(phone)
        await reach.twilio.call_status(call.sid, "no-answer")
        [(_, text)] = [m for m in mails_to(reach, address) if "SOS" in m[0]]
        link = next(line for line in text.splitlines() if line.startswith(PUBLIC))
        async with web_client(reach) as browser:
            await browser.get(link.removeprefix(PUBLIC))
        await reach.twilio.inbound_sms(url, phone, "1")
        await reach.tick()
    logged = "\n".join(r.getMessage() for r in caplog.records  # the test SMTP server's own
                       if r.name.startswith(("fieldbot", "conversations", "uvicorn",
                                             "starlette", "aiosmtplib")))
    assert "provider status no-answer" in logged
    token = link.rsplit("/", 1)[1]
    for secret in (phone, phone.lstrip("+"), "+4915199999999", address, token, "Rita"):
        assert secret not in logged, secret


async def test_an_old_call_answered_after_the_rep_checked_in_changes_nothing(
    reach: World,
) -> None:
    phone = await share_phone(reach, reach.manager)
    await missed_night(reach)
    await reach.advance(timedelta(minutes=5))
    [call] = reach.twilio.calls_to(phone)
    await reach.rep.send("/checkin")  # she was fine: the all-clear goes out
    answer = await reach.twilio.press(call.sid, "1")
    reply = await reach.twilio.inbound_sms(f"{PUBLIC}/twilio/sms", phone, "1")
    assert said("channel.call.closed") in answer.text
    assert said("channel.reply.closed", alert="A-1") in reply.text
    async with reach.services.db.read() as conn, conn.execute(
            "SELECT state, acked_by FROM alerts WHERE id = 1") as cur:
        assert tuple(await cur.fetchone() or ()) == ("closed", None)


async def test_a_chinese_manager_is_called_in_mandarin(reach: World) -> None:
    await reach.manager.send("/language")
    await reach.manager.press("中文")
    phone = await share_phone_zh(reach)
    await missed_night(reach)
    await reach.advance(timedelta(minutes=5))
    [sms] = reach.twilio.sms_to(phone)
    [call] = reach.twilio.calls_to(phone)
    assert sms.body == said("channel.sms.missed", "zh", alert="A-1", name="Rita")
    assert 'language="zh-CN"' in call.twiml and "请按 1" in call.twiml
    answer = await reach.twilio.press(call.sid, "1")
    assert said("channel.call.acknowledged", "zh") in answer.text
    assert 'language="zh-CN"' in answer.text


async def share_phone_zh(world: World) -> str:
    number = PHONES[world.manager.id]
    await world.manager.send("/contacts")
    await world.manager.press(said("contacts.button.share", "zh"))
    await world.manager.share_contact(number.lstrip("+"), "Mia", contact_user_id=world.manager.id)
    return number
