"""Telegram Mini App `initData`: checked as Telegram documents it, before anything in it is read.

The key is derived from the bot token (HMAC-SHA256 of the token under the key "WebAppData");
the hash is the HMAC-SHA256, under that key, of every received field except `hash`, sorted by
name, as `name=value` lines. Only data signed for this bot, and fresh, names a person.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl

MAX_AGE = timedelta(hours=1)
CLOCK_SKEW = timedelta(minutes=1)  # a client clock slightly ahead is not an attack
MAX_LENGTH = 4096  # real initData is well under 1 KB


class InitDataError(Exception):
    """The data is not Telegram's for this bot, or is stale; `reason` says which (for logs)."""

    def __init__(self, reason: str) -> None:  # malformed | signature | expired | no_user
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class WebAppUser:
    id: int
    language_code: str | None
    auth_date: datetime


def secret_key(bot_token: str) -> bytes:
    return hmac.new(b"WebAppData", bot_token.encode(), hashlib.sha256).digest()


def data_check_string(fields: dict[str, str]) -> str:
    return "\n".join(f"{name}={fields[name]}" for name in sorted(fields) if name != "hash")


def sign(fields: dict[str, str], bot_token: str) -> str:
    """Return the hash Telegram would put beside `fields` (tests and the demo sign with it)."""
    return hmac.new(secret_key(bot_token), data_check_string(fields).encode(),
                    hashlib.sha256).hexdigest()


def verify(init_data: str, bot_token: str, now: datetime,
           max_age: timedelta = MAX_AGE) -> WebAppUser:
    """Return the Telegram user the data was signed for, or raise InitDataError."""
    if not init_data or len(init_data) > MAX_LENGTH:
        raise InitDataError("malformed")
    try:
        pairs = parse_qsl(init_data, keep_blank_values=True, strict_parsing=True)
    except ValueError:
        raise InitDataError("malformed") from None
    fields = dict(pairs)
    if len(fields) != len(pairs) or "hash" not in fields:  # a repeated field is not Telegram's
        raise InitDataError("malformed")
    expected = sign(fields, bot_token)
    if not hmac.compare_digest(expected, fields["hash"].lower()):
        raise InitDataError("signature")
    try:
        auth_date = datetime.fromtimestamp(int(fields.get("auth_date", "")), UTC)
    except (ValueError, OverflowError, OSError):
        raise InitDataError("malformed") from None
    if not now - max_age <= auth_date <= now + CLOCK_SKEW:
        raise InitDataError("expired")
    try:
        user = json.loads(fields.get("user", ""))
        user_id = user["id"]
    except (ValueError, KeyError, TypeError):
        raise InitDataError("no_user") from None
    if not isinstance(user_id, int) or isinstance(user_id, bool) or user_id <= 0:
        raise InitDataError("no_user")
    code = user.get("language_code")
    return WebAppUser(user_id, code if isinstance(code, str) else None, auth_date)
