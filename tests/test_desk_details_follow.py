"""The person's details panel on the desk page follows each refresh: her SOS shows there as in
the list, and a person the page no longer shows (erased) goes from the panel too. Before, the
panel kept what it showed when tapped (found by a hostile review of the desk)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from playwright.async_api import Browser, Page, expect

from conversations.web.desk import DeskServer
from tests.builders import BERLIN, at, plan_for, said
from tests.desk_pages import mini_app_url, open_page
from tests.harness import World

MIDDAY = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)  # Rita in Berlin, nothing due yet


async def _mia_looks_at_rita(team: World, desk: DeskServer,
                            browser: Browser) -> Page:
    await plan_for(team, team.rep, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
    await at(team, MIDDAY)
    page = await open_page(browser, mini_app_url(desk, team, team.manager.id))
    await page.locator("#people button.person", has_text="Rita").click()
    await expect(page.locator("#details-state")).to_contain_text(said("team.state.ok"))
    return page


async def test_the_open_details_follow_an_sos(
        team: World, desk: DeskServer, browser: Browser) -> None:
    page = await _mia_looks_at_rita(team, desk, browser)

    await team.services.escalation.raise_sos(team.rep.id)
    rita = page.locator("#people li.person-row", has_text="Rita")
    await expect(rita).to_contain_text(said("team.state.sos"))  # the list has followed

    # What Mia sees: the list says "🆘 SOS", the panel she is reading still says "🟢 OK".
    # What she should see: the panel follows the list (or closes).
    await expect(page.locator("#details-state")).to_contain_text(said("team.state.sos"),
                                                                 timeout=6_000)


async def test_the_open_details_of_an_erased_person_go_away(
        team: World, desk: DeskServer, browser: Browser) -> None:
    page = await _mia_looks_at_rita(team, desk, browser)
    await expect(page.locator("#details")).to_contain_text("Berlin, Germany")

    await team.services.privacy.erase(team.rep.id, None)
    await expect(page.locator("#people")).to_contain_text(said("desk.people.none"))

    # What Mia sees: "Who is out: nobody", and beside it Rita's name, destination and
    # whereabouts, for as long as the tab stays open. What she should see: the panel gone
    # with the person (erased data is not shown again).
    await expect(page.locator("#details")).to_be_hidden(timeout=6_000)
