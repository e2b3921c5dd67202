"""Who leads: a PostgreSQL session advisory lock held on a dedicated connection.

The lock belongs to the server session: it goes the moment the session ends. A SIGKILLed leader's
socket is closed by its kernel (the server sees it at once); a machine or network that vanishes
is noticed by the server's TCP keepalives and user timeout (SERVER_SETTINGS: about 6 s), which
end the session. The leader checks its own connection every CHECK_EVERY and gives up as soon as
a check fails or takes longer than CHECK_TIMEOUT: it stops before the server can free the lock,
so two leaders never overlap (the fencing order is asserted in docs/RELIABILITY.md).

Standbys may wake the leader: `notify()` sends NOTIFY on INBOX_CHANNEL (an update a standby
took from a webhook and kept in the shared inbox), which the leader LISTENs to.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

import asyncpg

from fieldbot.storage.postgres import LEADER_LOCK, connect, lock_key

log = logging.getLogger(__name__)

INBOX_CHANNEL = "fieldbot_inbox"
CHECK_EVERY = 1.0
CHECK_TIMEOUT = 2.0
# The server ends a vanished peer's session after about idle + interval * count seconds, or
# when data stays unacknowledged for tcp_user_timeout ms: well after the leader's own check
# (CHECK_EVERY + CHECK_TIMEOUT = 3 s) has made it stand down.
# A leader that is alive but stuck (a hung event loop, SIGSTOP: its kernel still answers the
# keepalives) stops checking; the server ends its session after IDLE_LIMIT without a check.
IDLE_LIMIT = "8s"
LOCK_SESSION = {"tcp_keepalives_idle": "3", "tcp_keepalives_interval": "1",
                "tcp_keepalives_count": "3", "tcp_user_timeout": "6000",
                "idle_session_timeout": IDLE_LIMIT, "application_name": "fieldbot-leader"}
_FAILED = (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError)


class LeaderLock:
    def __init__(self, url: str) -> None:
        self._url = url
        self._conn: asyncpg.Connection | None = None
        self._watch: asyncio.Task[None] | None = None
        self._have = False  # the lock, not just a connection
        self._unreachable = False
        self.lost = asyncio.Event()
        self._listeners: list[Callable[[], object]] = []

    @property
    def held(self) -> bool:
        return self._have and self._conn is not None and not self.lost.is_set()

    async def try_acquire(self) -> bool:
        """One attempt: True if this process is the leader now (then watched until lost)."""
        if self.held:
            return True
        try:
            if self._conn is None or self._conn.is_closed():
                self._conn = await connect(self._url, **LOCK_SESSION)
            got = await asyncio.wait_for(
                self._conn.fetchval(f"SELECT pg_try_advisory_lock({lock_key(LEADER_LOCK)})"),
                CHECK_TIMEOUT)
        except _FAILED as exc:
            if not self._unreachable:  # once per outage, not every second
                log.warning("leader lock: database unreachable (%s)", type(exc).__name__)
            self._unreachable = True
            self._drop()
            return False
        if self._unreachable:
            log.info("leader lock: database reachable again")
            self._unreachable = False
        if not got:
            return False
        self._have = True
        self.lost = asyncio.Event()
        with contextlib.suppress(*_FAILED):
            await self._conn.add_listener(INBOX_CHANNEL, self._on_notify)
        self._watch = asyncio.create_task(self._keep(), name="leader-lock-watch")
        return True

    def on_inbox(self, callback: Callable[[], object]) -> None:
        """Call `callback` when a standby kept an update in the inbox (leader only)."""
        self._listeners.append(callback)

    def _on_notify(self, *_: object) -> None:
        for callback in self._listeners:
            callback()

    async def _keep(self) -> None:
        """Check the lock's session every CHECK_EVERY; a failed or slow check means lost."""
        conn = self._conn
        assert conn is not None
        try:
            while True:
                await asyncio.sleep(CHECK_EVERY)
                await asyncio.wait_for(conn.fetchval("SELECT 1"), CHECK_TIMEOUT)
        except _FAILED as exc:
            log.error("leader lock lost (%s): standing down", type(exc).__name__)
        except asyncio.CancelledError:
            return
        self.lost.set()
        self._drop()

    def _drop(self) -> None:
        self._have = False
        self._listeners.clear()  # a term's listeners go with it
        if self._conn is not None:
            self._conn.terminate()  # never a graceful close: the session must end now
            self._conn = None

    async def release(self) -> None:
        """Give the lock up (a clean stop): a standby takes over at once."""
        if self._watch is not None:
            self._watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch
            self._watch = None
        if self._conn is not None and not self._conn.is_closed():
            with contextlib.suppress(*_FAILED):
                await asyncio.wait_for(self._conn.close(), CHECK_TIMEOUT)
        self._drop()
        self.lost.set()


async def notify_inbox(url: str) -> None:
    """Wake the leader: an update waits in the shared inbox (best effort; the leader's sweep
    picks it up anyway)."""
    try:
        conn = await connect(url)
        try:
            await conn.execute(f"NOTIFY {INBOX_CHANNEL}")
        finally:
            await conn.close()
    except _FAILED as exc:
        log.warning("could not wake the leader (%s)", type(exc).__name__)
