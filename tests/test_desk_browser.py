"""The safety desk page in a real headless Chromium (Debian's package, driven by Playwright).

The bot runs as in every end-to-end test (the real Application against the fake Telegram);
the desk is served on a loopback port in the same event loop; the browser opens it as the
Telegram client would, with signed initData in the URL's fragment. Nothing waits by sleeping:
Playwright's expectations wait for what the page must show.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

from playwright.async_api import Browser, expect

from conversations.render.formatting import local_time
from conversations.web.desk import DeskServer
from tests.builders import (
    BERLIN,
    DEADLINE,
    SPOT,
    at,
    lone_visit,
    plan_for,
    rollcall_near_berlin,
    said,
)
from tests.desk_pages import PHONE, mini_app_url, officer_sees_two_teams, open_page
from tests.harness import World

SCREENSHOT = Path(__file__).parent.parent / "docs" / "desk.png"


async def rita_misses_her_check_in(team: World, minutes: int) -> None:
    await plan_for(team, team.rep, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
    await at(team, DEADLINE + timedelta(minutes=minutes))


async def test_the_page_shows_the_overdue_rep_and_acknowledge_reaches_the_chats(
        team: World, desk: DeskServer, browser: Browser) -> None:
    await rita_misses_her_check_in(team, minutes=5)  # overdue: only she has been reminded
    page = await open_page(browser, mini_app_url(desk, team, team.manager.id))

    rita = page.locator("#people li.person-row", has_text="Rita")
    await expect(rita).to_contain_text(said("team.state.overdue"))
    await expect(page.locator("#rollcall")).to_have_text(said("desk.rollcall.none"))
    assert page.url.endswith("/desk/"), "the signed data must leave the address bar"

    # Time passes in the bot; the page follows without a reload.
    await team.advance(timedelta(minutes=56))  # the manager, then the officers, are alerted
    await expect(rita).to_contain_text(said("team.state.alert"))
    alert = page.locator("#alerts li.alert", has_text="Rita")
    await expect(alert).to_contain_text("A-1")
    await page.locator(".marker-alert").first.click()  # details on tap, from the map
    await expect(page.locator("#details")).to_contain_text("Berlin, Germany")
    await expect(page.locator("#chart")).to_have_js_property("complete", True)
    await rollcall_near_berlin(team.manager)  # the screenshot shows a live tally too
    await expect(page.locator("#rollcall li.tally")).to_contain_text("R-1")
    SCREENSHOT.parent.mkdir(exist_ok=True)
    await page.screenshot(path=str(SCREENSHOT), full_page=True)
    mia_alert = next(m for m in team.manager.messages if "A-1" in (m.body or ""))

    await alert.get_by_role("button", name=said("button.ack")).click()

    await expect(page.locator("#status")).to_have_text(said("alert.acked_you", alert="A-1"))
    await expect(alert.get_by_role("button", name=said("button.ack"))).to_have_count(0)
    # The officer is told in the chat; the manager's own alert message now offers the
    # resolve reasons, exactly as after pressing Acknowledge there.
    notice = said("alert.ack_notice", alert="A-1", by_name="Mia")
    assert any(notice in text for text in team.officer.texts())
    assert mia_alert.buttons == [[said("resolve.phone")], [said("resolve.false_alarm")],
                                 [said("resolve.incident")]]

    await alert.locator("select.reason").select_option("phone")
    await alert.get_by_role("button", name=said("button.resolve")).click()

    await expect(page.locator("#alerts")).to_contain_text(said("desk.alerts.none"))
    resolved = said("alert.resolved", alert="A-1", by_name="Mia", reason=said("resolve.phone"))
    assert any(resolved in text for text in team.officer.texts())
    assert mia_alert.buttons == []
    assert page.errors == [], page.errors  # type: ignore[attr-defined]


async def test_a_reps_init_data_is_refused(
        team: World, desk: DeskServer, browser: Browser) -> None:
    page = await open_page(browser, mini_app_url(desk, team, team.rep.id))

    await expect(page.locator("#status")).to_have_text(said("desk.err.role"))
    await expect(page.locator("#desk")).to_be_hidden()
    state = await page.request.get(f"{desk.url}api/state")
    assert state.status == 401


async def test_the_chinese_page_has_no_english_left(
        team: World, desk: DeskServer, browser: Browser) -> None:
    mei = team.fake.user(2022, "梅", "zh")
    await team.enrol(mei, "manager", "north")
    lan = team.fake.user(2023, "兰", "zh")
    await team.enrol(lan, "staff", "north")
    await rita_misses_her_check_in(team, minutes=61)
    await lone_visit(lan, pin=SPOT, language="zh")  # on the map at the visit's pin
    await rollcall_near_berlin(team.manager)  # a roll-call of team north is open
    # Her browser says English; her setting in the bot says Chinese: the setting wins.
    page = await open_page(browser, mini_app_url(desk, team, mei.id, "en"), locale="en-GB",
                           viewport=PHONE)

    await expect(page.locator("#alerts li.alert")).to_contain_text("A-1")
    await expect(page.locator("h1")).to_have_text(said("desk.title", "zh"))
    await expect(page.locator("#rollcall li.tally")).to_contain_text("R-1")
    await page.locator("#people button.person", has_text="兰").click()
    await expect(page.locator("#details")).to_contain_text(said("team.visit.alone", "zh"))
    visible = await page.locator("body").inner_text()
    # What may stay Latin: made-up names, the place's own name, alert and roll-call ids, and
    # the organisation's zone when it is UTC (named so in the chat too: "（UTC）").
    allowed = {"Rita", "Mia", "Berlin", "Germany", "north", "A", "R", "SOS", "UTC"}
    words = set(re.findall(r"[A-Za-z]{2,}", visible))
    assert words <= allowed, words - allowed
    assert await page.evaluate("document.documentElement.lang") == "zh-Hans"
    # On a phone: nothing wider than the screen.
    assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


async def test_markup_in_a_name_is_shown_as_typed(
        team: World, desk: DeskServer, browser: Browser) -> None:
    hostile = '<img src=x id=pwned onerror="document.title=1">Bo'
    bo = team.fake.user(4024, hostile)
    await team.enrol(bo, "staff", "north")
    await plan_for(team, bo, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
    await at(team, DEADLINE + timedelta(minutes=5))
    page = await open_page(browser, mini_app_url(desk, team, team.officer.id))

    await expect(page.locator("#people")).to_contain_text(hostile)
    assert await page.locator("#pwned").count() == 0
    assert await page.title() == said("desk.title")


async def test_a_one_time_link_from_dashboard_works_once(tmp_path: Path, browser: Browser) -> None:
    world = World(tmp_path, public_url="https://desk.example")
    await world.start()
    try:
        await world.enrol_team()
        assert world.app is not None
        async with DeskServer(world.services, world.app.bot) as server:
            await world.officer.send("/dashboard")
            found = re.search(r"#login=([\w-]+)", world.officer.last.html or "")
            assert found, world.officer.last.html
            link = f"{server.url}#login={found.group(1)}"

            first = await open_page(browser, link)
            await expect(first.locator("#rollcall")).to_have_text(said("desk.rollcall.none"))
            second = await open_page(browser, link)  # another browser profile, same link
            await expect(second.locator("#status")).to_have_text(said("desk.err.expired"))
            await expect(second.locator("#desk")).to_be_hidden()
    finally:
        await world.stop()


async def test_an_officer_filters_by_team(team: World, desk: DeskServer, browser: Browser) -> None:
    page = await officer_sees_two_teams(team, desk, browser)
    people = page.locator("#people li.person-row")
    await expect(people).to_have_count(2)

    await page.locator("#team").select_option("south")

    await expect(people).to_have_count(1)
    await expect(people).to_contain_text("Sven")


async def test_a_rep_whose_lone_visit_ran_over_is_on_the_map_with_her_visit(
        team: World, desk: DeskServer, browser: Browser) -> None:
    await lone_visit(team.rep, pin=SPOT)
    visit = await team.services.visits.current(team.rep.id)
    assert visit is not None
    await team.advance(timedelta(minutes=70))  # the end missed: her manager is alerted
    page = await open_page(browser, mini_app_url(desk, team, team.manager.id))

    rita = page.locator("#people li.person-row", has_text="Rita")
    await expect(rita).to_contain_text(said("team.state.alert"))
    await expect(page.locator("#alerts li.alert", has_text="Rita")).to_contain_text(
        said("alerts.kind.visit"))
    await page.locator(".marker-alert").first.click()  # on the map, at the visit's pin
    details = page.locator("#details")
    await expect(details).to_contain_text(said("desk.placed.visit"))
    await expect(details).to_contain_text(said(
        "team.visit", ends=local_time(visit.ends_at, visit.tz_name, "en"),
        who=said("team.visit.alone")))
    await expect(details).not_to_contain_text("Acme")  # the client stays out, as on /team
    assert page.errors == [], page.errors  # type: ignore[attr-defined]


async def test_the_tally_follows_a_roll_call_started_and_answered_in_the_chat(
        team: World, desk: DeskServer, browser: Browser) -> None:
    await plan_for(team, team.rep, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
    page = await open_page(browser, mini_app_url(desk, team, team.officer.id))
    await expect(page.locator("#rollcall")).to_have_text(said("desk.rollcall.none"))

    await rollcall_near_berlin(team.officer)

    tally = page.locator("#rollcall li.tally")
    await expect(tally).to_contain_text("R-1")
    await expect(tally).to_contain_text(said("rollcall.tally.counts", asked=1, safe=0, help=0,
                                             silent=1))

    await team.rep.press("✅ I'm safe")

    await expect(tally).to_contain_text(said("rollcall.tally.counts", asked=1, safe=1, help=0,
                                             silent=0))
    await expect(tally).to_have_attribute("data-safe", "1")
    assert page.errors == [], page.errors  # type: ignore[attr-defined]
