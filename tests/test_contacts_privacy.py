"""Contact points are personal data: encrypted at rest (with a blind index that finds an SMS's
sender without the number in clear), shown masked in /privacy, erased by /forgetme, and
re-encrypted by a key rotation."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.builders import raw_bytes, rows, said
from tests.channel_world import contacts_world
from tests.harness import REP_ID, World
from tests.smtp import SmtpServer

MOBILE = "+4915123456789"
OTHER = "+4915298765432"
EMAIL = "zqmailmarker@example.org"


@pytest.fixture
async def reach(tmp_path: Path, db_target: Path | str) -> AsyncIterator[World]:
    async with contacts_world(tmp_path, db_target) as world:
        yield world


async def add_everything(world: World) -> None:
    """Rita shares her phone, confirms an e-mail, and leaves a code for another number open."""
    rep = world.rep
    smtp: SmtpServer = world.smtp  # type: ignore[attr-defined]
    await rep.send("/contacts")
    await rep.press(said("contacts.button.share"))
    await rep.share_contact(MOBILE, "Rita", contact_user_id=REP_ID)
    await rep.send("/contacts")
    await rep.press(said("contacts.button.email"))
    await rep.send(EMAIL)
    body = smtp.received[-1].message.get_payload(decode=True).decode()
    await rep.send(re.search(r"\b(\d{6})\b", body).group(1))
    await rep.send("/contacts")
    await rep.press(said("contacts.button.type"))
    await rep.send(OTHER)  # a code is waiting for this one
    assert world.app is not None
    await world.app.update_persistence()


async def test_no_number_or_address_is_stored_in_clear(reach: World) -> None:
    await add_everything(reach)
    data = raw_bytes(reach)
    for secret in (MOBILE, MOBILE[1:], MOBILE[3:], OTHER[3:], EMAIL, "zqmailmarker"):
        assert secret.encode() not in data, secret
    [row] = await rows(reach, "SELECT phone, phone_index, email FROM contacts WHERE id = ?",
                       REP_ID)
    assert row["phone"].startswith("gAAAAA") and row["email"].startswith("gAAAAA")
    assert re.fullmatch(r"[0-9a-f]{64}", row["phone_index"])
    assert await reach.services.contacts.user_by_phone(MOBILE) == REP_ID


async def test_privacy_shows_them_masked(reach: World) -> None:
    await add_everything(reach)
    await reach.rep.send("/privacy")
    shown = reach.rep.last.body
    assert "+491•••89" in shown and "z•••@example.org" in shown
    assert MOBILE not in shown and EMAIL not in shown
    assert reach.rep.last.protect_content


async def test_forgetme_erases_them(reach: World) -> None:
    await add_everything(reach)
    await reach.rep.send("/cancel")
    await reach.rep.send("/forgetme")
    await reach.rep.press(said("forgetme.button_erase"))

    assert await rows(reach, "SELECT id FROM contacts") == []
    assert await rows(reach, "SELECT id FROM contact_codes") == []
    assert await reach.services.contacts.user_by_phone(MOBILE) is None


async def test_a_key_rotation_keeps_them_readable_and_findable(reach: World) -> None:
    await add_everything(reach)
    before = await rows(reach, "SELECT phone, email FROM contacts WHERE id = ?", REP_ID)

    await reach.services.keys.rotate_key()

    after = await rows(reach, "SELECT phone, email FROM contacts WHERE id = ?", REP_ID)
    assert after != before
    points = await reach.services.contacts.points(REP_ID)
    assert (points.reachable_phone, points.reachable_email) == (MOBILE, EMAIL)
    assert await reach.services.contacts.user_by_phone(MOBILE) == REP_ID
