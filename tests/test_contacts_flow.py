"""/contacts end to end: the real Application, the fake Telegram, the fake Twilio and a real
SMTP server. Rita (made up) adds her phone and e-mail as a new, a careless and a hostile user."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from conversations.i18n import catalog
from tests.builders import rows, said
from tests.channel_world import contacts_world
from tests.harness import MANAGER_ID, REP_ID, World
from tests.smtp import SmtpServer

MOBILE = "+4915123456789"  # a made-up German mobile number (valid for phonenumbers)
SHOWN = "+491•••89"
EMAIL = "rita.fixture@example.org"


@pytest.fixture
async def reach(tmp_path: Path, db_target: Path | str) -> AsyncIterator[World]:
    async with contacts_world(tmp_path, db_target) as world:
        yield world


def sms_code(world: World, number: str = MOBILE) -> str:
    body = world.twilio.sms_to(number)[-1].body
    found = re.search(r"\b(\d{6})\b", body)
    assert found, body
    return found.group(1)


async def type_number(world: World, text: str) -> None:
    rep = world.rep
    await rep.send("/contacts")
    await rep.press(said("contacts.button.type"))
    await rep.send(text)


async def test_a_new_rep_shares_her_own_number_with_one_tap(reach: World) -> None:
    rep = reach.rep
    await rep.send("/contacts")
    assert said("contacts.phone_none") in rep.last.body
    assert said("contacts.email_none") in rep.last.body

    await rep.press(said("contacts.button.share"))
    assert rep.keyboard is not None
    assert rep.keyboard[0][0] == {"text": said("contacts.button.share_reply"),
                                  "request_contact": True}
    # Telegram sends its own number without the + sign
    await rep.share_contact(MOBILE.lstrip("+"), "Rita", contact_user_id=REP_ID)

    assert rep.last.body == said("contacts.shared_saved", phone=SHOWN)
    assert rep.keyboard is None  # the contact button is taken away
    points = await reach.services.contacts.points(REP_ID)
    assert points.reachable_phone == MOBILE
    assert await reach.services.contacts.user_by_phone(MOBILE) == REP_ID
    assert reach.twilio.messages == []  # no SMS needed: Telegram vouched for it


async def test_a_shared_card_of_her_own_with_no_real_number_is_refused(reach: World) -> None:
    rep = reach.rep
    await rep.send("/contacts")
    await rep.press(said("contacts.button.share"))
    await rep.share_contact("<b>123</b>", "Rita", contact_user_id=REP_ID)
    assert rep.last.body == said("contacts.refused.phone_invalid")
    assert (await reach.services.contacts.points(REP_ID)).phone is None


async def test_her_own_card_after_the_question_lapsed_is_still_kept(reach: World) -> None:
    rep = reach.rep
    await rep.send("/contacts")
    await rep.press(said("contacts.button.share"))
    reach.clock.advance(timedelta(hours=1))  # she comes back to the button an hour later

    await rep.share_contact(MOBILE, "Rita", contact_user_id=REP_ID)

    assert rep.last.body == said("contacts.shared_saved", phone=SHOWN)
    assert (await reach.services.contacts.points(REP_ID)).reachable_phone == MOBILE
    await rep.share_contact("+4915298765432", "Mia", contact_user_id=MANAGER_ID)
    assert rep.last.body == said("fallback.staff")
    assert (await reach.services.contacts.points(REP_ID)).reachable_phone == MOBILE


async def test_looking_at_contacts_opens_no_question(reach: World) -> None:
    rep = reach.rep
    await rep.send("/contacts")
    mark = rep.mark()
    await rep.send("/privacy")
    assert [m.body.split("\n")[0] for m in rep.since(mark)] == [said("privacy.title")]


async def test_contacts_again_while_a_code_is_awaited_ends_it_quietly(reach: World) -> None:
    rep = reach.rep
    await type_number(reach, MOBILE)
    mark = rep.mark()
    await rep.send("/contacts")
    [overview] = rep.since(mark)
    assert overview.body.startswith(said("contacts.title"))
    await rep.send(sms_code(reach))  # no longer the answer to anything
    assert (await reach.services.contacts.points(REP_ID)).phone is None


@pytest.mark.parametrize("owner", [MANAGER_ID, None])
async def test_someone_elses_contact_card_is_refused(reach: World, owner: int | None) -> None:
    rep = reach.rep
    await rep.send("/contacts")
    await rep.press(said("contacts.button.share"))
    await rep.share_contact(MOBILE, "Mia", contact_user_id=owner)

    assert rep.last.body == said("contacts.refused.not_yours")
    assert (await reach.services.contacts.points(REP_ID)).phone is None
    # still asked: her own card now is taken
    await rep.share_contact(MOBILE, "Rita", contact_user_id=REP_ID)
    assert rep.last.body == said("contacts.shared_saved", phone=SHOWN)


async def test_typing_a_number_sends_an_sms_code_that_confirms_it(reach: World) -> None:
    rep = reach.rep
    await type_number(reach, "+49 151 2345 6789")

    assert rep.last.body == said("contacts.code_sent_phone", target=SHOWN, minutes=10)
    assert len(reach.twilio.sms_to(MOBILE)) == 1
    assert (await reach.services.contacts.points(REP_ID)).phone is None  # not before the code

    await rep.send(sms_code(reach))

    assert rep.last.body == said("contacts.confirmed_phone", target=SHOWN)
    assert (await reach.services.contacts.points(REP_ID)).reachable_phone == MOBILE


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("call me maybe", "phone_letters"),
        ("12", "phone_too_short"),
        ("0151 23456789", "phone_needs_plus"),
        ("+49 30 1234567", "phone_landline"),
        ("+1 555 0000 000", "phone_invalid"),
        ("<b>+49</b>", "phone_letters"),
        ("＋４９ １５１ ２３４５ ６７８９", None),  # full-width, as Chinese keyboards type
    ],
)
async def test_a_careless_number_gets_a_clear_answer_and_can_be_typed_again(
    reach: World, typed: str, reason: str | None
) -> None:
    rep = reach.rep
    await type_number(reach, typed)
    if reason is None:
        assert rep.last.body == said("contacts.code_sent_phone", target=SHOWN, minutes=10)
        return
    assert rep.last.body == said(f"contacts.refused.{reason}")
    assert reach.twilio.messages == []
    await rep.send(MOBILE)  # the question is still open
    assert rep.last.body == said("contacts.code_sent_phone", target=SHOWN, minutes=10)


async def test_four_thousand_characters_are_refused_without_an_sms(reach: World) -> None:
    rep = reach.rep
    await type_number(reach, "+49" + "1" * 4000)
    assert rep.last.body == said("contacts.refused.phone_too_long", max=40)
    await type_number(reach, MOBILE)
    await rep.send("9" * 4000)
    assert rep.last.body == said("contacts.refused.code_format")
    assert reach.twilio.messages and len(reach.twilio.messages) == 1


async def test_a_national_number_is_read_in_the_country_of_her_current_one(
    reach: World,
) -> None:
    rep = reach.rep
    await rep.send("/contacts")
    await rep.press(said("contacts.button.share"))
    await rep.share_contact(MOBILE, "Rita", contact_user_id=REP_ID)
    await rep.send("/contacts")
    await rep.press(said("contacts.button.type"))
    assert rep.last.body == said("contacts.type_ask")

    await rep.send("0152 98765432")

    assert reach.twilio.messages[-1].to == "+4915298765432"


async def test_six_wrong_codes_lock_and_the_right_one_then_does_nothing(reach: World) -> None:
    rep = reach.rep
    await type_number(reach, MOBILE)
    right = sms_code(reach)
    wrong = "000000" if right != "000000" else "111111"
    for left in (4, 3, 2, 1):
        await rep.send(wrong)
        assert rep.last.body == said("contacts.refused.wrong_code", left=left)
    await rep.send(wrong)
    assert rep.last.body == said("contacts.refused.locked", minutes=60)

    await rep.send(right)  # the sixth try, with the right code: still locked

    assert rep.last.body == said("contacts.refused.locked", minutes=60)
    assert (await reach.services.contacts.points(REP_ID)).phone is None
    locks = await rows(reach, "SELECT detail FROM audit WHERE action = 'contact_code_locked'")
    assert [r["detail"] for r in locks] == ["kind=phone tries=5"]
    await type_number(reach, MOBILE)  # no new code while locked
    assert rep.last.body.startswith(said("contacts.refused.locked", minutes=60)[:20])
    assert len(reach.twilio.messages) == 1

    await reach.advance(timedelta(hours=1, minutes=1))
    await type_number(reach, MOBILE)
    await rep.send(sms_code(reach))
    assert rep.last.body == said("contacts.confirmed_phone", target=SHOWN)


async def test_an_expired_code_is_refused_and_a_new_one_works(reach: World) -> None:
    rep = reach.rep
    await type_number(reach, MOBILE)
    old = sms_code(reach)
    reach.clock.advance(timedelta(minutes=11))

    await rep.send(old)
    assert rep.last.body == said("contacts.refused.expired")

    await rep.press(said("contacts.button.resend"))
    assert len(reach.twilio.messages) == 2
    new = sms_code(reach)
    if new != old:
        await rep.send(old)
        assert rep.last.body.startswith(said("contacts.refused.wrong_code", left=4))
    await rep.send(new)
    assert rep.last.body == said("contacts.confirmed_phone", target=SHOWN)


async def test_resending_is_limited(reach: World) -> None:
    rep = reach.rep
    await type_number(reach, MOBILE)
    await rep.press(said("contacts.button.resend"))
    assert rep.last.body == said("contacts.refused.wait", seconds=60)
    for _ in range(4):
        reach.clock.advance(timedelta(minutes=2))
        await rep.press(said("contacts.button.resend"))
    assert len(reach.twilio.messages) == 5
    reach.clock.advance(timedelta(minutes=2))
    await rep.press(said("contacts.button.resend"))
    assert rep.last.body == said("contacts.refused.too_many")
    assert len(reach.twilio.messages) == 5


async def test_old_buttons_do_what_they_say_or_are_told_to_be_stale(reach: World) -> None:
    rep = reach.rep
    await rep.send("/contacts")
    overview = rep.last
    await type_number(reach, MOBILE)
    code_question = rep.last
    await rep.send(sms_code(reach))

    toast = await rep.press(said("contacts.button.resend"), code_question)
    assert toast is not None and toast.show_alert
    assert len(reach.twilio.messages) == 1

    await rep.press(said("contacts.button.share"), overview)  # the old overview still works
    assert rep.last.body == said("contacts.share_ask")


async def test_a_number_the_provider_refuses_is_explained(reach: World) -> None:
    reach.twilio.fail_number(MOBILE, 21614)
    await type_number(reach, MOBILE)
    assert reach.rep.last.body == said("contacts.refused.phone_refused")
    reach.twilio.fail_next(503)
    reach.twilio.refused.pop(MOBILE)
    reach.clock.advance(timedelta(minutes=2))
    await reach.rep.send(MOBILE)
    assert reach.rep.last.body == said("contacts.refused.send_failed")


async def test_an_email_is_confirmed_with_a_mailed_code(reach: World) -> None:
    rep = reach.rep
    smtp: SmtpServer = reach.smtp  # type: ignore[attr-defined]
    await rep.send("/contacts")
    await rep.press(said("contacts.button.email"))
    await rep.send("rita at example dot org")
    assert rep.last.body == said("contacts.refused.email_invalid")

    await rep.send(EMAIL)

    assert rep.last.body == said("contacts.code_sent_email", target="r•••@example.org",
                                 minutes=10)
    [mail] = smtp.received
    assert mail.recipients == [EMAIL]
    code = re.search(r"\b(\d{6})\b", mail.message.get_payload(decode=True).decode()).group(1)
    await rep.send(code)
    assert rep.last.body == said("contacts.confirmed_email", target="r•••@example.org")
    assert (await reach.services.contacts.points(REP_ID)).reachable_email == EMAIL


async def test_codes_and_numbers_never_reach_the_log(
    reach: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await type_number(reach, MOBILE)
    code = sms_code(reach)
    await reach.rep.send(code)
    own = "\n".join(r.getMessage() for r in caplog.records
                    if r.name.startswith(("fieldbot", "conversations", "faketwilio")))
    assert "confirmed a phone" in own
    for secret in (MOBILE, MOBILE[3:], code):
        assert secret not in own


async def test_without_sms_a_typed_number_is_explained_and_sharing_still_works(
    tmp_path: Path,
) -> None:
    world = World(tmp_path)
    await world.start()
    try:
        await world.enrol_team()
        rep = world.rep
        await rep.send("/contacts")
        assert said("contacts.no_sms_here") in rep.last.body
        await rep.press(said("contacts.button.type"))
        assert rep.last.body == said("contacts.refused.sms_unavailable")
        await rep.send("/contacts")
        await rep.press(said("contacts.button.email"))
        assert rep.last.body == said("contacts.refused.email_unavailable")
        await rep.send("/contacts")
        await rep.press(said("contacts.button.share"))
        await rep.share_contact(MOBILE, "Rita", contact_user_id=REP_ID)
        assert rep.last.body == said("contacts.shared_saved", phone=SHOWN)
    finally:
        await world.stop()


async def test_removing_the_phone(reach: World) -> None:
    rep = reach.rep
    await rep.send("/contacts")
    await rep.press(said("contacts.button.share"))
    await rep.share_contact(MOBILE, "Rita", contact_user_id=REP_ID)
    await rep.send("/contacts")
    await rep.press(said("contacts.button.remove_phone"))
    assert said("contacts.removed_phone") in rep.texts()
    assert said("contacts.phone_none") in rep.last.body
    assert await reach.services.contacts.user_by_phone(MOBILE) is None


async def test_a_chinese_rep_reads_the_flow_in_chinese(reach: World) -> None:
    rep = reach.rep
    await rep.send("/language")
    await rep.press("中文")
    await rep.send("/contacts")
    assert said("contacts.phone_none", "zh") in rep.last.body
    await rep.press(said("contacts.button.type", "zh"))
    await rep.send("+86 138 1234 5678")
    assert rep.last.body == said("contacts.code_sent_phone", "zh", target="+861•••78",
                                 minutes=10)
    assert "验证码" in reach.twilio.messages[-1].body


def test_every_refusal_the_service_can_give_has_a_text_in_both_languages() -> None:
    source = (Path(__file__).parent.parent / "fieldbot" / "services" / "contacts.py").read_text()
    reasons = set(re.findall(r'ContactRefused\("([a-z_]+)"', source))
    reasons |= {f"{kind}_refused" for kind in ("phone", "email")}
    assert len(reasons) > 15
    for language in ("en", "zh"):
        missing = {r for r in reasons if f"contacts.refused.{r}" not in catalog(language)}
        assert missing == set(), language
