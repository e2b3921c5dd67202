"""Roll-calls and the people each asks; who could be asked (trips under way, last locations);
the initiator's tally as coalesced outbox edits."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from fieldbot.crypto import Cipher
from fieldbot.domain.places import Place
from fieldbot.domain.roles import Role
from fieldbot.domain.rollcall import Answer, Candidate, Reason, Scope, ScopeKind, Stage
from fieldbot.domain.trips import Leg, Trip, TripStatus
from fieldbot.storage import outbox, users
from fieldbot.storage.codec import day, opt_ts, parse_ts, ts
from fieldbot.storage.db import Tx


@dataclass(frozen=True, slots=True)
class RollcallRow:
    id: int
    initiator: int
    limit_team: str | None
    scope: Scope
    message: str
    priority: int
    open: bool
    started_at: datetime
    closed_at: datetime | None
    closed_by: int | None
    tally_message_id: int | None


@dataclass(frozen=True, slots=True)
class PersonRow:
    rollcall_id: int
    user_id: int
    reason: Reason
    stage: Stage
    due_at: datetime | None
    answer: Answer | None
    late: bool


def _scope_json(scope: Scope) -> dict[str, Any]:
    return {**dataclasses.asdict(scope), "kind": scope.kind.value}


def _row(row: Any, cipher: Cipher) -> RollcallRow:
    data = cipher.decrypt_json(row["scope"], empty={})
    scope = Scope(**{**data, "kind": ScopeKind(data["kind"])})
    return RollcallRow(
        id=row["id"], initiator=row["initiator"], limit_team=row["limit_team"], scope=scope,
        message=cipher.decrypt(row["message"]), priority=row["priority"],
        open=row["state"] == "open", started_at=parse_ts(row["started_at"]),
        closed_at=opt_ts(row["closed_at"]), closed_by=row["closed_by"],
        tally_message_id=row["tally_message_id"],
    )


async def insert(
    conn: Tx, *, initiator: int, limit_team: str | None, scope: Scope, message: str,
    priority: int, now: datetime, tally_message_id: int | None, cipher: Cipher,
) -> int | None:
    """Open a roll-call; None if one with the same scope is open already (compare-and-set on
    the partial unique index: two officers pressing at once make one roll-call)."""
    cur = await conn.execute(
        "INSERT INTO rollcalls (initiator, limit_team, scope_kind, scope_key, scope, message,"
        " priority, started_at, tally_message_id) VALUES (?,?,?,?,?,?,?,?,?)"
        " ON CONFLICT DO NOTHING RETURNING id",
        (initiator, limit_team, scope.kind.value, scope.key(limit_team),
         cipher.encrypt_json(_scope_json(scope)), cipher.encrypt(message), priority, ts(now),
         tally_message_id),
    )
    row = await cur.fetchone()
    return int(row[0]) if row is not None else None


async def open_with_key(conn: Tx, key: str) -> int | None:
    rows = await conn.execute_fetchall(
        "SELECT id FROM rollcalls WHERE scope_key = ? AND state = 'open'", (key,))
    return next((int(r["id"]) for r in rows), None)


async def get(conn: Tx, rollcall_id: int, *, cipher: Cipher) -> RollcallRow | None:
    rows = await conn.execute_fetchall("SELECT * FROM rollcalls WHERE id = ?", (rollcall_id,))
    return next((_row(r, cipher) for r in rows), None)


async def open_ones(conn: Tx, *, cipher: Cipher, limit: int = 20) -> list[RollcallRow]:
    rows = await conn.execute_fetchall(
        "SELECT * FROM rollcalls WHERE state = 'open' ORDER BY started_at DESC, id DESC LIMIT ?",
        (limit,))
    return [_row(r, cipher) for r in rows]


async def set_tally_message(conn: Tx, rollcall_id: int, message_id: int) -> None:
    await conn.execute("UPDATE rollcalls SET tally_message_id = ? WHERE id = ?",
                       (message_id, rollcall_id))


async def close(conn: Tx, rollcall_id: int, by: int, now: datetime) -> bool:
    """Close an open roll-call (compare-and-set); nothing more is due for anyone in it."""
    cur = await conn.execute(
        "UPDATE rollcalls SET state = 'closed', closed_at = ?, closed_by = ?"
        " WHERE id = ? AND state = 'open'", (ts(now), by, rollcall_id))
    if cur.rowcount != 1:
        return False
    await conn.execute("UPDATE rollcall_people SET due_at = NULL WHERE rollcall_id = ?",
                       (rollcall_id,))
    return True


# --- people --------------------------------------------------------------------------------------
async def add_people(
    conn: Tx, rollcall_id: int, people: Sequence[tuple[int, Reason]], due: datetime
) -> None:
    await conn.executemany(
        "INSERT INTO rollcall_people (rollcall_id, user_id, reason, due_at) VALUES (?,?,?,?)",
        [(rollcall_id, uid, reason.value, ts(due)) for uid, reason in people],
    )


def _person(row: Any) -> PersonRow:
    return PersonRow(
        rollcall_id=row["rollcall_id"], user_id=row["user_id"], reason=Reason(row["reason"]),
        stage=Stage(row["stage"]), due_at=opt_ts(row["due_at"]),
        answer=Answer(row["answer"]) if row["answer"] else None, late=bool(row["late"]),
    )


async def person(conn: Tx, rollcall_id: int, user_id: int) -> PersonRow | None:
    rows = await conn.execute_fetchall(
        "SELECT * FROM rollcall_people WHERE rollcall_id = ? AND user_id = ?",
        (rollcall_id, user_id))
    return next((_person(r) for r in rows), None)


async def unanswered_open(conn: Tx, user_id: int) -> list[int]:
    """Return the open roll-calls that asked `user_id`, have no answer from them and no longer
    chase them (their question could not reach them); those still chasing ask again anyway."""
    rows = await conn.execute_fetchall(
        "SELECT p.rollcall_id FROM rollcall_people p JOIN rollcalls r ON r.id = p.rollcall_id"
        " WHERE p.user_id = ? AND p.answer IS NULL AND p.due_at IS NULL"
        " AND r.state = 'open' ORDER BY r.id", (user_id,))
    return [int(r["rollcall_id"]) for r in rows]


async def waiting_for(conn: Tx, user_id: int) -> list[int]:
    """Return the open roll-calls whose question to `user_id` waits for an answer."""
    rows = await conn.execute_fetchall(
        "SELECT p.rollcall_id FROM rollcall_people p JOIN rollcalls r ON r.id = p.rollcall_id"
        " WHERE p.user_id = ? AND p.answer IS NULL AND r.state = 'open' ORDER BY r.id",
        (user_id,))
    return [int(r["rollcall_id"]) for r in rows]


async def set_answer(
    conn: Tx, rollcall_id: int, user_id: int, answer: Answer, now: datetime, *, late: bool
) -> None:
    await conn.execute(
        "UPDATE rollcall_people SET answer = ?, answered_at = ?, due_at = NULL, late = ?"
        " WHERE rollcall_id = ? AND user_id = ?",
        (answer.value, ts(now), int(late), rollcall_id, user_id))


async def counts(conn: Tx, rollcall_id: int) -> tuple[int, int, int]:
    """Return (asked, safe, need help)."""
    rows = list(await conn.execute_fetchall(
        "SELECT COUNT(*), COUNT(*) FILTER (WHERE answer = 'safe'),"
        " COUNT(*) FILTER (WHERE answer = 'help') FROM rollcall_people"
        " WHERE rollcall_id = ?", (rollcall_id,)))
    asked, safe, help_ = rows[0]
    return int(asked or 0), int(safe or 0), int(help_ or 0)


async def ids_in_state(
    conn: Tx, rollcall_id: int, state: str, offset: int, limit: int
) -> tuple[list[int], int]:
    """Return one page of the people with an answer (`safe`, `help`) or none (`silent`), and
    how many there are in all."""
    where = "answer IS NULL" if state == "silent" else "answer = ?"
    args: list[object] = [rollcall_id] + ([] if state == "silent" else [state])
    total = list(await conn.execute_fetchall(
        f"SELECT COUNT(*) FROM rollcall_people WHERE rollcall_id = ? AND {where}", args))[0][0]
    rows = await conn.execute_fetchall(
        f"SELECT user_id FROM rollcall_people WHERE rollcall_id = ? AND {where}"
        " ORDER BY answered_at IS NULL, answered_at, user_id LIMIT ? OFFSET ?",
        [*args, limit, offset])
    return [int(r["user_id"]) for r in rows], int(total)


async def due_people(conn: Tx, now: datetime, limit: int) -> list[tuple[PersonRow, datetime]]:
    """Unanswered people of open roll-calls whose next step is due, with the start."""
    rows = await conn.execute_fetchall(
        "SELECT p.*, r.started_at AS started_at FROM rollcall_people p"
        " JOIN rollcalls r ON r.id = p.rollcall_id"
        " WHERE p.due_at IS NOT NULL AND p.due_at <= ? AND r.state = 'open'"
        " ORDER BY p.due_at, p.rollcall_id, p.user_id LIMIT ?", (ts(now), limit))
    return [(_person(r), parse_ts(r["started_at"])) for r in rows]


async def move_person(
    conn: Tx, p: PersonRow, stage: Stage, due_at: datetime | None
) -> bool:
    """Compare-and-set a person's step; False if an answer or another worker came first."""
    cur = await conn.execute(
        "UPDATE rollcall_people SET stage = ?, due_at = ? WHERE rollcall_id = ? AND user_id = ?"
        " AND stage = ? AND due_at = ? AND answer IS NULL",
        (stage.value, ts(due_at) if due_at else None, p.rollcall_id, p.user_id, p.stage.value,
         ts(p.due_at) if p.due_at else None))
    return cur.rowcount == 1


async def next_due(conn: Tx) -> datetime | None:
    rows = list(await conn.execute_fetchall(
        "SELECT MIN(due_at) FROM rollcall_people WHERE due_at IS NOT NULL"))
    return parse_ts(rows[0][0]) if rows and rows[0][0] else None


# --- who could be asked --------------------------------------------------------------------------
async def candidates(conn: Tx, now: datetime, *, cipher: Cipher) -> list[Candidate]:
    """Everyone enrolled (erased people never), with their approved trips around today and
    their latest location of the last day or the pin of their client visit under way."""
    members = await users.with_role(conn, list(Role), cipher=cipher)
    trips = await _trips_around(conn, now.date())
    since = ts(now - timedelta(hours=24, minutes=1))
    latest: dict[int, tuple[float, float, datetime]] = {}
    rows = await conn.execute_fetchall(
        "SELECT user_id, point, at FROM locations l WHERE at >= ? AND at = (SELECT MAX(at)"
        " FROM locations WHERE user_id = l.user_id) ORDER BY user_id, id DESC", (since,))
    for row in rows:
        if row["user_id"] in latest:
            continue
        lat, _, lon = cipher.decrypt(row["point"]).partition(",")
        latest[row["user_id"]] = (float(lat), float(lon), parse_ts(row["at"]))
    # A client visit under way with a pinned place: that is where they are, unless they
    # shared a location since it started (a rep at home has no trip to place her).
    rows = await conn.execute_fetchall(
        "SELECT user_id, point, started_at FROM visits WHERE point != ''"
        " AND state IN ('active', 'reminded', 'overdue') ORDER BY started_at")
    for row in rows:
        at = parse_ts(row["started_at"])
        if row["user_id"] in latest and latest[row["user_id"]][2] >= at:
            continue
        lat, _, lon = cipher.decrypt(row["point"]).partition(",")
        latest[row["user_id"]] = (float(lat), float(lon), at)
    return [Candidate(m, tuple(trips.get(m.id, ())), latest.get(m.id)) for m in members]


async def _trips_around(conn: Tx, today: date) -> dict[int, list[Trip]]:
    """Approved trips whose dates come within a day of `today` (UTC), by user, with legs and
    without their encrypted fields (a roll-call needs where, not the hotel)."""
    rows = await conn.execute_fetchall(
        "SELECT t.id AS trip_id, t.user_id, l.* FROM trips t JOIN legs l ON l.trip_id = t.id"
        " WHERE t.status = ? AND t.id IN (SELECT trip_id FROM legs GROUP BY trip_id"
        " HAVING MIN(start_date) <= ? AND MAX(end_date) >= ?) ORDER BY t.id, l.idx",
        (TripStatus.APPROVED.value, (today + timedelta(days=1)).isoformat(),
         (today - timedelta(days=1)).isoformat()))
    legs: dict[tuple[int, int], list[Leg]] = {}
    for r in rows:
        place = Place(r["place_name"], r["country_code"], r["country_name"], r["region"],
                      r["lat"], r["lon"], r["tz_name"], r["geonameid"], r["place_name_zh"])
        legs.setdefault((r["user_id"], r["trip_id"]), []).append(
            Leg(place, day(r["start_date"]), day(r["end_date"])))
    found: dict[int, list[Trip]] = {}
    for (user_id, trip_id), trip_legs in legs.items():
        found.setdefault(user_id, []).append(
            Trip(trip_id, user_id, tuple(trip_legs), TripStatus.APPROVED))
    return found


async def teams(conn: Tx, limit: int) -> list[str]:
    rows = await conn.execute_fetchall(
        f"SELECT DISTINCT team FROM users WHERE team != '' AND {users.NOT_ERASED}"
        " ORDER BY team LIMIT ?", (limit,))
    return [str(r["team"]) for r in rows]


# --- the tally: one pending edit at a time -------------------------------------------------------
async def queue_tally(
    conn: Tx, rollcall_id: int, recipient: int, params: dict[str, Any], due: datetime,
    priority: int, now: datetime, *, cipher: Cipher,
) -> datetime:
    """Have the initiator's tally show `params`: a pending edit takes them (coalesced);
    otherwise a new edit is due at `due` (the throttle), older waiting ones withdrawn, so the
    newest state is always the last one shown. Return when the edit is due."""
    prefix = f"rollcall:{rollcall_id}:tally:"
    match, pattern = outbox.dedupe_prefix(conn, prefix)
    rows = list(await conn.execute_fetchall(
        f"SELECT id, state, due_at FROM outbox WHERE {match} ORDER BY id DESC LIMIT 1",
        (pattern,)))
    if rows and rows[0]["state"] == "pending":
        pending_due = min(parse_ts(rows[0]["due_at"]), due)
        await conn.execute("UPDATE outbox SET params = ?, due_at = ? WHERE id = ?",
                           (cipher.encrypt_json(params), ts(pending_due), rows[0]["id"]))
        return pending_due
    await conn.execute(
        "UPDATE outbox SET state = 'failed', last_error = 'withdrawn: superseded'"
        f" WHERE {match} AND state = 'pending'", (pattern,))
    # Named after the row before it: two edits decided in the same instant stay two rows.
    after = rows[0]["id"] if rows else 0
    await outbox.enqueue(conn, dedupe=f"{prefix}after:{after}", recipient=recipient,
                         kind="rollcall_tally", params=params, priority=priority, now=now,
                         cipher=cipher, due_at=due)
    return due


async def last_tally(conn: Tx, rollcall_id: int) -> tuple[datetime | None, int | None]:
    """Return when the last tally edit was due, and the message it last landed in."""
    prefix = f"rollcall:{rollcall_id}:tally:"
    match, pattern = outbox.dedupe_prefix(conn, prefix)
    rows = list(await conn.execute_fetchall(
        f"SELECT due_at FROM outbox WHERE {match} ORDER BY id DESC LIMIT 1", (pattern,)))
    sent = list(await conn.execute_fetchall(
        f"SELECT message_id FROM outbox WHERE {match} AND state = 'sent'"
        " AND message_id IS NOT NULL ORDER BY id DESC LIMIT 1", (pattern,)))
    return (parse_ts(rows[0]["due_at"]) if rows else None,
            int(sent[0]["message_id"]) if sent else None)


async def silence_told_on(conn: Tx, rollcall_id: int, recipient: int) -> list[str]:
    """Return the channels beyond Telegram that told `recipient` someone in this roll-call
    had not answered (sent, or still going out)."""
    match, pattern = outbox.dedupe_prefix(conn, f"rollcall:{rollcall_id}:silent:")
    rows = await conn.execute_fetchall(
        f"SELECT DISTINCT channel FROM outbox WHERE {match} AND recipient = ?"
        " AND channel <> 'telegram' AND state IN ('pending', 'sending', 'sent')"
        " ORDER BY channel", (pattern, recipient))
    return [str(r["channel"]) for r in rows]
