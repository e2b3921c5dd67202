"""How instants are stored: ISO 8601 in UTC with fixed precision, so text order is time order;
and optional free-text notes, encrypted."""

from __future__ import annotations

from datetime import UTC, date, datetime

from fieldbot.crypto import Cipher


def ts(instant: datetime) -> str:
    if instant.tzinfo is None:
        raise ValueError("refusing to store a naive datetime")
    return instant.astimezone(UTC).isoformat(timespec="microseconds")


def parse_ts(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def opt_ts(text: str | None) -> datetime | None:
    return parse_ts(text) if text else None


def day(text: str) -> date:
    return date.fromisoformat(text)


def sealed(note: str, cipher: Cipher | None) -> str:
    """Encrypt an optional free-text note; a note without the cipher is a programming error."""
    if not note:
        return ""
    if cipher is None:
        raise ValueError("a note is personal data: it is stored encrypted, give the cipher")
    return cipher.encrypt(note)
