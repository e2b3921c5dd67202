"""Handling updates: many people at once, each person's updates in order, an SOS first.

PTB handles one update at a time by default, so during the evening rush a /sos waits behind
every check-in that arrived before it. This processor runs up to `workers` updates at once,
keeps each person's own updates in order (one lock per user: conversations stay consistent),
and when all workers are busy gives the next free one to the most urgent update waiting.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

URGENT = 100  # /sos and "Need help"
ALERT_ACTION = 90  # Acknowledge / Resolve on an escalation
NORMAL = 0


def urgency(update: object) -> int:
    """Return how urgently an update must be handled (higher first)."""
    if not isinstance(update, Update):
        return NORMAL
    if update.callback_query is not None:
        data = update.callback_query.data or ""
        if data == "checkin:help":
            return URGENT
        return ALERT_ACTION if data.startswith("escalation:") else NORMAL
    message = update.effective_message
    if message is None:
        return NORMAL
    if message.text and message.text.split("@", 1)[0].split()[0:1] == ["/sos"]:
        return URGENT
    # A pin is not urgent by itself: it may be the next step of a conversation, which must
    # stay in order with the person's other messages.
    return NORMAL


class _PriorityGate:
    """A semaphore whose waiters are woken highest priority first (FIFO among equals)."""

    def __init__(self, slots: int) -> None:
        self._free = slots
        self._waiting: list[tuple[int, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    async def acquire(self, priority: int) -> None:
        if self._free > 0 and not self._waiting:
            self._free -= 1
            return
        waiter = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiting, (-priority, next(self._order), waiter))
        await waiter  # the slot is handed over by release()

    def release(self) -> None:
        while self._waiting:
            _, _, waiter = heapq.heappop(self._waiting)
            if not waiter.done():
                waiter.set_result(None)
                return
        self._free += 1


class PriorityUpdateProcessor(BaseUpdateProcessor):
    def __init__(
        self, workers: int = 32, on_handled: Callable[[int], None] | None = None
    ) -> None:
        # PTB's own semaphore must never be the bottleneck: the gate below decides.
        super().__init__(max_concurrent_updates=4096)
        self._on_handled = on_handled  # the inbox: handled updates are not replayed
        self._gate = _PriorityGate(workers)
        self._users: dict[int | None, tuple[asyncio.Lock, int]] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        user = update.effective_user.id if isinstance(update, Update) and update.effective_user \
            else None
        lock, users = self._users.get(user, (asyncio.Lock(), 0))
        self._users[user] = (lock, users + 1)
        try:
            # The worker first, then the person's lock: an SOS must not queue behind the same
            # person's earlier check-in that is itself still waiting for a worker. Updates of
            # equal urgency get workers in arrival order, so a conversation stays in order.
            await self._gate.acquire(urgency(update))
            try:
                async with lock:  # one update of this person at a time
                    await coroutine
            finally:
                self._gate.release()
        finally:
            if self._on_handled is not None and isinstance(update, Update):
                self._on_handled(update.update_id)
            lock, users = self._users[user]
            if users == 1:
                del self._users[user]
            else:
                self._users[user] = (lock, users - 1)

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None
