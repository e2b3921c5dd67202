"""What became of outbox messages on channels beyond Telegram: the providers' statuses, the
calls placed per person, single-use links, and which channels reached whom."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from fieldbot.domain.channels import (
    ANSWERED_BY_MACHINE,
    NOT_REACHED,
    REACHED,
    REPLACED_BY_MACHINE,
    TELEGRAM,
    Attempt,
)
from fieldbot.storage.codec import parse_ts, ts
from fieldbot.storage.db import Tx

_FINAL = tuple(sorted(NOT_REACHED | REACHED))
_FINAL_BUT_COMPLETED = tuple(sorted((NOT_REACHED | REACHED) - REPLACED_BY_MACHINE))
# Voicemail took the alert: nobody reached for the ladder, but a message was left there, so
# how the alert ended is said there too.
_NOT_TOLD = tuple(sorted(NOT_REACHED - {ANSWERED_BY_MACHINE}))


@dataclass(frozen=True, slots=True)
class DeliveryRow:
    id: int
    recipient: int
    kind: str
    channel: str
    state: str
    delivery: str
    alert_id: int | None
    step_index: int | None
    sent_at: datetime | None


_COLUMNS = "id, recipient, kind, channel, state, delivery, alert_id, step_index, sent_at"


def _row(r: aiosqlite.Row) -> DeliveryRow:
    return DeliveryRow(r["id"], r["recipient"], r["kind"], r["channel"], r["state"],
                       r["delivery"], r["alert_id"], r["step_index"],
                       parse_ts(r["sent_at"]) if r["sent_at"] else None)


async def get(conn: Tx, outbox_id: int) -> DeliveryRow | None:
    rows = await conn.execute_fetchall(f"SELECT {_COLUMNS} FROM outbox WHERE id = ?",
                                       (outbox_id,))
    return next((_row(r) for r in rows), None)


async def by_provider(conn: Tx, channel: str, provider_id: str) -> DeliveryRow | None:
    """Return the message a provider knows as `provider_id` (a Twilio SID), if we sent it."""
    rows = await conn.execute_fetchall(
        f"SELECT {_COLUMNS} FROM outbox WHERE provider_id = ? AND channel = ?",
        (provider_id, channel),
    )
    return next((_row(r) for r in rows), None)


async def record_status(conn: Tx, outbox_id: int, status: str, now: datetime) -> bool:
    """Store a provider's status; a final one ("delivered", "busy", ...) is never replaced
    (callbacks arrive out of order, and replayed), except a call's "completed" by the
    answering-machine verdict that explains it. True if it changed anything."""
    final = _FINAL if status != ANSWERED_BY_MACHINE else _FINAL_BUT_COMPLETED
    cur = await conn.execute(
        f"UPDATE outbox SET delivery = ?, delivery_at = ? WHERE id = ? AND delivery != ?"
        f" AND delivery NOT IN ({','.join('?' * len(final))})",
        (status, ts(now), outbox_id, status, *final),
    )
    return cur.rowcount == 1


async def step_attempts(conn: Tx, alert_id: int, step_index: int) -> list[Attempt]:
    """Every message of one ladder step, on every channel, to everyone."""
    rows = await conn.execute_fetchall(
        "SELECT recipient, channel, state, delivery FROM outbox WHERE alert_id = ?"
        " AND step_index = ? AND kind IN ('alert', 'alert_rep')",
        (alert_id, step_index),
    )
    return [Attempt(r["recipient"], r["channel"], r["state"], r["delivery"]) for r in rows]


async def pull_forward(
    conn: Tx, now: datetime, *, alert_id: int | None = None, step_index: int | None = None,
    recipient: int | None = None,
) -> int:
    """Make waiting ladder messages on channels beyond Telegram due now: those of one step to
    one person (their Telegram failed for good), or every lead's (Telegram is down)."""
    where = ["state = 'pending'", "channel != ?", "due_at > ?", "kind = 'alert'"]
    args: list[object] = [TELEGRAM, ts(now)]
    for column, value in (("alert_id", alert_id), ("step_index", step_index),
                          ("recipient", recipient)):
        if value is not None:
            where.append(f"{column} = ?")
            args.append(value)
    cur = await conn.execute(f"UPDATE outbox SET due_at = ? WHERE {' AND '.join(where)}",
                             (ts(now), *args))
    return max(cur.rowcount, 0)


async def reached_channels(conn: Tx, alert_id: int, user_id: int) -> list[str]:
    """The channels an alert's ladder messages reached a person on (sent, not refused)."""
    rows = await conn.execute_fetchall(
        f"SELECT DISTINCT channel FROM outbox WHERE alert_id = ? AND recipient = ?"
        f" AND kind IN ('alert', 'alert_rep') AND state = 'sent'"
        f" AND delivery NOT IN ({','.join('?' * len(_NOT_TOLD))}) ORDER BY channel",
        (alert_id, user_id, *_NOT_TOLD),
    )
    return [r["channel"] for r in rows]


async def newest_alert_to(conn: Tx, user_id: int, channels: tuple[str, ...]) -> int | None:
    """The alert a bare "ACK" from this person means: the newest one still open that reached
    them on one of `channels`, else the newest one at all; an alert about themselves (their
    own missed check-in, texted to them too) only when no other reached them. A manager who
    travels gets both: her "1" to a colleague's SOS must not land on her own reminder."""
    marks = ",".join("?" * len(channels))
    rows = await conn.execute_fetchall(
        f"SELECT o.alert_id FROM outbox AS o JOIN alerts AS a ON a.id = o.alert_id"
        f" WHERE o.recipient = ? AND o.kind IN ('alert', 'alert_rep') AND o.state = 'sent'"
        f" AND o.channel IN ({marks})"
        f" ORDER BY a.user_id = ? ASC, a.state = 'open' DESC, o.sent_at DESC, o.id DESC LIMIT 1",
        (user_id, *channels, user_id),
    )
    return next((int(r[0]) for r in rows), None)


async def calls_since(conn: Tx, user_id: int, since: datetime) -> list[datetime]:
    rows = await conn.execute_fetchall(
        "SELECT at FROM calls WHERE user_id = ? AND at > ? ORDER BY at", (user_id, ts(since))
    )
    return [parse_ts(r[0]) for r in rows]


async def add_call(conn: Tx, user_id: int, at: datetime) -> None:
    await conn.execute("INSERT INTO calls (user_id, at) VALUES (?, ?)", (user_id, ts(at)))


async def forget_calls(conn: Tx, user_id: int) -> None:
    await conn.execute("DELETE FROM calls WHERE user_id = ?", (user_id,))


async def use_link(conn: Tx, outbox_id: int, now: datetime) -> bool:
    """Spend the single-use link sent with one message; False if it was used before."""
    cur = await conn.execute(
        "INSERT INTO used_links (outbox_id, used_at) VALUES (?, ?) ON CONFLICT DO NOTHING",
        (outbox_id, ts(now)),
    )
    return cur.rowcount == 1


async def link_used(conn: Tx, outbox_id: int) -> bool:
    rows = await conn.execute_fetchall("SELECT 1 FROM used_links WHERE outbox_id = ?",
                                       (outbox_id,))
    return any(True for _ in rows)


async def seen(conn: Tx, channel: str, provider_id: str) -> bool:
    """Whether an inbound message (by the provider's id) was handled before."""
    rows = await conn.execute_fetchall(
        "SELECT 1 FROM inbound_seen WHERE channel = ? AND provider_id = ?",
        (channel, provider_id))
    return any(True for _ in rows)


async def handled(conn: Tx, channel: str, provider_id: str, now: datetime) -> None:
    """Write down an inbound message as handled (again is no error)."""
    await conn.execute(
        "INSERT INTO inbound_seen (channel, provider_id, seen_at) VALUES (?, ?, ?)"
        " ON CONFLICT (channel, provider_id) DO NOTHING", (channel, provider_id, ts(now)))
