"""A fake Telegram Bot API that speaks real HTTP, for end-to-end tests, demos and benchmarks."""

from faketelegram.api import DEFAULT_TOKEN, FakeTelegram
from faketelegram.errors import (
    ApiError,
    Blocked,
    ChatNotFound,
    Conflict,
    Custom,
    FakeError,
    Flood,
    Migrated,
    ServerError,
    SimulatedTimeout,
    Timeout,
)
from faketelegram.models import Call, FakeMessage, Sent, Toast
from faketelegram.params import Upload
from faketelegram.transport import FakeTransport
from faketelegram.users import FakeUser

__all__ = [
    "DEFAULT_TOKEN",
    "ApiError",
    "Blocked",
    "Call",
    "ChatNotFound",
    "Conflict",
    "Custom",
    "FakeError",
    "FakeMessage",
    "FakeTelegram",
    "FakeTransport",
    "FakeUser",
    "Flood",
    "Migrated",
    "Sent",
    "ServerError",
    "SimulatedTimeout",
    "Timeout",
    "Toast",
    "Upload",
]
