"""A resolved place: what geocoding returns and what a trip leg is planned to."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Place:
    name: str  # display name, e.g. "Springfield"
    country_code: str  # ISO 3166-1 alpha-2, upper case; "" if unknown (e.g. at sea)
    country_name: str
    region: str  # admin-1 name ("Illinois"), "" if unknown
    lat: float
    lon: float
    tz_name: str  # IANA zone, e.g. "America/Chicago"
    geonameid: int | None = None

    def label(self) -> str:
        """Return 'Name, Region, Country' without empty parts or repeats."""
        parts: list[str] = []
        for part in (self.name, self.region, self.country_name):
            if part and part not in parts:
                parts.append(part)
        return ", ".join(parts)
