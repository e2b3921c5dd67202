"""Destination risk: the highest of advisories, the register and verified hazards wins;
no information at all is grey, never blue."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from fieldbot.clock import FakeClock
from fieldbot.domain.places import Place
from fieldbot.domain.risk import (
    Advisory,
    HazardSignal,
    RegisterEntry,
    RiskLevel,
    assess,
    haversine_km,
)
from fieldbot.geo.register import (
    RegisterError,
    RiskRegister,
    load_register,
    parse_register_csv,
)
from fieldbot.services.risk import NoHazards, RiskService

NOW = datetime(2099, 6, 15, 12, 0, tzinfo=UTC)
EXAMPLE_REGISTER = (
    Path(__file__).parent.parent / "fieldbot" / "defaults" / "risk_register.example.toml"
)

LAGOS = Place("Lagos", "NG", "Nigeria", "", 6.4541, 3.3947, "Africa/Lagos", 2332459)
SPRINGFIELD = Place(
    "Springfield", "US", "United States", "Illinois", 39.80172, -89.64371, "America/Chicago"
)
SAO_PAULO = Place("São Paulo", "BR", "Brazil", "", -23.5475, -46.63611, "America/Sao_Paulo")
AT_SEA = Place("0.0000, -30.0000", "", "", "", 0.0, -30.0, "Etc/GMT+2")


def advisory(
    code: str,
    level: RiskLevel,
    *,
    source: str = "US State Department",
    published: datetime = NOW - timedelta(days=10),
    title: str = "FIXTURE advisory",
) -> Advisory:
    return Advisory(code, level, source, title, "https://example.invalid/advisory", published)


def hazard(
    lat: float,
    lon: float,
    level: RiskLevel,
    *,
    radius_km: float = 5.0,
    verified_at: datetime = NOW - timedelta(days=1),
    title: str = "Flooded underpass",
) -> HazardSignal:
    return HazardSignal(lat, lon, radius_km, level, verified_at, title)


# -- assess() -------------------------------------------------------------------------------------


def test_a_place_with_no_information_is_unknown_grey_never_blue() -> None:
    assessment = assess(LAGOS, [], [], [], NOW)

    assert assessment.level is RiskLevel.UNKNOWN
    assert assessment.level.colour == "grey"
    assert assessment.reasons == []
    assert not assessment.known


def test_an_advisory_for_another_country_leaves_the_place_unknown() -> None:
    assessment = assess(LAGOS, [advisory("GH", RiskLevel.RED)], [], [], NOW)

    assert assessment.level is RiskLevel.UNKNOWN


def test_a_level_one_advisory_is_blue_with_its_source_and_date() -> None:
    published = datetime(2099, 1, 5, tzinfo=UTC)
    assessment = assess(
        LAGOS,
        [advisory("NG", RiskLevel.BLUE, published=published, title="Nigeria - L1")],
        [],
        [],
        NOW,
    )

    assert assessment.level is RiskLevel.BLUE
    [reason] = assessment.reasons
    assert (reason.kind, reason.source, reason.detail, reason.as_of) == (
        "advisory",
        "US State Department",
        "Nigeria - L1",
        published,
    )


def test_the_highest_of_advisories_register_and_hazards_wins() -> None:
    assessment = assess(
        LAGOS,
        [
            advisory("NG", RiskLevel.YELLOW),
            advisory("NG", RiskLevel.ORANGE, source="Government of Canada"),
        ],
        [RegisterEntry("NG", RiskLevel.YELLOW, note="company matrix")],
        [hazard(6.45, 3.39, RiskLevel.RED)],
        NOW,
    )

    assert assessment.level is RiskLevel.RED
    assert [r.kind for r in assessment.reasons] == ["hazard", "advisory", "advisory", "register"]
    assert [r.level for r in assessment.reasons] == sorted(
        (r.level for r in assessment.reasons), reverse=True
    )


def test_a_lower_register_entry_never_lowers_an_official_advisory() -> None:
    assessment = assess(
        LAGOS,
        [advisory("NG", RiskLevel.ORANGE)],
        [RegisterEntry("NG", RiskLevel.BLUE)],
        [],
        NOW,
    )

    assert assessment.level is RiskLevel.ORANGE


def test_a_reissued_advisory_replaces_the_older_one_from_the_same_source() -> None:
    older = advisory("NG", RiskLevel.RED, published=NOW - timedelta(days=300))
    newer = advisory("NG", RiskLevel.YELLOW, published=NOW - timedelta(days=3))

    assessment = assess(LAGOS, [older, newer], [], [], NOW)

    assert assessment.level is RiskLevel.YELLOW
    assert len(assessment.reasons) == 1


def test_a_place_at_sea_has_no_country_advisory() -> None:
    assert assess(AT_SEA, [advisory("", RiskLevel.RED)], [], [], NOW).level is RiskLevel.UNKNOWN


# -- the register in assess() ---------------------------------------------------------------------


def test_a_country_wide_register_entry_applies_to_every_city_there() -> None:
    entry = RegisterEntry("NG", RiskLevel.ORANGE, note="elections")

    assessment = assess(LAGOS, [], [entry], [], NOW)

    assert assessment.level is RiskLevel.ORANGE
    [reason] = assessment.reasons
    assert (reason.kind, reason.source, reason.detail) == (
        "register",
        "Risk register",
        "NG: elections",
    )


def test_a_city_entry_matches_case_and_accent_insensitively() -> None:
    entry = RegisterEntry("BR", RiskLevel.ORANGE, city="sao paulo")

    assert assess(SAO_PAULO, [], [entry], [], NOW).level is RiskLevel.ORANGE


def test_a_city_entry_ignores_punctuation() -> None:
    st_louis = Place("St. Louis", "US", "United States", "Missouri", 38.627, -90.198, "")
    entry = RegisterEntry("US", RiskLevel.YELLOW, city="St Louis")

    assert assess(st_louis, [], [entry], [], NOW).level is RiskLevel.YELLOW


def test_a_city_entry_does_not_cover_other_cities_of_the_country() -> None:
    entry = RegisterEntry("NG", RiskLevel.RED, city="Kano")

    assert assess(LAGOS, [], [entry], [], NOW).level is RiskLevel.UNKNOWN


def test_a_city_entry_needs_the_country_to_match() -> None:
    entry = RegisterEntry("CA", RiskLevel.RED, city="Springfield")

    assert assess(SPRINGFIELD, [], [entry], [], NOW).level is RiskLevel.UNKNOWN


def test_a_region_entry_matches_the_places_region() -> None:
    entry = RegisterEntry("US", RiskLevel.YELLOW, region="illinois", note="winter storms")

    assessment = assess(SPRINGFIELD, [], [entry], [], NOW)

    assert assessment.level is RiskLevel.YELLOW
    assert assessment.reasons[0].detail == "illinois, US: winter storms"


def test_a_radius_entry_covers_places_inside_its_circle_only() -> None:
    near = RegisterEntry("NG", RiskLevel.RED, lat=6.50, lon=3.40, radius_km=10)
    far = RegisterEntry("NG", RiskLevel.RED, lat=12.0, lon=8.5, radius_km=50)

    assert assess(LAGOS, [], [near], [], NOW).level is RiskLevel.RED
    assert assess(LAGOS, [], [far], [], NOW).level is RiskLevel.UNKNOWN
    assert "within 10 km" in assess(LAGOS, [], [near], [], NOW).reasons[0].detail


def test_a_radius_entry_does_not_stop_at_a_border() -> None:
    # An area drawn around a point near Lagos also covers a pin just across in Benin.
    entry = RegisterEntry("NG", RiskLevel.ORANGE, lat=6.40, lon=2.75, radius_km=30)
    benin_pin = Place("Porto-Novo", "BJ", "Benin", "", 6.40, 2.65, "Africa/Porto-Novo")

    assert assess(benin_pin, [], [entry], [], NOW).level is RiskLevel.ORANGE


def test_an_expired_register_entry_no_longer_applies() -> None:
    entry = RegisterEntry("NG", RiskLevel.RED, expires=date(2099, 6, 14))

    assert assess(LAGOS, [], [entry], [], NOW).level is RiskLevel.UNKNOWN


def test_a_register_entry_applies_through_its_whole_expiry_day() -> None:
    entry = RegisterEntry("NG", RiskLevel.RED, expires=date(2099, 6, 15))

    assert entry.is_active(datetime(2099, 6, 15, 23, 59, tzinfo=UTC))
    assert not entry.is_active(datetime(2099, 6, 16, 0, 0, tzinfo=UTC))


def test_register_entries_reject_incomplete_areas() -> None:
    with pytest.raises(ValueError, match="radius_km"):
        RegisterEntry("NG", RiskLevel.RED, lat=6.4, lon=3.4)
    with pytest.raises(ValueError, match="both lat and lon"):
        RegisterEntry("NG", RiskLevel.RED, lat=6.4)


# -- hazards in assess() -------------------------------------------------------------------------


def test_a_recent_verified_hazard_nearby_raises_the_level() -> None:
    assessment = assess(
        LAGOS,
        [advisory("NG", RiskLevel.YELLOW)],
        [],
        [hazard(6.46, 3.40, RiskLevel.ORANGE, title="Armed robberies at the ferry")],
        NOW,
    )

    assert assessment.level is RiskLevel.ORANGE
    assert assessment.reasons[0].kind == "hazard"
    assert assessment.reasons[0].detail == "Armed robberies at the ferry"


def test_a_hazard_outside_its_radius_does_not_apply() -> None:
    far = hazard(6.60, 3.39, RiskLevel.RED, radius_km=5)  # ~16 km north

    assert assess(LAGOS, [], [], [far], NOW).level is RiskLevel.UNKNOWN


def test_a_hazard_verified_too_long_ago_does_not_apply() -> None:
    old = hazard(6.45, 3.39, RiskLevel.RED, verified_at=NOW - timedelta(days=31))

    assert assess(LAGOS, [], [], [old], NOW).level is RiskLevel.UNKNOWN
    assert (
        assess(LAGOS, [], [], [old], NOW, hazard_max_age=timedelta(days=60)).level is RiskLevel.RED
    )


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        assess(LAGOS, [], [], [], datetime(2099, 1, 1))  # noqa: DTZ001 - the point of the test
    with pytest.raises(ValueError, match="aware"):
        advisory("NG", RiskLevel.RED, published=datetime(2099, 1, 1))  # noqa: DTZ001


def test_haversine_km() -> None:
    assert haversine_km(0, 0, 0, 0) == 0
    assert haversine_km(0, 0, 1, 0) == pytest.approx(111.195, abs=0.01)
    # Berlin - Paris, about 878 km
    assert haversine_km(52.52, 13.405, 48.8566, 2.3522) == pytest.approx(878, abs=3)


# -- the register file ----------------------------------------------------------------------------

REGISTER_V1 = """
[[entry]]
country = "ng"
level = 3
note = "FIXTURE: made-up entry"

[[entry]]
country = "US"
region = "Illinois"
level = 2
expires = 2099-06-14
"""

REGISTER_V2 = """
[[entry]]
country = "NG"
city = "Lagos"
lat = 6.45
lon = 3.39
radius_km = 20
level = 4
note = "FIXTURE: made-up entry, second version"
expires = "2099-12-31"
"""


def _write(path: Path, text: str, *, mtime_ns: int) -> None:
    path.write_text(text, encoding="utf-8")
    # Set the mtime explicitly: two writes within one filesystem tick must still differ.
    os.utime(path, ns=(mtime_ns, mtime_ns))


def test_register_drops_expired_entries(tmp_path: Path) -> None:
    path = tmp_path / "register.toml"
    _write(path, REGISTER_V1, mtime_ns=1_000_000_000)
    register = RiskRegister(path)

    entries = register.entries(NOW)

    assert entries == [RegisterEntry("NG", RiskLevel.ORANGE, note="FIXTURE: made-up entry")]
    assert len(register.all_entries()) == 2
    assert register.last_error is None


def test_register_reloads_when_the_file_changes(tmp_path: Path) -> None:
    path = tmp_path / "register.toml"
    _write(path, REGISTER_V1, mtime_ns=1_000_000_000)
    register = RiskRegister(path)
    assert register.entries(NOW)[0].level is RiskLevel.ORANGE

    _write(path, REGISTER_V2, mtime_ns=2_000_000_000)

    [entry] = register.entries(NOW)
    assert (entry.city, entry.level, entry.radius_km) == ("Lagos", RiskLevel.RED, 20.0)
    assert entry.expires == date(2099, 12, 31)


def test_a_malformed_edit_keeps_the_last_good_register_and_says_why(tmp_path: Path) -> None:
    path = tmp_path / "register.toml"
    _write(path, REGISTER_V1, mtime_ns=1_000_000_000)
    register = RiskRegister(path)
    good = register.entries(NOW)

    _write(path, REGISTER_V1 + "\n[[entry]]\ncountry = 'NG'\nlevel = 7\n", mtime_ns=2 * 10**9)

    assert register.entries(NOW) == good
    assert register.last_error is not None
    assert "entry 3: level must be 1, 2, 3 or 4" in register.last_error

    _write(path, "this is = = not toml", mtime_ns=3_000_000_000)
    assert register.entries(NOW) == good
    assert "not valid TOML" in (register.last_error or "")

    _write(path, REGISTER_V2, mtime_ns=4_000_000_000)
    assert register.entries(NOW)[0].city == "Lagos"
    assert register.last_error is None


def test_a_missing_register_file_is_an_error_not_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "register.toml"
    _write(path, REGISTER_V1, mtime_ns=1_000_000_000)
    register = RiskRegister(path)
    good = register.entries(NOW)

    path.unlink()

    assert register.entries(NOW) == good
    assert "cannot read" in (register.last_error or "")
    assert RiskRegister(tmp_path / "nowhere.toml").entries(NOW) == []


def test_register_reads_csv_with_optional_columns(tmp_path: Path) -> None:
    path = tmp_path / "register.csv"
    path.write_text(
        "\ufeffcountry,region,city,lat,lon,radius_km,level,note,expires\n"
        "NG,,Lagos,,,,3,FIXTURE: made-up,\n"
        "US,Illinois,,,,,2,,2099-12-31\n"
        'NG,,,6.45,3.39,15,4,"FIXTURE: quoted, with a comma",\n'
        ",,,,,,,,\n",
        encoding="utf-8",
    )

    entries = RiskRegister(path).entries(NOW)

    assert [(e.country_code, e.city, e.region, e.level) for e in entries] == [
        ("NG", "Lagos", "", RiskLevel.ORANGE),
        ("US", "", "Illinois", RiskLevel.YELLOW),
        ("NG", "", "", RiskLevel.RED),
    ]
    assert entries[2].note == "FIXTURE: quoted, with a comma"
    assert entries[1].expires == date(2099, 12, 31)


@pytest.mark.parametrize(
    ("csv_text", "message"),
    [
        ("country,level,colour\nNG,3,red\n", "unknown column"),
        ("region,level\nLagos,3\n", "missing column 'country'"),
        ("country,level\nNigeria,3\n", "alpha-2"),
        ("country,level\nNG,high\n", "level must be a number"),
        ("country,level,lat,lon\nNG,3,6.4,3.4\n", "radius_km"),
        ("country,level,lat,lon,radius_km\nNG,3,96,3.4,5\n", "out of range"),
        ("country,level,expires\nNG,3,2099-02-30\n", "expires"),
        ("country,level\nNG,3,extra\n", "more fields"),
    ],
)
def test_malformed_csv_rows_are_reported_with_their_line(csv_text: str, message: str) -> None:
    with pytest.raises(RegisterError, match=message):
        parse_register_csv(csv_text.encode())


def test_the_example_register_loads_and_matches_no_real_destination() -> None:
    entries = load_register(EXAMPLE_REGISTER)

    assert entries
    assert all(e.country_code == "ZZ" and "EXAMPLE" in e.note for e in entries)
    for place in (LAGOS, SPRINGFIELD, SAO_PAULO):
        assert assess(place, [], entries, [], NOW).level is RiskLevel.UNKNOWN


# -- the service ---------------------------------------------------------------------------------


class FakeAdvisories:
    def __init__(self, *advisories: Advisory) -> None:
        self._advisories = advisories
        self.asked: list[str] = []

    async def for_country(self, code: str) -> list[Advisory]:
        self.asked.append(code)
        return [a for a in self._advisories if a.country_code == code]


class FakeRegister:
    def __init__(self, *entries: RegisterEntry) -> None:
        self._entries = entries
        self.asked_at: list[datetime] = []

    def entries(self, now: datetime) -> list[RegisterEntry]:
        self.asked_at.append(now)
        return [e for e in self._entries if e.is_active(now)]


class FakeHazards:
    def __init__(self, *hazards: HazardSignal) -> None:
        self._hazards = hazards

    async def near(self, lat: float, lon: float) -> list[HazardSignal]:
        return list(self._hazards)


class FakeResolver:
    async def search(self, text: str, limit: int = 5) -> list[Place]:
        return [LAGOS][:limit] if text == "Lagos" else []

    async def at(self, lat: float, lon: float) -> Place:
        return LAGOS


async def test_risk_service_assesses_a_place_at_the_clocks_time() -> None:
    clock = FakeClock(NOW)
    advisories = FakeAdvisories(advisory("NG", RiskLevel.YELLOW))
    register = FakeRegister(RegisterEntry("NG", RiskLevel.ORANGE, expires=date(2099, 6, 20)))
    service = RiskService(FakeResolver(), advisories, register, NoHazards(), clock)

    assessment = await service.assess_place(LAGOS)

    assert assessment.level is RiskLevel.ORANGE
    assert advisories.asked == ["NG"]
    assert register.asked_at == [NOW]

    clock.advance(timedelta(days=10))  # the register entry has expired by now
    assert (await service.assess_place(LAGOS)).level is RiskLevel.YELLOW


async def test_risk_service_takes_verified_hazards_from_its_source() -> None:
    service = RiskService(
        FakeResolver(),
        FakeAdvisories(),
        FakeRegister(),
        FakeHazards(hazard(6.45, 3.39, RiskLevel.RED)),
        FakeClock(NOW),
    )

    assessment = await service.assess_place(LAGOS)

    assert assessment.level is RiskLevel.RED
    assert assessment.reasons[0].source == "Verified hazard report"


async def test_risk_service_with_nothing_known_says_unknown() -> None:
    service = RiskService(
        FakeResolver(), FakeAdvisories(), FakeRegister(), NoHazards(), FakeClock(NOW)
    )

    assert (await service.assess_place(AT_SEA)).level is RiskLevel.UNKNOWN
    assert await service.find("Lagos") == [LAGOS]
    assert await service.find("Atlantis") == []
    assert await service.place_at(6.45, 3.39) == LAGOS
