"""`fieldbot demo`: the real bot against the built-in fake Telegram, with a scripted scenario.

No token, no network: the fake Bot API runs in-process, time is a fake clock moved by the
script, and the transcript of every chat is printed as it happens.
"""

from __future__ import annotations

import re
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import SecretStr
from telegram import Update
from telegram.request import HTTPXRequest

from conversations.runtime.bootstrap import FieldbotApp, build_application
from faketelegram.api import FakeTelegram
from faketelegram.transport import FakeTransport
from faketelegram.users import FakeUser
from fieldbot.clock import FakeClock
from fieldbot.config import Settings

DEMO_TOKEN = "100001:DEMO-token-for-the-built-in-fake-0000"  # noqa: S105 - only the fake
DEMO_START = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


class Transcript:
    def __init__(self, fake: FakeTelegram, clock: FakeClock) -> None:
        self.fake = fake
        self.clock = clock
        self.seen = 0
        self.names: dict[int, str] = {}

    def say(self, user: FakeUser, text: str) -> None:
        print(f"[{self.clock.now():%H:%M} UTC] {user.first_name} ▶ {text}")

    def flush(self) -> None:
        for sent in self.fake.sent[self.seen:]:
            who = self.names.get(sent.chat_id, str(sent.chat_id))
            body = re.sub(r"<[^>]+>", "", sent.text or "")
            indented = body.replace("\n", "\n" + " " * 12)
            print(f"            bot → {who}: {indented}")
            if sent.message.buttons:
                print(f"                  buttons: {sent.message.buttons}")
        self.seen = len(self.fake.sent)


async def run_demo(db_path: str | None = None) -> int:
    """Run the scenario; return 0 when every step behaved as expected."""
    with tempfile.TemporaryDirectory(prefix="fieldbot-demo-") as tmp:
        db = Path(db_path) if db_path else Path(tmp) / "demo.db"
        clock = FakeClock(DEMO_START)
        fake = FakeTelegram(token=DEMO_TOKEN, username="fieldbot_demo_bot", clock=clock.now)
        settings = Settings(_env_file=None, token=SecretStr(DEMO_TOKEN),  # type: ignore[call-arg]
                            bot_api_url="http://fake.telegram", db=db,
                            data_dir=Path(tmp) / "data", admin_ids=(1,))
        app = build_application(
            settings, clock, rate_limit=False,
            request=HTTPXRequest(httpx_kwargs={"transport": FakeTransport(fake)}),
        )

        async def dispatch(data: dict[str, Any]) -> None:
            await app.process_update(Update.de_json(data, app.bot))

        fake.dispatch = dispatch
        await app.initialize()
        if app.post_init:
            await app.post_init(app)
        try:
            return await _scenario(app, fake, clock)
        finally:
            await app.shutdown()
            if app.post_shutdown:
                await app.post_shutdown(app)


async def _scenario(app: FieldbotApp, fake: FakeTelegram, clock: FakeClock) -> int:
    services = app.bot_data.services
    log = Transcript(fake, clock)
    await services.risk.find("Berlin")  # build the place index before the clock starts
    admin, manager = fake.user(1, "Ada (admin)"), fake.user(2, "Mia (manager)")
    officer, rep = fake.user(3, "Olu (safety officer)"), fake.user(4, "Rita (rep)")
    log.names = {u.id: u.first_name for u in (admin, manager, officer, rep)}

    async def act(user: FakeUser, text: str) -> None:
        log.say(user, text)
        await user.send(text)
        log.flush()

    async def press(user: FakeUser, button: str) -> None:
        log.say(user, f"[presses {button}]")
        await user.press(button)
        log.flush()

    print("=== fieldbot demo: a scripted evening, against the built-in fake Telegram ===\n")
    await act(admin, "/start")
    for user, role, team in ((manager, "manager", "north"), (officer, "officer", ""),
                             (rep, "staff", "north")):
        await act(admin, f"/invite {role} {team}".strip())
        code = re.search(r"start=([\w-]+)", admin.last.body or "")
        assert code is not None
        await act(user, f"/start {code.group(1)}")

    print("\n--- Rita files a trip to Berlin (made-up demo data) ---")
    await act(rep, "/risk Berlin")
    for line in ("/trip", "Berlin", "today", "2026-12-03"):
        await act(rep, line)
    await press(rep, "No, that's all")
    await act(rep, "Demo Hotel, Room 1")
    await act(rep, "Sam Demo +49 170 0000000")
    await press(rep, "No")
    await press(rep, "✅ Confirm")

    print("\n--- 20:00 in Berlin: the reminder; Rita does not answer ---")
    clock.set(datetime(2026, 12, 1, 19, 0, tzinfo=UTC))
    await services.sweeper.tick()
    log.flush()
    for minutes in (60, 75, 90, 120):
        clock.set(datetime(2026, 12, 1, 19, 0, tzinfo=UTC) + timedelta(minutes=minutes))
        print(f"\n--- {clock.now():%H:%M} UTC ---")
        await services.sweeper.tick()
        log.flush()
    print()
    await press(officer, "Acknowledge")
    await act(rep, "/checkin")
    ok = any("All clear" in (s.text or "") for s in fake.sent_to(manager.id))
    print("\n=== demo finished:", "escalation and all-clear worked ===" if ok else "FAILED ===")
    return 0 if ok else 1
