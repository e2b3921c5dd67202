"""Persisted conversation state: a key-value store the Telegram layer keeps its conversations
and drafts in, so that it never touches storage itself.

Values are JSON. A row may name its owner (a user id): erasing that person deletes it.
"""

from __future__ import annotations

from typing import Any

from fieldbot.storage import kv
from fieldbot.storage.db import Database


class StateStore:
    """Load, put and delete named values, grouped by kind (e.g. one kind per conversation)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def load(self, kind: str) -> dict[str, Any]:
        """Return {key: value} of one kind; opens the database if it is not open yet (PTB
        loads persisted state before the application's start-up hook runs)."""
        await self._db.connect()
        async with self._db.read() as conn:
            return await kv.load(conn, kind)

    async def put(self, kind: str, key: str, value: Any, owner: int | None = None) -> None:
        async with self._db.transaction() as conn:
            await kv.put(conn, kind, key, value, owner)

    async def delete(self, kind: str, key: str) -> None:
        async with self._db.transaction() as conn:
            await kv.delete(conn, kind, key)
