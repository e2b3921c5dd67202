"""/risk of a country answers for the country (its advisories, no local time, a word that its
cities may differ), and a place found only because its name begins like the words typed is a
suggestion, never the answer. Before, /risk Korea answered "Koreatown, California — grey, no
data", /risk Egypt "Goodyear, Arizona" (once called Egypt), /risk Syria a town in Myanmar, and
/risk Germany or 德国 "check the spelling" (found by a hostile review)."""

from __future__ import annotations

from tests.builders import import_us_fixture, said
from tests.harness import World


async def test_a_country_is_answered_with_its_own_advisories(team: World) -> None:
    await import_us_fixture(team)  # Germany: level 2
    await team.rep.send("/risk Germany")
    body = team.rep.last.body or ""
    assert body.startswith("Germany\n") and "Yellow" in body
    assert said("risk.country_note") in body and "Local time" not in body


async def test_a_town_that_once_had_the_countrys_name_is_not_the_answer(team: World) -> None:
    await import_us_fixture(team)
    for typed in ("Egypt", "Syria"):
        await team.rep.send(f"/risk {typed}")
        assert (team.rep.last.body or "").startswith(f"{typed}\n")


async def test_a_name_only_begun_like_the_words_is_offered_not_answered(team: World) -> None:
    await import_us_fixture(team)
    await team.rep.send("/risk Korea")  # two Koreas: no one country; Koreatown only begins so
    assert team.rep.last.body == said("place.did_you_mean")
    assert team.rep.last.buttons == [["Koreatown, California, United States"]]


async def test_a_country_in_chinese_and_a_city_state(team: World) -> None:
    await import_us_fixture(team)
    await team.rep.send("/risk Singapore")  # a city-state: the country's advisories
    assert said("risk.country_note") in (team.rep.last.body or "")
    await team.rep.send("/risk Singapore, Singapore")  # the city, with its local time
    assert "Local time" in (team.rep.last.body or "")
    await team.rep.send("/language")
    await team.rep.press("中文")
    await team.rep.send("/risk 德国")
    body = team.rep.last.body or ""
    assert body.startswith("德国\n") and said("risk.country_note", "zh") in body


# Found by a review of the change: a country code is no country name on /risk, and a town of
# the country's name elsewhere is not the country.
async def test_risk_la_still_means_los_angeles(team: World) -> None:
    await import_us_fixture(team)
    await team.rep.send("/risk LA")
    assert "Los Angeles" in (team.rep.last.body or ""), team.rep.last.body


async def test_risk_jordan_is_the_country_not_a_district_of_hong_kong(team: World) -> None:
    await import_us_fixture(team)
    await team.rep.send("/risk Jordan")
    body = team.rep.last.body or ""
    assert "Hong Kong" not in body.split("\n")[0], body


async def test_risk_lebanon_offers_the_country(team: World) -> None:
    await import_us_fixture(team)
    await team.rep.send("/risk Lebanon")
    last = team.rep.last
    offered = [b for row in (last.buttons or []) for b in row]
    assert (last.body or "").startswith("Lebanon\n") or "Lebanon" in offered, (
        last.body, offered)
