"""The officer's team picker on the desk page offers the teams, not the officers' own empty one:
"(no team)" shadowed "All teams" (the same value) and read so on a page listing everyone
(found by a hostile review of the desk)."""

from __future__ import annotations

from playwright.async_api import Browser, expect

from conversations.web.desk import DeskServer
from tests.builders import said
from tests.desk_pages import officer_sees_two_teams
from tests.harness import World


async def test_the_picker_reads_all_teams_while_all_teams_are_shown(
        team: World, desk: DeskServer, browser: Browser) -> None:
    page = await officer_sees_two_teams(team, desk, browser)
    await expect(page.locator("#people li.person-row")).to_have_count(2)  # everyone
    await expect(page.locator("#team-filter")).to_be_visible()

    shown = await page.locator("#team").evaluate("s => s.options[s.selectedIndex].text")
    assert shown == said("desk.team.all"), f"the picker reads {shown!r} above every team"
