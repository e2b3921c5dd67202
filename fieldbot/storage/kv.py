"""A small JSON key-value table for state the Telegram layer persists (conversations, drafts).

Each row may name its owner, the person it belongs to: erasing a person deletes their rows
(see `privacy.erase_person`) without the core knowing how the rows are keyed.
"""

from __future__ import annotations

import json
from typing import Any

from fieldbot.storage.db import Tx


async def load(conn: Tx, kind: str) -> dict[str, Any]:
    async with conn.execute("SELECT key, value FROM ptb_state WHERE kind = ?", (kind,)) as cur:
        return {row["key"]: json.loads(row["value"]) for row in await cur.fetchall()}


async def put(
    conn: Tx, kind: str, key: str, value: Any, owner: int | None = None
) -> None:
    await conn.execute(
        "INSERT INTO ptb_state (kind, key, value, owner) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (kind, key) DO UPDATE SET value = excluded.value, owner = excluded.owner",
        (kind, key, json.dumps(value, ensure_ascii=False), owner),
    )


async def delete(conn: Tx, kind: str, key: str) -> None:
    await conn.execute("DELETE FROM ptb_state WHERE kind = ? AND key = ?", (kind, key))


async def delete_owned_by(conn: Tx, owner: int) -> int:
    """Delete every row that belongs to this person; return how many."""
    cur = await conn.execute("DELETE FROM ptb_state WHERE owner = ?", (owner,))
    return max(cur.rowcount, 0)
