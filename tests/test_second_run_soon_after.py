"""A second `fieldbot run` on the same database started a second after the first (a supervisor
and a manual start, two containers on one volume) exits, and the first goes on polling. Before,
with the production long poll (10 s) the first had not had a poll answered yet, took Telegram's
409 for a sign that it was the second, and both exited with code 3: no bot ran (found by an
operator's walkthrough)."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

from conversations.runtime.runner import EXIT_CONFLICT, run_polling
from tests.channel_world import channel_world

QUICK = timedelta(milliseconds=50)


async def test_a_second_start_soon_after_the_first_does_not_stop_the_first(
        tmp_path: Path) -> None:
    async with channel_world(tmp_path, sweep_interval=QUICK) as world:
        await world.stop()
        world.fake.dispatch = None  # updates reach the bot through getUpdates
        stop = asyncio.Event()
        first = world.build()
        # As `fieldbot run` polls: the default long poll (10 s).
        running = asyncio.ensure_future(
            run_polling(first, stop, signals=False, telegram_retry=0.05))
        try:
            # The first is polling: its long poll is open, not answered yet.
            await world.fake.wait_for(lambda: bool(world.fake.calls_to("getUpdates")), 60)
            calls = len(world.fake.calls)
            second = world.build()
            code = await asyncio.wait_for(
                run_polling(second, asyncio.Event(), signals=False, poll_timeout=1,
                            telegram_retry=0.05), 60)
            assert code == EXIT_CONFLICT
            # It asked Telegram nothing: no poll of its own to cut the first's short.
            assert len(world.fake.calls) == calls
            mark = world.rep.mark()
            await world.rep.send("/start")  # the first still answers
            await world.fake.wait_for(lambda: bool(world.rep.since(mark)), 60)
            assert not running.done()
        finally:
            stop.set()
            await asyncio.wait_for(running, 60)
