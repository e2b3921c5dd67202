"""Dates, times and places as a person reads them, in their language (Babel)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime, format_skeleton, format_timedelta
from babel.numbers import format_percent

from fieldbot.storage.codec import parse_ts

_BABEL = {"en": "en_GB", "zh": "zh_Hans_CN"}


def local_time(instant: datetime | str, tz_name: str, language: str) -> str:
    """Return e.g. '21:00 Fri 4 Dec (Europe/Berlin)' in the destination's zone."""
    when = parse_ts(instant) if isinstance(instant, str) else instant
    local = when.astimezone(ZoneInfo(tz_name))
    pattern = "HH:mm EEE d MMM" if language == "en" else "M月d日 EEE HH:mm"
    return f"{format_datetime(local, pattern, locale=_BABEL.get(language, 'en_GB'))} ({tz_name})"


def clock_time(instant: datetime | str, tz_name: str) -> str:
    when = parse_ts(instant) if isinstance(instant, str) else instant
    return when.astimezone(ZoneInfo(tz_name)).strftime("%H:%M")


def day(value: date | str, language: str) -> str:
    d = date.fromisoformat(value) if isinstance(value, str) else value
    return format_date(d, "medium", locale=_BABEL.get(language, "en_GB"))


def map_link(lat: float, lon: float) -> str:
    return f"https://www.openstreetmap.org/?mlat={lat:.5f}&mlon={lon:.5f}#map=15/{lat:.5f}/{lon:.5f}"


def month(value: date, language: str) -> str:
    """Return e.g. 'December 2026' / '2026年12月'."""
    return format_skeleton("yMMMM", value, locale=_BABEL.get(language, "en_GB"))


def duration(value: timedelta, language: str) -> str:
    """Return e.g. '40 minutes' / '40分钟' (rounded to the largest sensible unit)."""
    return format_timedelta(value, threshold=2, locale=_BABEL.get(language, "en_GB"))


def percent(value: float, language: str) -> str:
    """Return e.g. '50%'."""
    return format_percent(value, locale=_BABEL.get(language, "en_GB"))
