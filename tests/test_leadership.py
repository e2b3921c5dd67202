"""The leader's lock: one holder, lost when its session ends, and the outbox fenced at once."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
from cryptography.fernet import Fernet

from fieldbot.clock import FakeClock, SystemClock
from fieldbot.config import Settings
from fieldbot.services.leadership import FencedMessenger, InstanceRole, Leadership, read_role
from fieldbot.services.outbox import Delivery, Outcome
from fieldbot.storage.leadership import LeaderLock
from fieldbot.storage.outbox import OutboxMessage
from tests.pg import PgServer

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


class Sent:
    def __init__(self) -> None:
        self.count = 0

    async def deliver(self, message: OutboxMessage) -> Delivery:
        self.count += 1
        return Delivery(Outcome.SENT, message_id=1)


async def test_one_holder_and_a_lost_session_fences_the_outbox_at_once(
    tmp_path: Path, pg_server: PgServer,
) -> None:
    url = pg_server.fresh()
    settings = Settings(_env_file=None, db=url, data_dir=tmp_path,  # type: ignore[call-arg]
                        encryption_key=Fernet.generate_key().decode())
    first = Leadership(settings, FakeClock(NOW), elect=True)
    stop = asyncio.Event()
    assert await first.wait(stop)
    assert first.role is InstanceRole.LEADER and read_role(tmp_path / "role") == (
        "leader", NOW.isoformat())
    other = LeaderLock(url)
    assert not await other.try_acquire() and not other.held  # one holder
    assert not await other.try_acquire()

    inner = Sent()
    fenced = FencedMessenger(inner, first)
    message = OutboxMessage(1, 42, "alert", {}, 50, 0, None, None, NOW)
    assert (await fenced.deliver(message)).outcome is Outcome.SENT

    # The leader's session ends (a network cut or a server restart as the server sees it).
    admin = await asyncpg.connect(url)
    try:
        await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name ="
            " 'fieldbot-leader' AND pid != pg_backend_pid() AND datname = current_database()")
    finally:
        await admin.close()
    lost = first.lost
    assert lost is not None
    await asyncio.wait_for(lost.wait(), 5)  # noticed within the check's period
    assert not first.is_leader
    assert (await fenced.deliver(message)).outcome is Outcome.TRANSIENT  # nothing leaves
    assert inner.count == 1
    assert await other.try_acquire()  # the standby's turn
    await other.release()
    await first.release()


async def test_on_sqlite_the_instance_acts_alone(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, db=tmp_path / "f.db",  # type: ignore[call-arg]
                        data_dir=tmp_path)
    alone = Leadership(settings, FakeClock(NOW), elect=True)
    assert alone.is_leader and alone.role is InstanceRole.SINGLE and alone.lost is None
    assert await alone.wait(asyncio.Event())


async def test_fieldbot_health_says_standby_while_another_instance_leads(
    tmp_path: Path, pg_server: PgServer,
) -> None:
    url = pg_server.fresh()
    leader = LeaderLock(url)
    assert await leader.try_acquire()
    settings = Settings(_env_file=None, db=url, data_dir=tmp_path,  # type: ignore[call-arg]
                        encryption_key=Fernet.generate_key().decode())
    standby = Leadership(settings, SystemClock(), elect=True)
    stop = asyncio.Event()
    waiting = asyncio.create_task(standby.wait(stop))
    try:
        await asyncio.wait_for(_until_file(tmp_path / "heartbeat"), 10)
        env = {"PATH": os.environ.get("PATH", "/usr/bin"), "FIELDBOT_DB": url,
               "FIELDBOT_DATA_DIR": str(tmp_path)}
        health = await asyncio.to_thread(
            subprocess.run, [sys.executable, "-m", "conversations.cli", "health"], env=env,
            capture_output=True, text=True, check=False, timeout=60)
        assert health.returncode == 0, health.stderr
        assert health.stdout.startswith("healthy: role standby")
        assert standby.role is InstanceRole.STANDBY and not standby.is_leader
    finally:
        stop.set()
        assert await waiting is False
        await standby.release()
        await leader.release()


async def _until_file(path: Path) -> None:
    while not await asyncio.to_thread(path.exists):  # noqa: ASYNC110 - a file has no event
        await asyncio.sleep(0.02)


async def test_a_leader_that_hangs_loses_the_lock_to_the_standby(
    tmp_path: Path, pg_server: PgServer,
) -> None:
    url = pg_server.fresh()
    stuck = LeaderLock(url)
    assert await stuck.try_acquire()
    stuck._watch.cancel()  # type: ignore[union-attr]  # its checks stop: a hung event loop
    settings = Settings(_env_file=None, db=url, data_dir=tmp_path,  # type: ignore[call-arg]
                        encryption_key=Fernet.generate_key().decode())
    standby = Leadership(settings, SystemClock(), elect=True)
    try:
        # The standby's own loop (it tries every second) leads once the server has ended the
        # hung leader's session; the test only bounds how long that may take.
        assert await asyncio.wait_for(standby.wait(asyncio.Event()), 15)
        assert standby.is_leader
    finally:
        await standby.release()
        await stuck.release()
