"""Nights as the sweep sees them, alerts, who was alerted, and last known locations."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from fieldbot.crypto import Cipher
from fieldbot.domain.alerts import AlertState
from fieldbot.domain.ladder import AlertKind
from fieldbot.domain.nights import NightState
from fieldbot.storage.codec import opt_ts, parse_ts, sealed, ts
from fieldbot.storage.db import Row, Tx


@dataclass(frozen=True, slots=True)
class NightRow:
    id: int
    trip_id: int
    user_id: int
    day: str
    tz_name: str
    reminder_at: datetime
    deadline: datetime
    opens_at: datetime
    closes_at: datetime
    state: NightState
    due_at: datetime | None
    snoozes: int


@dataclass(frozen=True, slots=True)
class AlertRow:
    id: int
    kind: AlertKind
    user_id: int
    trip_id: int | None
    night_id: int | None
    risk_level: int
    anchor: datetime
    state: AlertState
    step_index: int
    next_due_at: datetime | None
    skip_tier: bool
    acked_by: int | None
    acked_at: datetime | None
    resolved_by: int | None
    resolution: str

    @property
    def label(self) -> str:
        return f"A-{self.id}"


def _night(row: Row) -> NightRow:
    return NightRow(
        row["id"], row["trip_id"], row["user_id"], row["day"], row["tz_name"],
        parse_ts(row["reminder_at"]), parse_ts(row["deadline"]), parse_ts(row["opens_at"]),
        parse_ts(row["closes_at"]), NightState(row["state"]), opt_ts(row["due_at"]),
        row["snoozes"],
    )


def _alert(row: Row) -> AlertRow:
    return AlertRow(
        row["id"], AlertKind(row["kind"]), row["user_id"], row["trip_id"], row["night_id"],
        row["risk_level"], parse_ts(row["anchor"]), AlertState(row["state"]), row["step_index"],
        opt_ts(row["next_due_at"]), bool(row["skip_tier"]), row["acked_by"],
        opt_ts(row["acked_at"]), row["resolved_by"], row["resolution"],
    )


async def due_night_ids(conn: Tx, now: datetime, limit: int) -> list[int]:
    async with conn.execute(
        "SELECT id FROM nights WHERE due_at IS NOT NULL AND due_at <= ? ORDER BY due_at LIMIT ?",
        (ts(now), limit),
    ) as cur:
        return [r[0] for r in await cur.fetchall()]


async def night(conn: Tx, night_id: int) -> NightRow | None:
    async with conn.execute("SELECT * FROM nights WHERE id = ?", (night_id,)) as cur:
        row = await cur.fetchone()
    return _night(row) if row else None


# Where check-in windows overlap (a trip westwards across the date line: Honolulu's last night
# and Tokyo's first are open at once), a check-in is for the night whose deadline is soonest
# and still ahead, as `domain.schedule.night_for` says; with none ahead, the latest opened.
# Before, the latest opened always won: "I'm safe" on Honolulu's reminder checked in Tokyo's
# night, Honolulu's went missed, and Tokyo's could never escalate. Two parameters: now, now.
_TONIGHT_FIRST = (
    " ORDER BY CASE WHEN n.deadline > ? THEN 0 ELSE 1 END,"
    " CASE WHEN n.deadline > ? THEN n.deadline END, n.opens_at DESC"
)


async def current_night(
    conn: Tx, user_id: int, now: datetime
) -> NightRow | None:
    """Return the night whose check-in window contains `now` (of an approved trip); where
    windows overlap, the one `domain.schedule.night_for` picks (`_TONIGHT_FIRST`)."""
    # On every check-in: one trip to the database thread (execute_fetchall), not three.
    rows = await conn.execute_fetchall(
        "SELECT n.* FROM nights n JOIN trips t ON t.id = n.trip_id"
        " WHERE n.user_id = ? AND n.opens_at <= ? AND n.closes_at > ?"
        " AND t.status = 'approved' AND n.state != 'cancelled'" + _TONIGHT_FIRST + " LIMIT 1",
        (user_id, ts(now), ts(now), ts(now), ts(now)),
    )
    return next((_night(row) for row in rows), None)


async def tonight_and_next(
    conn: Tx, user_id: int, now: datetime
) -> tuple[NightRow | None, list[NightRow]]:
    """Return `current_night` and the first two nights `next_night` would find, in one trip:
    a check-in needs both (tonight to move, the next deadline to show), and every trip to the
    database thread costs more than the statement it carries."""
    rows = await conn.execute_fetchall(
        "SELECT * FROM (SELECT 0 AS part, n.* FROM nights n JOIN trips t ON t.id = n.trip_id"
        " WHERE n.user_id = ? AND n.opens_at <= ? AND n.closes_at > ?"
        " AND t.status = 'approved' AND n.state != 'cancelled'" + _TONIGHT_FIRST
        + " LIMIT 1) AS tonight"
        " UNION ALL"
        " SELECT * FROM (SELECT 1 AS part, nights.* FROM nights WHERE user_id = ? AND deadline > ?"
        " AND state IN ('pending', 'reminded') ORDER BY deadline LIMIT 2) AS upcoming",
        (user_id, ts(now), ts(now), ts(now), ts(now), user_id, ts(now)),
    )
    found = [(row["part"], _night(row)) for row in rows]
    tonight = next((night for part, night in found if part == 0), None)
    return tonight, [night for part, night in found if part == 1]


async def next_night(conn: Tx, user_id: int, now: datetime) -> NightRow | None:
    rows = await conn.execute_fetchall(
        "SELECT * FROM nights WHERE user_id = ? AND deadline > ?"
        " AND state IN ('pending', 'reminded') ORDER BY deadline LIMIT 1",
        (user_id, ts(now)),
    )
    return next((_night(row) for row in rows), None)


async def move_night(
    conn: Tx,
    night: NightRow,
    *,
    state: NightState,
    due_at: datetime | None,
    deadline: datetime | None = None,
    checked_in_at: datetime | None = None,
    note: str | None = None,
    snoozes: int | None = None,
    cipher: Cipher | None = None,
) -> bool:
    """Compare-and-set: change a night only if nobody changed it since it was read.

    A note (a skip reason) is stored encrypted: give the cipher with it."""
    if note is not None:
        note = sealed(note, cipher)
    cur = await conn.execute(
        "UPDATE nights SET state = ?, due_at = ?, deadline = COALESCE(?, deadline),"
        " checked_in_at = COALESCE(?, checked_in_at), note = COALESCE(?, note),"
        " snoozes = COALESCE(?, snoozes)"
        " WHERE id = ? AND state = ? AND due_at IS ? AND deadline = ?",
        (state.value, ts(due_at) if due_at else None, ts(deadline) if deadline else None,
         ts(checked_in_at) if checked_in_at else None, note, snoozes, night.id,
         night.state.value,
         ts(night.due_at) if night.due_at else None, ts(night.deadline)),
    )
    return cur.rowcount == 1


# The most nights one check-in statement takes (SQLite stops at about 1,000: its expression
# depth); a group commit's batch is no larger.
CHECK_IN_BATCH = 64


async def check_in_unless_alerted(
    conn: Tx, wanted: Sequence[tuple[NightRow, datetime]], kinds: tuple[AlertKind, ...]
) -> set[int]:
    """Compare-and-set in one statement, for one night or many (a group commit): check each
    night in at its own instant, only if nobody changed it since it was read and its rep has
    no open alert of `kinds` (which a check-in must end, in a transaction). Returns the ids of
    the nights it checked in; the others are unchanged. Give each night once, and at most
    CHECK_IN_BATCH of them."""
    if not wanted:
        return set()
    if len(wanted) > CHECK_IN_BATCH:
        raise ValueError(f"{len(wanted)} nights in one statement (at most {CHECK_IN_BATCH})")
    # The statement's text depends only on how many nights it holds: rounded up to a power of
    # two (the last night given again: the same clause twice changes nothing), PostgreSQL
    # prepares seven statements, not one per batch size.
    size = 1 << (len(wanted) - 1).bit_length()
    wanted = [*wanted, *[wanted[-1]] * (size - len(wanted))]
    marks = ",".join("?" * len(kinds))
    rows = await conn.execute_fetchall(
        "UPDATE nights SET state = ?, due_at = NULL, checked_in_at = CASE id"
        + " WHEN ? THEN ?" * len(wanted) + " END WHERE ("
        + " OR ".join(["(id = ? AND state = ? AND due_at IS ? AND deadline = ?)"] * len(wanted))
        + ") AND NOT EXISTS (SELECT 1 FROM alerts WHERE alerts.user_id = nights.user_id"
        f" AND alerts.state IN ('open', 'acknowledged') AND alerts.kind IN ({marks}))"
        " RETURNING id",
        (NightState.CHECKED_IN.value,
         *[value for night, at in wanted for value in (night.id, ts(at))],
         *[value for night, _ in wanted for value in (
             night.id, night.state.value, ts(night.due_at) if night.due_at else None,
             ts(night.deadline))],
         *[k.value for k in kinds]),
    )
    return {int(row[0]) for row in rows}


async def push_night(conn: Tx, night_id: int, due: datetime) -> None:
    await conn.execute("UPDATE nights SET due_at = ? WHERE id = ?", (ts(due), night_id))


async def recent_states(
    conn: Tx, user_id: int, up_to_day: str, limit: int
) -> list[NightState]:
    """Return the states of a person's nights on the days in a row up to a day, oldest first,
    whichever trips they belong to: three missed nights in a row are three, across two
    back-to-back trips too (a night's day with none before it ends the row)."""
    async with conn.execute(
        "SELECT day, state FROM nights WHERE user_id = ? AND day <= ? AND state != 'cancelled'"
        " ORDER BY day DESC, id DESC LIMIT ?",
        (user_id, up_to_day, limit * 2),  # a day may have two nights (across the date line)
    ) as cur:
        rows = [(date.fromisoformat(r[0]), NightState(r[1])) for r in await cur.fetchall()]
    states: list[NightState] = []
    expected = date.fromisoformat(up_to_day)
    for day, state in rows:
        if len(states) == limit or day < expected:
            break
        if day == expected:
            states.append(state)
            expected = date.fromordinal(day.toordinal() - 1)
    return list(reversed(states))


async def open_alert(
    conn: Tx,
    *,
    kind: AlertKind,
    user_id: int,
    trip_id: int | None,
    night_id: int | None,
    risk_level: int,
    anchor: datetime,
    now: datetime,
) -> int | None:
    """Create an alert due at once; None if this night already has one."""
    cur = await conn.execute(
        "INSERT INTO alerts (kind, user_id, trip_id, night_id, risk_level, anchor, next_due_at,"
        " created_at) VALUES (?,?,?,?,?,?,?,?) ON CONFLICT (night_id) DO NOTHING RETURNING id",
        (kind.value, user_id, trip_id, night_id, risk_level, ts(anchor), ts(anchor), ts(now)),
    )
    row = await cur.fetchone()
    return int(row[0]) if row is not None else None


async def alert(conn: Tx, alert_id: int) -> AlertRow | None:
    async with conn.execute("SELECT * FROM alerts WHERE id = ?", (alert_id,)) as cur:
        row = await cur.fetchone()
    return _alert(row) if row else None


async def due_alert_ids(
    conn: Tx, now: datetime, limit: int, *, first: tuple[AlertKind, ...] = ()
) -> list[int]:
    """Return the alerts with a step due, those of the kinds `first` before the others (the
    domain says which: `domain.alerts.swept_first`), then by due time."""
    marks = ",".join("?" * len(first)) or "NULL"
    async with conn.execute(
        "SELECT id FROM alerts WHERE next_due_at IS NOT NULL AND next_due_at <= ?"
        f" ORDER BY kind NOT IN ({marks}), next_due_at LIMIT ?",
        (ts(now), *(kind.value for kind in first), limit),
    ) as cur:
        return [r[0] for r in await cur.fetchall()]


async def open_alerts_for(
    conn: Tx, user_id: int, kinds: tuple[AlertKind, ...]
) -> list[AlertRow]:
    marks = ",".join("?" * len(kinds))
    rows = await conn.execute_fetchall(
        f"SELECT * FROM alerts WHERE user_id = ? AND state IN ('open', 'acknowledged')"
        f" AND kind IN ({marks}) ORDER BY id",
        (user_id, *[k.value for k in kinds]),
    )
    return [_alert(r) for r in rows]


async def move_ladder(
    conn: Tx, a: AlertRow, step_index: int, next_due_at: datetime, skip_tier: bool
) -> bool:
    """Compare-and-set: store where an open alert's ladder stands after a run, only if
    nobody moved it since `a` was read."""
    cur = await conn.execute(
        "UPDATE alerts SET step_index = ?, next_due_at = ?, skip_tier = ?"
        " WHERE id = ? AND step_index = ? AND state = 'open'",
        (step_index, ts(next_due_at), int(skip_tier), a.id, a.step_index),
    )
    return cur.rowcount == 1


async def push_forward(conn: Tx, alert_id: int, due: datetime) -> None:
    await conn.execute(
        "UPDATE alerts SET next_due_at = ?, failures = failures + 1 WHERE id = ?",
        (ts(due), alert_id),
    )


async def request_skip(
    conn: Tx, alert_id: int, step_index: int, now: datetime
) -> bool:
    cur = await conn.execute(
        "UPDATE alerts SET skip_tier = 1, next_due_at = ?"
        " WHERE id = ? AND step_index = ? AND state = 'open'",
        (ts(now), alert_id, step_index),
    )
    return cur.rowcount == 1


async def acknowledge(conn: Tx, alert_id: int, by: int, now: datetime) -> bool:
    """First acknowledgement wins; nobody acknowledges an alert about themselves."""
    cur = await conn.execute(
        "UPDATE alerts SET state = 'acknowledged', acked_by = ?, acked_at = ?, next_due_at = NULL"
        " WHERE id = ? AND state = 'open' AND user_id != ?",
        (by, ts(now), alert_id, by),
    )
    return cur.rowcount == 1


async def held_by(conn: Tx, user_id: int) -> list[AlertRow]:
    """The alerts a person acknowledged and has not resolved yet."""
    async with conn.execute(
        "SELECT * FROM alerts WHERE acked_by = ? AND state = 'acknowledged' ORDER BY id",
        (user_id,),
    ) as cur:
        return [_alert(r) for r in await cur.fetchall()]


async def release_acknowledged_by(
    conn: Tx, user_id: int, now: datetime, only: set[int] | None = None
) -> list[AlertRow]:
    """Put alerts acknowledged (not yet resolved) by a person back on their ladder, due now
    and at the next tier: the person can no longer handle them (`only`: these of them).
    Return them as they were."""
    held = [a for a in await held_by(conn, user_id) if only is None or a.id in only]
    released = []
    for a in held:
        cur = await conn.execute(
            "UPDATE alerts SET state = 'open', acked_by = NULL, acked_at = NULL, skip_tier = 1,"
            " next_due_at = ? WHERE id = ? AND state = 'acknowledged' AND acked_by = ?",
            (ts(now), a.id, user_id),
        )
        if cur.rowcount == 1:
            released.append(a)
    return released


async def finish(
    conn: Tx, alert_id: int, state: AlertState, by: int | None, now: datetime,
    resolution: str, note: str = "", *, cipher: Cipher | None = None,
) -> bool:
    """Resolve or close an alert; a note (how it was resolved) is stored encrypted."""
    cur = await conn.execute(
        "UPDATE alerts SET state = ?, resolved_by = ?, resolved_at = ?, resolution = ?,"
        " note = ?, next_due_at = NULL, acked_by = COALESCE(acked_by, ?),"
        " acked_at = COALESCE(acked_at, ?)"
        " WHERE id = ? AND state IN ('open', 'acknowledged')",
        (state.value, by, ts(now), resolution, sealed(note, cipher), by, ts(now) if by else None,
         alert_id),
    )
    return cur.rowcount == 1


async def add_recipients(
    conn: Tx, alert_id: int, user_ids: list[int], now: datetime
) -> None:
    await conn.executemany(
        "INSERT INTO alert_recipients (alert_id, user_id, first_at) VALUES (?,?,?)"
        " ON CONFLICT DO NOTHING",
        [(alert_id, uid, ts(now)) for uid in user_ids],
    )


async def recipients(conn: Tx, alert_id: int) -> list[int]:
    """Who was alerted (and so hears how it ends); erased people hear nothing more."""
    async with conn.execute(
        "SELECT user_id FROM alert_recipients WHERE alert_id = ? AND user_id NOT IN"
        " (SELECT id FROM users WHERE unreachable = 'erased') ORDER BY first_at, user_id",
        (alert_id,),
    ) as cur:
        return [r[0] for r in await cur.fetchall()]


async def add_location(
    conn: Tx,
    user_id: int,
    lat: float,
    lon: float,
    live: bool,
    at: datetime,
    *,
    cipher: Cipher,
) -> None:
    """Keep a shared location, the point encrypted."""
    await conn.execute(
        "INSERT INTO locations (user_id, at, point, live) VALUES (?,?,?,?)",
        (user_id, ts(at), cipher.encrypt(f"{lat!r},{lon!r}"), int(live)),
    )


async def last_location(
    conn: Tx, user_id: int, *, cipher: Cipher
) -> tuple[float, float, datetime] | None:
    async with conn.execute(
        "SELECT point, at FROM locations WHERE user_id = ? ORDER BY at DESC, id DESC LIMIT 1",
        (user_id,),
    ) as cur:
        row = await cur.fetchone()
    if row is None:
        return None
    lat, _, lon = cipher.decrypt(row["point"]).partition(",")
    return float(lat), float(lon), parse_ts(row["at"])


async def next_due(conn: Tx) -> datetime | None:
    """Return the earliest instant anything (a night or an alert) is due."""
    async with conn.execute(
        "SELECT MIN(d) FROM (SELECT MIN(due_at) AS d FROM nights WHERE due_at IS NOT NULL"
        " UNION ALL SELECT MIN(next_due_at) FROM alerts WHERE next_due_at IS NOT NULL) AS due"
    ) as cur:
        row = await cur.fetchone()
    return parse_ts(row[0]) if row and row[0] else None
