"""A small JSON key-value table for state the Telegram layer persists (conversations, drafts)."""

from __future__ import annotations

import json
from typing import Any

from fieldbot.storage.db import Tx


async def load(conn: Tx, kind: str) -> dict[str, Any]:
    async with conn.execute("SELECT key, value FROM ptb_state WHERE kind = ?", (kind,)) as cur:
        return {row["key"]: json.loads(row["value"]) for row in await cur.fetchall()}


async def load_prefix(conn: Tx, prefix: str) -> dict[str, dict[str, Any]]:
    """Return {kind: {key: value}} for every kind starting with `prefix`."""
    out: dict[str, dict[str, Any]] = {}
    async with conn.execute(
        "SELECT kind, key, value FROM ptb_state WHERE kind >= ? AND kind < ?",
        (prefix, prefix + "\uffff"),
    ) as cur:
        for row in await cur.fetchall():
            out.setdefault(row["kind"], {})[row["key"]] = json.loads(row["value"])
    return out


async def put(conn: Tx, kind: str, key: str, value: Any) -> None:
    await conn.execute(
        "INSERT INTO ptb_state (kind, key, value) VALUES (?, ?, ?)"
        " ON CONFLICT (kind, key) DO UPDATE SET value = excluded.value",
        (kind, key, json.dumps(value, ensure_ascii=False)),
    )


async def delete(conn: Tx, kind: str, key: str) -> None:
    await conn.execute("DELETE FROM ptb_state WHERE kind = ? AND key = ?", (kind, key))
