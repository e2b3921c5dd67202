"""Handling updates: many people at once, each person's updates in order, an SOS first.

PTB handles one update at a time by default, so during the evening rush a /sos waits behind
every check-in that arrived before it. This processor runs up to `workers` updates at once and
keeps each person's own updates in order (conversations stay consistent). Each person has a
queue, and a person holds at most one worker: a backlog of one person's updates waits in that
person's queue, never in the workers, so it cannot hold up anyone else. When a worker is free it
goes to the most urgent person waiting (the most urgent update in their queue), and among people
equally urgent to the one who has waited longest for a turn: a person with a backlog goes to the
back of the line after each update, like everyone else.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field
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
        if data == "checkin:help" or (data.startswith("rc:") and data.endswith(":help")):
            return URGENT  # "Need help" / a roll-call's "I need help": an SOS
        return ALERT_ACTION if data.startswith("escalation:") else NORMAL
    message = update.effective_message
    if message is None:
        return NORMAL
    if message.text and message.text[:4].lower() == "/sos" and (
            message.text.split("@", 1)[0].split()[0].lower() == "/sos"):
        return URGENT
    # A pin is not urgent by itself: it may be the next step of a conversation, which must
    # stay in order with the person's other messages.
    return NORMAL


@dataclass
class _Person:
    # (-urgency, arrival, waiter): the person's own updates, most urgent first, then in order.
    queue: list[tuple[int, int, asyncio.Future[None]]] = field(default_factory=list)
    running: bool = False  # one of their updates holds a worker
    turn: int = 0  # when they last joined the line for a worker


class _FairGate:
    """Workers handed to people: at most one each, most urgent person first, then in turn.

    The line holds (-urgency, turn, person) entries; an entry is stale once the person runs,
    joins the line again, or their most urgent update changed. Stale entries are skipped.
    """

    def __init__(self, slots: int) -> None:
        self._slots = slots
        self._free = slots
        self.arrived = 0  # updates that ever asked for a worker
        self._people: dict[Hashable, _Person] = {}
        self._line: list[tuple[int, int, Hashable]] = []
        self._order = itertools.count()

    async def acquire(self, who: Hashable, priority: int) -> None:
        person = self._people.setdefault(who, _Person())
        waiter = asyncio.get_running_loop().create_future()
        self.arrived += 1
        if not person.queue and not person.running:
            person.turn = next(self._order)  # joins the line now
        before = person.queue[0][0] if person.queue else None
        heapq.heappush(person.queue, (-priority, next(self._order), waiter))
        if not person.running and (before is None or -priority < before):
            heapq.heappush(self._line, (-priority, person.turn, who))
        self._dispatch()
        try:
            await waiter  # the worker is handed over by _dispatch()
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():  # handed over, then cancelled
                self.release(who)
            raise

    @property
    def busy(self) -> int:
        return self._slots - self._free

    def release(self, who: Hashable) -> None:
        person = self._people[who]
        person.running = False
        self._free += 1
        if person.queue:
            person.turn = next(self._order)  # back of the line, behind those already waiting
            heapq.heappush(self._line, (person.queue[0][0], person.turn, who))
        else:
            del self._people[who]
        self._dispatch()

    def _dispatch(self) -> None:
        while self._free > 0 and self._line:
            rank, turn, who = heapq.heappop(self._line)
            person = self._people.get(who)
            if person is None or person.running or turn != person.turn:
                continue  # stale: they run, or they are in the line with a newer entry
            while person.queue and person.queue[0][2].done():
                heapq.heappop(person.queue)  # waiters cancelled while queued (shutdown)
            if not person.queue:
                del self._people[who]
                continue
            if person.queue[0][0] != rank:  # their most urgent update was cancelled
                heapq.heappush(self._line, (person.queue[0][0], turn, who))
                continue
            _, _, waiter = heapq.heappop(person.queue)
            person.running = True
            self._free -= 1
            waiter.set_result(None)


class PriorityUpdateProcessor(BaseUpdateProcessor):
    def __init__(
        self, workers: int = 32, on_handled: Callable[[int], None] | None = None
    ) -> None:
        # PTB's own semaphore must never be the bottleneck: the gate below decides.
        super().__init__(max_concurrent_updates=4096)
        self._on_handled = on_handled  # the inbox: handled updates are not replayed
        self._gate = _FairGate(workers)

    @property
    def arrived(self) -> int:
        """How many updates have reached the gate (handled, running or waiting) so far."""
        return self._gate.arrived

    @property
    def busy(self) -> int:
        """How many workers an update holds right now."""
        return self._gate.busy

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        user = update.effective_user.id if isinstance(update, Update) and update.effective_user \
            else None
        # The person's turn, not a worker first: a worker taken before the person's own turn
        # would sit idle behind the person's running update, and a backlog of one person would
        # hold every worker. An SOS still overtakes the person's own queued updates (their queue
        # is most urgent first), and their turn becomes as urgent as it, so it gets the next
        # free worker; updates of equal urgency keep their order, so a conversation does too.
        try:
            await self._gate.acquire(user, urgency(update))
        except asyncio.CancelledError:
            if asyncio.iscoroutine(coroutine):
                coroutine.close()  # never started (shutdown): no "never awaited" warning
            raise
        try:
            await coroutine
        finally:
            if self._on_handled is not None and isinstance(update, Update):
                self._on_handled(update.update_id)
            self._gate.release(user)

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None
