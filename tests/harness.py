"""The world the end-to-end tests act in: the real Application, the fake Telegram, a fake clock.

Personas (made-up test people): Ada the admin, Mia the manager of team "north", Olu the
safety officer, Rita the rep in team "north". Each user action returns after the bot has
fully handled the update (the fake dispatches straight into `Application.process_update`).
"""

from __future__ import annotations

import re
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from telegram import Update
from telegram.request import HTTPXRequest

from conversations.runtime.bootstrap import FieldbotApp, build_application, publish_commands
from faketelegram.api import FakeTelegram
from faketelegram.transport import FakeTransport
from faketelegram.users import FakeUser
from faketwilio import (
    DEFAULT_ACCOUNT_SID,
    DEFAULT_AUTH_TOKEN,
    DEFAULT_NUMBER,
    FakeTwilio,
    FakeTwilioTransport,
)
from fieldbot.channels.build import build_channels
from fieldbot.clock import FakeClock
from fieldbot.config import Settings
from fieldbot.geo.gazetteer import OfflineGeocoder
from fieldbot.services.container import Services

TOKEN = "123456:FIXTURE-token-not-real-0000000000"
START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)  # a made-up "now" for the tests

# The place index is immutable reference data that takes seconds to build: one per test run.
GAZETTEER = OfflineGeocoder()

ADMIN_ID, MANAGER_ID, OFFICER_ID, REP_ID = 1001, 2002, 3003, 4004
OTHER_MANAGER_ID, OTHER_REP_ID = 2012, 4014

# Settings that make SMS and calls live against the World's fake Twilio.
TWILIO: dict[str, Any] = {
    "twilio_account_sid": DEFAULT_ACCOUNT_SID,
    "twilio_auth_token": DEFAULT_AUTH_TOKEN,
    "twilio_from": DEFAULT_NUMBER,
    "twilio_api_url": "http://fake.twilio",
}


class World:
    def __init__(self, tmp: Path, start: datetime = START, **settings: Any) -> None:
        self.tmp = tmp
        self.clock = FakeClock(start)
        self.fake = FakeTelegram(token=TOKEN, clock=self.clock.now)
        self.fake.dispatch = self._dispatch
        self.twilio = FakeTwilio(clock=self.clock.now)  # live when settings carry TWILIO
        self.smtp_tls: ssl.SSLContext | None = None  # a test SMTP server's certificate
        self.webhook_transport: httpx.AsyncBaseTransport | None = None  # the company's tool
        defaults: dict[str, Any] = {
            "token": TOKEN,
            "bot_api_url": "http://fake.telegram",
            "db": tmp / "fieldbot.db",
            "data_dir": tmp / "data",
            "admin_ids": (ADMIN_ID,),
            "advisory_refresh": False,  # tests never reach the internet
        }
        defaults.update(settings)
        self.settings = Settings(_env_file=None, **defaults)  # type: ignore[call-arg]
        self.app: FieldbotApp | None = None
        self.gazetteer = GAZETTEER  # the next start's place index
        self.admin = self.fake.user(ADMIN_ID, "Ada", "en")
        self.manager = self.fake.user(MANAGER_ID, "Mia", "en")
        self.officer = self.fake.user(OFFICER_ID, "Olu", "en")
        self.rep = self.fake.user(REP_ID, "Rita", "en")

    @property
    def services(self) -> Services:
        assert self.app is not None
        return self.app.bot_data.services

    def _request(self) -> HTTPXRequest:
        return HTTPXRequest(httpx_kwargs={"transport": FakeTransport(self.fake)})

    def build(self) -> FieldbotApp:
        """The bot as `fieldbot run` builds it, against the fakes; nothing started."""
        return build_application(
            self.settings, self.clock, request=self._request(),
            get_updates_request=self._request(), rate_limit=False, gazetteer=self.gazetteer,
            channels=build_channels(self.settings, clock=self.clock,
                                    twilio_transport=FakeTwilioTransport(self.twilio),
                                    smtp_tls=self.smtp_tls,
                                    webhook_transport=self.webhook_transport),
        )

    async def start(self) -> FieldbotApp:
        self.app = self.build()
        await self.app.initialize()
        if self.app.post_init:
            await self.app.post_init(self.app)
        await publish_commands(self.app)  # as the runner does once Telegram takes its calls
        return self.app

    @asynccontextmanager
    async def running(self) -> AsyncIterator[World]:
        """The bot started for a test that builds its own World, stopped however it ends."""
        await self.start()
        try:
            yield self
        finally:
            await self.stop()

    @asynccontextmanager
    async def statements(self) -> AsyncIterator[list[str]]:
        """Every SQL statement the bot runs meanwhile, on any of its connections, in order."""
        seen: list[str] = []
        async with self.services.db.read() as conn:
            await conn.set_trace_callback(seen.append)
        try:
            yield seen
        finally:
            async with self.services.db.read() as conn:
                await conn.set_trace_callback(None)

    async def stop(self) -> None:
        if self.app is None:
            return
        await self.app.update_persistence()
        await self.app.shutdown()
        if self.app.post_shutdown:
            await self.app.post_shutdown(self.app)
        self.app = None

    async def restart(self) -> None:
        await self.stop()
        await self.start()

    async def _dispatch(self, data: dict[str, Any]) -> None:
        assert self.app is not None, "the bot is not running"
        update = Update.de_json(data, self.app.bot)
        await self.app.process_update(update)
        await self.app.bot_data.followups.settle()  # what the handler handed off, too
        await self.app.update_persistence()

    async def tick(self) -> None:
        """What the scheduler does when it wakes: sweep and deliver."""
        await self.services.sweeper.tick()

    async def advance(self, delta: timedelta) -> None:
        """Move the clock and let the scheduler catch up, as it would in real time."""
        self.clock.advance(delta)
        await self.tick()

    async def enrol(self, user: FakeUser, role: str, team: str = "") -> None:
        """Enrol a persona the way people do: the admin invites, the person opens the link."""
        await self.admin.send(f"/invite {role} {team}".strip())
        link = re.search(r"start=([A-Za-z0-9_-]+)", self.admin.last.body or "")
        assert link, f"no invite link in: {self.admin.last.body}"
        await user.send(f"/start {link.group(1)}")

    async def enrol_team(self) -> None:
        """Ada the admin, Mia managing team north, Olu the safety officer, Rita the rep."""
        await self.admin.send("/start")
        await self.enrol(self.manager, "manager", "north")
        await self.enrol(self.officer, "officer")
        await self.enrol(self.rep, "staff", "north")
