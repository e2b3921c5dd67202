"""The desk page in a real headless Chromium (Debian's package): the browser, the page's
server, the URL Telegram opens, a page opened as a phone or a desktop would."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from datetime import date, timedelta
from urllib.parse import quote

from playwright.async_api import Browser, Page, async_playwright, expect

from conversations.web.desk import DeskServer
from tests.builders import BERLIN, DEADLINE, at, enrol_south, init_data, plan_for
from tests.harness import World

CHROMIUM = "/usr/bin/chromium"
WAIT_MS = 30_000  # the page polls every 5 s; a busy 2-core machine needs slack
expect.set_options(timeout=WAIT_MS)  # expect() waits on its own clock (5 s by default)

DESKTOP = {"width": 1200, "height": 860}
PHONE = {"width": 390, "height": 844}


async def chromium() -> AsyncIterator[Browser]:
    """The `browser` fixture's body (tests/conftest.py)."""
    assert shutil.which(CHROMIUM), "Chromium is missing: apt-get install -y chromium"
    async with async_playwright() as p:
        # --no-sandbox: CI runs as root, where Chromium's sandbox cannot start.
        launched = await p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                           args=["--no-sandbox"])
        yield launched
        await launched.close()


async def desk_server(team: World) -> AsyncIterator[DeskServer]:
    """The `desk` fixture's body (tests/conftest.py)."""
    assert team.app is not None
    async with DeskServer(team.services, team.app.bot) as server:
        yield server


def mini_app_url(desk: DeskServer, world: World, user_id: int, language: str = "en") -> str:
    """The URL Telegram opens for a Mini App button: signed initData in the fragment."""
    signed = init_data(user_id, world.clock.now(), language=language)
    return f"{desk.url}#tgWebAppData={quote(signed)}&tgWebAppVersion=8.0&tgWebAppPlatform=web"


async def open_page(browser: Browser, url: str, locale: str = "en-GB",
                    viewport: dict[str, int] | None = None) -> Page:
    context = await browser.new_context(locale=locale, viewport=viewport or DESKTOP)
    page = await context.new_page()
    page.set_default_timeout(WAIT_MS)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(f"{m.text} {m.location}") if m.type == "error"
            else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    await page.goto(url)
    page.errors = errors  # type: ignore[attr-defined]
    return page


async def officer_sees_two_teams(team: World, desk: DeskServer, browser: Browser) -> Page:
    """Rita (north) and Sven (south) in Berlin, three hours before the deadline; the safety
    officer's desk page open on every team."""
    _, sven = await enrol_south(team)
    await plan_for(team, team.rep, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
    await plan_for(team, sven, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
    await at(team, DEADLINE - timedelta(hours=3))
    return await open_page(browser, mini_app_url(desk, team, team.officer.id))
