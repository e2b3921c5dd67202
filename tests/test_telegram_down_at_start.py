"""A bot that starts while Telegram cannot be reached (restarted during an outage, or before
the network is up) runs the ladder all the same: what would have gone by Telegram goes by SMS,
calls and e-mail. Once Telegram answers, the bot polls as usual. The same when Telegram names
the bot (getMe) and then fails the start's next calls (deleting or setting the webhook, the
command menus).

Driven through `run_polling`, the way `fieldbot run` starts: the sweeps run in real time here,
every 50 ms, while the test moves the fake clock.
"""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from pathlib import Path

import pytest
from telegram.error import InvalidToken

from conversations.runtime.runner import run_polling, run_webhook
from faketelegram.errors import Custom, ServerError
from tests.builders import BERLIN, DEADLINE, plan_trip, said
from tests.channel_world import channel_world, share_phone
from tests.harness import World

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


def _ok(world: World, method: str) -> int:
    return sum(1 for call in world.fake.calls_to(method) if call.status == 200)


async def test_a_start_that_telegram_fails_after_getme_escalates_by_sms_then_polls(
    tmp_path: Path,
) -> None:
    async with channel_world(tmp_path, sweep_interval=QUICK) as world:
        phone = await share_phone(world, world.manager)
        await plan_trip(world, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
        await world.stop()
        # Telegram names the bot, then fails everything else the start and the ladder ask.
        for method in ("deleteWebhook", "getUpdates", "setMyCommands", "sendMessage"):
            world.fake.fail_always(method, ServerError(502))
        world.fake.dispatch = None
        menus = _ok(world, "setMyCommands")  # each person's own, set when they enrolled
        stop = asyncio.Event()
        running = asyncio.ensure_future(run_polling(
            world.build(), stop, signals=False, poll_timeout=1, telegram_retry=0.05))
        try:
            await world.fake.wait_for(lambda: len(world.fake.calls_to("deleteWebhook")) > 2, 60)
            world.clock.set(DEADLINE + timedelta(minutes=30))  # Rita missed her check-in
            await world.fake.wait_for(lambda: bool(world.twilio.sms_to(phone)), timeout=60)
            assert not world.fake.calls_to("getUpdates")  # not polling: the webhook stands

            world.fake.clear_failures()  # Telegram is back
            await world.fake.wait_for(lambda: bool(world.fake.calls_to("getUpdates")), 60)
            await world.rep.send("/checkin")
            await world.fake.wait_for(
                lambda: "checked in" in (world.rep.last.body or ""), timeout=60)
            await world.fake.wait_for(lambda: _ok(world, "setMyCommands") == menus + 2, 60)
        finally:
            stop.set()
            assert await asyncio.wait_for(running, 60) == 0


async def test_the_bot_answers_while_telegram_fails_its_command_menus(tmp_path: Path) -> None:
    async with channel_world(tmp_path, sweep_interval=QUICK) as world:
        await plan_trip(world, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
        await world.stop()
        world.fake.fail_always("setMyCommands", ServerError(500))
        world.fake.dispatch = None
        menus = _ok(world, "setMyCommands")  # each person's own, set when they enrolled
        stop = asyncio.Event()
        running = asyncio.ensure_future(run_polling(
            world.build(), stop, signals=False, poll_timeout=1, telegram_retry=0.05))
        try:
            await world.fake.wait_for(lambda: bool(world.fake.calls_to("getUpdates")), 60)
            before = len(world.rep.messages)
            await world.rep.send("/checkin")  # in the morning: nothing due yet, and it says so
            await world.fake.wait_for(lambda: len(world.rep.messages) > before, timeout=60)
            assert world.rep.last.body.startswith("✅")
            assert _ok(world, "setMyCommands") == menus
            world.fake.clear_failures()  # the menus in English and in Chinese
            await world.fake.wait_for(lambda: _ok(world, "setMyCommands") == menus + 2, 60)
        finally:
            stop.set()
            assert await asyncio.wait_for(running, 60) == 0


async def test_a_webhook_that_telegram_fails_to_set_is_set_when_it_answers(
    tmp_path: Path, unused_tcp_port: int,
) -> None:
    async with channel_world(tmp_path, sweep_interval=QUICK) as world:
        await world.stop()
        world.fake.fail_always("setWebhook", ServerError(502))
        world.fake.dispatch = None
        world.fake.deliver_webhooks = True
        stop = asyncio.Event()
        url = f"http://127.0.0.1:{unused_tcp_port}/telegram"
        running = asyncio.ensure_future(run_webhook(
            world.build(), url, "s3cret-fixture", "127.0.0.1", unused_tcp_port, stop=stop,
            signals=False, telegram_retry=0.05))
        try:
            await world.fake.wait_for(lambda: len(world.fake.calls_to("setWebhook")) > 2, 60)
            assert world.fake.webhook is None
            world.fake.clear_failures()
            await world.fake.wait_for(lambda: world.fake.webhook is not None, timeout=60)
            await world.rep.send("/start")
            await world.fake.wait_for(lambda: bool(world.rep.messages), timeout=60)
        finally:
            stop.set()
            assert await asyncio.wait_for(running, 60) == 0


async def test_without_telegram_the_ladder_looks_again_when_something_is_due(
    tmp_path: Path,
) -> None:
    """Not only every sweep_interval (an hour here): the next instant a tick names."""
    async with channel_world(tmp_path, sweep_interval=timedelta(hours=1)) as world:
        phone = await share_phone(world, world.manager)
        await plan_trip(world, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
        next_due = await world.services.sweeper.tick()
        assert next_due is not None
        await world.stop()
        world.clock.set(next_due - timedelta(milliseconds=500))
        world.fake.fail_always("*", ServerError(502))
        world.fake.dispatch = None
        stop = asyncio.Event()
        running = asyncio.ensure_future(run_polling(
            world.build(), stop, signals=False, poll_timeout=1, telegram_retry=0.05))
        try:
            await world.fake.wait_for(lambda: len(world.fake.calls_to("getMe")) > 2, 60)
            world.clock.set(DEADLINE + timedelta(minutes=30))
            await world.fake.wait_for(lambda: bool(world.twilio.sms_to(phone)), timeout=30)
        finally:
            stop.set()
            assert await asyncio.wait_for(running, 60) == 0
