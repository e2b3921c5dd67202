"""The ladder's sweeps without the job queue (`fieldbot.scheduler.Sweeps`: the bot started while
Telegram could not be reached). Real waits on the event loop, each bounded: an hour's interval
here, so whatever looks again sooner did so because it was woken or because something was due.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from fieldbot.scheduler import Sweeps

NOW = datetime(2026, 12, 1, 20, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


class Ticks:
    """A tick that counts itself, names the next instant it was given, and may fail once."""

    def __init__(self, next_due: datetime | None = None, fail_first: bool = False) -> None:
        self.count = 0
        self.next_due = next_due
        self.fail_first = fail_first
        self.changed = asyncio.Condition()

    async def __call__(self) -> datetime | None:
        self.count += 1
        async with self.changed:
            self.changed.notify_all()
        if self.fail_first and self.count == 1:
            raise RuntimeError("the database was locked")
        return self.next_due

    async def reach(self, count: int) -> None:
        async with self.changed:
            await asyncio.wait_for(self.changed.wait_for(lambda: self.count >= count), 10)


class Quick(Sweeps):
    SOONEST = timedelta(milliseconds=10)  # what a past instant waits, a second in the bot


async def _running(sweeps: Sweeps, ticks: Ticks) -> tuple[asyncio.Event, asyncio.Task[None]]:
    done = asyncio.Event()
    task = asyncio.create_task(sweeps.run_until(done))
    await ticks.reach(1)  # the first sweep at once
    return done, task


async def test_woken_it_sweeps_at_once_not_after_the_interval() -> None:
    ticks = Ticks()
    sweeps = Sweeps(ticks, HOUR, lambda: NOW)
    done, task = await _running(sweeps, ticks)
    sweeps.wake()  # an SMS undelivered moved the ladder
    await ticks.reach(2)
    sweeps.wake()
    await ticks.reach(3)
    done.set()
    sweeps.wake()
    await asyncio.wait_for(task, 10)


async def test_it_sweeps_again_when_the_tick_names_an_instant() -> None:
    ticks = Ticks(next_due=NOW - timedelta(seconds=5))  # already due: after SOONEST
    sweeps = Quick(ticks, HOUR, lambda: NOW)
    done, task = await _running(sweeps, ticks)
    await ticks.reach(3)
    done.set()
    await asyncio.wait_for(task, 10)


async def test_a_failing_sweep_is_logged_and_the_next_one_runs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    ticks = Ticks(fail_first=True)
    sweeps = Sweeps(ticks, HOUR, lambda: NOW)
    done, task = await _running(sweeps, ticks)
    sweeps.wake()
    await ticks.reach(2)
    assert "sweep failed" in caplog.text
    done.set()
    sweeps.wake()
    await asyncio.wait_for(task, 10)
    assert not task.exception()


async def test_done_ends_the_wait_at_once() -> None:
    ticks = Ticks()
    sweeps = Sweeps(ticks, HOUR, lambda: NOW)
    done, task = await _running(sweeps, ticks)
    done.set()  # not woken: the hour's wait ends because the bot reached Telegram
    await asyncio.wait_for(task, 10)
    assert ticks.count == 1
