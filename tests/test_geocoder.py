"""Offline geocoding, pins and time zones: what a rep types or shares becomes a Place."""

from __future__ import annotations

import math
from typing import Any

import pytest
from geopy.location import Location

from fieldbot.geo.gazetteer import MAX_QUERY_CHARS, OfflineGeocoder, fold
from fieldbot.geo.resolver import InvalidCoordinates, PlaceResolver, clean_query, user_agent
from fieldbot.geo.timezones import nautical_zone, valid_coordinates, zone_at


@pytest.fixture(scope="module")
def gazetteer() -> OfflineGeocoder:
    geocoder = OfflineGeocoder()
    geocoder.warm()  # about a second, once for the whole module
    return geocoder


@pytest.fixture
def resolver(gazetteer: OfflineGeocoder) -> PlaceResolver:
    return PlaceResolver(gazetteer)


# -- names in several scripts --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "country", "name"),
    [
        ("Berlin", "DE", "Berlin"),
        ("berlin", "DE", "Berlin"),
        ("北京", "CN", "Beijing"),
        ("東京", "JP", "Tokyo"),
        ("东京", "JP", "Tokyo"),
        ("Ｔｏｋｙｏ", "JP", "Tokyo"),  # full-width Latin from a CJK keyboard
        ("Москва", "RU", "Moscow"),
        ("القاهرة", "EG", "Cairo"),
        ("São Paulo", "BR", "São Paulo"),
        ("Sao Paulo", "BR", "São Paulo"),
        ("SAO PAULO", "BR", "São Paulo"),
        ("Kathmandu", "NP", "Kathmandu"),
        ("New York", "US", "New York City"),
        ("  new   york ", "US", "New York City"),
    ],
)
def test_a_city_is_found_by_any_of_its_names(
    gazetteer: OfflineGeocoder, query: str, country: str, name: str
) -> None:
    location = gazetteer.geocode(query)

    assert isinstance(location, Location)
    assert location.raw["country_code"] == country
    assert location.raw["name"] == name


def test_location_raw_carries_what_the_bot_needs(gazetteer: OfflineGeocoder) -> None:
    location = gazetteer.geocode("Springfield, IL")

    assert isinstance(location, Location)
    raw: dict[str, Any] = location.raw
    assert raw["admin1_name"] == "Illinois"
    assert raw["country_name"] == "United States"
    assert raw["timezone"] == "America/Chicago"
    assert raw["population"] > 15000
    assert isinstance(raw["geonameid"], int)
    assert location.address == "Springfield, Illinois, United States"
    assert (location.latitude, location.longitude) == pytest.approx((39.8, -89.6), abs=0.2)


@pytest.mark.parametrize(
    ("query", "state"),
    [
        ("Springfield, IL", "Illinois"),
        ("Springfield, Illinois", "Illinois"),
        ("springfield,il", "Illinois"),
        ("Springfield, MO", "Missouri"),
        ("Springfield, Missouri", "Missouri"),
        ("Springfield, Illinois, USA", "Illinois"),
    ],
)
def test_a_us_state_qualifier_picks_one_springfield(
    gazetteer: OfflineGeocoder, query: str, state: str
) -> None:
    found = gazetteer.search(query)

    assert [loc.raw["admin1_name"] for loc in found] == [state]


def test_springfield_alone_offers_several_most_populous_first(gazetteer: OfflineGeocoder) -> None:
    found = gazetteer.search("Springfield", limit=5)

    assert len(found) == 5
    populations = [loc.raw["population"] for loc in found]
    assert populations == sorted(populations, reverse=True)
    assert {loc.raw["admin1_name"] for loc in found} >= {"Illinois", "Missouri"}


def test_paris_is_paris_france_first_among_several(gazetteer: OfflineGeocoder) -> None:
    found = gazetteer.geocode("Paris", exactly_one=False, limit=5)

    assert isinstance(found, list)
    assert len(found) >= 2
    assert found[0].raw["country_code"] == "FR"
    assert any(loc.raw["admin1_name"] == "Texas" for loc in found)


@pytest.mark.parametrize(
    ("query", "country", "region"),
    [
        ("Paris, FR", "FR", ""),
        ("Paris, France", "FR", ""),
        ("Paris, Frankreich", "FR", ""),
        ("Paris, Texas", "US", "Texas"),
        ("Paris, TX", "US", "Texas"),
        ("Paris, United States", "US", "Texas"),
        ("北京, 中国", "CN", ""),
        ("London, CA", "CA", ""),
    ],
)
def test_a_country_or_state_qualifier_narrows_the_matches(
    gazetteer: OfflineGeocoder, query: str, country: str, region: str
) -> None:
    found = gazetteer.search(query)

    assert found
    assert found[0].raw["country_code"] == country
    assert found[0].raw["admin1_name"] == region
    assert all(loc.raw["country_code"] == country for loc in found)


def test_an_unrecognised_qualifier_does_not_hide_every_match(gazetteer: OfflineGeocoder) -> None:
    # Admin-1 names outside the US are not bundled: "Ontario" cannot filter, so the rep
    # still gets both Londons to choose from rather than nothing.
    found = gazetteer.search("London, Ontario")

    assert {loc.raw["country_code"] for loc in found} >= {"GB", "CA"}


def test_a_recognised_qualifier_with_no_such_city_finds_nothing(
    gazetteer: OfflineGeocoder,
) -> None:
    assert gazetteer.search("Springfield, Japan") == []
    assert gazetteer.geocode("Springfield, Japan") is None


def test_a_typo_prefix_still_suggests_the_city(gazetteer: OfflineGeocoder) -> None:
    found = gazetteer.search("Kathmand")

    assert found[0].raw["name"] == "Kathmandu"
    assert found[0].raw["match"] == "prefix"


def test_a_place_that_does_not_exist_finds_nothing(gazetteer: OfflineGeocoder) -> None:
    assert gazetteer.geocode("Qwzxvbnmtown") is None
    assert gazetteer.search("Qwzxvbnmtown") == []


@pytest.mark.parametrize(
    "query",
    ["", "   ", "\n\t", ",", ", IL", "x" * (MAX_QUERY_CHARS + 1), "Berlin" * 700],
)
def test_empty_or_overlong_input_finds_nothing(gazetteer: OfflineGeocoder, query: str) -> None:
    assert gazetteer.search(query) == []
    assert gazetteer.geocode(query) is None


def test_fold_ignores_case_accents_and_punctuation() -> None:
    assert fold("São  Paulo") == fold("sao paulo") == "sao paulo"
    assert fold("Côte d’Ivoire") == fold("Cote d'Ivoire")
    assert fold("Hong Kong & Macau") == "hong kong and macau"
    assert fold("Москва") == "москва"
    assert fold("東京") == "東京"


# -- pins ----------------------------------------------------------------------------------------


def test_reverse_names_a_pin_after_the_city_it_is_in(gazetteer: OfflineGeocoder) -> None:
    location = gazetteer.reverse((52.5200, 13.4050))  # Berlin, by the town hall

    assert isinstance(location, Location)
    assert location.raw["name"] == "Berlin"
    assert location.raw["distance_km"] < 5


def test_reverse_accepts_a_lat_lon_string(gazetteer: OfflineGeocoder) -> None:
    location = gazetteer.reverse("27.7172, 85.3240")

    assert isinstance(location, Location)
    assert location.raw["name"] == "Kathmandu"


@pytest.mark.parametrize(
    "pin",
    [(91.0, 0.0), (-90.5, 0.0), (0.0, 180.5), (0.0, -181.0), (math.nan, 0.0), (0.0, math.inf)],
)
def test_reverse_refuses_coordinates_out_of_range(
    gazetteer: OfflineGeocoder, pin: tuple[float, float]
) -> None:
    with pytest.raises(ValueError, match="out of range"):
        gazetteer.reverse(pin)


async def test_a_shared_pin_keeps_its_exact_coordinates(resolver: PlaceResolver) -> None:
    place = await resolver.at(52.5163, 13.3777)  # Brandenburg Gate

    assert place.name == "Berlin"
    assert place.country_code == "DE"
    assert place.country_name == "Germany"
    assert (place.lat, place.lon) == (52.5163, 13.3777)
    assert place.tz_name == "Europe/Berlin"


async def test_a_pin_in_the_us_gets_its_state(resolver: PlaceResolver) -> None:
    place = await resolver.at(39.80, -89.65)

    assert place.label() == "Springfield, Illinois, United States"
    assert place.tz_name == "America/Chicago"


async def test_a_pin_far_out_at_sea_is_named_by_its_coordinates(
    resolver: PlaceResolver,
) -> None:
    place = await resolver.at(0.0, -30.0)

    assert place.name == "0.0000, -30.0000"
    assert place.country_code == ""
    assert place.tz_name == "Etc/GMT+2"


@pytest.mark.parametrize(
    ("lat", "lon"), [(95.0, 10.0), (10.0, 200.0), (math.nan, 1.0), (1.0, -math.inf)]
)
async def test_a_pin_out_of_range_is_refused(
    resolver: PlaceResolver, lat: float, lon: float
) -> None:
    with pytest.raises(InvalidCoordinates):
        await resolver.at(lat, lon)


# -- the resolver ---------------------------------------------------------------------------------


async def test_search_returns_places_with_time_zones_from_coordinates(
    resolver: PlaceResolver,
) -> None:
    places = await resolver.search("Springfield", limit=3)

    assert len(places) == 3
    assert all(p.country_code == "US" and p.tz_name.startswith("America/") for p in places)
    assert all(p.geonameid for p in places)


@pytest.mark.parametrize(
    ("query", "zone"),
    [
        ("Kathmandu", "Asia/Kathmandu"),
        ("New York", "America/New_York"),
        ("北京", "Asia/Shanghai"),
        ("Berlin", "Europe/Berlin"),
        ("São Paulo", "America/Sao_Paulo"),
    ],
)
async def test_a_found_place_has_its_local_time_zone(
    resolver: PlaceResolver, query: str, zone: str
) -> None:
    places = await resolver.search(query, limit=1)

    assert places[0].tz_name == zone


@pytest.mark.parametrize("text", ["", "    ", "x" * 4000])
async def test_resolver_search_of_empty_or_4000_chars_finds_nothing(
    resolver: PlaceResolver, text: str
) -> None:
    assert await resolver.search(text) == []


def test_clean_query_collapses_whitespace_and_rejects_overlong_text() -> None:
    assert clean_query("  Paris,\n TX ") == "Paris, TX"
    assert clean_query("x" * 4000) == ""
    assert clean_query("") == ""


class _BrokenOnlineGeocoder:
    def __init__(self) -> None:
        self.calls = 0

    def geocode(self, *args: object, **kwargs: object) -> object:
        self.calls += 1
        raise ConnectionError("service unavailable")

    def reverse(self, *args: object, **kwargs: object) -> object:
        self.calls += 1
        raise TimeoutError("timed out")


async def test_online_failure_falls_back_to_the_offline_gazetteer(
    gazetteer: OfflineGeocoder,
) -> None:
    broken = _BrokenOnlineGeocoder()
    resolver = PlaceResolver(gazetteer, online=True, online_geocoder=broken, min_delay_s=0)

    places = await resolver.search("Kathmandu")
    pinned = await resolver.at(27.7172, 85.3240)

    assert broken.calls == 2
    assert places[0].name == "Kathmandu"
    assert pinned.name == "Kathmandu"


async def test_an_unreachable_nominatim_falls_back_to_offline(
    gazetteer: OfflineGeocoder, monkeypatch: pytest.MonkeyPatch
) -> None:
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(var, raising=False)
    resolver = PlaceResolver(
        gazetteer,
        online=True,
        operator_contact="safety@example.invalid",
        nominatim_domain="127.0.0.1:9",  # discard port on loopback: refused at once
        nominatim_scheme="http",
        timeout_s=2,
    )

    places = await resolver.search("Berlin")

    assert places[0].country_code == "DE"


class _FakeNominatim:
    """Answers like geopy's Nominatim with addressdetails=True."""

    def geocode(self, query: str, **kwargs: object) -> list[Location]:
        raw = {
            "lat": "48.8534951",
            "lon": "2.3483915",
            "name": "Paris",
            "display_name": "Paris, Île-de-France, France métropolitaine, France",
            "address": {
                "city": "Paris",
                "state": "Île-de-France",
                "country": "France",
                "country_code": "fr",
            },
        }
        return [Location(raw["display_name"], (48.8534951, 2.3483915), raw)]

    def reverse(self, query: tuple[float, float], **kwargs: object) -> Location:
        raw = {
            "lat": "52.5",
            "lon": "13.4",
            "display_name": "Mitte, Berlin, Deutschland",
            "address": {
                "suburb": "Mitte",
                "city": "Berlin",
                "state": "Berlin",
                "country_code": "de",
            },
        }
        return Location(raw["display_name"], (52.5, 13.4), raw)


async def test_online_results_become_places_with_country_names_from_geonames(
    gazetteer: OfflineGeocoder,
) -> None:
    resolver = PlaceResolver(
        gazetteer, online=True, online_geocoder=_FakeNominatim(), min_delay_s=0
    )

    [place] = await resolver.search("Paris")
    pinned = await resolver.at(52.5201, 13.4049)

    assert (place.name, place.region, place.country_code) == ("Paris", "Île-de-France", "FR")
    assert place.country_name == "France"
    assert place.tz_name == "Europe/Paris"
    assert (pinned.name, pinned.country_name) == ("Berlin", "Germany")
    assert (pinned.lat, pinned.lon) == (52.5201, 13.4049)


def test_online_geocoding_needs_an_operator_contact(gazetteer: OfflineGeocoder) -> None:
    with pytest.raises(ValueError, match="operator contact"):
        PlaceResolver(gazetteer, online=True)


def test_user_agent_names_the_app_and_the_operator() -> None:
    assert user_agent("ops@example.com") == "fieldbot/0.1 (+ops@example.com)"


# -- time zones ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lat", "lon", "zone"),
    [
        (52.52, 13.405, "Europe/Berlin"),
        (27.7172, 85.324, "Asia/Kathmandu"),
        (-31.5553, 159.0821, "Australia/Lord_Howe"),
        (39.9042, 116.4074, "Asia/Shanghai"),
        (40.7128, -74.006, "America/New_York"),
        (0.0, -30.0, "Etc/GMT+2"),  # mid-Atlantic: nautical time
    ],
)
def test_zone_at_gives_the_iana_zone_of_coordinates(lat: float, lon: float, zone: str) -> None:
    assert zone_at(lat, lon) == zone


def test_zone_at_refuses_invalid_coordinates() -> None:
    with pytest.raises(ValueError, match="out of range"):
        zone_at(100.0, 0.0)


@pytest.mark.parametrize(
    ("lon", "zone"),
    [(0.0, "Etc/GMT"), (-30.0, "Etc/GMT+2"), (75.0, "Etc/GMT-5"), (179.9, "Etc/GMT-12")],
)
def test_nautical_zone_uses_the_posix_sign(lon: float, zone: str) -> None:
    assert nautical_zone(lon) == zone


@pytest.mark.parametrize(
    ("lat", "lon", "ok"),
    [
        (0.0, 0.0, True),
        (90.0, 180.0, True),
        (-90.0, -180.0, True),
        (90.0001, 0.0, False),
        (0.0, -180.0001, False),
        (math.nan, 0.0, False),
        (0.0, math.inf, False),
    ],
)
def test_valid_coordinates(lat: float, lon: float, ok: bool) -> None:
    assert valid_coordinates(lat, lon) is ok
