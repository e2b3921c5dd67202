"""Client visits as the sweep and the flows see them, and client safety notes.

Client, place, pin, companion and note text are encrypted; notes are matched in Python after
decryption (their number is bounded: they expire), never by a clear-text column.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from fieldbot.crypto import Cipher
from fieldbot.domain.visits import NoteCategory, VisitState
from fieldbot.storage.codec import opt_ts, parse_ts, sealed, ts
from fieldbot.storage.db import Tx

LIVE_NOTES = 1000  # at most this many live notes are looked through for one visit


@dataclass(frozen=True, slots=True)
class VisitRow:
    id: int
    user_id: int
    team: str
    client: str
    place: str
    point: tuple[float, float] | None
    tz_name: str
    companion: str
    companion_id: int | None
    alone: bool
    after_dark: bool
    started_at: datetime
    ends_at: datetime
    extensions: int
    state: VisitState
    due_at: datetime | None
    alert_id: int | None
    ended_at: datetime | None
    place_zh: str = ""  # the pinned place as a Chinese reader names it


@dataclass(frozen=True, slots=True)
class NoteRow:
    id: int
    author_id: int | None
    team: str
    category: NoteCategory
    client: str
    place: str
    point: tuple[float, float] | None
    body: str
    created_at: datetime
    expires_at: datetime
    removed: bool


@dataclass(frozen=True, slots=True)
class NewVisit:
    user_id: int
    team: str
    client: str
    place: str
    point: tuple[float, float] | None
    tz_name: str
    companion: str
    companion_id: int | None
    after_dark: bool
    started_at: datetime
    ends_at: datetime
    due_at: datetime
    draft_key: str
    place_zh: str = ""


def _open(value: str, cipher: Cipher) -> str:
    return cipher.decrypt(value) if value else ""


def _point(value: str, cipher: Cipher) -> tuple[float, float] | None:
    if not value:
        return None
    lat, _, lon = cipher.decrypt(value).partition(",")
    return float(lat), float(lon)


def _seal_point(point: tuple[float, float] | None, cipher: Cipher) -> str:
    return cipher.encrypt(f"{point[0]!r},{point[1]!r}") if point is not None else ""


def _visit(row: aiosqlite.Row, cipher: Cipher) -> VisitRow:
    return VisitRow(
        row["id"], row["user_id"], row["team"], _open(row["client"], cipher),
        _open(row["place"], cipher), _point(row["point"], cipher), row["tz_name"],
        _open(row["companion"], cipher), row["companion_id"], bool(row["alone"]),
        bool(row["after_dark"]), parse_ts(row["started_at"]), parse_ts(row["ends_at"]),
        row["extensions"], VisitState(row["state"]), opt_ts(row["due_at"]), row["alert_id"],
        opt_ts(row["ended_at"]), _open(row["place_zh"], cipher),
    )


def _note(row: aiosqlite.Row, cipher: Cipher) -> NoteRow:
    return NoteRow(
        row["id"], row["author_id"], row["team"], NoteCategory(row["category"]),
        _open(row["client"], cipher), _open(row["place"], cipher), _point(row["point"], cipher),
        _open(row["body"], cipher), parse_ts(row["created_at"]), parse_ts(row["expires_at"]),
        row["removed_at"] is not None,
    )


async def add(conn: Tx, v: NewVisit, *, cipher: Cipher) -> int | None:
    """Store a new visit; None if this draft was started already (a second Start)."""
    cur = await conn.execute(
        "INSERT INTO visits (user_id, team, client, place, point, tz_name, companion,"
        " companion_id, alone, after_dark, started_at, ends_at, due_at, draft_key, place_zh)"
        " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT (draft_key) DO NOTHING"
        " RETURNING id",
        (v.user_id, v.team, sealed(v.client, cipher), sealed(v.place, cipher),
         _seal_point(v.point, cipher), v.tz_name, sealed(v.companion, cipher), v.companion_id,
         int(not v.companion), int(v.after_dark), ts(v.started_at), ts(v.ends_at),
         ts(v.due_at), v.draft_key, sealed(v.place_zh, cipher)),
    )
    row = await cur.fetchone()
    return int(row[0]) if row is not None else None


async def get(conn: Tx, visit_id: int, *, cipher: Cipher) -> VisitRow | None:
    async with conn.execute("SELECT * FROM visits WHERE id = ?", (visit_id,)) as cur:
        row = await cur.fetchone()
    return _visit(row, cipher) if row else None


async def open_for(conn: Tx, user_id: int, *, cipher: Cipher) -> VisitRow | None:
    """Return the person's visit under way (one at a time), if any."""
    rows = await conn.execute_fetchall(
        "SELECT * FROM visits WHERE user_id = ? AND state IN ('active', 'reminded', 'overdue')"
        " ORDER BY id DESC LIMIT 1", (user_id,))
    return next((_visit(r, cipher) for r in rows), None)


async def open_ends_at(conn: Tx, user_id: int) -> datetime | None:
    """When the person's visit under way is due to end; None without one (nothing decrypted:
    every /checkin and typed answer asks)."""
    rows = await conn.execute_fetchall(
        "SELECT ends_at FROM visits WHERE user_id = ? AND state IN ('active', 'reminded',"
        " 'overdue') ORDER BY id DESC LIMIT 1", (user_id,))
    return next((parse_ts(r[0]) for r in rows), None)


async def of_alert(conn: Tx, alert_id: int, *, cipher: Cipher) -> VisitRow | None:
    rows = await conn.execute_fetchall("SELECT * FROM visits WHERE alert_id = ?", (alert_id,))
    return next((_visit(r, cipher) for r in rows), None)


async def due_ids(conn: Tx, now: datetime, limit: int) -> list[int]:
    async with conn.execute(
        "SELECT id FROM visits WHERE due_at IS NOT NULL AND due_at <= ? ORDER BY due_at LIMIT ?",
        (ts(now), limit),
    ) as cur:
        return [r[0] for r in await cur.fetchall()]


async def next_due(conn: Tx) -> datetime | None:
    async with conn.execute("SELECT MIN(due_at) FROM visits WHERE due_at IS NOT NULL") as cur:
        row = await cur.fetchone()
    return parse_ts(row[0]) if row and row[0] else None


async def move(
    conn: Tx, v: VisitRow, *, state: VisitState, due_at: datetime | None,
    ends_at: datetime | None = None, extensions: int | None = None,
    ended_at: datetime | None = None,
) -> bool:
    """Compare-and-set: change a visit only if nobody changed it since it was read."""
    cur = await conn.execute(
        "UPDATE visits SET state = ?, due_at = ?, ends_at = COALESCE(?, ends_at),"
        " extensions = COALESCE(?, extensions),"
        " ended_at = COALESCE(?, ended_at)"
        " WHERE id = ? AND state = ? AND due_at IS ? AND ends_at = ?",
        (state.value, ts(due_at) if due_at else None, ts(ends_at) if ends_at else None,
         extensions, ts(ended_at) if ended_at else None, v.id, v.state.value,
         ts(v.due_at) if v.due_at else None, ts(v.ends_at)),
    )
    return cur.rowcount == 1


async def started_from(conn: Tx, draft_key: str) -> int | None:
    """Return the visit a /visit draft started, if it did."""
    async with conn.execute("SELECT id FROM visits WHERE draft_key = ?", (draft_key,)) as cur:
        row = await cur.fetchone()
    return int(row[0]) if row else None


async def end_for_alert(conn: Tx, alert_id: int, now: datetime) -> None:
    """The overdue visit whose alert was resolved is over: it no longer shows as under way."""
    await conn.execute(
        "UPDATE visits SET state = 'ended', due_at = NULL, ended_at = ?"
        " WHERE alert_id = ? AND state = 'overdue'", (ts(now), alert_id))


async def mark_after_dark(conn: Tx, visit_id: int) -> None:
    await conn.execute("UPDATE visits SET after_dark = 1 WHERE id = ?", (visit_id,))


async def set_alert(conn: Tx, visit_id: int, alert_id: int) -> None:
    await conn.execute("UPDATE visits SET alert_id = ? WHERE id = ?", (alert_id, visit_id))


async def push(conn: Tx, visit_id: int, due: datetime) -> None:
    await conn.execute("UPDATE visits SET due_at = ? WHERE id = ?", (ts(due), visit_id))


# --- notes ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NewNote:
    author_id: int
    visit_id: int
    team: str
    category: NoteCategory
    client: str
    place: str
    point: tuple[float, float] | None
    body: str
    created_at: datetime
    expires_at: datetime


async def add_note(conn: Tx, n: NewNote, *, cipher: Cipher) -> int:
    cur = await conn.execute(
        "INSERT INTO visit_notes (author_id, visit_id, team, category, client, place, point,"
        " body, created_at, expires_at) VALUES (?,?,?,?,?,?,?,?,?,?) RETURNING id",
        (n.author_id, n.visit_id, n.team, n.category.value, sealed(n.client, cipher),
         sealed(n.place, cipher), _seal_point(n.point, cipher), sealed(n.body, cipher),
         ts(n.created_at), ts(n.expires_at)),
    )
    row = await cur.fetchone()
    assert row is not None
    return int(row[0])


async def live_notes(conn: Tx, now: datetime, *, cipher: Cipher) -> list[NoteRow]:
    """Return the notes not removed and not expired, the newest first (bounded)."""
    rows = await conn.execute_fetchall(
        "SELECT * FROM visit_notes WHERE removed_at IS NULL AND expires_at > ?"
        " ORDER BY created_at DESC, id DESC LIMIT ?", (ts(now), LIVE_NOTES))
    return [_note(r, cipher) for r in rows]


async def notes_by(conn: Tx, author_id: int, now: datetime, *, cipher: Cipher,
                   limit: int = 5) -> list[NoteRow]:
    """Return the live notes a person left, the newest first (their own words, for /privacy)."""
    rows = await conn.execute_fetchall(
        "SELECT * FROM visit_notes WHERE author_id = ? AND removed_at IS NULL AND expires_at > ?"
        " ORDER BY created_at DESC, id DESC LIMIT ?", (author_id, ts(now), limit))
    return [_note(r, cipher) for r in rows]


async def note(conn: Tx, note_id: int, *, cipher: Cipher) -> NoteRow | None:
    async with conn.execute("SELECT * FROM visit_notes WHERE id = ?", (note_id,)) as cur:
        row = await cur.fetchone()
    return _note(row, cipher) if row else None


async def has_note(conn: Tx, visit_id: int) -> bool:
    async with conn.execute("SELECT 1 FROM visit_notes WHERE visit_id = ?", (visit_id,)) as cur:
        return await cur.fetchone() is not None


async def remove_note(conn: Tx, note_id: int, by: int, now: datetime) -> bool:
    """Remove a note (its text goes at once); False if it was removed already."""
    cur = await conn.execute(
        "UPDATE visit_notes SET removed_by = ?, removed_at = ?, body = '', client = '',"
        " place = '', point = '' WHERE id = ? AND removed_at IS NULL",
        (by, ts(now), note_id),
    )
    return cur.rowcount == 1

