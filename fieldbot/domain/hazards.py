"""Hazard reports (安全隐患随手拍): categories, severities, and what a verified one is worth.

Pure rules only. A report is graded like an incident (blue/yellow/orange/red); once a lead
verifies it, it raises the risk of the area around it (see `risk_level_of`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum, StrEnum

from fieldbot.domain.risk import RiskLevel, haversine_km

MAX_PHOTOS = 5
MAX_DESCRIPTION = 1000
MAX_PLACE_LABEL = 200
# A place typed by name (or a trip's destination) is a city's centre, not the spot itself:
# the report then covers at least this much around it.
PLACE_NAME_MIN_RADIUS_KM = 10.0
MAX_RADIUS_KM = 50.0  # the widest any report reaches (bounds the nearby-search query)


class Category(StrEnum):
    ROAD = "road"  # road / traffic
    CRIME = "crime"  # crime / security
    WEATHER = "weather"
    CROWD = "crowd"  # crowd / venue
    HEALTH = "health"
    OTHER = "other"


class Severity(IntEnum):
    """The incident grade of the policy: blue (4th class) up to red (1st class)."""

    BLUE = 1
    YELLOW = 2
    ORANGE = 3
    RED = 4

    @property
    def colour(self) -> str:
        return self.name.lower()

    @property
    def urgent(self) -> bool:
        """Red and orange reach managers and officers at once; the rest wait in /hazards."""
        return self >= Severity.ORANGE


class HazardState(StrEnum):
    OPEN = "open"
    VERIFIED = "verified"
    DISMISSED = "dismissed"


# How far around its location a report applies, by what it is about.
_RADIUS_KM = {
    Category.ROAD: 2.0,
    Category.CRIME: 1.0,
    Category.WEATHER: 25.0,
    Category.CROWD: 1.0,
    Category.HEALTH: 5.0,
    Category.OTHER: 2.0,
}

# Points for a verified report (经查实给予积分奖励): more for what matters more.
_POINTS = {Severity.BLUE: 5, Severity.YELLOW: 10, Severity.ORANGE: 20, Severity.RED: 30}


def radius_km(category: Category, by_place_name: bool) -> float:
    """Return how far a report applies: by category, wider when located by a place name."""
    radius = _RADIUS_KM[category]
    if by_place_name:
        radius = max(radius, PLACE_NAME_MIN_RADIUS_KM)
    return min(radius, MAX_RADIUS_KM)


def points_for(severity: Severity) -> int:
    return _POINTS[severity]


def risk_level_of(severity: Severity) -> RiskLevel:
    """Return the level a verified report gives the area within its radius.

    One incident says less about an area than an advisory or the register does, so red and
    orange reports raise it one level below their own grade (a verified red report nearby makes
    a place at least orange); yellow and blue keep theirs, so that "increased caution" is never
    lowered to "normal precautions".
    """
    return RiskLevel(min(int(severity), max(int(severity) - 1, int(RiskLevel.YELLOW))))


def valid_position(lat: float, lon: float) -> bool:
    return -90 <= lat <= 90 and -180 <= lon <= 180


@dataclass(frozen=True, slots=True)
class PhotoRef:
    """A stored photo: its content hash and where it lies under the data directory."""

    sha256: str
    path: str  # relative to the data directory, e.g. "photos/<sha256>.jpg"


@dataclass(frozen=True, slots=True)
class HazardReport:
    """Everything the reporter answered, checked by the conversation step by step."""

    category: Category
    severity: Severity
    lat: float
    lon: float
    place: str
    by_place_name: bool
    description: str
    photos: tuple[PhotoRef, ...] = ()
    place_zh: str = ""  # the place as a Chinese reader names it ("" where unknown)

    def __post_init__(self) -> None:
        if not valid_position(self.lat, self.lon):
            raise ValueError("a hazard needs valid coordinates")
        if len(self.description) > MAX_DESCRIPTION:
            raise ValueError("the description is too long")
        if len(self.photos) > MAX_PHOTOS:
            raise ValueError("too many photos")


@dataclass(frozen=True, slots=True)
class Hazard:
    id: int
    reporter_id: int
    team: str
    category: Category
    severity: Severity
    lat: float
    lon: float
    place: str
    radius_km: float
    description: str
    state: HazardState
    created_at: datetime
    photos: tuple[PhotoRef, ...] = ()
    decided_by: int | None = None
    decided_at: datetime | None = None
    place_zh: str = ""  # the place as a Chinese reader names it ("" where unknown)

    def distance_km(self, lat: float, lon: float) -> float:
        return haversine_km(self.lat, self.lon, lat, lon)

    def covers(self, lat: float, lon: float) -> bool:
        return self.distance_km(lat, lon) <= self.radius_km


def headline(place: str, description: str, limit: int = 80, colon: str = ": ") -> str:
    """Return a one-line title: where, and the start of what was reported ("：" in
    Chinese)."""
    words = " ".join(description.split())
    excerpt = words if len(words) <= limit else words[: limit - 1].rstrip() + "…"
    return f"{place}{colon}{excerpt}" if excerpt else place
