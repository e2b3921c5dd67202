"""Turn what a rep typed or pinned into `Place`s: offline gazetteer, optional Nominatim."""

from __future__ import annotations

import asyncio
import logging
import unicodedata
from collections.abc import Callable
from typing import Any, TypeVar

from geopy.extra.rate_limiter import RateLimiter
from geopy.geocoders import Nominatim
from geopy.location import Location

from fieldbot.domain.places import Place
from fieldbot.geo.gazetteer import (
    MAX_QUERY_CHARS,
    PREFER_LARGER_WITHIN_KM,
    City,
    OfflineGeocoder,
)
from fieldbot.geo.names import fold, unify_punctuation
from fieldbot.geo.timezones import is_known_zone, is_nautical, valid_coordinates, zone_at

log = logging.getLogger(__name__)

USER_AGENT = "fieldbot/0.1"
NOMINATIM_MIN_DELAY_S = 1.0  # Nominatim usage policy: at most one request per second
PIN_NAMING_RADIUS_KM = 100.0  # farther than this from any town, a pin is named by coordinates
HARBOUR_KM = 30.0  # a pin just offshore keeps the town's civil time, not ocean time

T = TypeVar("T")


class InvalidCoordinates(ValueError):
    """Latitude/longitude not finite or out of range."""


def user_agent(operator_contact: str) -> str:
    """Return the User-Agent Nominatim's policy asks for: the app and how to reach us."""
    return f"{USER_AGENT} (+{operator_contact.strip()})"


def clean_query(text: str) -> str:
    """Return the query to search for, or "" if it is empty or too long to be a place."""
    if not isinstance(text, str):
        return ""
    text = " ".join(unify_punctuation(text).split())
    if not text or len(text) > MAX_QUERY_CHARS:
        return ""
    return text


class PlaceResolver:
    """Resolve destinations by name or pin; offline unless `online` is set.

    Online lookups go to Nominatim (through geopy, rate-limited to 1 request/s, with a real
    user agent) in a worker thread, and any failure falls back to the offline gazetteer.
    """

    def __init__(
        self,
        gazetteer: OfflineGeocoder | None = None,
        *,
        online: bool = False,
        operator_contact: str = "",
        online_geocoder: Any | None = None,
        nominatim_domain: str = "nominatim.openstreetmap.org",
        nominatim_scheme: str = "https",
        timeout_s: float = 5.0,
        language: str = "en",
        min_delay_s: float = NOMINATIM_MIN_DELAY_S,
    ) -> None:
        self._gazetteer = gazetteer or OfflineGeocoder()
        self._language = language
        self._online: Any | None = None
        self._limiter: Callable[[Callable[[], Any]], Any] | None = None
        if online:
            if online_geocoder is None:
                if not operator_contact.strip():
                    raise ValueError(
                        "online geocoding needs an operator contact for the Nominatim "
                        "user agent (FIELDBOT_OPERATOR_CONTACT)"
                    )
                online_geocoder = Nominatim(
                    user_agent=user_agent(operator_contact),
                    domain=nominatim_domain,
                    scheme=nominatim_scheme,
                    timeout=timeout_s,
                )
            self._online = online_geocoder
            # One limiter for every call, so geocode + reverse together stay at 1/s.
            self._limiter = RateLimiter(
                _call,
                min_delay_seconds=min_delay_s,
                max_retries=0,
                swallow_exceptions=False,
            )

    @property
    def gazetteer(self) -> OfflineGeocoder:
        return self._gazetteer

    @property
    def online(self) -> bool:
        return self._online is not None

    # -- public API ----------------------------------------------------------------------------

    async def country(self, text: str, *, codes_too: bool = True) -> tuple[str, str] | None:
        """Return (ISO code, name) of a typed country name ("Germany", "德国") or, with
        `codes_too`, code ("DE", full width too); None if it names no country, or more than
        one. (/risk takes names only: "LA" is Los Angeles there, not Laos.)"""
        text = unicodedata.normalize("NFKC", text).strip()
        if not text or len(text) > 100:
            return None
        countries = await asyncio.to_thread(lambda: self.gazetteer.countries)
        codes = countries.codes_for(text)
        if codes and not codes_too and all(fold(text) == fold(c) for c in codes):
            codes = ()  # the code itself typed: "DE", "LA"
        if not codes and codes_too and len(text) == 2 and text.upper() in countries:
            codes = (text.upper(),)
        return (codes[0], countries.name(codes[0])) if len(codes) == 1 else None

    async def search(self, text: str, limit: int = 5) -> list[Place]:
        """Return up to `limit` places matching the text ([] if empty, too long or unknown)."""
        query = clean_query(text)
        if not query or limit < 1:
            return []
        if self._online is not None:
            try:
                places = await self._run_online(lambda: self._online_search(query, limit))
            except Exception as exc:  # any online failure: use offline
                log.warning(
                    "online geocoder failed (%s); using the offline gazetteer", type(exc).__name__
                )
            else:
                if places:
                    return places
        return await asyncio.to_thread(self._offline_search, query, limit)

    async def at(self, lat: float, lon: float) -> Place:
        """Return the place of a shared pin: named after the nearest town, at the pin itself.

        Raises InvalidCoordinates for coordinates out of range.
        """
        if not valid_coordinates(lat, lon):
            raise InvalidCoordinates("coordinates out of range")
        if self._online is not None:
            try:
                place = await self._run_online(lambda: self._online_at(lat, lon))
            except Exception as exc:  # any online failure: use offline
                log.warning(
                    "online reverse geocoder failed (%s); using the offline gazetteer",
                    type(exc).__name__,
                )
            else:
                if place is not None:
                    return place
        return await asyncio.to_thread(self._offline_at, float(lat), float(lon))

    # -- offline -------------------------------------------------------------------------------

    def _offline_search(self, query: str, limit: int) -> list[Place]:
        return [self._place_from_gazetteer(loc) for loc in self._gazetteer.search(query, limit)]

    def _place_from_gazetteer(self, location: Location) -> Place:
        raw = location.raw
        lat, lon = float(raw["latitude"]), float(raw["longitude"])
        return Place(
            name=raw["name"],
            country_code=raw["country_code"],
            country_name=raw["country_name"],
            region=raw["admin1_name"],
            lat=lat,
            lon=lon,
            tz_name=_zone_for(lat, lon, raw["timezone"]),
            geonameid=int(raw["geonameid"]),
            name_zh=str(raw.get("name_zh") or ""),
            guessed=raw.get("match") == "prefix",
        )

    def _offline_at(self, lat: float, lon: float) -> Place:
        hit = self._gazetteer.nearest(lat, lon, prefer_larger_within_km=PREFER_LARGER_WITHIN_KM)
        city: City | None = None
        distance = float("inf")
        if hit is not None:
            city, distance = hit
        if city is None or distance > PIN_NAMING_RADIUS_KM:
            return Place(
                name=f"{lat:.4f}, {lon:.4f}",
                country_code="",
                country_name="",
                region="",
                lat=lat,
                lon=lon,
                tz_name=zone_at(lat, lon),
            )
        fallback = city.timezone if distance <= HARBOUR_KM else ""
        return Place(
            name=city.name,
            country_code=city.country_code,
            country_name=self._gazetteer.countries.name(city.country_code),
            region=self._gazetteer.region_name(city),
            lat=lat,
            lon=lon,
            tz_name=_zone_for(lat, lon, fallback),
            geonameid=city.geonameid,
            name_zh=city.name_zh,
        )

    # -- online (Nominatim) --------------------------------------------------------------------

    async def _run_online(self, work: Callable[[], T]) -> T:
        assert self._limiter is not None
        limiter = self._limiter
        result: T = await asyncio.to_thread(limiter, work)
        return result

    def _online_search(self, query: str, limit: int) -> list[Place]:
        assert self._online is not None
        found = self._online.geocode(
            query,
            exactly_one=False,
            limit=limit,
            addressdetails=True,
            language=self._language,
        )
        return [p for p in (self._place_from_nominatim(loc, None) for loc in found or []) if p]

    def _online_at(self, lat: float, lon: float) -> Place | None:
        assert self._online is not None
        found = self._online.reverse(
            (lat, lon),
            exactly_one=True,
            addressdetails=True,
            language=self._language,
            zoom=10,
        )
        return self._place_from_nominatim(found, (lat, lon)) if found else None

    def _place_from_nominatim(
        self, location: Location, pin: tuple[float, float] | None
    ) -> Place | None:
        raw: dict[str, Any] = location.raw if isinstance(location.raw, dict) else {}
        address: dict[str, Any] = raw.get("address") or {}
        lat, lon = pin or (float(location.latitude), float(location.longitude))
        if not valid_coordinates(lat, lon):
            return None
        code = str(address.get("country_code", "")).upper()
        name = (
            raw.get("name")
            or next((address[k] for k in _LOCALITY_KEYS if address.get(k)), "")
            or str(location.address).split(",")[0]
        )
        countries = self._gazetteer.countries
        return Place(
            name=str(name),
            country_code=code if code in countries else "",
            country_name=countries.name(code) if code in countries else "",
            region=str(address.get("state", "")),
            lat=lat,
            lon=lon,
            tz_name=zone_at(lat, lon),
        )


_LOCALITY_KEYS = ("city", "town", "village", "municipality", "hamlet", "suburb", "county")


def _call(work: Callable[[], T]) -> T:
    return work()


def _zone_for(lat: float, lon: float, gazetteer_zone: str) -> str:
    """Return the zone from the coordinates; the gazetteer's if the polygons say "at sea".

    A city's point can sit just off the coast, and a town's civil time beats an Etc/GMT
    ocean zone.
    """
    zone = zone_at(lat, lon)
    if is_nautical(zone) and is_known_zone(gazetteer_zone):
        return gazetteer_zone
    return zone
