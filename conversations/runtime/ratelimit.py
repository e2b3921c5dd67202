"""Telegram's ~30 messages/s, shared out by urgency: an SOS never queues behind replies.

PTB's AIORateLimiter serves requests in arrival order, so during the evening rush a manager's
SOS message would wait behind thousands of "thanks, checked in" replies. This limiter is a
token bucket whose waiters are served highest priority first. The priority is the request's
`rate_limit_args` (an int, higher first): the outbox passes its row's priority; a handler's
reply gets REPLY_PRIORITY, between bulk reminders and alerts; a follow-up that only repeats
what a toast already said (the receipt's edit) gets FOLLOWUP_PRIORITY, after everything.

Only sending and editing count against the budget: answerCallbackQuery (a toast), getUpdates
and the rest never wait here, however long the queue of messages.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from telegram.ext import BaseRateLimiter

log = logging.getLogger(__name__)

REPLY_PRIORITY = 20
FOLLOWUP_PRIORITY = 5  # below the outbox's reminders (10)
_LIMITED_PREFIXES = ("send", "edit", "copy", "forward")

Result = bool | dict[str, Any] | list[dict[str, Any]]


class PriorityRateLimiter(BaseRateLimiter[int]):
    def __init__(
        self, rate: float = 30.0, burst: int = 30, clock: Callable[[], float] | None = None
    ) -> None:
        self._rate = rate
        self._clock = clock  # seconds, monotonic; the event loop's clock unless a test's
        self._burst = float(burst)
        self._tokens = float(burst)
        self._stamp = 0.0
        self._waiting: list[tuple[int, int, asyncio.Future[None]]] = []
        self._order = itertools.count()
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        # Called after each message Telegram took (a send, an edit): Telegram is answering.
        self.on_sent: Callable[[], Awaitable[None]] | None = None

    async def initialize(self) -> None:
        if self._task is not None and not self._task.done():
            return  # initialised twice (bot and application): one releasing task is enough
        loop = asyncio.get_running_loop()
        self._stamp = (self._clock or loop.time)()
        # The bot owns this limiter, not the Application: it keeps and cancels its own task.
        self._task = loop.create_task(self._release_in_order(), name="rate-limiter")

    async def shutdown(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        for _, _, waiter in self._waiting:  # let nobody hang on a stopped limiter
            if not waiter.done():
                waiter.set_result(None)
        self._waiting.clear()

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, Result]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> Result:
        if not endpoint.startswith(_LIMITED_PREFIXES):
            return await callback(*args, **kwargs)
        if self._task is not None and (self._waiting or self._refill() < 1):
            waiter = asyncio.get_running_loop().create_future()
            priority = REPLY_PRIORITY if rate_limit_args is None else rate_limit_args
            heapq.heappush(self._waiting, (-priority, next(self._order), waiter))
            self._wakeup.set()
            await waiter
        elif self._task is not None:
            self._tokens -= 1  # nobody waits: go now, no round through the releasing task
        result = await callback(*args, **kwargs)
        if self.on_sent is not None:
            try:
                await self.on_sent()
            except Exception:  # the message went: a failure here must not make it look unsent
                log.exception("noting that Telegram answered failed")
        return result

    def _refill(self) -> float:
        """Add the tokens earned since the last look; return how many there are."""
        now = (self._clock or asyncio.get_running_loop().time)()
        self._tokens = min(self._burst, self._tokens + (now - self._stamp) * self._rate)
        self._stamp = now
        return self._tokens

    async def _release_in_order(self) -> None:
        """Hand out one token at a time at `rate`, always to the most urgent waiter."""
        while True:
            if not self._waiting:
                self._wakeup.clear()
                await self._wakeup.wait()
                continue
            if self._refill() < 1:
                await asyncio.sleep((1 - self._tokens) / self._rate)
                continue
            _, _, waiter = heapq.heappop(self._waiting)
            if not waiter.done():  # its request may have been cancelled meanwhile
                self._tokens -= 1
                waiter.set_result(None)
