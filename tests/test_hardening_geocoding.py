"""Item 21: a name that several places share is asked about, big cities first; spelling
(accents, "St."/"Saint", periods, hyphens, case, width) never decides which one is meant."""

from __future__ import annotations

import pytest

from conversations.render.trip import obvious_match
from fieldbot.domain.places import Place
from fieldbot.geo.gazetteer import OfflineGeocoder, fold
from tests.builders import said
from tests.harness import GAZETTEER, World


def place(name: str, country: str) -> Place:
    return Place(name=name, country_code=country, country_name="", region="", lat=0.0,
                 lon=0.0, tz_name="UTC")


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("St. Petersburg", "Saint Petersburg"),
        ("St Petersburg", "saint-petersburg"),
        ("Ste-Foy", "Sainte Foy"),
        ("San José", "SAN JOSE"),
        ("Ｓａｎ　Ｊｏｓé", "san jose"),  # full width from a CJK keyboard
        ("Winston-Salem", "winston salem"),
        ("Washington, D.C.", "washington dc"),
    ],
)
def test_spellings_of_one_name_fold_to_one_key(one: str, other: str) -> None:
    assert fold(one) == fold(other)


def test_st_is_only_spelt_out_as_a_whole_word() -> None:
    assert fold("Stuttgart") == "stuttgart"
    assert fold("Estes Park") == "estes park"


@pytest.mark.parametrize("query", ["St. Petersburg", "Saint Petersburg", "st petersburg"])
def test_st_petersburg_offers_russia_first_and_florida(query: str) -> None:
    found = GAZETTEER.search(query)

    assert [loc.raw["country_code"] for loc in found[:2]] == ["RU", "US"]
    assert found[1].raw["admin1_name"] == "Florida"


@pytest.mark.parametrize("query", ["San José", "San Jose", "SAN JOSE", "san-josé"])
def test_san_jose_offers_the_same_places_however_it_is_written(query: str) -> None:
    found = GAZETTEER.search(query)

    assert [loc.raw["geonameid"] for loc in found] == [
        loc.raw["geonameid"] for loc in GAZETTEER.search("San Jose")]
    populations = [loc.raw["population"] for loc in found]
    assert populations == sorted(populations, reverse=True)
    assert found[0].raw["admin1_name"] == "California"
    assert "CR" in {loc.raw["country_code"] for loc in found}


@pytest.mark.parametrize(
    ("query", "names"),
    [
        ("St. Petersburg", [("Saint Petersburg", "RU"), ("St. Petersburg", "US")]),
        ("San José", [("San Jose", "US"), ("San José", "CR")]),
        ("San Jose", [("San Jose", "US"), ("San José", "CR")]),
    ],
)
def test_two_places_with_the_same_name_spelt_differently_are_not_obvious(
    query: str, names: list[tuple[str, str]]
) -> None:
    assert obvious_match(query, [place(n, c) for n, c in names]) is None


def test_one_exact_name_among_alternate_name_matches_is_still_obvious() -> None:
    berlin = place("Berlin", "DE")

    assert obvious_match("BERLIN", [berlin, place("Berlin-Mitte", "DE")]) is berlin
    assert obvious_match("Berlin, Germany", [berlin, place("Schöneberg", "DE")]) is berlin


def test_an_iso_code_qualifier_is_read_as_typed_not_folded() -> None:
    assert {loc.raw["country_code"] for loc in GAZETTEER.search("Sao Tome, ST")} == {"ST"}
    assert {loc.raw["country_code"] for loc in GAZETTEER.search("Paris, ｆｒ")} == {"FR"}


def test_a_fresh_geocoder_on_the_same_index_answers_the_same() -> None:
    again = OfflineGeocoder(index_path=GAZETTEER.index_path)

    assert [loc.raw["geonameid"] for loc in again.search("St. Petersburg")] == [
        loc.raw["geonameid"] for loc in GAZETTEER.search("St. Petersburg")]
    again.close()


@pytest.mark.parametrize(
    ("typed", "first", "also"),
    [
        ("St. Petersburg", "Saint Petersburg, Russia",
         "St. Petersburg, Florida, United States"),
        ("San José", "San Jose, California, United States", "San José, Costa Rica"),
        ("San Jose", "San Jose, California, United States", "San José, Costa Rica"),
    ],
)
async def test_the_rep_is_asked_which_one_biggest_first(
    team: World, typed: str, first: str, also: str
) -> None:
    await team.rep.send("/trip")
    await team.rep.send(typed)

    assert team.rep.last.body == said("trip.destination.pick")
    offered = [row[0] for row in team.rep.last.buttons]
    assert offered[0] == first
    assert also in offered
    await team.rep.press(also)
    assert f"Destination: <b>{also}</b>" in (team.rep.messages[-3].html or "")
