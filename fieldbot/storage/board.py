"""What the team board and the monthly summary read: who is out, open alerts, month records.

None of these queries touches an encrypted column (lodging, contacts, locations): those are
read through `storage.trips` and `storage.alerts`, which decrypt them.
"""

from __future__ import annotations

from datetime import date

from fieldbot.domain.board import LastCheckin
from fieldbot.domain.ladder import AlertKind
from fieldbot.domain.places import Place
from fieldbot.domain.report import AlertRecord, HazardRecord, Month, NightRecord, VisitRecord
from fieldbot.domain.trend import NightCounts
from fieldbot.storage.codec import day, opt_ts, parse_ts, ts
from fieldbot.storage.db import Tx


async def teams(conn: Tx) -> list[str]:
    async with conn.execute("SELECT DISTINCT team FROM users ORDER BY team") as cur:
        return [r[0] for r in await cur.fetchall()]


async def traveller_ids(
    conn: Tx, team: str, ending_on_or_after: date
) -> list[int]:
    """Members of `team` with an approved trip not over yet, an alert still open, or a client
    visit under way."""
    async with conn.execute(
        "SELECT u.id FROM users u WHERE u.team = ? AND ("
        " EXISTS (SELECT 1 FROM trips t WHERE t.user_id = u.id AND t.status = 'approved'"
        "         AND (SELECT MAX(end_date) FROM legs WHERE trip_id = t.id) >= ?)"
        " OR EXISTS (SELECT 1 FROM alerts a WHERE a.user_id = u.id"
        "            AND a.state IN ('open', 'acknowledged'))"
        " OR EXISTS (SELECT 1 FROM visits v WHERE v.user_id = u.id"
        "            AND v.state IN ('active', 'reminded', 'overdue'))"
        ") ORDER BY u.id",
        (team, ending_on_or_after.isoformat()),
    ) as cur:
        return [r[0] for r in await cur.fetchall()]


async def last_checkin(conn: Tx, user_id: int) -> LastCheckin | None:
    """Return the latest check-in of a user: when, and the destination of that night (named
    in both languages, as its leg is)."""
    async with conn.execute(
        "SELECT n.checked_in_at, n.tz_name, l.place_name, l.country_code, l.country_name,"
        " l.region, l.lat, l.lon, l.tz_name AS leg_tz, l.geonameid, l.place_name_zh"
        " FROM nights n"
        " LEFT JOIN legs l ON l.trip_id = n.trip_id AND l.idx = n.leg_index"
        " WHERE n.user_id = ? AND n.checked_in_at IS NOT NULL"
        " ORDER BY n.checked_in_at DESC LIMIT 1",
        (user_id,),
    ) as cur:
        row = await cur.fetchone()
    if row is None:
        return None
    place = None if row["place_name"] is None else Place(
        row["place_name"], row["country_code"], row["country_name"], row["region"], row["lat"],
        row["lon"], row["leg_tz"], row["geonameid"], row["place_name_zh"])
    return LastCheckin(parse_ts(row["checked_in_at"]), row["tz_name"], place)


async def open_alert_ids(conn: Tx, team: str | None) -> list[int]:
    """Alerts not closed yet (open or acknowledged), about members of `team` (None: all)."""
    sql = (
        "SELECT a.id FROM alerts a LEFT JOIN users u ON u.id = a.user_id"
        " WHERE a.state IN ('open', 'acknowledged')"
    )
    args: list[object] = []
    if team is not None:
        sql += " AND u.team = ?"
        args.append(team)
    async with conn.execute(sql + " ORDER BY a.id", args) as cur:
        return [r[0] for r in await cur.fetchall()]


async def leads_alerted(conn: Tx, alert_id: int) -> bool:
    """Return whether a manager or officer has been sent this alert (not just the rep)."""
    async with conn.execute(
        "SELECT 1 FROM alert_recipients WHERE alert_id = ? LIMIT 1", (alert_id,)
    ) as cur:
        return await cur.fetchone() is not None


# --- the monthly summary ----------------------------------------------------------------------


async def month_nights(conn: Tx, month: Month) -> list[NightRecord]:
    """Settled nights whose local date falls in the month, with the rep's team."""
    async with conn.execute(
        "SELECT COALESCE(u.team, '') AS team, n.trip_id, n.day, n.state FROM nights n"
        " LEFT JOIN users u ON u.id = n.user_id"
        " WHERE n.day >= ? AND n.day < ? AND n.state IN ('checked_in', 'skipped', 'missed')",
        (month.first_day.isoformat(), month.next().first_day.isoformat()),
    ) as cur:
        return [NightRecord(r["team"], r["trip_id"], day(r["day"]), r["state"])
                for r in await cur.fetchall()]


# A duress alert about whoever looks at the summary is left out of it: her phone may be in
# other hands (the duress rule), and one more SOS in her own team's month would say so.
_NOT_OWN_DURESS = " AND NOT (a.kind = 'duress' AND a.user_id = ?)"


async def month_alerts(conn: Tx, month: Month, viewer: int | None = None
                       ) -> list[AlertRecord]:
    """Alerts raised in the month (UTC), with when a manager or officer was first told;
    without the duress alerts about `viewer`."""
    async with conn.execute(
        "SELECT COALESCE(u.team, '') AS team, a.kind, a.created_at, a.acked_at, a.resolution,"
        " (SELECT MIN(first_at) FROM alert_recipients r WHERE r.alert_id = a.id) AS told"
        " FROM alerts a LEFT JOIN users u ON u.id = a.user_id"
        " WHERE a.created_at >= ? AND a.created_at < ?" + _NOT_OWN_DURESS,
        (ts(month.start), ts(month.end), 0 if viewer is None else viewer),
    ) as cur:
        return [
            AlertRecord(r["team"], AlertKind(r["kind"]), parse_ts(r["created_at"]),
                        opt_ts(r["told"]), opt_ts(r["acked_at"]), r["resolution"])
            for r in await cur.fetchall()
        ]


async def month_hazards(conn: Tx, month: Month) -> list[HazardRecord] | None:
    """Hazard reports raised in the month and not dismissed; None if hazards are not recorded
    in this database (the table arrived with a later migration)."""
    if not await conn.has_table("hazards"):
        return None
    async with conn.execute(
        "SELECT team, severity, created_at FROM hazards"
        " WHERE created_at >= ? AND created_at < ? AND state != 'dismissed'",
        (ts(month.start), ts(month.end)),
    ) as cur:
        return [HazardRecord(r["team"], int(r["severity"]), parse_ts(r["created_at"]))
                for r in await cur.fetchall()]


async def month_visits(conn: Tx, month: Month) -> list[VisitRecord]:
    """Client visits started in the month (a database from before visits has none)."""
    if not await conn.has_table("visits"):
        return []
    async with conn.execute(
        "SELECT team, started_at,"
        " CASE WHEN alone = 1 AND after_dark = 1 THEN 1 ELSE 0 END AS dark FROM visits"
        " WHERE started_at >= ? AND started_at < ?",
        (ts(month.start), ts(month.end)),
    ) as cur:
        return [VisitRecord(r["team"], parse_ts(r["started_at"]), bool(r["dark"]))
                for r in await cur.fetchall()]


# --- the chart's trend: counted in the database, one row per month ---------------------------
# SUBSTR(…, 1, 7) is the month of a local date ('2026-12-05') and of a stored UTC timestamp
# ('2026-12-05T20:00:00.000000+00:00') alike, on both engines; the range keeps it to the months
# asked for.


async def trend_nights(conn: Tx, first: Month, last: Month,
                       team: str | None) -> dict[Month, NightCounts]:
    """Settled nights per month (local date) from `first` to `last`, of `team` if not None."""
    sql = ("SELECT SUBSTR(n.day, 1, 7) AS month, COUNT(*) AS nights,"
           " COUNT(*) FILTER (WHERE n.state = 'checked_in') AS checked_in,"
           " COUNT(*) FILTER (WHERE n.state = 'skipped') AS skipped"
           " FROM nights n LEFT JOIN users u ON u.id = n.user_id"
           " WHERE n.day >= ? AND n.day < ? AND n.state IN ('checked_in', 'skipped', 'missed')")
    args: list[object] = [first.first_day.isoformat(), last.next().first_day.isoformat()]
    if team is not None:
        sql += " AND COALESCE(u.team, '') = ?"
        args.append(team)
    async with conn.execute(sql + " GROUP BY SUBSTR(n.day, 1, 7)", args) as cur:
        return {Month.parse(r["month"]): NightCounts(r["nights"], r["checked_in"], r["skipped"])
                for r in await cur.fetchall()}


async def trend_alerts(conn: Tx, first: Month, last: Month, team: str | None,
                       viewer: int | None = None) -> dict[Month, int]:
    """Alerts raised per month (UTC) from `first` to `last`, drills not counted, nor the
    duress alerts about `viewer`."""
    sql = ("SELECT SUBSTR(a.created_at, 1, 7) AS month, COUNT(*) AS alerts"
           " FROM alerts a LEFT JOIN users u ON u.id = a.user_id"
           " WHERE a.created_at >= ? AND a.created_at < ? AND a.kind != ?" + _NOT_OWN_DURESS)
    args: list[object] = [ts(first.start), ts(last.end), AlertKind.DRILL.value,
                          0 if viewer is None else viewer]
    if team is not None:
        sql += " AND COALESCE(u.team, '') = ?"
        args.append(team)
    async with conn.execute(sql + " GROUP BY SUBSTR(a.created_at, 1, 7)", args) as cur:
        return {Month.parse(r["month"]): r["alerts"] for r in await cur.fetchall()}
