"""What is encrypted at rest: every encrypted column, the vault (the key's canary, the keys
kept encrypted, upgrade markers), and re-encrypting all of it (an upgrade, a key rotation)."""

from __future__ import annotations

import json
from collections.abc import Callable

from fieldbot.crypto import Cipher
from fieldbot.storage.db import Tx

# Every encrypted column, by table (each has an INTEGER PRIMARY KEY `id`). PTB's persisted
# user_data (ptb_state, kind 'user') is encrypted too and handled on its own below.
ENCRYPTED_COLUMNS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("users", ("name",)),
    ("trips", ("lodging", "contact_name", "contact_phone", "companion", "report",
               "decision_note")),
    ("nights", ("note",)),
    ("alerts", ("note",)),
    ("locations", ("point",)),
    ("outbox", ("params",)),
    ("hazards", ("description", "point", "place", "place_zh")),
    ("contacts", ("phone", "email")),
    ("contact_codes", ("target",)),
    ("visits", ("client", "place", "point", "companion", "place_zh")),
    ("visit_notes", ("client", "place", "point", "body")),
    ("incidents", ("place", "people", "description", "review", "place_zh")),
    ("lessons", ("place", "cause", "measures", "place_zh")),
    ("rollcalls", ("scope", "message")),
)
# Encrypted values kept in the vault: the canary, the audit log's MAC key and the contact
# points' blind index key.
ENCRYPTED_META = ("canary", "audit_key", "contact_key")
CANARY = "fieldbot: this key opens this database"


# --- the vault: the canary and the upgrade marker ---------------------------------------------


async def get_meta(conn: Tx, name: str) -> str | None:
    async with conn.execute("SELECT value FROM vault WHERE name = ?", (name,)) as cur:
        row = await cur.fetchone()
    return str(row[0]) if row else None


async def set_meta(conn: Tx, name: str, value: str) -> None:
    await conn.execute(
        "INSERT INTO vault (name, value) VALUES (?, ?)"
        " ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        (name, value),
    )


async def delete_meta(conn: Tx, name: str) -> None:
    await conn.execute("DELETE FROM vault WHERE name = ?", (name,))


# --- re-encryption ------------------------------------------------------------------------------


async def rewrite_all(
    conn: Tx, column: Callable[[str], str], user_data: Callable[[str], str]
) -> int:
    """Apply `column` to every non-empty encrypted value and `user_data` to every persisted
    user_data value (the stored JSON text); return how many values changed."""
    changed = 0
    for table, columns in ENCRYPTED_COLUMNS:
        async with conn.execute(f"SELECT id, {', '.join(columns)} FROM {table}") as cur:
            rows = list(await cur.fetchall())
        sets = ", ".join(f"{c} = ?" for c in columns)
        for row in rows:
            values = [column(row[c]) if row[c] else row[c] for c in columns]
            await conn.execute(f"UPDATE {table} SET {sets} WHERE id = ?", (*values, row["id"]))
            changed += sum(1 for c in columns if row[c])
    async with conn.execute("SELECT key, value FROM ptb_state WHERE kind = 'user'") as cur:
        rows = list(await cur.fetchall())
    for row in rows:
        await conn.execute(
            "UPDATE ptb_state SET value = ? WHERE kind = 'user' AND key = ?",
            (user_data(row["value"]), row["key"]),
        )
        changed += 1
    return changed


async def encrypt_plaintext(conn: Tx, cipher: Cipher) -> int:
    """Encrypt the values written before their column was encrypted (0005 and later mark
    them); values that are tokens already stay as they are, so this is safe to repeat."""

    def seal_column(stored: str) -> str:
        return stored if cipher.opens(stored) else cipher.encrypt(stored)

    def seal_user_data(stored: str) -> str:
        value = json.loads(stored)
        return stored if isinstance(value, str) else json.dumps(cipher.encrypt(stored))

    return await rewrite_all(conn, seal_column, seal_user_data)


async def rotate_all(conn: Tx, cipher: Cipher) -> int:
    """Re-encrypt every value under the cipher's first key."""

    def rotate_user_data(stored: str) -> str:
        value = json.loads(stored)
        return json.dumps(cipher.rotate(value)) if isinstance(value, str) else stored

    def rotate_column(stored: str) -> str:
        # Outbox params enqueued without a cipher are readable JSON: nothing to rotate.
        return stored if stored.startswith("{") else cipher.rotate(stored)

    changed = await rewrite_all(conn, rotate_column, rotate_user_data)
    for name in ENCRYPTED_META:
        value = await get_meta(conn, name)
        if value is not None:
            await set_meta(conn, name, cipher.rotate(value))
    return changed
