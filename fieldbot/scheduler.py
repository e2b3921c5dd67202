"""Wakes the sweep. The database holds the schedule; this only decides when to look at it.

A repeating job catches anything (a missed tick, a clock jump, another process's rows); a
one-shot job at the next due instant keeps lateness well under a second. Both run the same
idempotent tick, so waking twice is harmless and waking late loses nothing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any, Protocol

log = logging.getLogger(__name__)

MISFIRE_GRACE = 3600  # seconds: a tick that fires late still runs; the sweep marks lateness
ONESHOT_NAME = "sweep-next"
REPEAT_NAME = "sweep-repeat"


class JobQueueLike(Protocol):
    """The subset of PTB's JobQueue the scheduler uses (APScheduler underneath)."""

    # Callbacks are typed Any: PTB's JobQueue is generic in its context type, which the core
    # does not know (and must not import).
    def run_repeating(self, callback: Any, interval: float, *, first: float | None = ...,
                      name: str | None = ..., job_kwargs: dict[str, Any] | None = ...) -> Any: ...

    def run_once(self, callback: Any, when: datetime | float, *, name: str | None = ...,
                 job_kwargs: dict[str, Any] | None = ...) -> Any: ...

    def get_jobs_by_name(self, name: str) -> tuple[object, ...]: ...


class Scheduler:
    def __init__(
        self,
        jobs: JobQueueLike,
        tick: Callable[[], Awaitable[datetime | None]],
        interval: timedelta,
    ) -> None:
        self._jobs = jobs
        self._tick = tick
        self._interval = interval

    def start(self) -> None:
        """Sweep at once (catch up after downtime), then every interval."""
        self._jobs.run_repeating(
            self._wake, interval=self._interval.total_seconds(), name=REPEAT_NAME,
            first=self._interval.total_seconds(),
            job_kwargs={"misfire_grace_time": MISFIRE_GRACE, "coalesce": True,
                        "max_instances": 1},
        )
        # An interval job's first run comes one interval after its start, even with first=0
        # (APScheduler's IntervalTrigger): the start-up catch-up is a one-shot of its own.
        self._jobs.run_once(self._wake, when=0.0, name=ONESHOT_NAME,
                            job_kwargs={"misfire_grace_time": MISFIRE_GRACE})

    async def _wake(self, _context: object = None) -> None:
        next_due = await self._tick()
        if next_due is not None:
            self.wake_at(next_due)

    def wake_at(self, when: datetime) -> None:
        """Schedule the one-shot wake-up at `when`, replacing an earlier one."""
        for job in self._jobs.get_jobs_by_name(ONESHOT_NAME):
            job.schedule_removal()  # type: ignore[attr-defined]
        self._jobs.run_once(
            self._wake, when=when, name=ONESHOT_NAME,
            job_kwargs={"misfire_grace_time": MISFIRE_GRACE, "coalesce": True},
        )


class Sweeps:
    """The ladder without the job queue (the bot could not reach Telegram at its start): the
    same tick, again at the next instant it names or after `interval` at the latest (what
    another process or a clock jump changed), and at once when woken (an SMS undelivered, a
    call unanswered: the ladder moves on now)."""

    SOONEST = timedelta(seconds=1)  # an instant already past is looked at again after this

    def __init__(self, tick: Callable[[], Awaitable[datetime | None]], interval: timedelta,
                 now: Callable[[], datetime]) -> None:
        self._tick = tick
        self._interval = interval
        self._now = now
        self._woken = asyncio.Event()

    def wake(self) -> None:
        self._woken.set()

    async def run_until(self, done: asyncio.Event) -> None:
        """Tick until `done`. A tick that fails is logged and tried again at the next."""
        while not done.is_set():
            self._woken.clear()
            wait = self._interval
            try:
                next_due = await self._tick()
            except Exception:
                log.exception("sweep failed; tried again in %s s", wait.total_seconds())
            else:
                if next_due is not None:
                    wait = min(wait, max(next_due - self._now(), self.SOONEST))
            await _first_of(done, self._woken, wait)


async def _first_of(a: asyncio.Event, b: asyncio.Event, longest: timedelta) -> None:
    waiting = [asyncio.ensure_future(a.wait()), asyncio.ensure_future(b.wait())]
    try:
        await asyncio.wait(waiting, timeout=longest.total_seconds(),
                           return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in waiting:
            task.cancel()
