"""Personal data as a whole: what is kept about a person, erasure on request and the
retention purge. What is encrypted, and re-encrypting it, is `storage/vault.py`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from fieldbot.storage import kv
from fieldbot.storage.codec import ts
from fieldbot.storage.db import Database, Tx


@dataclass
class Erased:
    """What an erasure did, in counts (never the data)."""

    stand_in: int = 0  # the anonymous id that statistics now refer to; 0: nothing was stored
    trips: int = 0
    locations: int = 0
    messages: int = 0
    hazards: int = 0
    photos: list[tuple[str, str]] = field(default_factory=list)  # (sha256, path) to delete
    contacts: int = 0  # rows of contact points and pending codes


@dataclass
class Purged:
    trips: int = 0
    locations: int = 0
    messages: int = 0
    photos: list[tuple[str, str]] = field(default_factory=list)

    def summary(self) -> str:
        return (f"trips={self.trips} locations={self.locations} messages={self.messages}"
                f" photos={len(self.photos)}")


async def truncate_wal(db: Database) -> None:
    """Copy the write-ahead log into the database and empty it, so that erased or re-encrypted
    values do not linger in old WAL frames (secure_delete zeroes them in the database file).
    On the writer, outside any transaction: on the shared reader it would hold up every read
    while it waits for a transaction to end."""
    if db.dialect != "sqlite":  # PostgreSQL: VACUUM and the WAL's recycling are the server's
        return
    async with db.autocommit() as conn:
        await conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


# --- what is kept about a person ---------------------------------------------------------------


async def trip_ids_of(
    conn: Tx, user_id: int, limit: int
) -> tuple[list[int], int]:
    """Return the ids of a person's newest trips (up to `limit`) and how many there are."""
    async with conn.execute("SELECT COUNT(*) FROM trips WHERE user_id = ?", (user_id,)) as cur:
        row = await cur.fetchone()
    async with conn.execute(
        "SELECT id FROM trips WHERE user_id = ? ORDER BY id DESC LIMIT ?", (user_id, limit)
    ) as cur:
        ids = [int(r[0]) for r in await cur.fetchall()]
    return ids, int(row[0]) if row else 0


async def purged_trip_ids(conn: Tx, ids: list[int]) -> set[int]:
    if not ids:  # "IN ()" is SQLite's alone
        return set()
    marks = ",".join("?" * len(ids))
    async with conn.execute(
        f"SELECT id FROM trips WHERE id IN ({marks}) AND purged_at IS NOT NULL", ids
    ) as cur:
        return {int(r[0]) for r in await cur.fetchall()}


async def count(conn: Tx, sql: str, *args: object) -> int:
    async with conn.execute(sql, args) as cur:
        row = await cur.fetchone()
    return int(row[0]) if row and row[0] is not None else 0


async def enrolled_at(conn: Tx, user_id: int) -> str | None:
    async with conn.execute("SELECT enrolled_at FROM users WHERE id = ?", (user_id,)) as cur:
        row = await cur.fetchone()
    return str(row[0]) if row else None


async def has_table(conn: Tx, name: str) -> bool:
    return await conn.has_table(name)


async def open_alert_ids(
    conn: Tx, user_id: int, *, hide_duress: bool = False
) -> list[int]:
    """Alerts about a person that nobody has resolved yet (they block erasure; a drill does
    not). With `hide_duress`, those the person must never learn of are left out."""
    async with conn.execute(
        "SELECT id FROM alerts WHERE user_id = ? AND state IN ('open', 'acknowledged')"
        " AND kind != 'drill' AND (? = 0 OR kind != 'duress') ORDER BY id",
        (user_id, int(hide_duress)),
    ) as cur:
        return [int(r[0]) for r in await cur.fetchall()]


# --- erasure -------------------------------------------------------------------------------------


@dataclass
class Stopped:
    """The safety work an erasure stopped, in counts (never the data)."""

    nights: int = 0  # check-ins that will not be asked for
    ended: list[int] = field(default_factory=list)  # trips under way, now ended
    withdrawn: list[int] = field(default_factory=list)  # trips not begun or not yet approved

    @property
    def trips(self) -> list[int]:
        return sorted(self.ended + self.withdrawn)


async def stop_safety_work(conn: Tx, user_id: int, now: datetime) -> Stopped:
    """Stop everything the ladder would still do for a person about to be erased: their
    future nights, their trips still planned or under way, their requests for approval
    (and the messages asking for it that are still unsent)."""
    out = Stopped()
    async with conn.execute(
        "SELECT t.id, t.status, EXISTS (SELECT 1 FROM nights n WHERE n.trip_id = t.id"
        "  AND n.state IN ('checked_in', 'missed', 'skipped')) AS begun"
        " FROM trips t WHERE t.user_id = ? AND (t.status = 'awaiting_approval'"
        "  OR (t.status = 'approved' AND EXISTS (SELECT 1 FROM nights n WHERE n.trip_id = t.id"
        "   AND n.state IN ('pending', 'reminded')))) ORDER BY t.id",
        (user_id,),
    ) as cur:
        live = list(await cur.fetchall())
    for row in live:
        begun = row["status"] == "approved" and row["begun"]
        (out.ended if begun else out.withdrawn).append(int(row["id"]))
        await conn.execute(
            "UPDATE trips SET status = ?, ended_at = ? WHERE id = ? AND status = ?",
            ("ended" if begun else "cancelled", ts(now), row["id"], row["status"]),
        )
        # The approval request's params are encrypted: its dedupe key names the trip.
        await conn.execute(
            "UPDATE outbox SET state = 'failed', last_error = 'withdrawn: trip cancelled'"
            " WHERE kind = 'trip_approval' AND state = 'pending' AND dedupe LIKE ?",
            (f"trip:{int(row['id'])}:approval:to:%",),
        )
    cur = await conn.execute(
        "UPDATE nights SET state = 'cancelled', due_at = NULL"
        " WHERE user_id = ? AND state IN ('pending', 'reminded')",
        (user_id,),
    )
    out.nights = max(cur.rowcount, 0)
    # A visit under way stops too: its timer would otherwise alert about nobody.
    await conn.execute("UPDATE visits SET state = 'cancelled', due_at = NULL"
                       " WHERE user_id = ? AND state IN ('active', 'reminded', 'overdue')",
                       (user_id,))
    # A drill about them is practice: it ends (unanswered) rather than stopping the erasure
    # or alerting anyone further about a person who is gone.
    await conn.execute(
        "UPDATE alerts SET state = 'closed', resolution = 'drill_ended', next_due_at = NULL,"
        " resolved_at = ? WHERE user_id = ? AND kind = 'drill' AND state IN ('open',"
        " 'acknowledged')", (ts(now), user_id))
    return out


async def erase_person(conn: Tx, user_id: int) -> Erased:
    """Erase a person: their personal data goes, their safety statistics stay under an
    anonymous stand-in id (a negative number, with the same role and team).

    The caller has checked that no alert about them is open.
    """
    out = Erased()
    async with conn.execute("SELECT MIN(id) FROM users") as cur:
        row = await cur.fetchone()
    anon = min(0, int(row[0]) if row and row[0] is not None else 0) - 1
    # The stand-in keeps the team (statistics are per team) but no role: 'staff' is the
    # lowest, and users.with_role never returns a stand-in ('erased'), so nobody's ladder,
    # notice or approval ever goes to it.
    cur = await conn.execute(
        "INSERT INTO users (id, name, role, team, language, enrolled_at, unreachable)"
        " SELECT ?, '', 'staff', team, 'en', enrolled_at, 'erased' FROM users WHERE id = ?",
        (anon, user_id),
    )
    enrolled = cur.rowcount == 1
    if not enrolled:  # never enrolled, or erased before: a stand-in for any remnants
        await conn.execute(
            "INSERT INTO users (id, name, role, team, language, enrolled_at, unreachable)"
            " VALUES (?, '', 'staff', '', 'en', '', 'erased')",
            (anon,),
        )
    args = (anon, user_id)
    touched = 0

    async def run(sql: str, params: tuple[object, ...] = args) -> int:
        nonlocal touched
        changed = (await conn.execute(sql, params)).rowcount
        touched += max(changed, 0)
        return changed

    out.trips = await run(
        "UPDATE trips SET user_id = ?, lodging = '', contact_name = '', contact_phone = '',"
        " contact_user_id = NULL, companion = '', report = '', decision_note = '',"
        " draft_key = NULL WHERE user_id = ?"
    )
    # A destination may be a shared pin: keep the place for statistics, not the exact point.
    await run("UPDATE legs SET lat = ROUND(lat, 1), lon = ROUND(lon, 1)"
              " WHERE trip_id IN (SELECT id FROM trips WHERE user_id = ?)", (anon,))
    await run("UPDATE trips SET contact_user_id = NULL WHERE contact_user_id = ?", (user_id,))
    await run("UPDATE trips SET decided_by = ? WHERE decided_by = ?")
    await run("UPDATE nights SET user_id = ?, note = '' WHERE user_id = ?")
    await run("UPDATE alerts SET user_id = ?, note = '' WHERE user_id = ?")
    await run("UPDATE alerts SET acked_by = ? WHERE acked_by = ?")
    await run("UPDATE alerts SET resolved_by = ? WHERE resolved_by = ?")
    await run("UPDATE alert_recipients SET user_id = ? WHERE user_id = ?")
    # Visits stay as statistics without who, where or with whom; the notes they left stay for
    # colleagues' safety, no longer theirs (they are about a client, not about the author).
    await run("UPDATE visits SET user_id = ?, client = '', place = '', place_zh = '',"
              " point = '', companion = '', draft_key = NULL WHERE user_id = ?")
    await run("UPDATE visits SET companion_id = NULL WHERE companion_id = ?", (user_id,))
    await run("UPDATE visit_notes SET author_id = NULL WHERE author_id = ?", (user_id,))
    await run("UPDATE visit_notes SET removed_by = ? WHERE removed_by = ?")
    out.locations = await run("DELETE FROM locations WHERE user_id = ?", (user_id,))
    # Messages to them that were never sent cannot be sent any more; sent ones lose their
    # content and the id in their dedupe key. Messages about them lose their content.
    if await has_table(conn, "outbox_about"):  # none left pointing at a deleted message
        await run("DELETE FROM outbox_about WHERE outbox_id IN (SELECT id FROM outbox"
                  " WHERE recipient = ? AND state IN ('pending', 'sending'))", (user_id,))
    out.messages = await run(
        "DELETE FROM outbox WHERE recipient = ? AND state IN ('pending', 'sending')", (user_id,))
    out.messages += await run(
        "UPDATE outbox SET recipient = ?, params = '', dedupe = 'erased:' || id"
        " WHERE recipient = ?"
    )
    out.messages += await run(
        "UPDATE outbox SET params = '' WHERE params != '' AND state IN ('sent', 'failed')"
        " AND alert_id IN (SELECT id FROM alerts WHERE user_id = ?)", (anon,))
    if await has_table(conn, "outbox_about"):
        # Messages to others about them (a visit alone, a roll-call's silent list, a trip's
        # report): sent ones lose their content now. One still to go is a safety message for
        # someone else (a hazard alert, an all-clear): it goes, and loses it once sent
        # (`outbox.mark_sent`: it names a stand-in now).
        out.messages += await run(
            "UPDATE outbox SET params = '' WHERE params != '' AND state IN ('sent', 'failed')"
            " AND id IN (SELECT outbox_id FROM outbox_about WHERE user_id = ?)", (user_id,))
        await run("UPDATE outbox_about SET user_id = ? WHERE user_id = ?")
    await run("UPDATE invites SET used_by = ? WHERE used_by = ?")
    await run("UPDATE invites SET created_by = ? WHERE created_by = ?")
    await run("DELETE FROM stranger_hits WHERE user_id = ?", (user_id,))
    if await has_table(conn, "calls"):  # when they were called (the hourly cap)
        await run("DELETE FROM calls WHERE user_id = ?", (user_id,))
    if await has_table(conn, "desk_sessions"):  # the desk page: their sessions and links end
        await run("DELETE FROM desk_sessions WHERE user_id = ?", (user_id,))
        await run("DELETE FROM desk_links WHERE user_id = ?", (user_id,))
    touched += await kv.delete_owned_by(conn, user_id)  # their drafts and open conversations
    if await has_table(conn, "hazards"):
        out.photos = await _photos(
            conn, "SELECT p.sha256, p.path FROM hazard_photos p"
            " JOIN hazards h ON h.id = p.hazard_id WHERE h.reporter_id = ?", user_id)
        # Their reports stay (colleagues' safety), anonymised and without photos.
        await run("DELETE FROM hazard_photos WHERE hazard_id IN"
                  " (SELECT id FROM hazards WHERE reporter_id = ?)", (user_id,))
        out.hazards = await run("UPDATE hazards SET reporter_id = ? WHERE reporter_id = ?")
        await run("UPDATE hazards SET decided_by = ? WHERE decided_by = ?")
        await run("UPDATE points SET user_id = ? WHERE user_id = ?")
    if await has_table(conn, "draft_photos"):  # the photos of a report she never sent
        out.photos += await _photos(
            conn, "SELECT sha256, path FROM draft_photos WHERE user_id = ?", user_id)
        await run("DELETE FROM draft_photos WHERE user_id = ?", (user_id,))
    if await has_table(conn, "incidents"):  # DESIGN.md §12: the records stay, anonymous
        await run("UPDATE incidents SET opened_by = ? WHERE opened_by = ?")
        await run("UPDATE incidents SET owner_id = ? WHERE owner_id = ?")
        await run("UPDATE lessons SET author_id = ? WHERE author_id = ?")
        await run("UPDATE drills SET started_by = ? WHERE started_by = ?")
        await run("UPDATE drill_alerts SET user_id = ? WHERE user_id = ?")
    if await has_table(conn, "rollcall_people"):  # the tally stays, anonymous; nobody chases
        await run("UPDATE rollcall_people SET user_id = ?, due_at = NULL WHERE user_id = ?")
        await run("UPDATE rollcalls SET initiator = ? WHERE initiator = ?")
        await run("UPDATE rollcalls SET closed_by = ? WHERE closed_by = ?")
    await conn.execute("DELETE FROM users WHERE id = ?", (user_id,))
    if not enrolled and not touched:
        await conn.execute("DELETE FROM users WHERE id = ?", (anon,))
        anon = 0
    out.stand_in = anon
    return out


async def _photos(conn: Tx, sql: str, *args: object) -> list[tuple[str, str]]:
    async with conn.execute(sql, args) as cur:
        return [(str(r[0]), str(r[1])) for r in await cur.fetchall()]


async def photos_still_used(conn: Tx, shas: list[str]) -> set[str]:
    """Of these photo hashes, those another report or someone's draft still refers to (one
    file per content)."""
    if not shas or not await has_table(conn, "hazard_photos"):
        return set()
    marks = ",".join("?" * len(shas))
    sql = f"SELECT sha256 FROM hazard_photos WHERE sha256 IN ({marks})"
    args = list(shas)
    if await has_table(conn, "draft_photos"):
        sql += f" UNION SELECT sha256 FROM draft_photos WHERE sha256 IN ({marks})"
        args += shas
    async with conn.execute(sql, args) as cur:
        return {str(r[0]) for r in await cur.fetchall()}


# --- retention ---------------------------------------------------------------------------------


async def purge_before(conn: Tx, cutoff: datetime, now: datetime) -> Purged:
    """Purge what the retention period no longer allows: lodging, contacts and the exact
    destination of trips over before `cutoff`, locations older than it (unless a trip still
    under way needs the last known one), the content of old sent messages, old hazard photos
    and the photos of drafts never sent.
    Trips, nights and alerts themselves stay: they are the statistics."""
    out = Purged()
    # A trip's dates are local at the destination: a day later it is over everywhere on Earth.
    last_day = _day_before(cutoff.date())
    over = (
        "purged_at IS NULL AND ("
        " (status IN ('ended', 'rejected', 'cancelled')"
        "  AND COALESCE(ended_at, decided_at, created_at) < :cutoff)"
        " OR (status IN ('approved', 'awaiting_approval')"
        "  AND (SELECT MAX(end_date) FROM legs WHERE trip_id = trips.id) < :last_day))"
    )
    params = {"cutoff": ts(cutoff), "last_day": last_day.isoformat()}
    async with conn.execute(f"SELECT id FROM trips WHERE {over}", params) as cur:
        ids = [int(r[0]) for r in await cur.fetchall()]
    if ids:
        marks = ",".join("?" * len(ids))
        await conn.execute(
            f"UPDATE trips SET lodging = '', contact_name = '', contact_phone = '',"
            f" contact_user_id = NULL, purged_at = ? WHERE id IN ({marks})",
            (ts(now), *ids),
        )
        await conn.execute(
            f"UPDATE legs SET lat = ROUND(lat, 1), lon = ROUND(lon, 1)"
            f" WHERE trip_id IN ({marks})", ids)
        await conn.execute(f"UPDATE nights SET note = '' WHERE trip_id IN ({marks})", ids)
        await conn.execute(f"UPDATE alerts SET note = '' WHERE trip_id IN ({marks})", ids)
    out.trips = len(ids)
    # Someone still travelling keeps their last known location, however old: it is what an
    # alert would show. Everything else older than the cutoff goes.
    cur = await conn.execute(
        "DELETE FROM locations WHERE at < :cutoff AND NOT ("
        " id = (SELECT l.id FROM locations l WHERE l.user_id = locations.user_id"
        "       ORDER BY l.at DESC, l.id DESC LIMIT 1)"
        " AND EXISTS (SELECT 1 FROM trips t WHERE t.user_id = locations.user_id"
        "   AND t.purged_at IS NULL AND t.status IN ('approved', 'awaiting_approval')"
        "   AND (SELECT MAX(end_date) FROM legs WHERE trip_id = t.id) >= :last_day))",
        params,
    )
    out.locations = cur.rowcount
    cur = await conn.execute(
        "UPDATE outbox SET params = '' WHERE params != '' AND state IN ('sent', 'failed')"
        " AND COALESCE(sent_at, created_at) < :cutoff",
        params,
    )
    out.messages = cur.rowcount
    # Visits over before the cutoff keep only their times (statistics); notes past their
    # expiry keep only their category and dates.
    await conn.execute(
        "UPDATE visits SET client = '', place = '', place_zh = '', point = '', companion = ''"
        " WHERE state IN ('ended', 'cancelled') AND ended_at < :cutoff AND client || place"
        " || place_zh || point || companion != ''", params)
    await conn.execute(
        "UPDATE visit_notes SET body = '', client = '', place = '', point = ''"
        " WHERE expires_at <= :now AND body || client || place || point != ''",
        {"now": ts(now)})
    if await has_table(conn, "hazard_photos"):
        old = "SELECT id FROM hazards WHERE created_at < ?"
        out.photos = await _photos(
            conn, f"SELECT sha256, path FROM hazard_photos WHERE hazard_id IN ({old})",
            ts(cutoff))
        await conn.execute(f"DELETE FROM hazard_photos WHERE hazard_id IN ({old})",
                           (ts(cutoff),))
    if await has_table(conn, "draft_photos"):  # a report never sent: its photos go as well
        out.photos += await _photos(
            conn, "SELECT sha256, path FROM draft_photos WHERE added_at < ?", ts(cutoff))
        await conn.execute("DELETE FROM draft_photos WHERE added_at < ?", (ts(cutoff),))
    return out


def _day_before(d: date) -> date:
    return date.fromordinal(d.toordinal() - 1)
