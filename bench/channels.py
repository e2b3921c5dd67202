"""Channels benchmark (issue 12): an SOS while Telegram is down → the first SMS accepted by
the provider.

    python bench/channels.py [--sos 200]

The real bot (PTB Application, the /sos handler, the outbox, the channel router, the Twilio
adapter over real HTTP) against the in-process fake Telegram answering every sendMessage with
502, and the fake Twilio on a loopback port. Telegram has been failing for 30 minutes when the
run starts (the bot's own watch is told so: it counts as down). Each rep sends /sos in turn;
the time is from the update reaching the application to the fake Twilio accepting the first
SMS of that alert (to the manager or the safety officer). Wall clock; figures go to
bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from telegram import Update  # noqa: E402

from bench.common import MANAGER, OFFICER, bot, enrol, record, summary  # noqa: E402
from faketelegram.errors import ServerError  # noqa: E402
from faketwilio import (  # noqa: E402
    DEFAULT_ACCOUNT_SID,
    DEFAULT_AUTH_TOKEN,
    DEFAULT_NUMBER,
    FakeTwilio,
)
from faketwilio.server import serve  # noqa: E402
from fieldbot.storage import contacts  # noqa: E402

COMMAND = "python bench/channels.py --sos {sos}"
PHONES = {MANAGER: "+4915123456710", OFFICER: "+4915123456711"}  # made up


async def sos_while_telegram_is_down(count: int) -> list[str]:
    twilio = FakeTwilio()
    async with serve(twilio) as twilio_url:
        with tempfile.TemporaryDirectory() as tmp:
            app, fake = bot(Path(tmp), twilio_account_sid=DEFAULT_ACCOUNT_SID,
                            twilio_auth_token=DEFAULT_AUTH_TOKEN, twilio_from=DEFAULT_NUMBER,
                            twilio_api_url=twilio_url, public_url="https://bench.invalid")
            services = app.bot_data.services
            await app.initialize()
            await services.start()
            reps = await enrol(app, fake, count)
            now = services.clock.now()
            async with services.db.transaction() as conn:
                for person, phone in PHONES.items():
                    await contacts.set_phone(conn, person, phone, via="telegram",
                                             cipher=services.cipher, now=now)

            async def dispatch(data: dict[str, object]) -> None:
                await app.process_update(Update.de_json(data, app.bot))

            fake.dispatch = dispatch
            fake.fail_always("sendMessage", ServerError())
            services.reach.failing_since = now - timedelta(minutes=30)
            await services.reach.check_telegram()
            assert services.reach.fanout.telegram_down
            waits: list[float] = []
            for rep_id in reps:
                before = len(twilio.messages)
                started = datetime.now(UTC)
                await fake.user(rep_id, f"Rep {rep_id}").send("/sos")
                if len(twilio.messages) == before:  # not sent by the handler: the next tick
                    await services.sweeper.tick()
                assert len(twilio.messages) > before, "no SMS for this SOS"
                # The fake stamps each message when it accepts it (its clock is the wall's).
                waits.append((twilio.messages[before].created - started).total_seconds())
            sms = len(twilio.messages)
            calls = len(twilio.calls)
            await app.shutdown()
            await services.stop()
    return [f"{count} SOS one after another, Telegram answering 502 for 30 min (down): "
            f"update → first SMS accepted by the provider (loopback HTTP): {summary(waits)}; "
            f"{sms} SMS and {calls} calls placed in all"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sos", type=int, default=200)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    started = datetime.now(UTC)
    rows = asyncio.run(sos_while_telegram_is_down(args.sos))
    for row in rows:
        print(row)
    record("Channels: SOS to the first SMS while Telegram is down",
           [("SOS → first SMS", row, COMMAND.format(sos=args.sos)) for row in rows])
    print(f"took {(datetime.now(UTC) - started).total_seconds():.0f} s")


if __name__ == "__main__":
    main()
