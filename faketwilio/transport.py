"""In-process access to a FakeTwilio: an httpx transport over its app, no sockets."""

from __future__ import annotations

import httpx

from faketwilio.api import FakeTwilio
from faketwilio.app import build_app


class FakeTwilioTransport(httpx.ASGITransport):
    """Give this to the bot's httpx client (base URL e.g. http://fake.twilio)."""

    def __init__(self, fake: FakeTwilio) -> None:
        super().__init__(app=build_app(fake))
        self.fake = fake
