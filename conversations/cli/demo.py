"""`fieldbot demo`: the real bot against the built-in fake Telegram, with a scripted scenario.

No token, no network: the fake Bot API runs in-process, time is a fake clock moved by the
script, and the transcript of every chat is printed as it happens.
"""

from __future__ import annotations

import html
import re
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from cryptography.fernet import Fernet
from pydantic import SecretStr
from telegram import Update
from telegram.request import HTTPXRequest

from conversations.i18n import LANGUAGES, Texts, plain
from conversations.runtime.bootstrap import FieldbotApp, build_application
from conversations.web import web_routes
from faketelegram.api import FakeTelegram
from faketelegram.transport import FakeTransport
from faketelegram.users import FakeUser
from faketwilio import (
    DEFAULT_ACCOUNT_SID,
    DEFAULT_AUTH_TOKEN,
    DEFAULT_NUMBER,
    FakeTwilio,
    FakeTwilioTransport,
)
from fieldbot.channels.build import build_channels
from fieldbot.clock import FakeClock
from fieldbot.config import Settings
from fieldbot.web.server import build_web

DEMO_TOKEN = "100001:DEMO-token-for-the-built-in-fake-0000"  # noqa: S105 - only the fake
DEMO_START = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
DEMO_PUBLIC_URL = "https://fieldbot.demo.invalid"  # nothing listens: callbacks stay in-process
DEMO_PHONE = "+4915123456700"  # made up

# What the people of the demo type, and the narration, per language (made-up demo data).
# Buttons are pressed by catalog key, so the same script plays in either language.
SCRIPT: dict[str, dict[str, str]] = {
    "en": {
        "place": "Berlin", "first_day": "today", "last_day": "2026-12-03",
        "lodging": "Demo Hotel, Room 1", "contact": "Sam Demo +49 170 0000000",
        "title": "fieldbot demo: a scripted evening, against the built-in fake Telegram",
        "trip": "Rita files a trip to Berlin (made-up demo data)",
        "reminder": "20:00 in Berlin: the reminder; Rita does not answer",
        "silent": "Mia does not look at Telegram: 5 minutes later, an SMS and a call",
        "pressed": "Mia answers the call and presses 1",
        "passed": "escalation and all-clear worked", "failed": "FAILED",
        "finished": "demo finished: ",
    },
    "zh": {
        "place": "柏林，德国", "first_day": "今天", "last_day": "12月3日",
        "lodging": "演示酒店 1号房", "contact": "王演示 +49 170 0000000",
        "title": "fieldbot 演示：用内置的模拟 Telegram 走一遍出差的一个晚上",
        "trip": "Rita 填写去柏林的行程计划（演示数据，均为虚构）",
        "reminder": "柏林时间 20:00：提醒报平安；Rita 没有回应",
        "silent": "Mia 没有看 Telegram：5分钟后改发短信并打电话",
        "pressed": "Mia 接听电话并按 1",
        "passed": "逐级通知和解除警报都正常", "failed": "失败",
        "finished": "演示结束：",
    },
}


class Transcript:
    def __init__(self, fake: FakeTelegram, clock: FakeClock, twilio: FakeTwilio) -> None:
        self.fake = fake
        self.clock = clock
        self.twilio = twilio
        self.seen = 0
        self.seen_sms = 0
        self.seen_calls = 0
        self.names: dict[int, str] = {}
        self.phones: dict[str, str] = {}

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
        for sms in self.twilio.messages[self.seen_sms:]:
            print(f"            SMS → {self.phones.get(sms.to, '?')}: {sms.body}")
        self.seen_sms = len(self.twilio.messages)
        for call in self.twilio.calls[self.seen_calls:]:
            print(f"            ☎ call → {self.phones.get(call.to, '?')}: {spoken(call.twiml)}")
        self.seen_calls = len(self.twilio.calls)


def spoken(twiml: str) -> str:
    """The first thing a call says, as the person hears it."""
    found = re.search(r"<Say[^>]*>([^<]*)</Say>", twiml)
    return html.unescape(found.group(1)) if found else ""


async def run_demo(db_path: str | None = None, language: str = "en") -> int:
    """Run the scenario in `language`; return 0 when every step behaved as expected."""
    if language not in LANGUAGES:
        raise ValueError(f"no demo in {language!r}; choose one of {', '.join(LANGUAGES)}")
    kept = Path(db_path) if db_path else None
    if kept is not None and kept.exists():
        raise ValueError(f"{kept} exists already: the demo starts from an empty database;"
                         " give a new file name (or none, for a temporary one)")
    with tempfile.TemporaryDirectory(prefix="fieldbot-demo-") as tmp:
        db = kept or Path(tmp) / "demo.db"
        # A database that is kept keeps its key beside it, so it can be opened afterwards
        # (`fieldbot audit`, `report`); a temporary one has a key that never leaves memory,
        # so nobody is told to back up a key that is gone when the demo ends.
        data_dir = kept.with_name(kept.stem + "-data") if kept else Path(tmp) / "data"
        key = None if kept else SecretStr(Fernet.generate_key().decode())
        clock = FakeClock(DEMO_START)
        fake = FakeTelegram(token=DEMO_TOKEN, username="fieldbot_demo_bot", clock=clock.now)
        twilio = FakeTwilio(clock=clock.now)
        settings = Settings(_env_file=None, token=SecretStr(DEMO_TOKEN),  # type: ignore[call-arg]
                            bot_api_url="http://fake.telegram", db=db,
                            data_dir=data_dir, admin_ids=(1,),
                            twilio_account_sid=DEFAULT_ACCOUNT_SID,
                            twilio_auth_token=SecretStr(DEFAULT_AUTH_TOKEN),
                            twilio_from=DEFAULT_NUMBER, twilio_api_url="http://fake.twilio",
                            public_url=DEMO_PUBLIC_URL, advisory_refresh=False)
        if key is not None:  # a kept database takes FIELDBOT_ENCRYPTION_KEY, if set, as
            settings = settings.model_copy(update={"encryption_key": key})  # `audit` will
        channels = build_channels(settings, clock=clock,
                                  twilio_transport=FakeTwilioTransport(twilio))
        app = build_application(
            settings, clock, rate_limit=False, channels=channels,
            request=HTTPXRequest(httpx_kwargs={"transport": FakeTransport(fake)}),
        )

        async def dispatch(data: dict[str, Any]) -> None:
            await app.process_update(Update.de_json(data, app.bot))

        fake.dispatch = dispatch
        await app.initialize()
        if app.post_init:
            await app.post_init(app)
        # Twilio's callbacks (the key pressed) reach the bot's own HTTP routes, in-process.
        twilio.callback_transport = httpx.ASGITransport(app=build_web(web_routes(app)))
        try:
            return await _scenario(app, fake, clock, twilio, language)
        finally:
            await app.shutdown()
            if app.post_shutdown:
                await app.post_shutdown(app)


async def _scenario(
    app: FieldbotApp, fake: FakeTelegram, clock: FakeClock, twilio: FakeTwilio, language: str,
) -> int:
    services = app.bot_data.services
    log = Transcript(fake, clock, twilio)
    t, say = Texts(language), SCRIPT[language]
    await services.risk.find("Berlin")  # build the place index before the clock starts
    # Telegram has no Chinese interface: in the Chinese demo Rita's app says English, and she
    # picks 中文 on her first /start; the others' apps say Chinese.
    telegram_language = "zh-hans" if language == "zh" else "en"
    people = {role: f"{name} ({t(f'role.{role}')})" if language == "en"
              else f"{name}（{t(f'role.{role}')}）"
              for name, role in (("Ada", "admin"), ("Mia", "manager"), ("Olu", "officer"),
                                 ("Rita", "staff"))}
    admin = fake.user(1, people["admin"], telegram_language)
    manager = fake.user(2, people["manager"], telegram_language)
    officer = fake.user(3, people["officer"], telegram_language)
    rep = fake.user(4, people["staff"], "en")
    log.names = {u.id: u.first_name for u in (admin, manager, officer, rep)}

    async def act(user: FakeUser, text: str) -> None:
        log.say(user, text)
        await user.send(text)
        log.flush()

    async def press(user: FakeUser, key: str) -> None:
        """Press the button whose text is the catalog's `key`, in the demo's language."""
        button = t(key)
        log.say(user, f"[{button}]")
        await user.press(button)
        log.flush()

    print(f"=== {say['title']} ===\n")
    await act(admin, "/start")
    for user, role, team in ((manager, "manager", "north"), (officer, "officer", ""),
                             (rep, "staff", "north")):
        await act(admin, f"/invite {role} {team}".strip())
        code = re.search(r"start=([\w-]+)", admin.last.body or "")
        assert code is not None
        await act(user, f"/start {code.group(1)}")
    if language != "en":
        await press(rep, "language.name")
    # Mia shares her phone number with one tap (Telegram vouches for it): /contacts.
    await act(manager, "/contacts")
    await press(manager, "contacts.button.share")
    log.say(manager, "[☎ " + DEMO_PHONE + "]")
    await manager.share_contact(DEMO_PHONE.lstrip("+"), "Mia", contact_user_id=manager.id)
    log.flush()
    log.phones[DEMO_PHONE] = manager.first_name

    print(f"\n--- {say['trip']} ---")
    await act(rep, f"/risk {say['place']}")
    for line in ("/trip", say["place"], say["first_day"], say["last_day"]):
        await act(rep, line)
    await press(rep, "trip.button.more_no")
    await act(rep, say["lodging"])
    await act(rep, say["contact"])
    await press(rep, "trip.button.no")
    await press(rep, "trip.button.confirm")

    print(f"\n--- {say['reminder']} ---")
    clock.set(datetime(2026, 12, 1, 19, 0, tzinfo=UTC))
    await services.sweeper.tick()
    log.flush()
    for minutes in (60, 75, 90):
        clock.set(datetime(2026, 12, 1, 19, 0, tzinfo=UTC) + timedelta(minutes=minutes))
        print(f"\n--- {clock.now():%H:%M} UTC ---")
        await services.sweeper.tick()
        log.flush()
    print(f"\n--- {clock.now() + timedelta(minutes=5):%H:%M} UTC: {say['silent']} ---")
    clock.advance(timedelta(minutes=5))
    await services.sweeper.tick()
    log.flush()
    print(f"\n--- {say['pressed']} ---")
    [call] = twilio.calls_to(DEMO_PHONE)[-1:]
    answer = await twilio.press(call.sid, "1")
    print(f"            ☎ {manager.first_name}: {spoken(answer.text)}")
    await services.sweeper.tick()
    log.flush()
    print()
    await act(rep, "/checkin")
    all_clear = plain(t("alert.all_clear", alert="A-1", subject_name=rep.first_name), 4096)
    ok = any(plain(s.text or "", 4096) == all_clear for s in fake.sent_to(manager.id))
    print(f"\n=== {say['finished']}{say['passed'] if ok else say['failed']} ===")
    return 0 if ok else 1
