"""Incidents, their deadlines and the lessons learned; every text encrypted."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import aiosqlite

from fieldbot.crypto import Cipher
from fieldbot.domain.crisis_policy import Grade
from fieldbot.domain.incidents import DeadlineKind, IncidentState
from fieldbot.storage.codec import opt_ts, parse_ts, sealed, ts
from fieldbot.storage.db import Tx

GRID = 2  # decimals kept in clear: a ~1 km grid for "near here"


@dataclass(frozen=True, slots=True)
class IncidentRow:
    id: int
    grade: Grade
    state: IncidentState
    owner_id: int
    opened_by: int
    alert_id: int | None
    place: str
    country: str
    lat: float | None
    lon: float | None
    people: str
    description: str
    review: dict[str, Any]
    opened_at: datetime
    reported_at: datetime | None
    closed_at: datetime | None
    place_zh: str = ""  # the place as a Chinese reader names it ("" where unknown)

    @property
    def label(self) -> str:
        return f"I-{self.id}"


@dataclass(frozen=True, slots=True)
class DeadlineRow:
    id: int
    incident_id: int
    kind: DeadlineKind
    due_at: datetime
    step_index: int
    next_due_at: datetime | None
    met_at: datetime | None


@dataclass(frozen=True, slots=True)
class LessonRow:
    id: int
    incident_id: int | None
    grade: Grade
    place: str
    country: str
    lat: float | None
    lon: float | None
    cause: str
    measures: str
    created_at: datetime
    place_zh: str = ""


def _open(value: str, cipher: Cipher) -> str:
    return cipher.decrypt(value) if value else ""


def _grid(value: float | None) -> float | None:
    return None if value is None else round(value, GRID)


def _incident(row: aiosqlite.Row, cipher: Cipher) -> IncidentRow:
    review = _open(row["review"], cipher)
    return IncidentRow(
        row["id"], Grade(row["grade"]), IncidentState(row["state"]), row["owner_id"],
        row["opened_by"], row["alert_id"], _open(row["place"], cipher), row["country"],
        row["lat"], row["lon"], _open(row["people"], cipher),
        _open(row["description"], cipher), json.loads(review) if review else {},
        parse_ts(row["opened_at"]), opt_ts(row["reported_at"]), opt_ts(row["closed_at"]),
        _open(row["place_zh"], cipher),
    )


def _deadline(row: aiosqlite.Row) -> DeadlineRow:
    return DeadlineRow(row["id"], row["incident_id"], DeadlineKind(row["kind"]),
                       parse_ts(row["due_at"]), row["step_index"], opt_ts(row["next_due_at"]),
                       opt_ts(row["met_at"]))


def _lesson(row: aiosqlite.Row, cipher: Cipher) -> LessonRow:
    return LessonRow(row["id"], row["incident_id"], Grade(row["grade"]),
                     _open(row["place"], cipher), row["country"], row["lat"], row["lon"],
                     _open(row["cause"], cipher), _open(row["measures"], cipher),
                     parse_ts(row["created_at"]), _open(row["place_zh"], cipher))


async def add(
    conn: Tx, *, grade: Grade, owner_id: int, alert_id: int | None, place: str, country: str,
    lat: float | None, lon: float | None, people: str, description: str, now: datetime,
    cipher: Cipher, place_zh: str = "",
) -> int | None:
    """Store a new incident; None if this alert already has one."""
    cur = await conn.execute(
        "INSERT INTO incidents (grade, owner_id, opened_by, alert_id, place, country, lat, lon,"
        " people, description, opened_at, place_zh) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)"
        " ON CONFLICT (alert_id) DO NOTHING",
        (grade.value, owner_id, owner_id, alert_id, sealed(place, cipher), country, _grid(lat),
         _grid(lon), sealed(people, cipher), sealed(description, cipher), ts(now),
         sealed(place_zh, cipher)),
    )
    return cur.lastrowid if cur.rowcount == 1 else None


async def get(conn: Tx, incident_id: int, *, cipher: Cipher) -> IncidentRow | None:
    rows = await conn.execute_fetchall("SELECT * FROM incidents WHERE id = ?", (incident_id,))
    return next((_incident(r, cipher) for r in rows), None)


async def open_ones(conn: Tx, limit: int, *, cipher: Cipher) -> list[IncidentRow]:
    """The incidents not yet closed, most severe and oldest first."""
    rows = await conn.execute_fetchall(
        "SELECT * FROM incidents WHERE state != 'closed' ORDER BY CASE grade WHEN 'red' THEN 0"
        " WHEN 'orange' THEN 1 WHEN 'yellow' THEN 2 ELSE 3 END, id LIMIT ?", (limit,))
    return [_incident(r, cipher) for r in rows]


async def set_owner(conn: Tx, incident_id: int, owner_id: int) -> bool:
    cur = await conn.execute(
        "UPDATE incidents SET owner_id = ? WHERE id = ? AND state != 'closed'",
        (owner_id, incident_id))
    return cur.rowcount == 1


async def save_review(conn: Tx, incident: IncidentRow, review: dict[str, Any],
                      state: IncidentState, now: datetime, *, cipher: Cipher) -> bool:
    """Compare-and-set: store the review's answers and the new state, only if the incident is
    still as read."""
    cur = await conn.execute(
        "UPDATE incidents SET review = ?, state = ?, responsibility = ?,"
        " reported_at = COALESCE(reported_at, ?),"
        " closed_at = CASE WHEN ? = 'closed' THEN ? ELSE closed_at END"
        " WHERE id = ? AND state = ?",
        (sealed(json.dumps(review, ensure_ascii=False), cipher), state.value,
         str(review.get("responsibility", "")), ts(now), state.value, ts(now), incident.id,
         incident.state.value),
    )
    return cur.rowcount == 1


async def unrecorded_alerts(conn: Tx, user_id: int, since: datetime, limit: int) -> list[int]:
    """The alerts `user_id` resolved as "incident" since `since` whose incident was never
    recorded (the draft was cancelled or lapsed), newest first."""
    rows = await conn.execute_fetchall(
        "SELECT a.id FROM alerts a WHERE a.state = 'resolved' AND a.resolution = 'incident'"
        " AND a.resolved_by = ? AND a.kind != 'drill' AND a.resolved_at >= ? AND NOT EXISTS"
        " (SELECT 1 FROM incidents i WHERE i.alert_id = a.id) ORDER BY a.id DESC LIMIT ?",
        (user_id, ts(since), limit))
    return [r[0] for r in rows]


# --- deadlines -------------------------------------------------------------------------------


async def add_deadline(conn: Tx, incident_id: int, kind: DeadlineKind, due_at: datetime,
                       first_due: datetime) -> None:
    await conn.execute(
        "INSERT INTO incident_deadlines (incident_id, kind, due_at, next_due_at)"
        " VALUES (?,?,?,?) ON CONFLICT DO NOTHING",
        (incident_id, kind.value, ts(due_at), ts(first_due)))


async def deadlines_of(conn: Tx, incident_id: int) -> list[DeadlineRow]:
    rows = await conn.execute_fetchall(
        "SELECT * FROM incident_deadlines WHERE incident_id = ? ORDER BY due_at",
        (incident_id,))
    return [_deadline(r) for r in rows]


async def due_deadline_ids(conn: Tx, now: datetime, limit: int) -> list[int]:
    rows = await conn.execute_fetchall(
        "SELECT id FROM incident_deadlines WHERE next_due_at IS NOT NULL AND next_due_at <= ?"
        " ORDER BY next_due_at LIMIT ?", (ts(now), limit))
    return [r[0] for r in rows]


async def deadline(conn: Tx, deadline_id: int) -> DeadlineRow | None:
    rows = await conn.execute_fetchall("SELECT * FROM incident_deadlines WHERE id = ?",
                                       (deadline_id,))
    return next((_deadline(r) for r in rows), None)


async def move_deadline(conn: Tx, d: DeadlineRow, step_index: int, next_due_at: datetime
                        ) -> bool:
    """Compare-and-set: where a deadline's ladder stands after a run."""
    cur = await conn.execute(
        "UPDATE incident_deadlines SET step_index = ?, next_due_at = ?"
        " WHERE id = ? AND step_index = ? AND next_due_at IS NOT NULL",
        (step_index, ts(next_due_at), d.id, d.step_index))
    return cur.rowcount == 1


async def push_deadline(conn: Tx, deadline_id: int, due: datetime) -> None:
    """A step that raised: tried again later, never a crash loop."""
    await conn.execute("UPDATE incident_deadlines SET next_due_at = ? WHERE id = ?"
                       " AND next_due_at IS NOT NULL", (ts(due), deadline_id))


async def meet(conn: Tx, incident_id: int, kinds: tuple[DeadlineKind, ...], now: datetime
               ) -> None:
    """The report (or the review) is in: its ladder stops."""
    marks = ",".join("?" * len(kinds))
    await conn.execute(
        f"UPDATE incident_deadlines SET next_due_at = NULL, met_at = COALESCE(met_at, ?)"
        f" WHERE incident_id = ? AND kind IN ({marks})",
        (ts(now), incident_id, *(k.value for k in kinds)))


async def next_deadline_due(conn: Tx) -> datetime | None:
    rows = await conn.execute_fetchall(
        "SELECT MIN(next_due_at) FROM incident_deadlines WHERE next_due_at IS NOT NULL")
    first = next(iter(rows), None)
    return opt_ts(first[0]) if first else None


# --- lessons ---------------------------------------------------------------------------------


async def add_lesson(conn: Tx, incident: IncidentRow, cause: str, measures: str,
                     author_id: int, now: datetime, *, cipher: Cipher) -> None:
    await conn.execute(
        "INSERT INTO lessons (incident_id, grade, place, country, lat, lon, cause, measures,"
        " author_id, created_at, place_zh) VALUES (?,?,?,?,?,?,?,?,?,?,?)"
        " ON CONFLICT DO NOTHING",
        (incident.id, incident.grade.value, sealed(incident.place, cipher), incident.country,
         incident.lat, incident.lon, sealed(cause, cipher), sealed(measures, cipher),
         author_id, ts(now), sealed(incident.place_zh, cipher)))


async def recent_lessons(conn: Tx, limit: int, *, cipher: Cipher) -> list[LessonRow]:
    """The newest lessons first (texts are encrypted: searched after decrypting these)."""
    rows = await conn.execute_fetchall(
        "SELECT * FROM lessons ORDER BY created_at DESC, id DESC LIMIT ?", (limit,))
    return [_lesson(r, cipher) for r in rows]


async def lessons_in_box(conn: Tx, lat: float, lon: float, degrees: float, limit: int,
                         *, cipher: Cipher) -> list[LessonRow]:
    """Lessons whose grid cell lies within `degrees` of a point (a prefilter)."""
    rows = await conn.execute_fetchall(
        "SELECT * FROM lessons WHERE lat BETWEEN ? AND ? AND lon BETWEEN ? AND ?"
        " ORDER BY created_at DESC LIMIT ?",
        (lat - degrees, lat + degrees, lon - degrees, lon + degrees, limit))
    return [_lesson(r, cipher) for r in rows]


# --- what a person's /privacy shows ---------------------------------------------------------


async def counts_for(conn: Tx, user_id: int) -> dict[str, int]:
    """How many incidents a person opened or owns, and lessons they wrote."""
    rows = await conn.execute_fetchall(
        "SELECT (SELECT COUNT(*) FROM incidents WHERE opened_by = ? OR owner_id = ?),"
        " (SELECT COUNT(*) FROM lessons WHERE author_id = ?)", (user_id, user_id, user_id))
    first = next(iter(rows))
    return {"incidents": first[0], "lessons": first[1]}
