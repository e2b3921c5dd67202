"""Which instance acts: on PostgreSQL one leader among several `fieldbot run`, on SQLite the one.

The leader polls Telegram (or serves the webhook), sweeps and sends; a standby waits for the
lock, keeps its health fresh and says "standby". `role` is what health checks read (the role
file beside the heartbeat, and `Services.leadership.role` for an HTTP /healthz).

Fencing: the outbox's way out is wrapped (`FencedMessenger`): the moment the lock is lost no
message leaves this process; what it had claimed is sent by the next leader (at most one copy
of a message that was on the wire at that moment).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fieldbot.clock import Clock
from fieldbot.config import Settings
from fieldbot.services.inbox import UpdateInbox
from fieldbot.services.outbox import Delivery, Messenger, Outcome
from fieldbot.services.sweeper import write_heartbeat
from fieldbot.storage.db import StorageUnavailable
from fieldbot.storage.outbox import OutboxMessage

if TYPE_CHECKING:  # asyncpg (25 ms) loads only where PostgreSQL is used
    from fieldbot.storage.leadership import LeaderLock

log = logging.getLogger(__name__)

RETRY = 1.0  # a standby tries the lock this often
# A new leader waits this long before it polls: the old leader's last getUpdates (long-poll
# timeout POLL_TIMEOUT) has ended by then, so Telegram never sees two pollers (409 Conflict).
POLL_TIMEOUT = 3
FENCE_DELAY = 3.0


class InstanceRole(StrEnum):
    SINGLE = "single"  # SQLite: the only instance, always acting
    LEADER = "leader"
    STANDBY = "standby"


class Leadership:
    """`elect=True` (the runner on PostgreSQL): act only while holding the leader's lock.
    Otherwise (SQLite, tests, one-off tools) the instance acts alone: role "single"."""

    def __init__(self, settings: Settings, clock: Clock, *, elect: bool = False) -> None:
        self._settings = settings
        self._clock = clock
        self._lock: LeaderLock | None = None
        if elect and isinstance(settings.db, str):
            from fieldbot.storage.leadership import LeaderLock

            self._lock = LeaderLock(settings.db)
        self.role = InstanceRole.SINGLE if self._lock is None else InstanceRole.STANDBY
        self.role_file: Path = settings.data_dir / "role"

    @property
    def is_leader(self) -> bool:
        if self._lock is None:
            return True
        return self.role is InstanceRole.LEADER and self._lock.held

    @property
    def lost(self) -> asyncio.Event | None:
        """Set when the lock is lost (None on SQLite: nothing to lose)."""
        return self._lock.lost if self._lock is not None else None

    def on_inbox(self, callback: Callable[[], object]) -> None:
        if self._lock is not None:
            self._lock.on_inbox(callback)

    async def keep_for_leader(self, inbox: UpdateInbox, update_id: int,
                              update: dict[str, Any]) -> bool:
        """A standby's webhook: keep the update in the shared inbox and wake the leader.
        False if the database cannot take it now (answer 503: Telegram sends it again)."""
        try:
            new = await inbox.arrived(update_id, update)
        except StorageUnavailable:
            return False
        if new and isinstance(self._settings.db, str):
            from fieldbot.storage.leadership import notify_inbox

            await notify_inbox(self._settings.db)
        return True

    async def wait(self, stop: asyncio.Event) -> bool:
        """Wait until this instance leads (True), or until `stop` (False)."""
        if self._lock is None:
            await self._say(InstanceRole.SINGLE)
            return True
        announced = False
        while not stop.is_set():
            if await self._lock.try_acquire():
                await self._say(InstanceRole.LEADER)
                log.info("this instance is the leader now")
                return True
            if not announced:
                log.info("standby: another instance leads; waiting for the lock")
                announced = True
            await self._say(InstanceRole.STANDBY, heartbeat=True)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), RETRY)
        return False

    async def stand_down(self) -> None:
        """After losing the lock: standby again (the next `wait` tries to lead)."""
        self.role = InstanceRole.STANDBY if self._lock is not None else InstanceRole.SINGLE
        await self._say(self.role)

    async def release(self) -> None:
        if self._lock is not None:
            await self._lock.release()
            self.role = InstanceRole.STANDBY
            await self._say(self.role)

    async def _say(self, role: InstanceRole, *, heartbeat: bool = False) -> None:
        self.role = role
        now = self._clock.now()

        def write() -> None:
            self.role_file.parent.mkdir(parents=True, exist_ok=True)
            self.role_file.write_text(f"{role.value}\n{now.isoformat()}\n", encoding="utf-8")
            if heartbeat:  # a standby is alive too: its health is waiting, not sweeping
                write_heartbeat(self._settings.heartbeat_file, now)

        await asyncio.to_thread(write)


class FencedMessenger:
    """The outbox's way out, closed the moment this instance stops leading."""

    def __init__(self, inner: Messenger, leadership: Leadership) -> None:
        self._inner = inner
        self._leadership = leadership

    async def deliver(self, message: OutboxMessage) -> Delivery:
        if not self._leadership.is_leader:
            return Delivery(Outcome.TRANSIENT, error="not the leader")
        return await self._inner.deliver(message)


def read_role(path: Path) -> tuple[str, str] | None:
    """(role, since) from the role file, or None if there is none yet."""
    try:
        role, _, rest = path.read_text(encoding="utf-8").partition("\n")
    except OSError:
        return None
    return role.strip(), rest.strip()
