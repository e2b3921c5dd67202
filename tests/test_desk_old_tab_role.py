"""An officer's open desk tab after she is made a manager of one team: the team picker goes, as
on a manager's page. Before, it stayed on screen reading "north" while the page listed
south's people (found by a hostile review of the desk)."""

from __future__ import annotations

from playwright.async_api import Browser, expect

from conversations.web.desk import DeskServer
from fieldbot.domain.roles import Role
from tests.desk_pages import officer_sees_two_teams
from tests.harness import World


async def test_the_team_picker_goes_when_the_officer_becomes_a_manager(
        team: World, desk: DeskServer, browser: Browser) -> None:
    page = await officer_sees_two_teams(team, desk, browser)
    people = page.locator("#people li.person-row")
    await page.locator("#team").select_option("north")
    await expect(people).to_have_count(1)
    await expect(people).to_contain_text("Rita")

    await team.services.enrolment.change_role(team.officer.id, Role.MANAGER, "south")

    await expect(people).to_contain_text("Sven")  # the next poll: her new team
    # The page must not go on saying "Team: north" above south's people.
    await expect(page.locator("#team-filter")).to_be_hidden(timeout=6_000)
