"""The inbox table: updates kept durably from their arrival until they have been handled."""

from __future__ import annotations

from datetime import datetime

from fieldbot.storage.codec import ts
from fieldbot.storage.db import Tx


async def keep(conn: Tx, update_id: int, payload: str, now: datetime) -> bool:
    """Store an update unless its id is known already; True if it is new."""
    cur = await conn.execute(
        "INSERT INTO inbox (update_id, payload, received_at) VALUES (?, ?, ?)"
        " ON CONFLICT (update_id) DO NOTHING",
        (update_id, payload, ts(now)),
    )
    return cur.rowcount == 1


async def mark_done(conn: Tx, update_ids: list[int], now: datetime) -> None:
    """Mark handled updates; their text is dropped, the id stays to recognise a redelivery."""
    await conn.executemany(
        "UPDATE inbox SET done_at = ?, payload = '' WHERE update_id = ? AND done_at IS NULL",
        [(ts(now), update_id) for update_id in update_ids],
    )


async def unfinished(conn: Tx) -> list[tuple[int, str]]:
    """Return (update_id, payload) of every update not handled yet, oldest first."""
    async with conn.execute(
        "SELECT update_id, payload FROM inbox WHERE done_at IS NULL ORDER BY update_id"
    ) as cur:
        return [(int(row[0]), str(row[1])) for row in await cur.fetchall()]


async def forget_done(conn: Tx, before: datetime) -> int:
    """Delete the ids of updates handled before `before` (Telegram redelivers for 24 h)."""
    cur = await conn.execute(
        "DELETE FROM inbox WHERE done_at IS NOT NULL AND done_at < ?", (ts(before),)
    )
    return cur.rowcount
