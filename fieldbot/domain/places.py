"""A resolved place: what geocoding returns and what a trip leg is planned to."""

from __future__ import annotations

from dataclasses import dataclass, field


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
    name_zh: str = ""  # the Chinese name where known ("北京"), shown to Chinese readers
    # Found only by the beginning of its name ("Korea" → Koreatown): a suggestion to offer,
    # never the place surely meant. Not part of what the place is.
    guessed: bool = field(default=False, compare=False, repr=False)

    def named(self) -> dict[str, str]:
        """What a message needs to name the place in any language (outbox params)."""
        return {"name": self.name, "name_zh": self.name_zh, "region": self.region,
                "country_code": self.country_code, "country_name": self.country_name}

    @classmethod
    def from_named(cls, named: dict[str, str]) -> Place:
        """The place `named()` described, without its position (enough to name it)."""
        return cls(named["name"], named.get("country_code", ""), named.get("country_name", ""),
                   named.get("region", ""), 0.0, 0.0, "UTC", None, named.get("name_zh", ""))

    def label(self) -> str:
        """Return 'Name, Region, Country' without empty parts or repeats."""
        parts: list[str] = []
        for part in (self.name, self.region, self.country_name):
            if part and part not in parts:
                parts.append(part)
        return ", ".join(parts)
