"""Risk levels 1-4 (blue, yellow, orange, red) and unknown (grey, never shown as safe)."""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import IntEnum
from typing import Literal

from fieldbot.domain.places import Place


class RiskLevel(IntEnum):
    UNKNOWN = 0
    BLUE = 1
    YELLOW = 2
    ORANGE = 3
    RED = 4

    @property
    def colour(self) -> str:
        return _COLOURS[self]


_COLOURS = {
    RiskLevel.UNKNOWN: "grey",
    RiskLevel.BLUE: "blue",
    RiskLevel.YELLOW: "yellow",
    RiskLevel.ORANGE: "orange",
    RiskLevel.RED: "red",
}


# --- Destination risk: what an assessment is made of (DESIGN.md §4) -------------------------
#
# Pure data and rules only: the importers, the register file and the hazard store live in
# fieldbot.geo / fieldbot.storage and hand these types in.

EARTH_RADIUS_KM = 6371.0088  # mean Earth radius (IUGG)
DEFAULT_HAZARD_MAX_AGE = timedelta(days=30)
REGISTER_SOURCE = "Risk register"
HAZARD_SOURCE = "Verified hazard report"

ReasonKind = Literal["advisory", "register", "hazard"]


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Return the great-circle distance between two points in kilometres."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlmb = math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def _require_aware(value: datetime, what: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} must be an aware datetime")


def _fold(text: str) -> str:
    """Case-, accent- and punctuation-insensitive form for comparing place names."""
    decomposed = unicodedata.normalize("NFKD", text)
    kept = (
        " " if unicodedata.category(ch)[0] in "PSZC" else ch
        for ch in decomposed
        if unicodedata.category(ch) != "Mn"
    )
    return " ".join("".join(kept).casefold().split())


@dataclass(frozen=True, slots=True)
class Advisory:
    """One official travel advisory for a country, as published by its source."""

    country_code: str  # ISO 3166-1 alpha-2, upper case
    level: RiskLevel  # 1-4; an advisory never says "unknown"
    source: str  # "US State Department", "Government of Canada"
    title: str
    url: str
    published: datetime  # aware, UTC

    def __post_init__(self) -> None:
        if self.level is RiskLevel.UNKNOWN:
            raise ValueError("an advisory has a level from 1 to 4")
        _require_aware(self.published, "Advisory.published")


@dataclass(frozen=True, slots=True)
class RegisterEntry:
    """One line of the organisation's risk register (edited by the safety officer)."""

    country_code: str  # ISO alpha-2, upper case
    level: RiskLevel
    note: str = ""
    region: str = ""
    city: str = ""
    lat: float | None = None
    lon: float | None = None
    radius_km: float | None = None
    expires: date | None = None  # applies through the whole of this (UTC) day

    def __post_init__(self) -> None:
        if self.level is RiskLevel.UNKNOWN:
            raise ValueError("a register entry has a level from 1 to 4")
        if (self.lat is None) != (self.lon is None):
            raise ValueError("a register entry needs both lat and lon, or neither")
        if self.lat is not None and (self.radius_km is None or self.radius_km <= 0):
            raise ValueError("a register entry with lat/lon needs a positive radius_km")

    @property
    def country_wide(self) -> bool:
        return not (self.region or self.city or self.lat is not None)

    def is_active(self, now: datetime) -> bool:
        """Return False once the expiry day is over (expiry is inclusive)."""
        _require_aware(now, "now")
        if self.expires is None:
            return True
        end = datetime.combine(self.expires + timedelta(days=1), time.min, tzinfo=UTC)
        return now < end

    def distance_km(self, place: Place) -> float | None:
        if self.lat is None or self.lon is None:
            return None
        return haversine_km(self.lat, self.lon, place.lat, place.lon)

    def applies_to(self, place: Place) -> bool:
        """Return True if this entry covers the place.

        A point-and-radius entry covers everything inside its circle, whatever the country
        (an area near a border does not stop at it); names need the country to match.
        """
        distance = self.distance_km(place)
        if distance is not None and self.radius_km is not None and distance <= self.radius_km:
            return True
        if self.country_code.upper() != place.country_code.upper():
            return False
        if self.country_wide:
            return True
        if self.city and place.name and _fold(self.city) == _fold(place.name):
            return True
        return bool(self.region and place.region and _fold(self.region) == _fold(place.region))

    def scope(self) -> str:
        """Describe where the entry applies, for the reason shown to the user."""
        parts = [p for p in (self.city, self.region, self.country_code) if p]
        where = ", ".join(parts)
        if self.radius_km is not None:
            where += f" (within {self.radius_km:g} km)"
        return where


@dataclass(frozen=True, slots=True)
class HazardSignal:
    """A verified hazard report near somewhere: the seam the hazard feature plugs into."""

    lat: float
    lon: float
    radius_km: float
    level: RiskLevel
    verified_at: datetime  # aware
    title: str
    title_zh: str = ""  # the title with the place as a Chinese reader names it, if known

    def __post_init__(self) -> None:
        _require_aware(self.verified_at, "HazardSignal.verified_at")

    def applies_to(self, place: Place, now: datetime, max_age: timedelta) -> bool:
        if self.level is RiskLevel.UNKNOWN:
            return False
        if now - self.verified_at > max_age:
            return False
        return haversine_km(self.lat, self.lon, place.lat, place.lon) <= self.radius_km


@dataclass(frozen=True, slots=True)
class Reason:
    """Why a place has the level it has: one advisory, register entry or hazard."""

    kind: ReasonKind
    level: RiskLevel
    source: str
    detail: str
    as_of: datetime | None = None
    detail_zh: str = ""  # the detail for a Chinese reader, where it names a place otherwise


@dataclass(frozen=True, slots=True)
class Assessment:
    """The level of a place (highest reason wins) and every reason, strongest first."""

    level: RiskLevel
    reasons: list[Reason] = field(default_factory=list)

    @property
    def known(self) -> bool:
        return self.level is not RiskLevel.UNKNOWN


def current_advisories(advisories: Sequence[Advisory], country_code: str) -> list[Advisory]:
    """Return the newest advisory per source for the country (a reissue replaces the old)."""
    code = country_code.upper()
    newest: dict[str, Advisory] = {}
    for advisory in advisories:
        if advisory.country_code.upper() != code:
            continue
        held = newest.get(advisory.source)
        if held is None or (advisory.published, advisory.level) > (held.published, held.level):
            newest[advisory.source] = advisory
    return list(newest.values())


def assess(
    place: Place,
    advisories: Sequence[Advisory],
    register: Sequence[RegisterEntry],
    hazards: Sequence[HazardSignal],
    now: datetime,
    *,
    hazard_max_age: timedelta = DEFAULT_HAZARD_MAX_AGE,
) -> Assessment:
    """Grade a place: the highest of its advisories, register entries and nearby hazards.

    With no reason at all the level is UNKNOWN (grey): absence of data is never "safe".
    """
    _require_aware(now, "now")
    reasons: list[Reason] = []
    if place.country_code:
        for advisory in current_advisories(advisories, place.country_code):
            reasons.append(
                Reason(
                    "advisory", advisory.level, advisory.source, advisory.title, advisory.published
                )
            )
    for entry in register:
        if entry.is_active(now) and entry.applies_to(place):
            detail = f"{entry.scope()}: {entry.note}" if entry.note else entry.scope()
            reasons.append(Reason("register", entry.level, REGISTER_SOURCE, detail, None))
    for hazard in hazards:
        if hazard.applies_to(place, now, hazard_max_age):
            reasons.append(
                Reason("hazard", hazard.level, HAZARD_SOURCE, hazard.title, hazard.verified_at,
                       hazard.title_zh)
            )
    reasons.sort(key=lambda r: (-r.level, r.kind))
    level = max((r.level for r in reasons), default=RiskLevel.UNKNOWN)
    return Assessment(RiskLevel(level), reasons)
