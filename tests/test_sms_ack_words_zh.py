"""A Chinese manager answers an alert SMS with the policy's own word for "acknowledge",
确认收到 (GLOSSARY), which the SMS itself asks for ("回复 1 确认收到"), or the everyday 收到了.
Before, only 确认 and 收到 alone were read: she was told how to reply and the alert kept
climbing while she believed she had taken it (found by a hostile review in Chinese)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.builders import said
from tests.channel_world import PHONES, PUBLIC, missed_night
from tests.harness import World


async def _chinese_manager_with_phone(world: World) -> str:
    mia = world.manager
    await mia.send("/language")
    await mia.press("中文")
    number = PHONES[mia.id]
    await mia.send("/contacts")
    await mia.press(said("contacts.button.share", "zh"))
    await mia.share_contact(number.lstrip("+"), "Mia", contact_user_id=mia.id)
    return number


@pytest.mark.parametrize("reply", ["确认收到", "收到了", "确认收到 A-1"])
async def test_a_chinese_sms_reply_in_the_glossarys_words_acknowledges(
    reach: World, reply: str,
) -> None:
    phone = await _chinese_manager_with_phone(reach)
    await missed_night(reach)
    await reach.advance(timedelta(minutes=5))
    [sms] = reach.twilio.sms_to(phone)
    assert "回复 1 确认收到" in sms.body  # what she was asked to do, in these words

    answer = await reach.twilio.inbound_sms(f"{PUBLIC}/twilio/sms", phone, reply)

    assert said("channel.reply.acknowledged", "zh", alert="A-1") in answer.text, answer.text
