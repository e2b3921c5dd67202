"""A World with every channel live: the fake Twilio (SMS, calls, its callbacks into our HTTP
routes in-process), a real SMTP server, and a public address for links and callbacks.

Phone numbers and addresses are made up; phones are shared through /contacts as people do.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx

from conversations.web import web_routes
from faketelegram.users import FakeUser
from fieldbot.web.server import build_web
from tests.builders import BERLIN, DEADLINE, at, plan_trip, said
from tests.harness import ADMIN_ID, MANAGER_ID, OFFICER_ID, REP_ID, TWILIO, World
from tests.smtp import SmtpServer

PUBLIC = "https://bot.example.test"
PHONES = {MANAGER_ID: "+4915123456701", OFFICER_ID: "+4915123456702",
          REP_ID: "+4915123456703", ADMIN_ID: "+4915123456704"}
EMAILS = {MANAGER_ID: "mia.fixture@example.org", OFFICER_ID: "olu.fixture@example.org",
          ADMIN_ID: "ada.fixture@example.org"}


@asynccontextmanager
async def channel_world(
    tmp: Path, _before_start: Callable[[World], object] | None = None, **settings: Any,
) -> AsyncIterator[World]:
    smtp = SmtpServer("plain")
    smtp.start()
    world = World(tmp, **{**TWILIO, "smtp_url": smtp.url, "mail_from": "desk@fieldbot.example",
                          "public_url": PUBLIC, **settings})
    world.smtp = smtp  # type: ignore[attr-defined]
    if _before_start is not None:
        _before_start(world)
    try:
        await world.start()
        assert world.app is not None
        world.web = build_web(web_routes(world.app))  # type: ignore[attr-defined]
        world.twilio.callback_transport = httpx.ASGITransport(app=world.web)  # type: ignore[attr-defined]
        await world.enrol_team()
        yield world
    finally:
        await world.stop()
        smtp.stop()


async def share_phone(world: World, user: FakeUser) -> str:
    """The person shares their own number with one tap (Telegram vouches for it)."""
    number = PHONES[user.id]
    await user.send("/contacts")
    await user.press(said("contacts.button.share"))
    await user.share_contact(number.lstrip("+"), user.first_name, contact_user_id=user.id)
    assert (await world.services.contacts.points(user.id)).reachable_phone == number
    return number


async def confirm_email(world: World, user: FakeUser) -> str:
    """The person types an address and the 6-digit code e-mailed to it."""
    smtp: SmtpServer = world.smtp  # type: ignore[attr-defined]
    address = EMAILS[user.id]
    before = len(smtp.received)
    await user.send("/contacts")
    await user.press(said("contacts.button.email"))
    await user.send(address)
    mail = smtp.received[before]
    payload = mail.message.get_payload(decode=True)
    assert isinstance(payload, bytes)
    code = re.search(r"\b(\d{6})\b", payload.decode())
    assert code, "no code in the mail"
    await user.send(code.group(1))
    assert (await world.services.contacts.points(user.id)).reachable_email == address
    return address


def mails_to(world: World, address: str) -> list[tuple[str, str]]:
    """(subject, text) of every e-mail the SMTP server took for `address`."""
    smtp: SmtpServer = world.smtp  # type: ignore[attr-defined]
    out = []
    for mail in smtp.received:
        if address in mail.recipients:
            payload = mail.message.get_payload(decode=True)
            text = payload.decode() if isinstance(payload, bytes) else str(payload)
            out.append((str(mail.message["Subject"]), text))
    return out


def web_client(world: World) -> httpx.AsyncClient:
    """A browser on the bot's HTTP server (in-process)."""
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=world.web),  # type: ignore[attr-defined]
                             base_url=PUBLIC)


async def missed_night(world: World) -> None:
    """Rita's trip to Berlin, tonight's check-in missed: her two reminders, then the manager's
    Telegram alert (A-1)."""
    await plan_trip(world, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
    for minutes in (0, 15, 30):
        await at(world, DEADLINE + timedelta(minutes=minutes))


@asynccontextmanager
async def contacts_world(tmp: Path, db: Path | str) -> AsyncIterator[World]:
    """The team with SMS and calls (fake Twilio) and e-mail (a real SMTP server) live, as
    /contacts needs them; the server is `world.smtp`."""
    smtp = SmtpServer("plain")
    smtp.start()
    world = World(tmp, db=db, **TWILIO, smtp_url=smtp.url, mail_from="desk@fieldbot.example")
    world.smtp = smtp  # type: ignore[attr-defined]
    await world.start()
    await world.enrol_team()
    try:
        yield world
    finally:
        await world.stop()
        smtp.stop()
