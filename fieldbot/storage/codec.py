"""How instants are stored: ISO 8601 in UTC with fixed precision, so text order is time order."""

from __future__ import annotations

from datetime import UTC, date, datetime


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
