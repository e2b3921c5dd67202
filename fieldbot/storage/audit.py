"""The append-only audit log: who did what to whose data, by id, never the data itself.

The table refuses UPDATE and DELETE (triggers in 0005_privacy.sql). An entry is written inside
the transaction of the act it records, so a rolled-back act leaves no entry and a committed
act always has one.

Triggers stop mistakes, not someone who can write the database file: they can be dropped. So
the entries are chained: each carries `chain`, an HMAC-SHA256 over the previous entry's chain
value and its own canonical content, and the vault keeps the head (the newest entry's id and
chain, itself MAC'd). `verify` recomputes the chain and names the first entry that is missing,
changed, out of order or added outside the bot.

Why a keyed HMAC and not a plain SHA-256 chain: whoever can edit the file can also recompute
a plain hash chain after editing it, and the chain would prove nothing. The MAC key is random,
stored in the vault encrypted with the personal-data key (fieldbot.crypto), so without the key
file the chain cannot be forged; it does not change when that key is rotated (only its stored
form is re-encrypted). Limits: whoever holds the key file as well can forge anything; and a
copy of an older database file (an older head included) can be put back whole — backups and
the key's separation are what defend against those.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime
from weakref import WeakKeyDictionary

from fieldbot.storage.codec import parse_ts, ts
from fieldbot.storage.db import Tx

MAX_DETAIL = 500
HEAD = "audit_head"  # in the vault: "<id>:<chain>:<mac of both>"
TRIGGERS = ("audit_no_update", "audit_no_delete")

# The MAC key of each open connection, given by KeyService.unlock once the encryption key
# has opened the database (per connection, so two databases in one process never mix keys).
_KEYS: WeakKeyDictionary[object, bytes] = WeakKeyDictionary()


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    at: datetime
    actor: int | None
    action: str
    subject: int | None
    detail: str


@dataclass(frozen=True, slots=True)
class ChainCheck:
    """What `verify` found: `problem` is None when the log is intact."""

    entries: int
    problem: str | None = None
    bad_id: int | None = None  # the first entry that is missing, changed or out of place

    @property
    def intact(self) -> bool:
        return self.problem is None


def use_key(conn: Tx, key: bytes) -> None:
    """Give this connection the audit log's MAC key (done when the database is unlocked)."""
    _KEYS[conn.session] = key


def _key(conn: Tx) -> bytes:
    try:
        return _KEYS[conn.session]
    except KeyError:
        raise RuntimeError("the audit log's key has not been loaded (KeyService.unlock)")\
            from None


def _mac(key: bytes, prev: str, entry_id: int, at: str, actor: int | None, action: str,
         subject: int | None, detail: str) -> str:
    content = json.dumps([entry_id, at, actor, action, subject, detail], ensure_ascii=False,
                         separators=(",", ":"))
    return hmac.new(key, f"{prev}\n{content}".encode(), hashlib.sha256).hexdigest()


def _head_mac(key: bytes, entry_id: int, chain: str) -> str:
    return hmac.new(key, f"head\n{entry_id}\n{chain}".encode(), hashlib.sha256).hexdigest()


async def _head(conn: Tx, key: bytes) -> tuple[int, str] | None:
    """The vault's head (newest id and chain) if present and genuine."""
    async with conn.execute("SELECT value FROM vault WHERE name = ?", (HEAD,)) as cur:
        row = await cur.fetchone()
    if row is None:
        return None
    entry_id, _, rest = str(row[0]).partition(":")
    chain, _, mac = rest.partition(":")
    if not entry_id.isdigit() or not hmac.compare_digest(mac, _head_mac(key, int(entry_id),
                                                                        chain)):
        return None
    return int(entry_id), chain


async def _set_head(conn: Tx, key: bytes, entry_id: int, chain: str,
                    *, create: bool = False) -> None:
    value = f"{entry_id}:{chain}:{_head_mac(key, entry_id, chain)}"
    if create:
        await conn.execute(
            "INSERT INTO vault (name, value) VALUES (?, ?)"
            " ON CONFLICT (name) DO UPDATE SET value = excluded.value", (HEAD, value))
    else:  # a head that has gone stays gone: `verify` must keep saying so
        await conn.execute("UPDATE vault SET value = ? WHERE name = ?", (value, HEAD))


async def _last(conn: Tx) -> tuple[int, str]:
    async with conn.execute("SELECT id, chain FROM audit ORDER BY id DESC LIMIT 1") as cur:
        row = await cur.fetchone()
    return (int(row[0]), str(row[1])) if row else (0, "")


async def record(
    conn: Tx,
    actor: int | None,
    action: str,
    subject: int | None,
    detail: str,
    now: datetime,
) -> None:
    """Append an entry. `actor`/`subject` are user ids (None: the system / nobody);
    `detail` carries ids and codes only ("alert=12 step=3"), never names, places or phones.

    The entry continues the chain from the vault's head (so entries deleted at the end leave
    a gap before the next one), or from the newest entry if the head is gone."""
    key = _key(conn)
    last_id, last_chain = await _last(conn)
    head = await _head(conn, key)
    prev_id, prev_chain = head if head is not None else (last_id, last_chain)
    entry_id = max(prev_id, last_id) + 1
    at, detail = ts(now), detail[:MAX_DETAIL]
    chain = _mac(key, prev_chain, entry_id, at, actor, action, subject, detail)
    await conn.execute(
        "INSERT INTO audit (id, at, actor, action, subject, detail, chain)"
        " VALUES (?,?,?,?,?,?,?)",
        (entry_id, at, actor, action, subject, detail, chain),
    )
    await _set_head(conn, key, entry_id, chain)


async def start_chain(conn: Tx) -> int:
    """Chain the entries written before the chain existed (once, at the first start after the
    upgrade; the trigger lets an empty chain value be filled in, nothing else), and write the
    head. Returns how many entries were sealed."""
    key = _key(conn)
    async with conn.execute("SELECT * FROM audit ORDER BY id") as cur:
        rows = list(await cur.fetchall())
    prev, last_id, sealed = "", 0, 0
    for r in rows:
        chain = r["chain"]
        if not chain:
            chain = _mac(key, prev, r["id"], r["at"], r["actor"], r["action"], r["subject"],
                         r["detail"])
            await conn.execute("UPDATE audit SET chain = ? WHERE id = ?", (chain, r["id"]))
            sealed += 1
        prev, last_id = chain, r["id"]
    await _set_head(conn, key, last_id, prev, create=True)
    return sealed


async def verify(conn: Tx) -> ChainCheck:
    """Recompute the chain; report the first entry missing, changed, reordered or added
    outside the bot, a head that is gone or forged, and append-only triggers that are gone."""
    key = _key(conn)
    async with conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit'"
        if conn.dialect == "sqlite" else
        "SELECT tgname FROM pg_trigger WHERE tgrelid = 'audit'::regclass AND NOT tgisinternal"
    ) as cur:
        triggers = {str(r[0]) for r in await cur.fetchall()}
    prev, expected, count = "", 1, 0
    async with conn.execute("SELECT * FROM audit ORDER BY id") as cur:
        async for r in cur:
            count += 1
            if r["id"] != expected:
                return ChainCheck(count, f"entries #{expected} to #{r['id'] - 1} are missing",
                                  expected)
            mac = _mac(key, prev, r["id"], r["at"], r["actor"], r["action"], r["subject"],
                       r["detail"])
            if not r["chain"] or not hmac.compare_digest(r["chain"], mac):
                return ChainCheck(count, f"entry #{r['id']} was changed, moved or put in",
                                  r["id"])
            prev, expected = r["chain"], r["id"] + 1
    last = expected - 1
    head = await _head(conn, key)
    if head is None:
        return ChainCheck(count, "the chain's head is gone or forged", last + 1)
    head_id, head_chain = head
    if head_id > last:
        return ChainCheck(count, f"entries #{last + 1} to #{head_id} are missing", last + 1)
    if head_id < last:
        return ChainCheck(count, f"entry #{head_id + 1} was put in outside the bot",
                          head_id + 1)
    if head_chain != prev:
        return ChainCheck(count, f"entry #{last} does not match the chain's head", last)
    missing = [t for t in TRIGGERS if t not in triggers]
    if missing:
        return ChainCheck(count, f"the append-only triggers are gone: {', '.join(missing)}")
    return ChainCheck(count)


async def since(conn: Tx, start: datetime) -> list[AuditEntry]:
    """Return the entries at or after `start`, oldest first."""
    async with conn.execute(
        "SELECT * FROM audit WHERE at >= ? ORDER BY at, id", (ts(start),)
    ) as cur:
        return [
            AuditEntry(r["id"], parse_ts(r["at"]), r["actor"], r["action"], r["subject"],
                       r["detail"])
            for r in await cur.fetchall()
        ]


async def count_about(
    conn: Tx, subject: int, *, hide_duress: bool = False
) -> int:
    """How many entries concern a person; with `hide_duress`, not those about a duress alert
    (the person is shown this count, and must never learn that such an alert exists)."""
    sql = "SELECT COUNT(*) FROM audit a WHERE a.subject = ?"
    if hide_duress:
        sql += (" AND NOT EXISTS (SELECT 1 FROM alerts d WHERE d.user_id = a.subject"
                " AND d.kind = 'duress' AND (a.detail = 'alert=' || d.id"
                " OR a.detail LIKE 'alert=' || d.id || ' %'))")
    async with conn.execute(sql, (subject,)) as cur:
        row = await cur.fetchone()
    return int(row[0]) if row else 0
