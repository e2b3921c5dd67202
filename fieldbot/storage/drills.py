"""Drills and the DRILL alerts each opened (the alerts themselves live in `alerts`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from fieldbot.domain.drills import DrillRecord, DrillState, TargetResult, outcome_of
from fieldbot.domain.report import Month
from fieldbot.storage.codec import opt_ts, parse_ts, ts
from fieldbot.storage.db import Tx


@dataclass(frozen=True, slots=True)
class DrillRow:
    id: int
    started_by: int
    team: str
    started_at: datetime
    ends_at: datetime
    state: DrillState

    @property
    def label(self) -> str:
        return f"D-{self.id}"


async def add(conn: Tx, started_by: int, team: str, now: datetime, ends_at: datetime) -> int:
    cur = await conn.execute(
        "INSERT INTO drills (started_by, team, started_at, ends_at) VALUES (?,?,?,?)",
        (started_by, team, ts(now), ts(ends_at)))
    assert cur.lastrowid is not None
    return cur.lastrowid


async def add_alert(conn: Tx, drill_id: int, alert_id: int, user_id: int) -> None:
    await conn.execute("INSERT INTO drill_alerts (drill_id, alert_id, user_id) VALUES (?,?,?)",
                       (drill_id, alert_id, user_id))


def _drill(row: aiosqlite.Row) -> DrillRow:
    return DrillRow(row["id"], row["started_by"], row["team"], parse_ts(row["started_at"]),
                    parse_ts(row["ends_at"]), DrillState(row["state"]))


async def get(conn: Tx, drill_id: int) -> DrillRow | None:
    rows = await conn.execute_fetchall("SELECT * FROM drills WHERE id = ?", (drill_id,))
    return next((_drill(r) for r in rows), None)


async def of_alert(conn: Tx, alert_id: int) -> int | None:
    rows = await conn.execute_fetchall("SELECT drill_id FROM drill_alerts WHERE alert_id = ?",
                                       (alert_id,))
    first = next(iter(rows), None)
    return first[0] if first else None


async def open_by(conn: Tx, officer_id: int) -> list[DrillRow]:
    rows = await conn.execute_fetchall(
        "SELECT * FROM drills WHERE state = 'open' AND started_by = ? ORDER BY id",
        (officer_id,))
    return [_drill(r) for r in rows]


async def to_settle(conn: Tx, now: datetime, limit: int) -> list[int]:
    """Open drills that have ended, or whose every alert is settled."""
    rows = await conn.execute_fetchall(
        "SELECT d.id FROM drills d WHERE d.state = 'open' AND (d.ends_at <= ? OR NOT EXISTS"
        " (SELECT 1 FROM drill_alerts x JOIN alerts a ON a.id = x.alert_id"
        "  WHERE x.drill_id = d.id AND a.state = 'open')) ORDER BY d.ends_at LIMIT ?",
        (ts(now), limit))
    return [r[0] for r in rows]


async def live_alert_ids(conn: Tx, drill_id: int) -> list[int]:
    """The drill's alerts nobody has answered yet (still open)."""
    rows = await conn.execute_fetchall(
        "SELECT a.id FROM drill_alerts x JOIN alerts a ON a.id = x.alert_id"
        " WHERE x.drill_id = ? AND a.state = 'open' ORDER BY a.id", (drill_id,))
    return [r[0] for r in rows]


async def alert_ids(conn: Tx, drill_id: int) -> list[int]:
    rows = await conn.execute_fetchall(
        "SELECT alert_id FROM drill_alerts WHERE drill_id = ? ORDER BY alert_id", (drill_id,))
    return [r[0] for r in rows]


async def finish(conn: Tx, drill_id: int, now: datetime) -> bool:
    cur = await conn.execute(
        "UPDATE drills SET state = 'done', done_at = ? WHERE id = ? AND state = 'open'",
        (ts(now), drill_id))
    return cur.rowcount == 1


async def results(conn: Tx, drill_id: int, started: datetime) -> list[TargetResult]:
    rows = await conn.execute_fetchall(
        "SELECT x.user_id, a.resolution, a.acked_by, a.acked_at FROM drill_alerts x"
        " JOIN alerts a ON a.id = x.alert_id WHERE x.drill_id = ? ORDER BY a.id", (drill_id,))
    return [outcome_of(r["user_id"], started, r["resolution"], r["acked_by"],
                       opt_ts(r["acked_at"])) for r in rows]


async def month_records(conn: Tx, month: Month) -> list[DrillRecord]:
    """The drills started in the month (UTC), each with how its people answered."""
    rows = await conn.execute_fetchall(
        "SELECT * FROM drills WHERE started_at >= ? AND started_at < ? ORDER BY id",
        (ts(month.start), ts(month.end)))
    records = []
    for row in rows:
        d = _drill(row)
        records.append(DrillRecord(d.team, d.started_at,
                                   tuple(await results(conn, d.id, d.started_at))))
    return records


async def next_end(conn: Tx) -> datetime | None:
    rows = await conn.execute_fetchall("SELECT MIN(ends_at) FROM drills WHERE state = 'open'")
    first = next(iter(rows), None)
    return opt_ts(first[0]) if first else None
