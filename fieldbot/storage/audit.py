"""The append-only audit log: who did what to whose data, by id, never the data itself.

The table refuses UPDATE and DELETE (triggers in 0005_privacy.sql). An entry is written inside
the transaction of the act it records, so a rolled-back act leaves no entry and a committed
act always has one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from fieldbot.storage.codec import parse_ts, ts

MAX_DETAIL = 500


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    at: datetime
    actor: int | None
    action: str
    subject: int | None
    detail: str


async def record(
    conn: aiosqlite.Connection,
    actor: int | None,
    action: str,
    subject: int | None,
    detail: str,
    now: datetime,
) -> None:
    """Append an entry. `actor`/`subject` are user ids (None: the system / nobody);
    `detail` carries ids and codes only ("alert=12 step=3"), never names, places or phones."""
    await conn.execute(
        "INSERT INTO audit (at, actor, action, subject, detail) VALUES (?,?,?,?,?)",
        (ts(now), actor, action, subject, detail[:MAX_DETAIL]),
    )


async def since(conn: aiosqlite.Connection, start: datetime) -> list[AuditEntry]:
    """Return the entries at or after `start`, oldest first."""
    async with conn.execute(
        "SELECT * FROM audit WHERE at >= ? ORDER BY at, id", (ts(start),)
    ) as cur:
        return [
            AuditEntry(r["id"], parse_ts(r["at"]), r["actor"], r["action"], r["subject"],
                       r["detail"])
            for r in await cur.fetchall()
        ]


async def count_about(conn: aiosqlite.Connection, subject: int) -> int:
    async with conn.execute("SELECT COUNT(*) FROM audit WHERE subject = ?", (subject,)) as cur:
        row = await cur.fetchone()
    return int(row[0]) if row else 0
