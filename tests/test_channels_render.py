"""What an alert reads like beyond Telegram: short plain SMS, valid TwiML whatever the name,
both languages, and no failure for a kind of alert without texts of its own."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime

import pytest

from conversations.i18n import Texts
from conversations.render import plain
from fieldbot.services.outgoing import OutboxMessage
from tests.builders import said

NOW = datetime(2026, 12, 1, 20, 30, tzinfo=UTC)
HOSTILE = 'Rita <b>&</b> "\u202eevil" ' + "名" * 40


def message(message_kind: str = "alert", **params: object) -> OutboxMessage:
    p: dict[str, object] = {"alert": "A-7", "alert_id": 7, "kind": "missed", "tier": 2,
                            "attempt": 1, "subject_name": "Rita"}
    p.update(params)
    return OutboxMessage(1, 2002, message_kind, p, 50, 1, 7, 2, NOW, NOW, "sms")


@pytest.mark.parametrize("language", ["en", "zh"])
def test_a_call_is_valid_twiml_whatever_the_name(language: str) -> None:
    twiml = plain.twiml(Texts(language), message(subject_name=HOSTILE),
                        "https://bot.example/twilio/gather?a=1&b=2")
    root = ET.fromstring(twiml)  # noqa: S314 - our own output
    gather = root.find("Gather")
    assert gather is not None and gather.get("numDigits") == "1"
    assert gather.get("action") == "https://bot.example/twilio/gather?a=1&b=2"
    says = root.findall(".//Say")
    assert says and all(s.get("language") == ("zh-CN" if language == "zh" else "en-US")
                        for s in says)
    assert "\u202e" not in twiml  # the name's bidi override is dropped
    assert "Rita <b>&</b>" in (says[0].text or "")  # the name is spoken as text, not markup


def test_an_sms_is_plain_text_and_short() -> None:
    body = plain.sms(Texts("en"), message(subject_name="Tom & Jerry"))
    assert body == said("channel.sms.missed", alert="A-7", name="Tom & Jerry")
    assert "&amp;" not in body
    long = plain.sms(Texts("en"), message(subject_name="x" * 500))
    assert len(long) <= plain.SMS_LIMIT


def test_an_alert_kind_without_texts_of_its_own_still_goes_out() -> None:
    assert plain.sms(Texts("en"), message(kind="visit")) == said(
        "channel.sms.visit", alert="A-7", name="Rita")
    assert plain.sms(Texts("zh"), message(kind="something-new")) == said(
        "channel.sms.missed", "zh", alert="A-7", name="Rita")


def test_an_email_carries_the_link_only_for_an_alert() -> None:
    mail = plain.mail(Texts("en"), message(), "https://bot.example/ack/T")
    assert mail.subject == said("channel.mail.subject.missed", alert="A-7", name="Rita")
    assert "https://bot.example/ack/T" in mail.text
    update = plain.mail(Texts("en"), message("ack_notice", by_name="Olu"), None)
    assert update.subject == said("channel.mail.subject.update", alert="A-7")
    assert said("alert.ack_notice", alert="A-7", by_name="Olu") in update.text
