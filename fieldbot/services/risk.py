"""Destination risk: find the place, gather its advisories, register entries and hazards."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol

from fieldbot.clock import Clock
from fieldbot.domain.places import Place
from fieldbot.domain.risk import (
    DEFAULT_HAZARD_MAX_AGE,
    Advisory,
    Assessment,
    HazardSignal,
    RegisterEntry,
    assess,
)


class PlaceLookup(Protocol):
    """Resolves names and pins to places (fieldbot.geo.resolver.PlaceResolver)."""

    async def search(self, text: str, limit: int = 5) -> list[Place]: ...

    async def at(self, lat: float, lon: float) -> Place: ...

    async def country(self, text: str, *, codes_too: bool = True
                      ) -> tuple[str, str] | None: ...


class AdvisorySource(Protocol):
    """Official advisories already imported (the SQLite advisory store)."""

    async def for_country(self, code: str) -> list[Advisory]: ...


class RegisterSource(Protocol):
    """The organisation's risk register (fieldbot.geo.register.RiskRegister)."""

    def entries(self, now: datetime) -> list[RegisterEntry]: ...


class HazardSource(Protocol):
    """Verified hazard reports near a point (supplied by the hazard feature)."""

    async def near(self, lat: float, lon: float) -> list[HazardSignal]: ...


class NoHazards:
    """A hazard source with nothing in it, until hazard reports are wired in."""

    async def near(self, lat: float, lon: float) -> list[HazardSignal]:
        return []


class RiskService:
    """Answer "how risky is this place, and why" for /risk and the trip summary."""

    def __init__(
        self,
        resolver: PlaceLookup,
        advisories: AdvisorySource,
        register: RegisterSource,
        hazards: HazardSource,
        clock: Clock,
        *,
        hazard_max_age: timedelta = DEFAULT_HAZARD_MAX_AGE,
    ) -> None:
        self._resolver = resolver
        self._advisories = advisories
        self._register = register
        self._hazards = hazards
        self._clock = clock
        self._hazard_max_age = hazard_max_age

    async def find(self, text: str, limit: int = 5) -> list[Place]:
        """Return the places a typed destination may mean (for the pick-one buttons)."""
        return await self._resolver.search(text, limit)

    async def country(self, text: str) -> Place | None:
        """The country a typed name means ("Germany", "德国", "DE"), as a place without a
        point (its risk is its advisories and the register's entries); None if none."""
        found = await self._resolver.country(text, codes_too=False)
        if found is None:
            return None
        code, name = found
        return Place(name, code, name, "", 0.0, 0.0, "UTC")

    async def assess_country(self, country: Place) -> Assessment:
        """The risk of a country as a whole: its advisories and the register's entries for it
        (hazards are reported at places: a city's /risk shows those near it)."""
        advisories = await self._advisories.for_country(country.country_code)
        return assess(country, advisories, self._register.entries(self._clock.now()), [],
                      self._clock.now(), hazard_max_age=self._hazard_max_age)

    async def place_at(self, lat: float, lon: float) -> Place:
        """Return the place of a shared pin; raises ValueError for invalid coordinates."""
        return await self._resolver.at(lat, lon)

    async def assess_place(self, place: Place) -> Assessment:
        """Return the place's level (highest reason wins; UNKNOWN if none) and reasons."""
        now = self._clock.now()
        advisories = (
            await self._advisories.for_country(place.country_code) if place.country_code else []
        )
        hazards = await self._hazards.near(place.lat, place.lon)
        register = self._register.entries(now)
        return assess(
            place, advisories, register, hazards, now, hazard_max_age=self._hazard_max_age
        )
