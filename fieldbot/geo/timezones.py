"""Time zones from coordinates (tzfpy's polygons), always loadable by zoneinfo."""

from __future__ import annotations

import math
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tzfpy import get_tz


def valid_coordinates(lat: float, lon: float) -> bool:
    """Return True for finite WGS84 coordinates: lat in [-90, 90], lon in [-180, 180]."""
    for value in (lat, lon):
        if isinstance(value, bool) or not isinstance(value, int | float):
            return False
        if not math.isfinite(value):
            return False
    return -90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0


@lru_cache(maxsize=1024)
def is_known_zone(name: str) -> bool:
    """Return True if zoneinfo can load the zone (tzfpy may know newer names than tzdata)."""
    if not name:
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def nautical_zone(lon: float) -> str:
    """Return the Etc/GMT±N zone of a longitude (POSIX sign: Etc/GMT-5 is UTC+5)."""
    offset = max(-12, min(12, round(lon / 15.0)))
    if offset == 0:
        return "Etc/GMT"
    return f"Etc/GMT{-offset:+d}"


def zone_at(lat: float, lon: float) -> str:
    """Return the IANA zone at the coordinates; at sea an Etc/GMT±N zone.

    Raises ValueError for invalid coordinates.
    """
    if not valid_coordinates(lat, lon):
        raise ValueError("coordinates out of range")
    name = get_tz(float(lon), float(lat))  # tzfpy takes (lng, lat)
    if is_known_zone(name):
        return name
    return nautical_zone(float(lon))


def is_nautical(name: str) -> bool:
    """Return True for the Etc/ zones used at sea (no local civil time)."""
    return name.startswith("Etc/") or name == "UTC"
