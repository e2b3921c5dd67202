"""Trips, legs and their nights."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

import aiosqlite

from fieldbot.crypto import Cipher
from fieldbot.domain.places import Place
from fieldbot.domain.schedule import Night
from fieldbot.domain.trips import Leg, Trip, TripStatus
from fieldbot.storage.codec import day, sealed, ts
from fieldbot.storage.db import Tx

LIVE_STATUSES = (TripStatus.AWAITING_APPROVAL.value, TripStatus.APPROVED.value)


async def insert(
    conn: Tx, trip: Trip, at: datetime, draft_key: str, *, cipher: Cipher
) -> int | None:
    """Insert a trip and its legs; None if this draft was already saved (a double Confirm).

    Lodging, the emergency contact and the companion are stored encrypted."""
    cur = await conn.execute(
        "INSERT INTO trips (user_id, status, lodging, contact_name, contact_phone,"
        " contact_user_id, night_visits, companion, risk_level, created_at, draft_key)"
        " VALUES (?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT (draft_key) DO NOTHING",
        (trip.user_id, trip.status.value, cipher.encrypt(trip.lodging),
         cipher.encrypt(trip.contact_name), cipher.encrypt(trip.contact_phone),
         trip.contact_user_id, int(trip.night_visits), cipher.encrypt(trip.companion),
         trip.risk_level,
         ts(at), draft_key),
    )
    if cur.rowcount != 1:
        return None
    trip_id = cur.lastrowid
    assert trip_id is not None
    await conn.executemany(
        "INSERT INTO legs (trip_id, idx, place_name, country_code, country_name, region,"
        " lat, lon, tz_name, geonameid, start_date, end_date, place_name_zh)"
        " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
        [
            (trip_id, i, leg.place.name, leg.place.country_code, leg.place.country_name,
             leg.place.region, leg.place.lat, leg.place.lon, leg.place.tz_name,
             leg.place.geonameid, leg.start.isoformat(), leg.end.isoformat(),
             leg.place.name_zh)
            for i, leg in enumerate(trip.legs)
        ],
    )
    return trip_id


async def by_draft(
    conn: Tx, draft_key: str, *, cipher: Cipher
) -> Trip | None:
    async with conn.execute("SELECT id FROM trips WHERE draft_key = ?", (draft_key,)) as cur:
        row = await cur.fetchone()
    return await get(conn, row["id"], cipher=cipher) if row else None


async def get(conn: Tx, trip_id: int, *, cipher: Cipher) -> Trip | None:
    async with conn.execute("SELECT * FROM trips WHERE id = ?", (trip_id,)) as cur:
        row = await cur.fetchone()
    if row is None:
        return None
    return (await _with_legs(conn, [row], cipher))[0]


async def for_user(
    conn: Tx,
    user_id: int,
    statuses: Sequence[str],
    ending_on_or_after: date,
    *,
    cipher: Cipher,
) -> list[Trip]:
    """Trips of a user in the given statuses whose last leg ends on or after a date."""
    marks = ",".join("?" * len(statuses))
    async with conn.execute(
        f"SELECT t.* FROM trips t WHERE t.user_id = ? AND t.status IN ({marks})"
        " AND (SELECT MAX(end_date) FROM legs WHERE trip_id = t.id) >= ?"
        " ORDER BY (SELECT MIN(start_date) FROM legs WHERE trip_id = t.id)",
        (user_id, *statuses, ending_on_or_after.isoformat()),
    ) as cur:
        rows = list(await cur.fetchall())
    return await _with_legs(conn, rows, cipher)


async def _with_legs(
    conn: Tx, rows: list[aiosqlite.Row], cipher: Cipher
) -> list[Trip]:
    trips = []
    for row in rows:
        async with conn.execute(
            "SELECT * FROM legs WHERE trip_id = ? ORDER BY idx", (row["id"],)
        ) as cur:
            legs = tuple(
                Leg(
                    Place(leg["place_name"], leg["country_code"], leg["country_name"],
                          leg["region"], leg["lat"], leg["lon"], leg["tz_name"], leg["geonameid"],
                          leg["place_name_zh"]),
                    day(leg["start_date"]), day(leg["end_date"]),
                )
                for leg in await cur.fetchall()
            )
        trips.append(
            Trip(
                id=row["id"], user_id=row["user_id"], legs=legs,
                status=TripStatus(row["status"]), lodging=cipher.decrypt(row["lodging"]),
                contact_name=cipher.decrypt(row["contact_name"]),
                contact_phone=cipher.decrypt(row["contact_phone"]),
                contact_user_id=row["contact_user_id"], night_visits=bool(row["night_visits"]),
                companion=cipher.decrypt(row["companion"]), risk_level=row["risk_level"],
            )
        )
    return trips


async def set_status(
    conn: Tx,
    trip_id: int,
    expected: TripStatus,
    new: TripStatus,
    by: int | None,
    at: datetime,
    note: str = "",
    *,
    cipher: Cipher | None = None,
) -> bool:
    """Move a trip from `expected` to `new`; False if it was not in `expected` (already done).

    A note (a reject reason) is stored encrypted: give the cipher with it."""
    cur = await conn.execute(
        "UPDATE trips SET status = ?, decided_by = ?, decided_at = ?, decision_note = ?"
        " WHERE id = ? AND status = ?",
        (new.value, by, ts(at), sealed(note, cipher), trip_id, expected.value),
    )
    return cur.rowcount == 1


async def end(conn: Tx, trip_id: int, at: datetime) -> bool:
    cur = await conn.execute(
        "UPDATE trips SET status = 'ended', ended_at = ? WHERE id = ? AND status = 'approved'",
        (ts(at), trip_id),
    )
    return cur.rowcount == 1


async def save_report(
    conn: Tx, trip_id: int, report: str, *, cipher: Cipher
) -> None:
    await conn.execute("UPDATE trips SET report = ? WHERE id = ?",
                       (cipher.encrypt(report), trip_id))



async def insert_nights(conn: Tx, user_id: int, nights: Sequence[Night]) -> None:
    await conn.executemany(
        "INSERT INTO nights (trip_id, user_id, day, leg_index, tz_name, reminder_at, deadline,"
        " opens_at, closes_at, state, due_at) VALUES (?,?,?,?,?,?,?,?,?,'pending',?)"
        " ON CONFLICT DO NOTHING",
        [
            (n.trip_id, user_id, n.day.isoformat(), n.leg_index, n.tz_name,
             ts(n.reminder_at), ts(n.deadline), ts(n.opens_at), ts(n.closes_at),
             ts(n.reminder_at))
            for n in nights
        ],
    )


async def cancel_future_nights(conn: Tx, trip_id: int) -> None:
    """Stop scheduling a trip's nights that have not been settled yet."""
    await conn.execute(
        "UPDATE nights SET state = 'cancelled', due_at = NULL"
        " WHERE trip_id = ? AND state IN ('pending', 'reminded')",
        (trip_id,),
    )
