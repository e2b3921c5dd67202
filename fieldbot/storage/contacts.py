"""Contact points (phone, e-mail) and the codes that confirm them; numbers and addresses are
stored encrypted, with a keyed blind index of each number to find its owner."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

from fieldbot.crypto import Cipher
from fieldbot.domain.contacts import ContactPoints
from fieldbot.storage import vault
from fieldbot.storage.codec import parse_ts, ts
from fieldbot.storage.db import Tx

KEY_NAME = "contact_key"  # the blind index's HMAC key, encrypted in the vault


async def _key(conn: Tx, cipher: Cipher, *, create: bool) -> bytes | None:
    """The blind index key: random, made once, kept encrypted under the Fernet key (so it is
    rotated with it and useless without it)."""
    stored = await vault.get_meta(conn, KEY_NAME)
    if stored is None:
        if not create:
            return None
        stored = cipher.encrypt(secrets.token_hex(32))
        await vault.set_meta(conn, KEY_NAME, stored)
    return bytes.fromhex(cipher.decrypt(stored))


def _blind(key: bytes, label: str, value: str) -> str:
    return hmac.new(key, f"{label}:{value}".encode(), hashlib.sha256).hexdigest()


async def get(conn: Tx, user_id: int, cipher: Cipher) -> ContactPoints:
    rows = list(await conn.execute_fetchall(
        "SELECT phone, phone_verified, email, email_verified FROM contacts WHERE id = ?",
        (user_id,)))
    if not rows:
        return ContactPoints()
    row = rows[0]
    return ContactPoints(
        phone=cipher.decrypt(row["phone"]) or None, phone_verified=bool(row["phone_verified"]),
        email=cipher.decrypt(row["email"]) or None, email_verified=bool(row["email_verified"]),
    )


async def user_by_phone(conn: Tx, phone_e164: str, cipher: Cipher) -> int | None:
    """The person whose confirmed number this is (an inbound SMS's sender), else None."""
    key = await _key(conn, cipher, create=False)
    if key is None:
        return None
    rows = list(await conn.execute_fetchall(
        "SELECT id FROM contacts WHERE phone_index = ? AND phone_verified = 1 ORDER BY id",
        (_blind(key, "phone", phone_e164),)))
    return int(rows[0]["id"]) if rows else None


async def others_with_phone(conn: Tx, user_id: int, phone_e164: str, cipher: Cipher) -> bool:
    """Whether someone else has confirmed this number already."""
    owner = await user_by_phone(conn, phone_e164, cipher)
    return owner is not None and owner != user_id


async def _ensure(conn: Tx, user_id: int, now: datetime) -> None:
    await conn.execute(
        "INSERT INTO contacts (id, updated_at) VALUES (?, ?) ON CONFLICT (id) DO NOTHING",
        (user_id, ts(now)))


async def set_phone(conn: Tx, user_id: int, phone_e164: str | None, *, via: str | None,
                    cipher: Cipher, now: datetime) -> None:
    """Keep a confirmed number (`via` 'telegram' or 'sms'); None removes it."""
    await _ensure(conn, user_id, now)
    if phone_e164 is None:
        await conn.execute(
            "UPDATE contacts SET phone = '', phone_index = NULL, phone_verified = 0,"
            " phone_via = NULL, updated_at = ? WHERE id = ?", (ts(now), user_id))
        return
    key = await _key(conn, cipher, create=True)
    assert key is not None
    await conn.execute(
        "UPDATE contacts SET phone = ?, phone_index = ?, phone_verified = 1, phone_via = ?,"
        " updated_at = ? WHERE id = ?",
        (cipher.encrypt(phone_e164), _blind(key, "phone", phone_e164), via, ts(now), user_id))


async def set_email(conn: Tx, user_id: int, email: str | None, *, cipher: Cipher,
                    now: datetime) -> None:
    """Keep a confirmed address; None removes it."""
    await _ensure(conn, user_id, now)
    await conn.execute(
        "UPDATE contacts SET email = ?, email_verified = ?, updated_at = ? WHERE id = ?",
        (cipher.encrypt(email or ""), int(email is not None), ts(now), user_id))


async def erase(conn: Tx, user_id: int) -> int:
    """Delete a person's contact points and pending codes; return how many rows went."""
    gone = (await conn.execute("DELETE FROM contacts WHERE id = ?", (user_id,))).rowcount
    gone += (await conn.execute("DELETE FROM contact_codes WHERE user_id = ?",
                                (user_id,))).rowcount
    return max(gone, 0)


async def without_phone(conn: Tx, roles: tuple[str, ...], enrolled_before: datetime
                        ) -> list[int]:
    """Ids of the (non-erased) people holding one of `roles`, enrolled before an instant,
    who have no confirmed phone."""
    marks = ",".join("?" * len(roles))
    rows = await conn.execute_fetchall(
        f"SELECT u.id FROM users u LEFT JOIN contacts c ON c.id = u.id"
        f" WHERE u.role IN ({marks}) AND u.unreachable IS NOT 'erased'"
        f" AND u.enrolled_at <= ? AND COALESCE(c.phone_verified, 0) = 0 ORDER BY u.id",
        (*roles, ts(enrolled_before)))
    return [int(r["id"]) for r in rows]


# --- codes ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PendingCode:
    kind: str
    target: str  # decrypted
    code_hash: str
    expires_at: datetime
    tries: int
    sends: int
    window_start: datetime
    last_sent_at: datetime
    locked_until: datetime | None


async def code_hash(conn: Tx, user_id: int, kind: str, target: str, code: str,
                    cipher: Cipher) -> str:
    """A code's keyed hash, bound to the person, the kind and the target: six digits are
    guessed offline in a second, so a plain hash would hide nothing."""
    key = await _key(conn, cipher, create=True)
    assert key is not None
    return _blind(key, f"code:{user_id}:{kind}:{target}", code)


async def pending(conn: Tx, user_id: int, kind: str, cipher: Cipher) -> PendingCode | None:
    rows = list(await conn.execute_fetchall(
        "SELECT * FROM contact_codes WHERE user_id = ? AND kind = ?", (user_id, kind)))
    if not rows:
        return None
    r = rows[0]
    return PendingCode(
        kind=r["kind"], target=cipher.decrypt(r["target"]), code_hash=r["code_hash"],
        expires_at=parse_ts(r["expires_at"]), tries=int(r["tries"]), sends=int(r["sends"]),
        window_start=parse_ts(r["window_start"]), last_sent_at=parse_ts(r["last_sent_at"]),
        locked_until=parse_ts(r["locked_until"]) if r["locked_until"] else None,
    )


async def put_code(conn: Tx, user_id: int, code: PendingCode, cipher: Cipher) -> None:
    """Store (or replace) the person's code of this kind."""
    await conn.execute(
        "INSERT INTO contact_codes (user_id, kind, target, code_hash, expires_at, tries, sends,"
        " window_start, last_sent_at, locked_until) VALUES (?,?,?,?,?,?,?,?,?,?)"
        " ON CONFLICT (user_id, kind) DO UPDATE SET target = excluded.target,"
        " code_hash = excluded.code_hash, expires_at = excluded.expires_at,"
        " tries = excluded.tries, sends = excluded.sends, window_start = excluded.window_start,"
        " last_sent_at = excluded.last_sent_at, locked_until = excluded.locked_until",
        (user_id, code.kind, cipher.encrypt(code.target), code.code_hash, ts(code.expires_at),
         code.tries, code.sends, ts(code.window_start), ts(code.last_sent_at),
         ts(code.locked_until) if code.locked_until else None))


async def drop_code(conn: Tx, user_id: int, kind: str) -> None:
    await conn.execute("DELETE FROM contact_codes WHERE user_id = ? AND kind = ?",
                       (user_id, kind))
