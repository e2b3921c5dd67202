"""Hazard reports, their photos, and the points awarded for verified ones.

The description, the place labels (English and Chinese; they may carry the pin) and the exact
pin ("lat,lon") are stored encrypted; the lat and lon columns
keep the pin rounded to a ~1 km grid (GRID degrees) for the "nearby" prefilter and its index.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from fieldbot.crypto import Cipher
from fieldbot.domain.hazards import (
    Category,
    Hazard,
    HazardReport,
    HazardState,
    PhotoRef,
    Severity,
)
from fieldbot.storage.codec import opt_ts, parse_ts, sealed, ts
from fieldbot.storage.db import Row, Tx

GRID = 2  # decimal places kept in the plain lat/lon columns: 0.01° is about 1.1 km


async def insert(
    conn: Tx,
    reporter_id: int,
    team: str,
    report: HazardReport,
    radius_km: float,
    at: datetime,
    draft_key: str,
    *,
    cipher: Cipher,
) -> int | None:
    """Insert a report and its photos; None if this draft was already saved (a double Confirm)."""
    cur = await conn.execute(
        "INSERT INTO hazards (reporter_id, team, category, severity, lat, lon, point, place,"
        " radius_km, description, created_at, draft_key, place_zh)"
        " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)"
        " ON CONFLICT (draft_key) DO NOTHING RETURNING id",
        (reporter_id, team, report.category.value, int(report.severity),
         round(report.lat, GRID), round(report.lon, GRID),
         cipher.encrypt(f"{report.lat!r},{report.lon!r}"), cipher.encrypt(report.place),
         radius_km,
         cipher.encrypt(report.description), ts(at), draft_key, sealed(report.place_zh, cipher)),
    )
    row = await cur.fetchone()
    if row is None:
        return None
    hazard_id = int(row[0])
    await conn.executemany(
        "INSERT INTO hazard_photos (hazard_id, idx, sha256, path) VALUES (?,?,?,?)",
        [(hazard_id, i, p.sha256, p.path) for i, p in enumerate(report.photos)],
    )
    return hazard_id


async def by_draft(
    conn: Tx, draft_key: str, *, cipher: Cipher
) -> Hazard | None:
    async with conn.execute("SELECT * FROM hazards WHERE draft_key = ?", (draft_key,)) as cur:
        row = await cur.fetchone()
    return (await _with_photos(conn, [row], cipher))[0] if row else None


async def get(conn: Tx, hazard_id: int, *, cipher: Cipher) -> Hazard | None:
    async with conn.execute("SELECT * FROM hazards WHERE id = ?", (hazard_id,)) as cur:
        row = await cur.fetchone()
    return (await _with_photos(conn, [row], cipher))[0] if row else None


async def open_reports(
    conn: Tx, team: str | None, limit: int, *, cipher: Cipher
) -> tuple[list[Hazard], int]:
    """Return the newest open reports (of one team, or of all) and how many are open in all."""
    where, args = "state = 'open'", []
    if team is not None:
        where += " AND team = ?"
        args.append(team)
    async with conn.execute(f"SELECT COUNT(*) FROM hazards WHERE {where}", args) as cur:
        row = await cur.fetchone()
    total = int(row[0]) if row else 0
    async with conn.execute(
        f"SELECT * FROM hazards WHERE {where} ORDER BY severity DESC, created_at DESC LIMIT ?",
        [*args, limit],
    ) as cur:
        rows = list(await cur.fetchall())
    return await _with_photos(conn, rows, cipher), total


async def verified_between(
    conn: Tx, min_lat: float, max_lat: float, since: datetime, *,
    cipher: Cipher,
) -> list[Hazard]:
    """Verified reports decided since `since` in a band of latitude (the cheap prefilter on
    the grid, widened by half a cell; the exact pins are decrypted afterwards)."""
    half_cell = 0.5 * 10.0 ** -GRID
    async with conn.execute(
        "SELECT * FROM hazards WHERE state = 'verified' AND lat BETWEEN ? AND ?"
        " AND decided_at >= ?",
        (min_lat - half_cell, max_lat + half_cell, ts(since)),
    ) as cur:
        rows = list(await cur.fetchall())
    return [h for h in await _with_photos(conn, rows, cipher) if min_lat <= h.lat <= max_lat]


async def decide(
    conn: Tx, hazard_id: int, new: HazardState, by: int, at: datetime
) -> bool:
    """Move an open report to verified or dismissed; False if it was decided already."""
    cur = await conn.execute(
        "UPDATE hazards SET state = ?, decided_by = ?, decided_at = ?"
        " WHERE id = ? AND state = 'open'",
        (new.value, by, ts(at), hazard_id),
    )
    return cur.rowcount == 1


async def award(
    conn: Tx, user_id: int, hazard_id: int, points: int, at: datetime
) -> None:
    await conn.execute(
        "INSERT INTO points (user_id, hazard_id, points, at) VALUES (?,?,?,?)"
        " ON CONFLICT DO NOTHING",
        (user_id, hazard_id, points, ts(at)),
    )


async def points_of(conn: Tx, user_id: int) -> int:
    async with conn.execute(
        "SELECT COALESCE(SUM(points), 0) FROM points WHERE user_id = ?", (user_id,)
    ) as cur:
        row = await cur.fetchone()
    return int(row[0]) if row else 0


async def leaderboard(
    conn: Tx, team: str | None, limit: int, *, cipher: Cipher
) -> list[tuple[int, str, int]]:
    """Return (user id, name, points) of the members with most points, of a team or of all.

    Names are encrypted, so ties are ordered by name here rather than in SQL: the members
    tied with the last place are all read, then the list is cut."""
    # An erased person's stand-in keeps the points as statistics, not a place on the board.
    sql = ("SELECT u.id, u.name, SUM(p.points) AS total FROM points p"
           " JOIN users u ON u.id = p.user_id WHERE u.unreachable IS NOT 'erased'")
    args: list[object] = []
    if team is not None:
        sql += " AND u.team = ?"
        args.append(team)
    sql += " GROUP BY u.id ORDER BY total DESC"
    board: list[tuple[int, str, int]] = []
    async with conn.execute(sql, args) as cur:
        async for r in cur:
            if len(board) >= limit and int(r[2]) < board[-1][2]:
                break
            board.append((int(r[0]), cipher.decrypt(r[1]), int(r[2])))
    board.sort(key=lambda entry: (-entry[2], entry[1]))
    return board[:limit]


async def photos_in_use(conn: Tx, shas: Sequence[str]) -> set[str]:
    """Return which of these photo hashes a saved report or anybody's draft refers to (one
    file per content: the same picture may be in two reports, or in a colleague's draft)."""
    if not shas:
        return set()
    marks = ",".join("?" * len(shas))
    async with conn.execute(
        f"SELECT sha256 FROM hazard_photos WHERE sha256 IN ({marks})"
        f" UNION SELECT sha256 FROM draft_photos WHERE sha256 IN ({marks})",
        [*shas, *shas],
    ) as cur:
        return {str(r[0]) for r in await cur.fetchall()}


async def keep_draft_photo(conn: Tx, ref: PhotoRef, user_id: int, at: datetime) -> None:
    """Note that `user_id`'s draft holds this photo (until it is sent, cancelled or erased)."""
    await conn.execute(
        "INSERT INTO draft_photos (sha256, path, user_id, added_at) VALUES (?,?,?,?)"
        " ON CONFLICT (sha256, user_id) DO UPDATE SET added_at = excluded.added_at",
        (ref.sha256, ref.path, user_id, ts(at)))


async def drop_draft_photos(conn: Tx, user_id: int, shas: Sequence[str]) -> None:
    """The draft of `user_id` no longer holds these photos (sent, or cancelled)."""
    if shas:
        marks = ",".join("?" * len(shas))
        await conn.execute(
            f"DELETE FROM draft_photos WHERE user_id = ? AND sha256 IN ({marks})",
            (user_id, *shas))


async def _with_photos(
    conn: Tx, rows: list[Row], cipher: Cipher
) -> list[Hazard]:
    found = []
    for row in rows:
        lat, lon = row["lat"], row["lon"]
        if row["point"]:  # the exact pin; without it (never in practice) the grid cell
            exact_lat, _, exact_lon = cipher.decrypt(row["point"]).partition(",")
            lat, lon = float(exact_lat), float(exact_lon)
        async with conn.execute(
            "SELECT sha256, path FROM hazard_photos WHERE hazard_id = ? ORDER BY idx",
            (row["id"],),
        ) as cur:
            photos = tuple(PhotoRef(p["sha256"], p["path"]) for p in await cur.fetchall())
        found.append(
            Hazard(
                id=row["id"], reporter_id=row["reporter_id"], team=row["team"],
                category=Category(row["category"]), severity=Severity(row["severity"]),
                lat=lat, lon=lon, place=cipher.decrypt(row["place"]), radius_km=row["radius_km"],
                description=cipher.decrypt(row["description"]), state=HazardState(row["state"]),
                created_at=parse_ts(row["created_at"]), photos=photos,
                decided_by=row["decided_by"], decided_at=opt_ts(row["decided_at"]),
                place_zh=cipher.decrypt(row["place_zh"]) if row["place_zh"] else "",
            )
        )
    return found


async def trip_stops(conn: Tx, ending_on_or_after: str) -> list[Row]:
    """Return (user_id, lat, lon) of every leg of a live trip that is not over yet."""
    async with conn.execute(
        "SELECT DISTINCT t.user_id, l.lat, l.lon FROM trips t JOIN legs l ON l.trip_id = t.id"
        " WHERE t.status IN ('approved', 'awaiting_approval') AND l.end_date >= ?",
        (ending_on_or_after,),
    ) as cur:
        return list(await cur.fetchall())
