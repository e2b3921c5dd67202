"""Real `fieldbot run` instances on one PostgreSQL database, against the loopback fake Telegram.

Used by tests/test_failover.py and bench/failover.py. Each instance has its own data folder (its
role file and heartbeat, as on its own machine) and shares the database and the key. The place
index is built once and linked into each folder (a first start would build it: seconds).
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import asyncpg
from cryptography.fernet import Fernet

from faketelegram.api import FakeTelegram
from fieldbot.clock import SystemClock
from fieldbot.config import Settings
from fieldbot.domain.members import Member
from fieldbot.domain.roles import Role
from fieldbot.domain.trips import Leg
from fieldbot.geo.gazetteer import INDEX_FILE
from fieldbot.services.container import build_services
from fieldbot.services.leadership import read_role
from fieldbot.services.trips import TripPlan
from fieldbot.storage import users
from tests.builders import BERLIN
from tests.harness import GAZETTEER

TOKEN = "515151:FAILOVER-fixture-token-not-real-000"
ADMIN, MANAGER, OFFICER = 1, 10, 11
SOS_FROM = re.compile(r"SOS (A-\d+)\b.*?Failover Rep (\d+)", re.S)


def policy_text(deadline_in: int) -> str:
    """A policy in seconds: tonight's deadline passes `deadline_in` s after now."""
    now = SystemClock().now().astimezone(ZoneInfo(BERLIN.tz_name))
    reminder = (now + timedelta(seconds=deadline_in // 2)).strftime("%H:%M:%S")
    deadline = (now + timedelta(seconds=deadline_in)).strftime("%H:%M:%S")
    return (f'[checkin]\nwindow_opens = "00:00"\nreminder = "{reminder}"\n'
            f'deadline = "{deadline}"\n\n[escalation]\nrep_reminders = ["0s"]\n'
            'manager_after = "2s"\nofficers_after = "5s"\nrepeat_every = "60s"\n\n'
            '[sos]\nrepeat_every = "120s"\n\n[risk.level3]\n\n[risk.level4]\n')


class Instance:
    def __init__(self, name: str, data_dir: Path, process: asyncio.subprocess.Process) -> None:
        self.name, self.data_dir, self.process = name, data_dir, process

    @property
    def role(self) -> str | None:
        said = read_role(self.data_dir / "role")
        return said[0] if said else None

    async def kill(self) -> None:
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGKILL)
        await self.process.wait()

    async def stop(self) -> None:
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(self.process.wait(), 20)
        except TimeoutError:
            await self.kill()


class Rig:
    def __init__(self, tmp: Path, url: str, base_url: str) -> None:
        self.tmp, self.url, self.base_url = tmp, url, base_url
        self.key = Fernet.generate_key().decode()
        self.policy = tmp / "policy.toml"
        self.log = tmp / "bots.log"
        self.count = 0

    def settings(self) -> Settings:
        return Settings(_env_file=None, token=TOKEN, db=self.url,  # type: ignore[call-arg]
                        data_dir=self.tmp / "prepare", admin_ids=(ADMIN,), policy=self.policy,
                        encryption_key=self.key)

    async def prepare(self, reps: list[int], travelling: list[int], deadline_in: int) -> None:
        """Enrol everyone and file tonight's trips for `travelling` (they will not check in)."""
        self.policy.write_text(policy_text(deadline_in), encoding="utf-8")
        await asyncio.to_thread(GAZETTEER.warm)
        services = build_services(self.settings(), SystemClock(), gazetteer=GAZETTEER)
        await services.open()
        try:
            now = services.clock.now()
            people = [Member(ADMIN, "Failover Admin", Role.ADMIN, "", "en"),
                      Member(MANAGER, "Failover Manager", Role.MANAGER, "ha", "en"),
                      Member(OFFICER, "Failover Officer", Role.OFFICER, "", "en")]
            people += [Member(uid, f"Failover Rep {uid}", Role.STAFF, "ha", "en")
                       for uid in reps]
            async with services.db.transaction() as conn:
                for person in people:
                    await users.upsert(conn, person, now, cipher=services.cipher)
            today = now.astimezone(ZoneInfo(BERLIN.tz_name)).date()
            for uid in travelling:
                member = await services.enrolment.member(uid)
                assert member is not None
                plan = TripPlan(legs=(Leg(BERLIN, today, today + timedelta(days=2)),),
                                lodging="Made-up Hotel", contact_name="Made-up Contact",
                                contact_phone="+4900000000", contact_user_id=None,
                                night_visits=False, companion="")
                await services.trips.submit(member, plan, f"failover-{uid}")
        finally:
            await services.stop()

    async def launch(self, webhook: tuple[str, int] | None = None) -> Instance:
        """Start an instance; `webhook`: (the public URL, this instance's port) for --webhook."""
        self.count += 1
        name = f"bot{self.count}"
        data = self.tmp / name
        data.mkdir(parents=True, exist_ok=True)
        index = data / INDEX_FILE
        if not index.exists():
            os.link(GAZETTEER.index_path, index)
        env = {**os.environ, "PTB_TIMEDELTA": "true", "FIELDBOT_TOKEN": TOKEN,
               "FIELDBOT_BOT_API_URL": self.base_url, "FIELDBOT_DB": self.url,
               "FIELDBOT_DATA_DIR": str(data), "FIELDBOT_ADMIN_IDS": str(ADMIN),
               "FIELDBOT_POLICY": str(self.policy), "FIELDBOT_SWEEP_INTERVAL": "1s",
               "FIELDBOT_ENCRYPTION_KEY": self.key}
        args = ["run"]
        if webhook is not None:
            env |= {"FIELDBOT_WEBHOOK_URL": webhook[0], "FIELDBOT_WEBHOOK_PORT": str(webhook[1]),
                    "FIELDBOT_WEBHOOK_LISTEN": "127.0.0.1",
                    "FIELDBOT_WEBHOOK_SECRET": "failover-fixture-secret"}
            args.append("--webhook")
        with self.log.open("ab") as out:
            process = await asyncio.create_subprocess_exec(
                str(Path(sys.executable).parent / "fieldbot"), *args,
                env=env, stdout=out, stderr=out, stdin=asyncio.subprocess.DEVNULL)
        return Instance(name, data, process)

    async def state_of(self, owner: int) -> str:
        """The persisted conversation state of a person (PTB's, as the leader wrote it)."""
        conn = await asyncpg.connect(self.url)
        try:
            rows = await conn.fetch("SELECT kind, value FROM ptb_state WHERE owner = $1"
                                    " AND kind LIKE 'conversation:%' ORDER BY kind", owner)
        finally:
            await conn.close()
        return ";".join(f"{r['kind']}={r['value']}" for r in rows)


async def until(predicate: Callable[[], bool], timeout: float, what: str) -> float:  # noqa: ASYNC109
    """Wait for a condition outside the fake (a role file); return the seconds it took."""
    started = time.monotonic()
    while not predicate():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"still not {what} after {timeout} s")
        await asyncio.sleep(0.02)
    return time.monotonic() - started


def sos_senders(fake: FakeTelegram) -> set[int]:
    return {int(m.group(2)) for message in fake.sent_to(MANAGER)
            if (m := SOS_FROM.search(message.text or ""))}
