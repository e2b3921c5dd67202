"""A bot that starts while Telegram cannot be reached (restarted during an outage, or before
the network is up) runs the ladder all the same: what would have gone by Telegram goes by SMS,
calls and e-mail. Once Telegram answers, the bot polls as usual.

Driven through `run_polling`, the way `fieldbot run` starts: the sweeps run in real time here,
every 50 ms, while the test moves the fake clock.
"""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from pathlib import Path

import pytest
from telegram.error import InvalidToken

from conversations.runtime.runner import run_polling
from faketelegram.errors import Custom, ServerError
from tests.builders import BERLIN, DEADLINE, plan_trip, said
from tests.channel_world import channel_world, share_phone

QUICK = timedelta(milliseconds=50)


async def test_a_bot_started_while_telegram_is_down_escalates_by_sms_then_polls(
    tmp_path: Path,
) -> None:
    async with channel_world(tmp_path, sweep_interval=QUICK) as world:
        phone = await share_phone(world, world.manager)
        await plan_trip(world, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
        await world.stop()
        world.fake.fail_always("*", ServerError(502))  # every Bot API call, getMe first
        world.fake.dispatch = None  # updates reach the bot through getUpdates from now on
        asked = len(world.fake.calls_to("getMe"))
        stop = asyncio.Event()
        running = asyncio.ensure_future(run_polling(
            world.build(), stop, signals=False, poll_timeout=1, telegram_retry=0.05))
        try:
            # The start found Telegram failing, and asks it again who the bot is.
            await world.fake.wait_for(lambda: len(world.fake.calls_to("getMe")) > asked + 2, 60)
            world.clock.set(DEADLINE + timedelta(minutes=30))  # Rita missed her check-in
            await world.fake.wait_for(lambda: bool(world.twilio.sms_to(phone)), timeout=60)
            [sms] = world.twilio.sms_to(phone)
            assert sms.body.startswith(said("channel.sms.missed", alert="A-1", name="Rita"))
            assert not world.fake.calls_to("getUpdates")  # not polling: Telegram is down

            world.fake.clear_failures()  # Telegram is back
            await world.fake.wait_for(lambda: bool(world.fake.calls_to("getUpdates")), 60)
            await world.rep.send("/checkin")
            await world.fake.wait_for(
                lambda: "checked in" in (world.rep.last.body or ""), timeout=60)
        finally:
            stop.set()
            assert await asyncio.wait_for(running, 60) == 0


async def test_a_wrong_token_still_stops_the_start(tmp_path: Path) -> None:
    async with channel_world(tmp_path, sweep_interval=QUICK) as world:
        await world.stop()
        world.fake.fail_always("getMe", Custom(401, "Unauthorized"))
        with pytest.raises(InvalidToken):
            await run_polling(world.build(), asyncio.Event(), signals=False,
                              telegram_retry=0.05)
