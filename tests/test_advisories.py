"""Official advisory importers, tested on FIXTURE files in the publishers' real shapes.

Every level and date in tests/fixtures/*.FIXTURE.* is made up (the dates are in 2099).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from fieldbot.config import Settings
from fieldbot.domain.risk import Advisory, RiskLevel
from fieldbot.geo.advisories import (
    CANADA_JSON_URL,
    CANADA_SOURCE,
    US_SOURCE,
    US_STATE_RSS_URL,
    AdvisoryFormatError,
    fetch,
    import_file,
    parse_canada_json,
    parse_feed,
    parse_us_state_rss,
)
from fieldbot.geo.names import Countries
from tests.harness import World

FIXTURES = Path(__file__).parent / "fixtures"
US_FIXTURE = FIXTURES / "us_state_advisories.FIXTURE.xml"
CANADA_FIXTURE = FIXTURES / "canada_advisories.FIXTURE.json"


@pytest.fixture(scope="module")
def countries() -> Countries:
    return Countries()


def _by_code(advisories: list[Advisory]) -> dict[str, Advisory]:
    codes = [a.country_code for a in advisories]
    assert len(codes) == len(set(codes)), "one advisory per country"
    return {a.country_code: a for a in advisories}


def _rss(*items: str) -> bytes:
    body = "".join(f"<item>{item}</item>" for item in items)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<!-- FIXTURE: made up -->\n'
        f'<rss version="2.0"><channel><title>FIXTURE</title>{body}</channel></rss>'
    ).encode()


# -- US State Department RSS ---------------------------------------------------------------------


def test_us_feed_fixture_is_read_with_levels_and_sources(countries: Countries) -> None:
    advisories = _by_code(parse_us_state_rss(US_FIXTURE.read_bytes(), countries=countries))

    assert {code: int(a.level) for code, a in advisories.items()} == {
        "MM": 2,
        "CI": 3,
        "KR": 4,
        "BS": 1,
        "CZ": 2,
        "CN": 3,
        "HK": 3,
        "MO": 3,
        "VU": 1,
        "CH": 1,
        "DE": 2,
    }
    assert {a.source for a in advisories.values()} == {US_SOURCE}
    korea = advisories["KR"]
    assert korea.title == "Korea, South - Level 4: Do Not Travel"
    assert korea.url.startswith("https://travel.state.gov/")


@pytest.mark.parametrize(
    ("spelling", "code"),
    [
        ("Burma (Myanmar)", "MM"),
        ("Burma", "MM"),
        ("Cote d'Ivoire", "CI"),
        ("Côte d’Ivoire", "CI"),
        ("Korea, South", "KR"),
        ("Korea, North", "KP"),
        ("The Bahamas", "BS"),
        ("Czechia", "CZ"),
        ("Czech Republic", "CZ"),
        ("Mainland China", "CN"),
        ("Türkiye", "TR"),
        ("Cabo Verde", "CV"),
        ("Eswatini", "SZ"),
        ("North Macedonia", "MK"),
        ("Timor-Leste", "TL"),
        ("The Gambia", "GM"),
        ("Kyrgyz Republic", "KG"),
        ("Republic of the Congo", "CG"),
        ("Democratic Republic of the Congo", "CD"),
        ("Micronesia", "FM"),
        ("Vatican City", "VA"),
        ("Sao Tome and Principe", "ST"),
    ],
)
def test_state_department_spellings_map_to_iso_codes(
    countries: Countries, spelling: str, code: str
) -> None:
    assert countries.codes_for(spelling) == (code,)


def test_a_name_that_covers_several_countries_maps_to_each(countries: Countries) -> None:
    assert set(countries.codes_for("Mainland China, Hong Kong & Macau")) == {"CN", "HK", "MO"}
    assert set(countries.codes_for("Israel, the West Bank and Gaza")) == {"IL", "PS"}


def test_ambiguous_or_unknown_country_names_are_not_guessed(countries: Countries) -> None:
    assert countries.codes_for("Congo") == ()
    assert countries.codes_for("Narnia") == ()


def test_unknown_names_and_items_without_a_level_are_reported(countries: Countries) -> None:
    unmapped: list[str] = []

    advisories = parse_us_state_rss(
        US_FIXTURE.read_bytes(), countries=countries, unmapped=unmapped
    )

    assert unmapped == ["Worldwide Caution: no advisory level", "Narnia: unknown country name"]
    assert "Narnia" not in {a.title.split(" - ")[0] for a in advisories}


def test_a_bare_pubdate_is_midnight_utc_and_a_full_one_is_kept(countries: Countries) -> None:
    advisories = _by_code(parse_us_state_rss(US_FIXTURE.read_bytes(), countries=countries))

    assert advisories["MM"].published == datetime(2099, 1, 5, tzinfo=UTC)
    assert advisories["CN"].published == datetime(2099, 10, 10, 5, 18, 2, tzinfo=UTC)
    assert all(a.published.tzinfo is UTC for a in advisories.values())


def test_a_country_listed_twice_keeps_its_newest_advisory(countries: Countries) -> None:
    germany = _by_code(parse_us_state_rss(US_FIXTURE.read_bytes(), countries=countries))["DE"]

    assert germany.level is RiskLevel.YELLOW
    assert germany.published == datetime(2099, 2, 2, tzinfo=UTC)


def test_legacy_titles_and_extra_spaces_are_read(countries: Countries) -> None:
    advisories = _by_code(parse_us_state_rss(US_FIXTURE.read_bytes(), countries=countries))

    assert advisories["VU"].level is RiskLevel.BLUE  # "Vanuatu Travel Advisory - Level 1"
    assert advisories["CH"].title == "Switzerland - Level 1: Exercise Normal Precautions"


def test_level_only_in_the_threat_level_category_is_used(countries: Countries) -> None:
    data = _rss(
        "<title>Iceland</title><link>https://travel.state.gov/x</link>"
        "<pubDate>Thu, 01 Jan 2099</pubDate>"
        '<category domain="Threat-Level">Level 2: Exercise Increased Caution</category>'
    )

    [iceland] = parse_us_state_rss(data, countries=countries)

    assert (iceland.country_code, iceland.level) == ("IS", RiskLevel.YELLOW)


def test_title_and_category_disagreeing_keeps_the_stricter_level(countries: Countries) -> None:
    data = _rss(
        "<title>Iceland - Level 1: Exercise Normal Precautions</title>"
        "<pubDate>Thu, 01 Jan 2099</pubDate>"
        '<category domain="Threat-Level">Level 3: Reconsider Travel</category>'
    )

    [iceland] = parse_us_state_rss(data, countries=countries)

    assert iceland.level is RiskLevel.ORANGE


def test_an_item_without_a_readable_date_is_reported_not_dated_today(
    countries: Countries,
) -> None:
    unmapped: list[str] = []
    data = _rss(
        "<title>Iceland - Level 1: Exercise Normal Precautions</title><pubDate>sometime</pubDate>"
    )

    assert parse_us_state_rss(data, countries=countries, unmapped=unmapped) == []
    assert unmapped == [
        "Iceland - Level 1: Exercise Normal Precautions: no readable publication date"
    ]


@pytest.mark.parametrize(
    "data",
    [
        b"<rss><channel><item>",
        b"<html><body>Service unavailable</body></html>",
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">]><rss><channel/></rss>',
    ],
)
def test_broken_or_hostile_xml_is_refused(countries: Countries, data: bytes) -> None:
    with pytest.raises(AdvisoryFormatError):
        parse_us_state_rss(data, countries=countries)


# -- Government of Canada JSON -------------------------------------------------------------------


def test_canada_advisory_states_0_to_3_become_levels_1_to_4(countries: Countries) -> None:
    advisories = _by_code(parse_canada_json(CANADA_FIXTURE.read_bytes(), countries=countries))

    assert {code: a.level for code, a in advisories.items()} == {
        "DE": RiskLevel.BLUE,  # state 0
        "CI": RiskLevel.YELLOW,  # state 1
        "GB": RiskLevel.YELLOW,  # state "1" (a string)
        "NG": RiskLevel.ORANGE,  # state 2
        "MM": RiskLevel.RED,  # state 3
    }
    assert {a.source for a in advisories.values()} == {CANADA_SOURCE}


def test_canada_titles_and_links_come_from_the_english_fields(countries: Countries) -> None:
    advisories = _by_code(parse_canada_json(CANADA_FIXTURE.read_bytes(), countries=countries))

    assert advisories["DE"].title == "Germany: Take normal security precautions"
    assert advisories["DE"].url == "https://travel.gc.ca/destinations/germany"
    assert advisories["NG"].title == (
        "Nigeria: Avoid non-essential travel (regional advisories apply)"
    )


def test_canada_dates_from_timestamp_asp_or_ottawa_local_date(countries: Countries) -> None:
    advisories = _by_code(parse_canada_json(CANADA_FIXTURE.read_bytes(), countries=countries))

    assert advisories["DE"].published == datetime(2099, 1, 15, 12, tzinfo=UTC)  # timestamp
    assert advisories["MM"].published == datetime(2099, 2, 1, 14, 15, 30, 123456, tzinfo=UTC)
    assert advisories["CI"].published == datetime(2099, 7, 1, 16, tzinfo=UTC)  # 12:00 EDT


def test_canada_unknown_codes_and_bad_states_are_reported(countries: Countries) -> None:
    unmapped: list[str] = []

    advisories = parse_canada_json(
        CANADA_FIXTURE.read_bytes(), countries=countries, unmapped=unmapped
    )

    assert unmapped == ["QX: unknown country code", "FR: no advisory state 0-3"]
    assert {"QX", "FR"}.isdisjoint(a.country_code for a in advisories)


@pytest.mark.parametrize("data", [b"{", b"[]", b'{"data": []}', b'{"metadata": {}}'])
def test_json_that_is_not_canadas_feed_is_refused(countries: Countries, data: bytes) -> None:
    with pytest.raises(AdvisoryFormatError):
        parse_canada_json(data, countries=countries)


# -- format detection, files, fetching -----------------------------------------------------------


def test_import_file_detects_the_format_by_content(tmp_path: Path, countries: Countries) -> None:
    # Misleading names on purpose: the content decides.
    rss_copy = tmp_path / "advisories.json"
    rss_copy.write_bytes(b"\xef\xbb\xbf\n  " + US_FIXTURE.read_bytes())
    json_copy = tmp_path / "advisories.xml"
    json_copy.write_bytes(CANADA_FIXTURE.read_bytes())

    assert {a.source for a in import_file(rss_copy, countries=countries)} == {US_SOURCE}
    assert {a.source for a in import_file(json_copy, countries=countries)} == {CANADA_SOURCE}


def test_a_file_in_neither_format_is_refused(countries: Countries) -> None:
    with pytest.raises(AdvisoryFormatError):
        parse_feed(b"country,level\nDE,1\n", countries=countries)


def test_feed_urls_are_the_official_ones() -> None:
    assert US_STATE_RSS_URL == "https://travel.state.gov/_res/rss/TAsTWs.xml"
    assert CANADA_JSON_URL == (
        "https://data.international.gc.ca/travel-voyage/index-alpha-eng.json"
    )


async def test_fetch_returns_the_body_and_follows_redirects() -> None:
    body = US_FIXTURE.read_bytes()

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/old":
            return httpx.Response(301, headers={"Location": "https://feeds.test/new"})
        return httpx.Response(200, content=body)

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        assert await fetch("https://feeds.test/old", client) == body


async def test_fetch_raises_on_an_error_status() -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(503))
    async with httpx.AsyncClient(transport=transport) as client:
        with pytest.raises(httpx.HTTPStatusError):
            await fetch("https://feeds.test/feed", client)


async def test_fetch_refuses_an_oversized_body() -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(200, content=b"x" * 2048))
    async with httpx.AsyncClient(transport=transport) as client:
        with pytest.raises(AdvisoryFormatError, match="more than 1024 bytes"):
            await fetch("https://feeds.test/feed", client, max_bytes=1024)


def test_a_fresh_install_refreshes_the_official_feeds_by_default(tmp_path: Path) -> None:
    assert Settings(_env_file=None).advisory_refresh  # type: ignore[call-arg]


async def test_the_refresh_is_scheduled_soon_after_start_unless_turned_off(
    tmp_path: Path,
) -> None:
    for wanted in (True, False):
        world = World(tmp_path / str(wanted), advisory_refresh=wanted)
        await world.start()
        try:
            assert world.app is not None and world.app.job_queue is not None
            jobs = world.app.job_queue.get_jobs_by_name("advisory-refresh")
            assert len(jobs) == (1 if wanted else 0)
        finally:
            await world.stop()
