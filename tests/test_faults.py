"""Faults end to end: Telegram down for hours, the disk full, the clock jumping.

The real Application against the fake Telegram with a fake clock (tests/harness.py). Rita has
a trip to Berlin from 1 to 4 December; in December Berlin is UTC+1, so her reminder is at
19:00 UTC and her deadline at 20:00 UTC.
"""

from __future__ import annotations

import re
import sqlite3
from datetime import UTC, date, datetime, timedelta

from faketelegram.errors import ServerError, Timeout
from faketelegram.models import FakeMessage
from fieldbot.domain.members import Member
from fieldbot.domain.roles import Role
from fieldbot.domain.trips import Leg
from fieldbot.services.trips import TripPlan
from fieldbot.storage import users
from tests.builders import BERLIN, at, plan_trip
from tests.harness import World

DEADLINE = datetime(2026, 12, 1, 20, 0, tzinfo=UTC)
LABEL = re.compile(r"\b(SOS|Alert|EMERGENCY) A-(\d+)")


async def outbox_states(world: World) -> dict[str, int]:
    """Rows by state; "withdrawn": superseded by a later step, or a reminder past its hour."""
    async with world.services.db.read() as conn, conn.execute(
        "SELECT CASE WHEN last_error LIKE 'withdrawn:%' THEN 'withdrawn' ELSE state END AS s,"
        " COUNT(*) FROM outbox GROUP BY s") as cur:
        return {row[0]: row[1] for row in await cur.fetchall()}


async def steps(world: World) -> dict[int, int]:
    async with world.services.db.read() as conn, conn.execute(
        "SELECT id, step_index FROM alerts") as cur:
        return {row[0]: row[1] for row in await cur.fetchall()}


# --- Telegram down for six hours ------------------------------------------------------------


async def test_six_hours_without_telegram_lose_nothing_and_sos_goes_first(team: World) -> None:
    await plan_trip(team, BERLIN, date(2026, 12, 1), date(2026, 12, 4))
    team.clock.set(DEADLINE - timedelta(hours=1, minutes=30))  # 18:30 UTC, before the reminder
    await team.tick()
    down = len(team.fake.calls)
    team.fake.fail_always("sendMessage", ServerError(502))
    # Every message of the outage: the night's reminder, the missed check-in's ladder, and
    # an SOS raised by another route (the rep phoned the desk, say) while Telegram was down.
    for minute in range(0, 6 * 60, 10):
        if minute == 3 * 60:
            team.fake.clear_failures()
            team.fake.fail_always("sendMessage", Timeout())  # half the outage: time-outs
        if minute == 4 * 60:
            await team.services.escalation.raise_sos(team.rep.id)
        await team.advance(timedelta(minutes=10))
    accepted = [c for c in team.fake.calls[down:]
                if c.method == "sendMessage" and c.status == 200]
    assert not accepted, "nothing can have been delivered during the outage"
    waiting = await outbox_states(team)
    assert set(waiting) <= {"pending", "sent", "withdrawn"}, waiting  # sent: before it

    team.fake.clear_failures()
    first_drain: list[FakeMessage] = []
    for _ in range(6):  # the next retry is at most five minutes away (capped backoff)
        back = len(team.fake.sent)
        await team.advance(timedelta(minutes=1))
        first_drain = [m for m in team.fake.sent[back:] if LABEL.search(m.text or "")]
        if first_drain:
            break
    kinds = [LABEL.search(m.text or "").group(1) for m in first_drain]  # type: ignore[union-attr]
    assert "SOS" in kinds and "Alert" in kinds, kinds
    # Order of severity: every SOS message of the backlog goes before any ladder message.
    assert kinds == sorted(kinds, key=lambda k: k != "SOS"), kinds
    for _ in range(10):  # retries back off by up to five minutes
        await team.advance(timedelta(minutes=1))
    states = await outbox_states(team)
    assert states.get("pending", 0) + states.get("sending", 0) == 0, states
    assert states.get("failed", 0) == 0, states
    # The manager and the officer have the missed night's alert and the SOS; Rita was asked.
    for user in (team.manager, team.officer):
        texts = user.texts()
        assert any("SOS A-" in t for t in texts) and any("Alert A-1" in t for t in texts)
    rep_texts = team.rep.texts()
    assert any("Alert A-1" in t and "reminder" in t for t in rep_texts)
    # She can still answer; the all-clear reaches everyone who was alerted.
    await team.rep.send("/checkin")
    assert "All clear" in team.manager.last.body


# --- the clock jumps -------------------------------------------------------------------------


async def test_clock_jumps_raise_no_false_or_duplicate_alert(team: World) -> None:
    await plan_trip(team, BERLIN, date(2026, 12, 1), date(2026, 12, 4))
    team.clock.set(DEADLINE - timedelta(minutes=30))
    await team.tick()
    await team.rep.send("/checkin")  # night 1 checked in on time
    seen: dict[int, int] = {}

    async def tick_at(when: datetime) -> None:
        team.clock.set(when)
        await team.tick()
        for alert_id, step in (await steps(team)).items():
            assert step >= seen.get(alert_id, -1), f"A-{alert_id} went back"
            seen[alert_id] = step

    await tick_at(DEADLINE + timedelta(days=1, minutes=-30))  # a day forward: 19:30 on the 2nd
    await tick_at(DEADLINE + timedelta(days=1, minutes=-90))  # an hour back
    assert not await steps(team), "night 1 was checked in; night 2 is not due yet"
    await tick_at(DEADLINE + timedelta(days=1, minutes=31))  # night 2: the manager's tier
    await tick_at(DEADLINE + timedelta(days=1, minutes=-29))  # an hour back, before its deadline
    await tick_at(DEADLINE + timedelta(days=1, minutes=45))
    manager_alerts = [t for t in team.manager.texts() if "Alert A-" in t]
    assert len(manager_alerts) == 1, manager_alerts
    assert "A-1" in manager_alerts[0]
    await tick_at(DEADLINE + timedelta(days=1, minutes=61))
    assert len([t for t in team.officer.texts() if "Alert A-1" in t]) == 1


# --- the disk fills up -----------------------------------------------------------------------

EXTRA_REPS = range(9000, 9030)  # made-up colleagues of Rita's, on the same trip


async def send_the_team_to_berlin(world: World) -> None:
    services = world.services
    now = services.clock.now()
    async with services.db.transaction() as conn:
        for uid in EXTRA_REPS:
            await users.upsert(conn, Member(uid, f"Rep {uid}", Role.STAFF, "north", "en"), now,
                               cipher=services.cipher)
    for uid in EXTRA_REPS:
        world.fake.user(uid, f"Rep {uid}").started = True
        member = await services.enrolment.member(uid)
        assert member is not None
        plan = TripPlan(legs=(Leg(BERLIN, date(2026, 12, 1), date(2026, 12, 4)),),
                        lodging="Hotel Fixture", contact_name="Sam Fixture",
                        contact_phone="+4917000000", contact_user_id=None,
                        night_visits=False, companion="")
        await services.trips.submit(member, plan, f"disk-{uid}")


async def fill_the_disk(world: World) -> None:
    """Cap the file at its size and use up the free bytes: a row needing a page now fails
    with SQLite's "database or disk is full", as on a full disk. On the writer's connection
    (the cap is per connection), each statement committing by itself."""
    async with world.services.db.autocommit() as conn:
        await conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        await conn.execute("CREATE TABLE filler (x BLOB)")
        async with conn.execute("PRAGMA page_count") as cur:
            row = await cur.fetchone()
        assert row is not None
        await conn.execute(f"PRAGMA max_page_count = {int(row[0])}")
        for size in (4000, 1000, 200, 50, 10, 1):
            try:
                for _ in range(200):
                    await conn.execute("INSERT INTO filler VALUES (zeroblob(?))", (size,))
            except sqlite3.OperationalError as exc:
                if "full" not in str(exc):
                    raise


async def free_the_disk(world: World) -> None:
    async with world.services.db.autocommit() as conn:
        await conn.execute("DROP TABLE filler")
        await conn.execute("PRAGMA max_page_count = 1073741823")


async def alert_consistency(world: World) -> dict[int, int]:
    """Each alert's step and its outbox rows agree (no step without its messages)."""
    async with world.services.db.read() as conn, conn.execute(
        "SELECT a.id, a.step_index, COUNT(o.id) FROM alerts a"
        " LEFT JOIN outbox o ON o.alert_id = a.id GROUP BY a.id") as cur:
        rows = list(await cur.fetchall())
    for alert_id, step, messages in rows:
        assert (step >= 0) == (messages > 0), f"A-{alert_id}: step {step}, {messages} messages"
    return {row[0]: row[1] for row in rows}


async def test_a_full_disk_rolls_back_cleanly_and_the_sweep_keeps_going(team: World) -> None:
    await plan_trip(team, BERLIN, date(2026, 12, 1), date(2026, 12, 4))
    await send_the_team_to_berlin(team)
    await at(team, DEADLINE - timedelta(minutes=30))
    await fill_the_disk(team)
    await at(team, DEADLINE + timedelta(minutes=1))  # 31 missed nights need new rows: full
    on_full_disk = await alert_consistency(team)
    assert any(step < 0 for step in on_full_disk.values()), "the disk never filled up"
    # The admins hear of it, past the outbox when it cannot take the notice's row: they got
    # more warnings than the outbox holds.
    async with team.services.db.read() as conn, conn.execute(
        "SELECT COUNT(*) FROM outbox WHERE kind = 'admin_step_failed'") as cur:
        row = await cur.fetchone()
    assert row is not None
    warnings = [t for t in team.admin.texts() if "sending it failed" in t]
    assert len(warnings) > row[0], (len(warnings), row[0])
    for minutes in (2, 3):  # and it goes on sweeping, without raising
        await at(team, DEADLINE + timedelta(minutes=minutes))
        await alert_consistency(team)

    await free_the_disk(team)
    for minutes in range(4, 12):
        await at(team, DEADLINE + timedelta(minutes=minutes))
    final = await alert_consistency(team)
    assert len(final) == 1 + len(EXTRA_REPS) and all(step >= 0 for step in final.values())
    for uid in (team.rep.id, *EXTRA_REPS):
        assert any("reminder 1" in m.text for m in team.fake.sent_to(uid) if m.text)
