"""The safety desk's one-time links and sessions (hashed tokens only)."""

from __future__ import annotations

from datetime import datetime

from fieldbot.storage.codec import parse_ts, ts
from fieldbot.storage.db import Tx


async def add_link(conn: Tx, token_hash: str, user_id: int, now: datetime,
                   expires: datetime) -> None:
    await conn.execute(
        "INSERT INTO desk_links (token_hash, user_id, created_at, expires_at) VALUES (?,?,?,?)",
        (token_hash, user_id, ts(now), ts(expires)),
    )


async def use_link(conn: Tx, token_hash: str, now: datetime) -> int | None:
    """Mark a fresh, unused link used and return its person; None if it was not that
    (compare-and-set: of two tabs opening the same link, one wins)."""
    rows = list(await conn.execute_fetchall(
        "SELECT user_id FROM desk_links WHERE token_hash = ? AND used_at IS NULL"
        " AND expires_at > ?", (token_hash, ts(now))))
    if not rows:
        return None
    cur = await conn.execute(
        "UPDATE desk_links SET used_at = ? WHERE token_hash = ? AND used_at IS NULL",
        (ts(now), token_hash))
    return int(rows[0]["user_id"]) if cur.rowcount == 1 else None


async def add_session(conn: Tx, token_hash: str, user_id: int, now: datetime,
                      expires: datetime) -> None:
    await conn.execute(
        "INSERT INTO desk_sessions (token_hash, user_id, created_at, expires_at)"
        " VALUES (?,?,?,?)", (token_hash, user_id, ts(now), ts(expires)),
    )


async def session(conn: Tx, token_hash: str, now: datetime) -> tuple[int, datetime, str] | None:
    """Return (person, expiry, digest shown) of a live session."""
    rows = list(await conn.execute_fetchall(
        "SELECT user_id, expires_at, shown FROM desk_sessions WHERE token_hash = ?"
        " AND expires_at > ?", (token_hash, ts(now))))
    if not rows:
        return None
    row = rows[0]
    return int(row["user_id"]), parse_ts(row["expires_at"]), str(row["shown"])


async def set_shown(conn: Tx, token_hash: str, digest: str) -> bool:
    """Remember what the page showed; False if it showed that already."""
    cur = await conn.execute(
        "UPDATE desk_sessions SET shown = ? WHERE token_hash = ? AND shown <> ?",
        (digest, token_hash, digest))
    return cur.rowcount == 1


async def end_session(conn: Tx, token_hash: str) -> None:
    await conn.execute("DELETE FROM desk_sessions WHERE token_hash = ?", (token_hash,))


async def purge(conn: Tx, now: datetime) -> None:
    """Forget expired sessions and links."""
    await conn.execute("DELETE FROM desk_sessions WHERE expires_at <= ?", (ts(now),))
    await conn.execute("DELETE FROM desk_links WHERE expires_at <= ?", (ts(now),))


async def end_sessions_of(conn: Tx, user_id: int) -> None:
    await conn.execute("DELETE FROM desk_sessions WHERE user_id = ?", (user_id,))


async def sent_alert_messages(conn: Tx, alert_id: int, recipient: int) -> list[int]:
    """Return the Telegram message ids of the alert's ladder messages sent to `recipient`."""
    rows = await conn.execute_fetchall(
        "SELECT message_id FROM outbox WHERE alert_id = ? AND recipient = ? AND state = 'sent'"
        " AND message_id IS NOT NULL AND step_index IS NOT NULL ORDER BY id",
        (alert_id, recipient))
    return [int(r["message_id"]) for r in rows]
