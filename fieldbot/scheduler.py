"""Wakes the sweep. The database holds the schedule; this only decides when to look at it.

A repeating job catches anything (a missed tick, a clock jump, another process's rows); a
one-shot job at the next due instant keeps lateness well under a second. Both run the same
idempotent tick, so waking twice is harmless and waking late loses nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
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


async def sweep_until(tick: Callable[[], Awaitable[datetime | None]], interval: timedelta,
                      done: asyncio.Event) -> None:
    """Tick every `interval` until `done`: the ladder without the job queue (the bot could not
    reach Telegram at its start). A tick that fails is logged and tried again at the next."""
    while not done.is_set():
        try:
            await tick()
        except Exception:
            log.exception("sweep failed; tried again in %s s", interval.total_seconds())
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(done.wait(), interval.total_seconds())
