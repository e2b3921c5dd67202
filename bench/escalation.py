"""Escalation benchmarks (issues 4 and 17): lateness, a burst of 1,000 alerts, sweep cost.

    python bench/escalation.py [lateness|burst|sweep|all] [--postgres [SERVER_URL]] [--compare]

With --postgres the same parts run on PostgreSQL (a fresh database, dropped afterwards; the
server defaults to FIELDBOT_TEST_POSTGRES or the local one). --compare runs a smaller size
(2,000 active trips for lateness, 100,000 nights for the sweep) and records the rows in the
"SQLite vs PostgreSQL" sections, so that both engines are measured the same way side by side.

Each part runs the real bot (real PTB Application, its JobQueue and AIORateLimiter, the real
SQLite database) against the in-process fake Telegram, with the wall clock, and writes its
figures to bench/RESULTS.md.
"""

from __future__ import annotations

import asyncio
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import bench.common  # noqa: E402
from bench.common import (  # noqa: E402
    MANAGER,
    OFFICER,
    bot,
    engine,
    enrol,
    file_trips,
    record,
    summary,
)
from fieldbot.domain.ladder import AlertKind  # noqa: E402
from fieldbot.storage import alerts  # noqa: E402
from fieldbot.storage.codec import ts  # noqa: E402

COMMAND = "python bench/escalation.py"


async def lateness(trips: int = 10_000, due: int = 200, window: float = 30.0) -> list[str]:
    """Alerts falling due at random instants while `trips` trips are active."""
    with tempfile.TemporaryDirectory() as tmp:
        app, fake = bot(Path(tmp))
        services = app.bot_data.services
        await app.initialize()
        await services.start()
        reps = await enrol(app, fake, trips)
        today = datetime.now(UTC).date()
        started = time.perf_counter()
        await file_trips(app, reps, today + timedelta(days=1), today + timedelta(days=5))
        setup = time.perf_counter() - started
        now = services.clock.now()
        anchors: dict[int, datetime] = {}
        async with services.db.transaction() as conn:
            for rep in random.sample(reps, due):
                anchor = now + timedelta(seconds=5 + random.uniform(0, window))
                alert_id = await alerts.open_alert(
                    conn, kind=AlertKind.SOS, user_id=rep, trip_id=None, night_id=None,
                    risk_level=0, anchor=anchor, now=now)
                assert alert_id is not None
                anchors[alert_id] = anchor
        await app.post_init(app)  # type: ignore[misc]
        await app.start()
        await fake.wait_for(lambda: len(fake.sent) >= 2 * due, timeout=window + 120)
        await app.stop()
        await app.shutdown()
        await services.stop()
    late = []
    for sent in fake.sent:
        label = sent.text.split("SOS A-", 1)[1].split("<", 1)[0].split(" ", 1)[0]
        late.append((sent.at - anchors[int(label)]).total_seconds())
    return [f"{trips:,} active trips (filed in {setup:.0f} s), {due} SOS alerts due at random "
            f"instants over {window:.0f} s, 2 recipients each: due → accepted by the Bot API: "
            f"{summary(late)}"]


async def burst(sos: int = 100, missed: int = 900) -> list[str]:
    """1,000 alerts due in the same second, the rate limiter at 30 messages/s."""
    with tempfile.TemporaryDirectory() as tmp:
        app, fake = bot(Path(tmp))
        services = app.bot_data.services
        await app.initialize()
        await services.start()
        reps = await enrol(app, fake, sos + missed)
        now = services.clock.now()
        async with services.db.transaction() as conn:
            for i, rep in enumerate(reps):
                kind = AlertKind.SOS if i % 10 == 0 else AlertKind.MISSED
                await alerts.open_alert(conn, kind=kind, user_id=rep, trip_id=None,
                                        night_id=None, risk_level=0, anchor=now, now=now)
        started = time.perf_counter()
        await services.tick()
        elapsed = time.perf_counter() - started
        await app.shutdown()
        await services.stop()
    messages = len(fake.sent)
    floor = messages / 30
    sos_positions = [i for i, s in enumerate(fake.sent) if "SOS A-" in (s.text or "")]
    to_leads = [s for s in fake.sent if s.chat_id in (MANAGER, OFFICER)]
    return [
        f"{sos} SOS + {missed} missed-check-in alerts due at once → {messages} messages in "
        f"{elapsed:.1f} s; physical floor at 30 msg/s {floor:.1f} s; ratio {elapsed / floor:.2f}",
        f"SOS first: all {len(sos_positions)} SOS messages were among the first "
        f"{max(sos_positions) + 1} sent ({len(to_leads)} went to the manager/officer)",
    ]


COMPARE = False  # --compare: the smaller sizes, run on both engines


async def sweep() -> list[str]:
    """Sweep cost: 100,000 nights with none due, then 1% due; 1,000,000 nights with none due
    (the cost grows with what is due, not with what is stored)."""
    rows = await sweep_nights(1_000, 100, (("none due", 0.0), ("1% due", 0.01)), plans=True)
    if not COMPARE:
        rows += await sweep_nights(10_000, 100, (("none due", 0.0),))
    return rows


async def sweep_nights(trips: int, nights_per_trip: int,
                       cases: tuple[tuple[str, float], ...], plans: bool = False) -> list[str]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        app, fake = bot(Path(tmp))
        services = app.bot_data.services
        await services.start()
        reps = await enrol(app, fake, trips)
        now = services.clock.now()
        future = ts(now + timedelta(days=30))
        async with services.db.transaction() as conn:
            for rep in reps:
                cur = await conn.execute(
                    "INSERT INTO trips (user_id, status, created_at) VALUES (?, 'approved', ?)"
                    " RETURNING id", (rep, ts(now)))
                trip_id = (await cur.fetchone())[0]
                await conn.executemany(
                    "INSERT INTO nights (trip_id, user_id, day, leg_index, tz_name, reminder_at,"
                    " deadline, opens_at, closes_at, due_at) VALUES (?,?,?,0,'UTC',?,?,?,?,?)",
                    [(trip_id, rep, f"2027-{1 + d // 28:02d}-{1 + d % 28:02d}", future, future,
                      future, future, future) for d in range(nights_per_trip)])
        total = trips * nights_per_trip
        for label, fraction in cases:
            if fraction:
                async with services.db.transaction() as conn:
                    await conn.execute(
                        "UPDATE nights SET due_at = ?, reminder_at = ?, deadline = ?"
                        " WHERE id % ? = 0", (ts(now - timedelta(seconds=1)), ts(now),
                                              ts(now + timedelta(hours=1)), int(1 / fraction)))
            timings = []
            for _ in range(5):  # the median of 5: one sweep is a few ms, the machine is shared
                started = time.perf_counter()
                report = await services.escalation.sweep()
                timings.append(time.perf_counter() - started)
                if fraction:
                    break  # the first sweep wrote the reminders: the next ones find less due
            elapsed = sorted(timings)[len(timings) // 2]
            median = " (median of 5 sweeps)" if len(timings) > 1 else ""
            rows.append(f"{total:,} nights, {label}: sweep {elapsed * 1000:.1f} ms{median} "
                        f"({report.reminders} reminders written)")
        if plans:
            async with services.db.read() as conn:
                explain = "EXPLAIN QUERY PLAN" if conn.dialect == "sqlite" else "EXPLAIN"
                for table, column in (("nights", "due_at"), ("alerts", "next_due_at")):
                    async with conn.execute(
                        f"{explain} SELECT id FROM {table} WHERE {column} IS NOT NULL"  # noqa: S608
                        f" AND {column} <= ? ORDER BY {column} LIMIT 500", (ts(now),)) as cur:
                        plan = " / ".join(str(r[-1]).strip() for r in await cur.fetchall())
                    rows.append(f"query plan of the {table} sweep: {plan}")
        await services.stop()
    return rows


async def main(which: str, postgres: bool) -> None:
    parts = {"lateness": (lambda: lateness(trips=2_000)) if COMPARE else lateness,
             "burst": burst, "sweep": sweep}
    suffix = (" --postgres" if postgres else "") + (" --compare" if COMPARE else "")
    section = "Escalation on PostgreSQL" if postgres else "Escalation"
    if COMPARE:
        section = f"Escalation, SQLite vs PostgreSQL ({engine()})"
    for name, run in parts.items():
        if which not in (name, "all"):
            continue
        print(f"running {name} on {engine()} ...", flush=True)
        lines = await run()
        for line in lines:
            print("  " + line)
        record(f"{section}: {name}",
               [(f"{name} ({engine()})", line, f"{COMMAND} {name}{suffix}") for line in lines])


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    on_postgres = "--postgres" in sys.argv
    COMPARE = "--compare" in sys.argv
    if on_postgres:
        import os

        from tests.pg import PgServer

        given = sys.argv[sys.argv.index("--postgres") + 1:][:1]
        if given and given[0].startswith("postgres"):
            os.environ["FIELDBOT_TEST_POSTGRES"] = given[0]
            args = [a for a in args if a != given[0]]
        bench.common.POSTGRES = PgServer()
    try:
        asyncio.run(main(args[0] if args else "all", on_postgres))
    finally:
        if bench.common.POSTGRES is not None:
            bench.common.POSTGRES.drop()
