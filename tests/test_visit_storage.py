"""The visits migration on a real SQLite file: alerts and who was alerted survive the rebuild
that lets alerts be of any kind the code knows (a visit's among them)."""

from __future__ import annotations

from pathlib import Path

import aiosqlite

from fieldbot.storage.db import Database

VISITS_MIGRATION = 9


async def test_the_alerts_rebuild_keeps_every_alert_and_who_was_alerted(tmp_path: Path) -> None:
    db = Database(tmp_path / "old.db")
    await db.connect(target_version=VISITS_MIGRATION - 1)
    async with db.transaction() as tx:
        await tx.execute(
            "INSERT INTO alerts (id, kind, user_id, anchor, state, step_index, next_due_at,"
            " acked_by, note, created_at) VALUES (7, 'missed', 4004, '2026-12-01T20:00',"
            " 'acknowledged', 3, NULL, 2002, 'sealed-note', '2026-12-01T20:00')")
        await tx.execute("INSERT INTO alert_recipients (alert_id, user_id, first_at)"
                         " VALUES (7, 2002, '2026-12-01T20:30'), (7, 3003, '2026-12-01T21:00')")
    await db.close()

    await db.connect()
    async with db.read() as tx:
        alert = await tx.execute_fetchall("SELECT id, kind, state, acked_by, note FROM alerts")
        told = await tx.execute_fetchall(
            "SELECT user_id FROM alert_recipients WHERE alert_id = 7 ORDER BY user_id")
    assert [tuple(r) for r in alert] == [(7, "missed", "acknowledged", 2002, "sealed-note")]
    assert [r[0] for r in told] == [2002, 3003]
    async with db.transaction() as tx:  # a visit's alert is accepted now
        await tx.execute("INSERT INTO alerts (kind, user_id, anchor, created_at)"
                         " VALUES ('visit', 4004, '2026-12-01T10:00', '2026-12-01T10:00')")
        # who was alerted still goes with its alert
        await tx.execute("DELETE FROM alerts WHERE id = 7")
        left = await tx.execute_fetchall("SELECT COUNT(*) FROM alert_recipients")
    assert next(iter(left))[0] == 0
    await db.close()
    async with aiosqlite.connect(tmp_path / "old.db") as raw:
        problems = await raw.execute_fetchall("PRAGMA foreign_key_check")
    assert list(problems) == []
