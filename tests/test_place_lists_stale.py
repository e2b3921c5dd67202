"""A "which one?" list of places pressed after a newer search is stale: its buttons carry the
list's nonce. Before, they carried only a position, looked up in the newest list: "Springfield,
Missouri" pressed on an old /risk list answered for Lagos, Nigeria, and in /hazard an old
"Springfield, Illinois" placed the hazard at Paris, Texas (found by a hostile review)."""

from __future__ import annotations

from tests.builders import ROAD, YELLOW, said
from tests.harness import World


async def test_an_old_risk_list_never_answers_for_a_place_of_a_newer_one(team: World) -> None:
    rep = team.rep
    await rep.send("/risk Springfield")
    springfields = rep.last
    await rep.send("/risk Lagos")
    assert rep.last.buttons == [["Lagos, Nigeria"], ["Lagos, Portugal"]]

    toast = await rep.press("Springfield, Missouri, United States", springfields)
    assert toast is not None and toast.text == said("guard.stale_button")
    assert "Lagos" not in (springfields.body or "")
    await rep.press("Lagos, Nigeria")  # the newest list still answers
    assert "Lagos, Nigeria" in (rep.last.body or "")


async def test_an_old_hazard_place_button_never_places_it_elsewhere(team: World) -> None:
    rep = team.rep
    await rep.send("/hazard")
    await rep.press("No photo")
    await rep.press(ROAD)
    await rep.press(YELLOW)
    await rep.send("Springfield")
    springfields = rep.last
    await rep.send("Paris")

    await rep.press("Springfield, Illinois, United States", springfields)

    said_place = [m.body or "" for m in rep.messages if (m.body or "").startswith("Location:")]
    assert "Location: Paris, Texas, United States" not in said_place, said_place
    assert not any("Springfield" in p for p in said_place)
