"""`fieldbot migrate-db`: a SQLite database (with its key) copied into an empty PostgreSQL one,
counts verified, the copy opened with the same key by the bot; a non-empty target refused."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

from tests.builders import BERLIN, DEADLINE, at, plan_trip
from tests.harness import REP_ID, World
from tests.pg import PgServer


def fieldbot(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    environment = {"PATH": os.environ.get("PATH", "/usr/bin"), "PTB_TIMEDELTA": "true",
                   "FIELDBOT_DB": str(tmp_path / "fieldbot.db"),
                   "FIELDBOT_DATA_DIR": str(tmp_path / "data")}
    return subprocess.run([sys.executable, "-m", "conversations.cli", *args], cwd=tmp_path,
                          env=environment, capture_output=True, text=True, check=False,
                          timeout=120)


async def test_a_sqlite_database_moves_to_postgresql_whole_and_the_bot_carries_on(
    tmp_path: Path, pg_server: PgServer,
) -> None:
    world = World(tmp_path)
    await world.start()
    await world.enrol_team()
    await plan_trip(world, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
    await at(world, DEADLINE + timedelta(minutes=30))  # a missed check-in, escalated
    await world.rep.send("/sos")
    await world.stop()

    url = pg_server.empty_database()
    moved = fieldbot(tmp_path, "migrate-db", "--to", url)
    assert moved.returncode == 0, moved.stderr
    assert "MISMATCH" not in moved.stdout
    assert "audit chain verifies" in moved.stdout
    for table in ("users", "trips", "nights", "alerts", "outbox", "audit", "vault"):
        assert any(line.startswith(f"{table} ") and line.endswith("ok")
                   for line in moved.stdout.splitlines()), table

    again = fieldbot(tmp_path, "migrate-db", "--to", url)
    assert again.returncode == 2
    assert "is not empty" in again.stderr and "postgres@" in again.stderr
    assert ":" not in again.stderr.split("://")[1].split("@")[0]  # no password shown

    # The bot on the copy: same key (the data folder), same people, alerts and ids go on.
    copy = World(tmp_path, start=world.clock.now(), db=url)
    await copy.start()
    try:
        await copy.manager.send("/team")
        assert "Rita" in copy.manager.last.body
        assert await plan_trip(copy, BERLIN, date(2026, 12, 5), date(2026, 12, 6)) == 2
        async with copy.services.db.read() as tx:
            rows = list(await tx.execute_fetchall(
                "SELECT id, kind FROM alerts WHERE user_id = ? ORDER BY id", (REP_ID,)))
        assert [(r[0], r[1]) for r in rows] == [(1, "missed"), (2, "sos")]
        assert (await copy.services.privacy.verify_audit()).intact
        await copy.manager.send("/alerts")
        assert "A-2" in copy.manager.last.body
    finally:
        await copy.stop()


def test_migrate_db_wants_a_postgresql_url(tmp_path: Path) -> None:
    result = fieldbot(tmp_path, "migrate-db", "--to", "mysql://x")
    assert result.returncode == 2 and "postgresql://" in result.stderr
