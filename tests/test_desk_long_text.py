"""A link pasted into a hazard report wraps on the desk page on a phone: the page stays as wide
as the screen. Before, one long word pushed the page to 744 px and the buttons scrolled
sideways (found by a hostile review of the desk)."""

from __future__ import annotations

from playwright.async_api import Browser, expect

from conversations.web.desk import DeskServer
from tests.builders import YELLOW, report
from tests.desk_pages import (
    PHONE,
    mini_app_url,
    open_page,
)
from tests.harness import World

LINK = "https://www.google.com/maps/place/52.5205,13.4095/@52.5205,13.4095,17z/data=!3m1!4b1"


async def test_a_link_in_a_hazard_report_keeps_the_page_as_wide_as_the_phone(
        team: World, desk: DeskServer, browser: Browser) -> None:
    await report(team.rep, severity=YELLOW, description=f"Open manhole, see {LINK}")
    page = await open_page(browser, mini_app_url(desk, team, team.manager.id), viewport=PHONE)

    await expect(page.locator("#hazards li.hazard")).to_contain_text(LINK)

    wide = await page.evaluate("document.documentElement.scrollWidth")
    screen = await page.evaluate("window.innerWidth")
    assert wide <= screen, f"the page is {wide} px wide on a {screen} px phone"
