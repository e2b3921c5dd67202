"""Issue 10, item 20: the audit log is chained (HMAC); `fieldbot audit --verify` names the
first entry deleted, changed, reordered or cut off, even with the triggers dropped."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from contextlib import closing
from datetime import date
from pathlib import Path

import pytest

from tests.builders import BERLIN, fieldbot, plan_trip
from tests.harness import World


async def logged_world(tmp_path: Path) -> World:
    """A world with a few audit entries, stopped, so the file can be tampered with."""
    world = World(tmp_path)
    await world.start()
    await world.enrol_team()
    await plan_trip(world, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
    await world.services.escalation.raise_sos(world.rep.id)
    await world.stop()
    return world


def tamper(world: World, *statements: str) -> None:
    with closing(sqlite3.connect(world.settings.db)) as conn, conn:
        conn.execute("DROP TRIGGER audit_no_update")
        conn.execute("DROP TRIGGER audit_no_delete")
        for sql in statements:
            conn.execute(sql)


def count(world: World) -> int:
    with closing(sqlite3.connect(world.settings.db)) as conn:
        return int(conn.execute("SELECT COUNT(*) FROM audit").fetchone()[0])


async def test_an_untouched_log_verifies(tmp_path: Path) -> None:
    world = await logged_world(tmp_path)
    result = fieldbot(tmp_path, "audit", "--verify")
    assert result.returncode == 0, result.stderr
    assert f"audit log intact: {count(world)} entries" in result.stdout


@pytest.mark.parametrize(("statements", "bad"), [
    (lambda w: ["DELETE FROM audit WHERE id = 2"], "#2"),
    (lambda w: ["UPDATE audit SET detail = 'forged' WHERE id = 3"], "#3"),
    (lambda w: ["UPDATE audit SET id = 1000 WHERE id = 2",
                "UPDATE audit SET id = 2 WHERE id = 3",
                "UPDATE audit SET id = 3 WHERE id = 1000"], "#2"),
    (lambda w: ["DELETE FROM audit"], "#1"),
    (lambda w: [f"DELETE FROM audit WHERE id = {count(w)}"], "are missing"),
    (lambda w: [], "triggers"),
])
async def test_tampering_is_caught(
    tmp_path: Path, statements: Callable[[World], list[str]], bad: str
) -> None:
    world = await logged_world(tmp_path)
    tamper(world, *statements(world))
    result = fieldbot(tmp_path, "audit", "--verify")
    assert result.returncode == 1
    assert "tampered" in result.stderr and bad in result.stderr, result.stderr


async def test_a_cut_off_tail_stays_visible_after_new_entries(tmp_path: Path) -> None:
    world = await logged_world(tmp_path)
    last = count(world)
    tamper(world, f"DELETE FROM audit WHERE id = {last}",
           "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN"
           " SELECT RAISE(ABORT, 'the audit log is append-only'); END",
           "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit WHEN OLD.chain != ''"
           " BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END")
    await world.start()  # the bot goes on logging: the next entry continues from the head
    await world.services.escalation.raise_sos(world.officer.id)
    check = await world.services.privacy.verify_audit()
    await world.stop()
    assert not check.intact and check.bad_id == last


async def test_the_audit_key_survives_key_rotation(tmp_path: Path) -> None:
    await logged_world(tmp_path)
    assert fieldbot(tmp_path, "rotate-key").returncode == 0
    result = fieldbot(tmp_path, "audit", "--verify")
    assert result.returncode == 0, result.stderr
