"""The officer's team picker on the desk page offers the teams, not the officers' own empty one:
"(no team)" shadowed "All teams" (the same value) and read so on a page listing everyone
(found by a hostile review of the desk)."""

from __future__ import annotations

from datetime import date, timedelta

from playwright.async_api import Browser, expect

from conversations.web.desk import DeskServer
from tests.builders import BERLIN, DEADLINE, at, enrol_south, plan_for, said
from tests.harness import World
from tests.test_desk_browser import browser, desk, mini_app_url, open_page  # noqa: F401


async def test_the_picker_reads_all_teams_while_all_teams_are_shown(
        team: World, desk: DeskServer, browser: Browser) -> None:  # noqa: F811
    _, sven = await enrol_south(team)
    await plan_for(team, team.rep, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
    await plan_for(team, sven, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
    await at(team, DEADLINE - timedelta(hours=3))
    page = await open_page(browser, mini_app_url(desk, team, team.officer.id))
    await expect(page.locator("#people li.person-row")).to_have_count(2)  # everyone
    await expect(page.locator("#team-filter")).to_be_visible()

    shown = await page.locator("#team").evaluate("s => s.options[s.selectedIndex].text")
    assert shown == said("desk.team.all"), f"the picker reads {shown!r} above every team"
