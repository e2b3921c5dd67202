"""A fake Twilio REST API (Messages and Calls) that speaks real HTTP, for tests and the demo.

It stands alone: it imports neither `telegram` nor `fieldbot`.
"""

from faketwilio.api import (
    DEFAULT_ACCOUNT_SID,
    DEFAULT_AUTH_TOKEN,
    DEFAULT_NUMBER,
    Call,
    FakeTwilio,
    Message,
    Posted,
    TwilioError,
    gather_action,
)
from faketwilio.signature import sign
from faketwilio.transport import FakeTwilioTransport

__all__ = [
    "DEFAULT_ACCOUNT_SID",
    "DEFAULT_AUTH_TOKEN",
    "DEFAULT_NUMBER",
    "Call",
    "FakeTwilio",
    "FakeTwilioTransport",
    "Message",
    "Posted",
    "TwilioError",
    "gather_action",
    "sign",
]
