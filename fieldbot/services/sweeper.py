"""The sweeper: what the scheduler runs when it wakes. It proves it is alive (the
heartbeat), purges what is due, turns due nights and steps into outbox rows, delivers them,
and warns the admins of failures the database could not even note."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol

from fieldbot.clock import Clock
from fieldbot.services.contacts import ContactService
from fieldbot.services.escalation import EscalationService
from fieldbot.services.inbox import UpdateInbox
from fieldbot.services.outbox import OutboxSender
from fieldbot.services.privacy import PrivacyService

log = logging.getLogger(__name__)

MAX_TICK_ROUNDS = 5
MAX_SWEEP_BATCHES = 40
TICK_SECONDS = 30.0  # one tick's work budget; what is left is due at once (the next tick)
UNRECORDED_WARN_EVERY = timedelta(hours=1)

log = logging.getLogger(__name__)


class Lifecycle(Protocol):
    """Another lifecycle the tick drives besides nights and alerts (incident deadlines,
    drills): its due work, and when it is next due."""

    async def sweep(self) -> int: ...

    async def next_due(self) -> datetime | None: ...


class SweepPart(Protocol):
    """Another lifecycle the tick advances (roll-calls, ...): its due rows, in batches."""

    async def sweep(self) -> bool: ...  # True: the batch was full, more may be due now

    async def next_due(self) -> datetime | None: ...


class Sweeper:
    def __init__(
        self,
        clock: Clock,
        escalation: EscalationService,
        privacy: PrivacyService,
        inbox: UpdateInbox,
        heartbeat_file: Path,
        *,
        contacts: ContactService | None = None,
    ) -> None:
        self._clock = clock
        self._escalation = escalation
        self._privacy = privacy
        self._inbox = inbox
        self._heartbeat_file = heartbeat_file
        self._contacts = contacts
        self.sender: OutboxSender | None = None  # set once the bot exists
        self.checks: list[Callable[[], Awaitable[None]]] = []  # e.g. "is Telegram down?"
        self.lifecycles: list[Lifecycle] = []  # swept once a tick, before the first drain
        self.parts: list[SweepPart] = []  # more lifecycles, swept after the alerts
        # When each alert's unrecordable failure was last told to the admins (in memory: the
        # database is what failed).
        self._warned: dict[int, datetime] = {}

    async def tick(self) -> datetime | None:
        """Sweep and deliver until nothing more is due now; return when to wake next.

        A permanent delivery failure can make a step due at once (skip to the next tier),
        hence the few rounds. The work is bounded (rounds, batches, TICK_SECONDS and the
        sender's own share): a tick always returns, and the heartbeat stays fresh.
        """
        await asyncio.to_thread(write_heartbeat, self._heartbeat_file, self._clock.now())
        await self._privacy.purge_if_due()
        if self._contacts is not None:
            await self._remind_contacts()
        await self._inbox.flush()
        for check in self.checks:
            await check()
        give_up_at = time.monotonic() + TICK_SECONDS  # a work budget, not a wall-clock time
        for lifecycle in self.lifecycles:
            try:
                await lifecycle.sweep()
            except Exception:
                # An incident's reminder or a drill's end must never hold up a missed
                # check-in or an SOS: logged, tried again next tick.
                log.exception("sweep of %s failed", type(lifecycle).__name__)
        for _ in range(MAX_TICK_ROUNDS):
            # Everything due is turned into outbox rows before sending, so the outbox can
            # put SOS first across the whole backlog rather than within one batch; each
            # sweep decides alert steps whatever the number of nights due.
            for _ in range(MAX_SWEEP_BATCHES):
                report = await self._escalation.sweep()
                if report.unrecorded:
                    await self._warn_unrecorded(report.unrecorded)
                if not report.saturated or time.monotonic() > give_up_at:
                    break
            for part in self.parts:
                try:
                    for _ in range(MAX_SWEEP_BATCHES):
                        if not await part.sweep() or time.monotonic() > give_up_at:
                            break
                except Exception:
                    # A roll-call's reminder must never hold up a missed check-in or an SOS.
                    log.exception("sweep of %s failed", type(part).__name__)
            if self.sender is not None:
                await self.sender.drain()
            due = await self.next_due()
            if due is None or due > self._clock.now() or time.monotonic() > give_up_at:
                return due
        return await self.next_due()

    async def next_due(self) -> datetime | None:
        """Return when anything (a night, a step, a message, another part's row) is due."""
        found = [await self._escalation.next_due()]
        found += [await lifecycle.next_due() for lifecycle in self.lifecycles]
        found += [await part.next_due() for part in self.parts]
        due = [d for d in found if d is not None]
        return min(due) if due else None

    async def _remind_contacts(self) -> None:
        """The weekly "no confirmed phone" reminder; it must never stop the sweep."""
        assert self._contacts is not None
        try:
            await self._contacts.remind_if_due()
        except Exception:
            log.exception("the weekly contact reminder failed; trying again in an hour")

    async def _warn_unrecorded(self, alert_ids: tuple[int, ...]) -> None:
        """Tell the admins, past the outbox, of steps failing where the database could not
        even note it (disk full); at most once an hour per alert."""
        if self.sender is None:
            return
        now = self._clock.now()
        due = [a for a in alert_ids if now - self._warned.get(a, datetime.min.replace(
            tzinfo=UTC)) >= UNRECORDED_WARN_EVERY]
        if not due:
            return
        admins = await self._escalation.admin_ids()
        for alert_id in due:
            self._warned[alert_id] = now
            for admin in admins:
                await self.sender.send_unrecorded(admin, "admin_step_failed",
                                                  {"alert": f"A-{alert_id}"})


def write_heartbeat(path: Path, now: datetime) -> None:
    """Record that the sweep ran (read by `fieldbot health`, the container's HEALTHCHECK)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(now.isoformat(), encoding="utf-8")


def heartbeat_health(path: Path, now: datetime, sweep_interval: timedelta) -> tuple[bool, str]:
    """Return whether the sweep ran recently (three intervals and a minute) and why."""
    try:
        last = datetime.fromisoformat(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False, "unhealthy: the sweep has not run yet"
    age = now - last
    if age > 3 * sweep_interval + timedelta(minutes=1):
        return False, f"unhealthy: last sweep {int(age.total_seconds())} s ago"
    return True, f"healthy: last sweep {int(age.total_seconds())} s ago"
