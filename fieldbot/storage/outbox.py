"""The transactional outbox: messages written with the state change that causes them."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from fieldbot.crypto import Cipher
from fieldbot.domain.alerts import Priority
from fieldbot.storage.codec import parse_ts, ts
from fieldbot.storage.db import Tx

# Higher goes first (the rule is `domain.alerts.Priority`); plain ints for the driver.
PRIORITY_SOS = int(Priority.SOS)
PRIORITY_EMERGENCY = int(Priority.EMERGENCY)
PRIORITY_ALERT = int(Priority.ALERT)
PRIORITY_NOTICE = int(Priority.NOTICE)
PRIORITY_REMINDER = int(Priority.REMINDER)

NOTICE_PREFIX = "admin_"  # notices: the bot's own troubles, told to the admins


def is_notice(kind: str) -> bool:
    return kind.startswith(NOTICE_PREFIX)


def dedupe_prefix(conn: Tx, prefix: str) -> tuple[str, str]:
    """A condition and its parameter matching the dedupe keys that start with `prefix`,
    case-sensitively and through the dedupe index on both engines."""
    assert not set(prefix) & set("*?[%_\\"), prefix
    # SQLite: GLOB is case-sensitive and uses the index; PostgreSQL: LIKE on a COLLATE "C"
    # column does the same (LIKE in SQLite ignores ASCII case and would not).
    if conn.dialect == "sqlite":
        return "dedupe GLOB ?", prefix + "*"
    return "dedupe LIKE ?", prefix + "%"


async def any_live(conn: Tx, prefix: str, *, but: int) -> bool:
    """Whether a message whose dedupe key starts with `prefix`, to anyone but `but`, is
    waiting, being sent or sent (not failed)."""
    match, pattern = dedupe_prefix(conn, prefix)
    rows = await conn.execute_fetchall(
        f"SELECT 1 FROM outbox WHERE {match} AND recipient != ? AND state != 'failed' LIMIT 1",
        (pattern, but))
    return any(True for _ in rows)


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    id: int
    recipient: int
    kind: str
    params: dict[str, Any]
    priority: int
    attempts: int
    alert_id: int | None
    step_index: int | None
    due_at: datetime
    created_at: datetime | None = None  # when the change that caused it was decided
    channel: str = "telegram"  # telegram, sms, call, email, webhook (domain.channels)


async def enqueue(
    conn: Tx,
    *,
    dedupe: str,
    recipient: int,
    kind: str,
    params: dict[str, Any],
    priority: int,
    now: datetime,
    alert_id: int | None = None,
    step_index: int | None = None,
    cipher: Cipher | None = None,
    due_at: datetime | None = None,
    channel: str = "telegram",
    about: Iterable[int] = (),
) -> bool:
    """Add a message unless one with the same dedupe key exists; True if it was added.

    Pass the cipher: the params are then stored encrypted (alert params carry lodging, the
    emergency contact and the last known location). Without it they are stored as readable
    JSON, which is only acceptable for params that hold ids and no personal data.

    `about`: the people whose personal data the params carry besides the recipient's (a name,
    a place, a report): erasing one of them empties the message, at once if it was sent, or
    once it is (a message still waiting is someone's safety message: it goes first).
    """
    row = (dedupe, alert_id, step_index, recipient, kind,
           cipher.encrypt_json(params) if cipher else json.dumps(params, ensure_ascii=False),
           priority, ts(now), ts(due_at or now), channel)
    sql = ("INSERT INTO outbox (dedupe, alert_id, step_index, recipient, kind, params, priority,"
           " created_at, due_at, channel) VALUES (?,?,?,?,?,?,?,?,?,?)"
           " ON CONFLICT (dedupe) DO NOTHING")
    people = sorted(set(about) - {recipient})
    if not people:
        return (await conn.execute(sql, row)).rowcount == 1
    added = list(await conn.execute_fetchall(sql + " RETURNING id", row))
    if not added:
        return False
    await conn.executemany("INSERT INTO outbox_about (user_id, outbox_id) VALUES (?, ?)"
                           " ON CONFLICT (user_id, outbox_id) DO NOTHING",
                           [(person, added[0][0]) for person in people])
    return True


async def enqueue_notice(
    conn: Tx,
    *,
    topic: str,
    recipient: int,
    kind: str,
    params: dict[str, Any],
    now: datetime,
    every: timedelta,
    cipher: Cipher,
) -> None:
    """Add a notice about `topic` (e.g. "unreachable:42"), at most one per `every` to each
    recipient. A notice still waiting absorbs the new one: its params become the newest and
    its "count" grows. Otherwise the next one is due `every` after the last one was."""
    prefix = f"notice:{topic}:to:{recipient}:"
    match, pattern = dedupe_prefix(conn, prefix)
    async with conn.execute(
        f"SELECT id, state, due_at, params FROM outbox WHERE {match}"
        " ORDER BY id DESC LIMIT 1",
        (pattern,),
    ) as cur:
        last = await cur.fetchone()
    if last is not None and last["state"] == "pending":
        merged = read_params(last["params"], cipher)
        count = int(merged.get("count", 1)) + 1
        await conn.execute(
            "UPDATE outbox SET params = ? WHERE id = ?",
            (cipher.encrypt_json({**merged, **params, "count": count}), last["id"]),
        )
        return
    due = now if last is None else max(now, parse_ts(last["due_at"]) + every)
    await enqueue(
        conn, dedupe=prefix + ts(due), recipient=recipient, kind=kind,
        params={**params, "count": 1}, priority=PRIORITY_NOTICE, now=now, cipher=cipher,
        due_at=due,
    )


def read_params(stored: str, cipher: Cipher) -> dict[str, Any]:
    """Decode stored params: encrypted, readable JSON (no cipher given), or '' (purged)."""
    if stored.startswith("{"):
        return dict(json.loads(stored))
    return dict(cipher.decrypt_json(stored, empty={}))


async def claim(
    conn: Tx,
    now: datetime,
    limit: int,
    stale_before: datetime,
    *,
    cipher: Cipher,
    min_priority: int = 0,
) -> list[OutboxMessage]:
    """Claim due messages of at least `min_priority`, most urgent first. A claim older than
    `stale_before` is reclaimed: its sender died mid-send; sending again is at-least-once."""
    async with conn.execute(
        "SELECT * FROM outbox WHERE ((state = 'pending' AND due_at <= ?)"
        " OR (state = 'sending' AND claimed_at < ?)) AND priority >= ?"
        " ORDER BY priority DESC, due_at, id LIMIT ?",
        (ts(now), ts(stale_before), min_priority, limit),
    ) as cur:
        rows = list(await cur.fetchall())
    claimed = []
    for row in rows:
        got = await conn.execute(
            "UPDATE outbox SET state = 'sending', claimed_at = ?, attempts = attempts + 1"
            " WHERE id = ? AND state = ? AND attempts = ?",
            (ts(now), row["id"], row["state"], row["attempts"]),
        )
        if got.rowcount == 1:  # another worker got there first otherwise
            claimed.append(
                OutboxMessage(
                    row["id"], row["recipient"], row["kind"], read_params(row["params"], cipher),
                    row["priority"], row["attempts"] + 1, row["alert_id"], row["step_index"],
                    parse_ts(row["due_at"]), parse_ts(row["created_at"]), row["channel"],
                )
            )
    return claimed


async def ladder_messages_to(conn: Tx, alert_id: int, recipient: int) -> int:
    """How many of an alert's ladder messages one person has been given (sent or on the way):
    the next is "message n + 1" to them, whichever tier it comes with."""
    rows = await conn.execute_fetchall(
        "SELECT COUNT(*) FROM outbox WHERE alert_id = ? AND recipient = ?"
        " AND step_index IS NOT NULL AND state IN ('pending', 'sending', 'sent')"
        " AND channel = 'telegram'",  # an SMS or a call of the same step is not another one
        (alert_id, recipient),
    )
    return int(next(iter(rows))[0])


async def fallback_waiting(conn: Tx, alert_id: int, recipient: int, channel: str) -> bool:
    """Whether a ladder message of this alert to this person on `channel` (an SMS, a call,
    an e-mail after fallback_after) is still waiting for its time."""
    rows = await conn.execute_fetchall(
        "SELECT 1 FROM outbox WHERE alert_id = ? AND recipient = ? AND channel = ?"
        " AND step_index IS NOT NULL AND state = 'pending' LIMIT 1",
        (alert_id, recipient, channel))
    return bool(rows)


async def any_waiting(conn: Tx, min_priority: int = 0) -> bool:
    """Whether any message of at least `min_priority` is pending or claimed (due or not).

    Answered from the `outbox_pending` index alone: a drain with nothing to send (the usual
    case after a check-in) needs no write transaction.
    """
    rows = await conn.execute_fetchall(
        "SELECT 1 FROM outbox WHERE state IN ('pending', 'sending') AND priority >= ? LIMIT 1",
        (min_priority,),
    )
    return any(True for _ in rows)


async def withdraw_superseded(conn: Tx, now: datetime) -> int:
    """Withdraw due ladder messages that a later step of the same alert to the same person
    has overtaken (an outage let them pile up): each person gets the alert's current step,
    once, rather than every repeat they missed."""
    cur = await conn.execute(
        "UPDATE outbox SET state = 'failed', last_error = 'withdrawn: superseded'"
        " WHERE state = 'pending' AND due_at <= ? AND kind IN ('alert', 'alert_rep')"
        " AND EXISTS (SELECT 1 FROM outbox AS later WHERE later.alert_id = outbox.alert_id"
        " AND later.recipient = outbox.recipient AND later.kind = outbox.kind"
        " AND later.channel = outbox.channel"
        " AND later.step_index > outbox.step_index"
        " AND later.state IN ('pending', 'sending', 'sent'))",
        (ts(now),),
    )
    return cur.rowcount


async def withdraw(conn: Tx, message_id: int, why: str) -> None:
    """Withdraw a claimed message that must no longer be sent (its moment has passed)."""
    await conn.execute(
        "UPDATE outbox SET state = 'failed', last_error = ? WHERE id = ?",
        (f"withdrawn: {why}", message_id),
    )


async def release_claims(conn: Tx) -> None:
    """Return every claimed-but-unconfirmed message to the queue (the bot's start-up only:
    any other process would take a running bot's claims away and cause double sends)."""
    await conn.execute("UPDATE outbox SET state = 'pending' WHERE state = 'sending'")


# A message that names someone erased while it waited (see `enqueue`'s `about`; an erased
# person's stand-in has a negative id) keeps no content once it is sent or has failed.
_FORGET_ERASED = (", params = CASE WHEN EXISTS (SELECT 1 FROM outbox_about a"
                  " WHERE a.outbox_id = outbox.id AND a.user_id < 0) THEN '' ELSE params END")


async def mark_sent(
    conn: Tx, message_id: int, at: datetime, telegram_id: int | None, provider_id: str = ""
) -> None:
    await conn.execute(
        "UPDATE outbox SET state = 'sent', sent_at = ?, message_id = ?, provider_id = ?"
        + _FORGET_ERASED + " WHERE id = ?",
        (ts(at), telegram_id, provider_id or None, message_id),
    )


async def mark_failed(conn: Tx, message_id: int, error: str) -> None:
    await conn.execute(
        "UPDATE outbox SET state = 'failed', last_error = ?" + _FORGET_ERASED + " WHERE id = ?",
        (error, message_id))


async def retry_at(
    conn: Tx, message_id: int, due: datetime, error: str
) -> None:
    await conn.execute(
        "UPDATE outbox SET state = 'pending', due_at = ?, last_error = ? WHERE id = ?",
        (ts(due), error, message_id),
    )


async def redirect(conn: Tx, message_id: int, new_recipient: int) -> None:
    await conn.execute(
        "UPDATE outbox SET recipient = ?, state = 'pending' WHERE id = ?",
        (new_recipient, message_id),
    )


async def next_due(conn: Tx) -> datetime | None:
    async with conn.execute(
        "SELECT MIN(due_at) FROM outbox WHERE state = 'pending'"
    ) as cur:
        row = await cur.fetchone()
    return parse_ts(row[0]) if row and row[0] else None


async def withdraw_ladder(conn: Tx, alert_id: int) -> int:
    """Withdraw an ended alert's unsent ladder messages (e.g. waiting out a 429): sent after
    the acknowledgement or the all-clear, they would read as a new alarm. Notices stay."""
    cur = await conn.execute(
        "UPDATE outbox SET state = 'failed', last_error = 'withdrawn: alert ended'"
        " WHERE alert_id = ? AND state = 'pending' AND kind IN ('alert', 'alert_rep')",
        (alert_id,),
    )
    return cur.rowcount
