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
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest
from telegram.error import BadRequest, Forbidden, InvalidToken

from conversations.runtime.bootstrap import FieldbotApp
from conversations.runtime.runner import EXIT_CONFLICT, run_polling, run_webhook
from conversations.web import web_routes
from faketelegram.errors import Custom, ServerError
from fieldbot.web.server import build_web
from tests.builders import BERLIN, DEADLINE, plan_trip, said
from tests.channel_world import channel_world, share_phone
from tests.harness import World

QUICK = timedelta(milliseconds=50)


@asynccontextmanager
async def restarted(world: World, *failing: str, webhook_port: int | None = None
                    ) -> AsyncIterator[FieldbotApp]:
    """The bot stopped, then started as `fieldbot run` starts it (polling, or a webhook on
    `webhook_port`), Telegram failing the methods named ("*": every one) with a 502 until the
    test clears them; stopped at the end, and it must stop cleanly."""
    await world.stop()
    for method in failing:
        world.fake.fail_always(method, ServerError(502))
    world.fake.dispatch = None  # updates reach the bot through getUpdates or the webhook
    stop = asyncio.Event()
    app = world.build()
    if webhook_port is None:
        run = run_polling(app, stop, signals=False, poll_timeout=1, telegram_retry=0.05)
    else:
        world.fake.deliver_webhooks = True
        run = run_webhook(app, f"http://127.0.0.1:{webhook_port}/telegram",
                          "s3cret-fixture", "127.0.0.1", webhook_port, stop=stop,
                          signals=False, telegram_retry=0.05)
    running = asyncio.ensure_future(run)
    try:
        yield app
    finally:
        stop.set()
        assert await asyncio.wait_for(running, 60) == 0


def _ok(world: World, method: str) -> int:
    return sum(1 for call in world.fake.calls_to(method) if call.status == 200)


async def _answered(world: World, text: str) -> str:
    before = len(world.rep.messages)
    await world.rep.send(text)
    await world.fake.wait_for(lambda: len(world.rep.messages) > before, timeout=60)
    return world.rep.last.body


async def _missed_goes_by_sms(world: World, phone: str) -> list[str]:
    """Rita misses tonight's check-in: with Telegram failing, the ladder reaches Mia by SMS.
    Return the texts sent to her phone."""
    world.clock.set(DEADLINE + timedelta(minutes=30))
    await world.fake.wait_for(lambda: bool(world.twilio.sms_to(phone)), timeout=60)
    return [sms.body for sms in world.twilio.sms_to(phone)]


async def test_a_bot_started_while_telegram_is_down_escalates_by_sms_then_polls(
    tmp_path: Path, caplog: pytest.LogCaptureFixture,
) -> None:
    async with channel_world(tmp_path, sweep_interval=QUICK) as world:
        phone = await share_phone(world, world.manager)
        await plan_trip(world, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
        asked = len(world.fake.calls_to("getMe"))
        async with restarted(world, "*"):  # every Bot API call, getMe first
            # The start found Telegram failing, and asks it again who the bot is.
            await world.fake.wait_for(lambda: len(world.fake.calls_to("getMe")) > asked + 2, 60)
            [sms] = await _missed_goes_by_sms(world, phone)
            assert sms.startswith(said("channel.sms.missed", alert="A-1", name="Rita"))
            assert not world.fake.calls_to("getUpdates")  # not polling: Telegram is down

            # The log tells an operator what is going on: not "failed a call of the start",
            # which would say that Telegram had answered the first.
            assert "Telegram still cannot be reached" in caplog.text
            assert "failed a call of the start" not in caplog.text
            world.fake.clear_failures()  # Telegram is back
            await world.fake.wait_for(lambda: bool(world.fake.calls_to("getUpdates")), 60)
            assert "checked in" in await _answered(world, "/checkin")


async def test_a_wrong_token_still_stops_the_start(tmp_path: Path) -> None:
    async with channel_world(tmp_path, sweep_interval=QUICK) as world:
        await world.stop()
        world.fake.fail_always("getMe", Custom(401, "Unauthorized"))
        with pytest.raises(InvalidToken):
            await run_polling(world.build(), asyncio.Event(), signals=False,
                              telegram_retry=0.05)


async def test_a_start_that_telegram_fails_after_getme_escalates_by_sms_then_polls(
    tmp_path: Path,
) -> None:
    async with channel_world(tmp_path, sweep_interval=QUICK) as world:
        phone = await share_phone(world, world.manager)
        await plan_trip(world, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
        menus = _ok(world, "setMyCommands")  # each person's own, set when they enrolled
        # Telegram names the bot, then fails everything else the start and the ladder ask.
        async with restarted(world, "deleteWebhook", "getUpdates", "setMyCommands",
                             "sendMessage"):
            await world.fake.wait_for(lambda: len(world.fake.calls_to("deleteWebhook")) > 2, 60)
            assert await _missed_goes_by_sms(world, phone)
            assert not world.fake.calls_to("getUpdates")  # not polling: the webhook stands

            world.fake.clear_failures()  # Telegram is back
            await world.fake.wait_for(lambda: bool(world.fake.calls_to("getUpdates")), 60)
            assert "checked in" in await _answered(world, "/checkin")
            await world.fake.wait_for(lambda: _ok(world, "setMyCommands") == menus + 2, 60)


async def test_the_bot_answers_while_telegram_fails_its_command_menus(tmp_path: Path) -> None:
    async with channel_world(tmp_path, sweep_interval=QUICK) as world:
        await plan_trip(world, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
        menus = _ok(world, "setMyCommands")
        async with restarted(world, "setMyCommands") as app:
            await world.fake.wait_for(lambda: bool(world.fake.calls_to("getUpdates")), 60)
            # In the morning: nothing is due yet, and the bot says so.
            assert (await _answered(world, "/checkin")).startswith("✅")
            assert _ok(world, "setMyCommands") == menus
            # The bot works: failing menus are not Telegram going down (no SMS, no e-mail).
            assert app.bot_data.services.reach.failing_since is None
            world.fake.clear_failures()  # the menus in English and in Chinese
            await world.fake.wait_for(lambda: _ok(world, "setMyCommands") == menus + 2, 60)


async def test_a_webhook_that_telegram_fails_to_set_is_set_when_it_answers(
    tmp_path: Path, unused_tcp_port: int,
) -> None:
    async with (channel_world(tmp_path, sweep_interval=QUICK) as world,
                restarted(world, "setWebhook", webhook_port=unused_tcp_port)):
        await world.fake.wait_for(lambda: len(world.fake.calls_to("setWebhook")) > 2, 60)
        assert world.fake.webhook is None
        world.fake.clear_failures()
        await world.fake.wait_for(lambda: world.fake.webhook is not None, timeout=60)
        assert (await _answered(world, "/start")).startswith("Hello Rita")


async def test_without_telegram_the_ladder_looks_again_when_something_is_due(
    tmp_path: Path,
) -> None:
    """Not only every sweep_interval (an hour here): the next instant a tick names."""
    async with channel_world(tmp_path, sweep_interval=timedelta(hours=1)) as world:
        phone = await share_phone(world, world.manager)
        await plan_trip(world, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
        next_due = await world.services.sweeper.tick()
        assert next_due is not None
        world.clock.set(next_due - timedelta(milliseconds=500))
        asked = len(world.fake.calls_to("getMe"))
        async with restarted(world, "*"):
            await world.fake.wait_for(lambda: len(world.fake.calls_to("getMe")) > asked + 2, 60)
            assert await _missed_goes_by_sms(world, phone)


async def test_without_telegram_an_sms_undelivered_and_a_call_unanswered_move_the_ladder_on(
    tmp_path: Path,
) -> None:
    """Telegram is down, so Mia's Telegram message waits, retried; Twilio reports her SMS not
    delivered and her call not answered: she was not reached, and the officers are texted now,
    not when her step's time is up (the message Telegram cannot take decides nothing)."""
    async with channel_world(tmp_path, sweep_interval=timedelta(hours=1)) as world:
        mia = await share_phone(world, world.manager)
        olu = await share_phone(world, world.officer)
        await plan_trip(world, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
        next_due = await world.services.sweeper.tick()
        assert next_due is not None  # the reminder: looked at within a second of the start
        world.clock.set(next_due - timedelta(milliseconds=500))
        asked = len(world.fake.calls_to("getMe"))
        async with restarted(world, "*") as app:
            world.twilio.callback_transport = httpx.ASGITransport(  # type: ignore[attr-defined]
                app=build_web(web_routes(app)))
            await world.fake.wait_for(lambda: len(world.fake.calls_to("getMe")) > asked + 2, 60)
            assert await _missed_goes_by_sms(world, mia)
            await world.fake.wait_for(lambda: bool(world.twilio.calls_to(mia)), timeout=60)
            assert not world.twilio.sms_to(olu)  # Mia may still answer
            [call] = world.twilio.calls_to(mia)
            await world.twilio.call_status(call.sid, "no-answer")
            await world.twilio.message_status(world.twilio.sms_to(mia)[0].sid, "undelivered")
            await world.fake.wait_for(lambda: bool(world.twilio.sms_to(olu)), timeout=60)
            assert "A-1" in world.twilio.sms_to(olu)[0].body


async def test_a_webhook_url_telegram_refuses_stops_the_start(
    tmp_path: Path, unused_tcp_port: int,
) -> None:
    """A 400 is the operator's to fix (an http:// URL, say), not an outage to wait out."""
    async with channel_world(tmp_path, sweep_interval=QUICK) as world:
        await world.stop()
        world.fake.fail_always("setWebhook", Custom(
            400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook"))
        url = f"http://127.0.0.1:{unused_tcp_port}/telegram"
        with pytest.raises(BadRequest, match="(?i)https url must be provided"):
            await asyncio.wait_for(run_webhook(
                world.build(), url, "s3cret-fixture", "127.0.0.1", unused_tcp_port,
                stop=asyncio.Event(), signals=False, telegram_retry=0.05), 60)


async def test_command_menus_telegram_refuses_leave_the_bot_running(
    tmp_path: Path, caplog: pytest.LogCaptureFixture,
) -> None:
    async with channel_world(tmp_path, sweep_interval=QUICK) as world:
        world.fake.fail_always("setMyCommands", Custom(
            400, "Bad Request: command description is too long"))
        refused = len(world.fake.calls_to("setMyCommands"))
        async with restarted(world):
            await world.fake.wait_for(lambda: bool(world.fake.calls_to("getUpdates")), 60)
            assert (await _answered(world, "/checkin")).startswith("✅")
            assert len(world.fake.calls_to("setMyCommands")) == refused + 1  # not asked again
        assert "Telegram refused the command menus" in caplog.text


async def test_a_start_that_fails_once_polling_began_stops_with_its_own_error(
    tmp_path: Path,
) -> None:
    """Whatever fails after polling began, the updater is stopped before the application
    shuts down (else PTB's "This Updater is still running!" hides the cause) and the
    database is closed (an open connection fails the test at its teardown)."""
    async with channel_world(tmp_path, sweep_interval=QUICK) as world:
        await world.stop()
        world.fake.fail_always("setMyCommands", Custom(403, "Forbidden: bot was blocked"))
        with pytest.raises(Forbidden):
            await asyncio.wait_for(run_polling(world.build(), asyncio.Event(), signals=False,
                                               poll_timeout=1, telegram_retry=0.05), 60)
        assert world.fake.calls_to("getUpdates")  # it had begun polling


async def test_a_refusal_in_a_handler_is_not_telegram_failing(tmp_path: Path) -> None:
    """A 400 ("query is too old", "message is not modified") is Telegram answering: it
    must not start the clock towards telegram_down_after (SMS, calls, the admins' e-mail)."""
    async with channel_world(tmp_path, sweep_interval=QUICK) as world:
        await plan_trip(world, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
        world.fake.fail_always("sendMessage", Custom(400, "Bad Request: chat not found"))
        await world.rep.send("/checkin")
        assert world.services.reach.failing_since is None


async def test_a_second_instance_exits_and_the_first_goes_on_polling(tmp_path: Path) -> None:
    """Telegram cuts the older poll short for a newer one, and the second's last short poll as
    it stops cuts it again: the bot whose polls Telegram has answered must take neither for a
    sign that it is the second, or both would stop (found by following the README as a new
    operator, and again by trying it live a few seconds after the first start)."""
    async with (channel_world(tmp_path, sweep_interval=QUICK) as world,
                restarted(world) as first):
        # Telegram has answered its long poll once (a second long, here): it is the first.
        await world.fake.wait_for(lambda: _ok(world, "getUpdates") > 0, 60)
        second = world.build()
        code = await asyncio.wait_for(
            run_polling(second, asyncio.Event(), signals=False, poll_timeout=1,
                        telegram_retry=0.05), 60)
        assert code == EXIT_CONFLICT
        assert first.running
        assert (await _answered(world, "/start")).startswith("Hello Rita")  # it polls
