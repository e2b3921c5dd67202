"""The e-mailed acknowledgement link, opened in a real browser (headless Chromium, as the desk
tests use) and its button pressed, as every person who gets the e-mail would do.

Before, the page was served with `Referrer-Policy: no-referrer`. Under that policy a browser
sends a non-GET request's Origin as the literal string "null" (the Fetch standard), and the
check against other sites refused it: every real browser got "This link is not valid" and the
alert kept escalating. Only clients stating a real Origin (httpx in the other tests) got
through. Found by a hostile review.
"""

from __future__ import annotations

import shutil
import socket
from pathlib import Path

from playwright.async_api import async_playwright

from fieldbot.web.server import WebServer
from tests.builders import said
from tests.channel_world import EMAILS, channel_world, confirm_email, mails_to

CHROMIUM = "/usr/bin/chromium"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_pressing_the_button_on_the_emailed_page_in_a_browser_acknowledges(
    tmp_path: Path,
) -> None:
    assert shutil.which(CHROMIUM), "Chromium is missing"
    port = _free_port()
    public = f"http://127.0.0.1:{port}"  # FIELDBOT_PUBLIC_URL: where the browser opens it
    async with channel_world(tmp_path, db=tmp_path / "f.db", public_url=public) as reach:
        await confirm_email(reach, reach.officer)
        await reach.rep.send("/sos")
        await reach.tick()
        [(_, mail)] = [m for m in mails_to(reach, EMAILS[reach.officer.id]) if "SOS" in m[0]]
        link = next(line for line in mail.splitlines() if line.startswith(public + "/ack/"))

        server = WebServer(reach.web, "127.0.0.1", port)  # type: ignore[attr-defined]
        await server.start()
        try:
            async with async_playwright() as p:
                browser = await p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                                  args=["--no-sandbox"])
                page = await browser.new_page()
                await page.goto(link)
                button = said("channel.page.button", alert="A-1")
                await page.get_by_role("button", name=button).click()
                await page.wait_for_load_state()
                shown = await page.content()
                await browser.close()
        finally:
            await server.stop()

        async with reach.services.db.read() as conn, conn.execute(
                "SELECT state, acked_by FROM alerts WHERE id = 1") as cur:
            state = tuple(await cur.fetchone() or ())

    assert said("channel.page.acknowledged", alert="A-1") in shown, shown[-400:]
    assert state == ("acknowledged", reach.officer.id)
