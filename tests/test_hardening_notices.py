"""Admin notices never loop, never flood, and never hold up the ladder (issue 10, item 1).

People the bot cannot reach are never sent notices; a failed notice causes no other notice;
notices about one person are collapsed to one an hour, with a count; a tick's work is
bounded, so the sweep keeps running whatever is waiting in the outbox.
"""

from __future__ import annotations

import asyncio
import itertools
from datetime import date, datetime, timedelta
from pathlib import Path

from fieldbot.storage import outbox
from fieldbot.storage.codec import ts
from tests.builders import BERLIN, plan_trip
from tests.harness import ADMIN_ID, OTHER_REP_ID, World

SECOND_ADMIN_ID = 1011
_probe = itertools.count()


def could_not_reach(texts: list[str], user_id: int | None = None) -> list[str]:
    about = f"User {user_id} " if user_id is not None else "User "
    return [t for t in texts if about in t and "could not be reached" in t]


async def fail_a_message_to(world: World, user_id: int) -> None:
    """A message to them fails for good (they blocked the bot; the bot was not told)."""
    assert world.services.sender is not None
    world.fake.block(user_id)
    async with world.services.db.transaction() as conn:
        await outbox.enqueue(conn, dedupe=f"probe:{next(_probe)}", recipient=user_id,
                             kind="trip_manager_unreachable", params={"trip_id": 0},
                             priority=outbox.PRIORITY_NOTICE, now=world.clock.now())
    await asyncio.wait_for(world.services.sender.drain(), timeout=20)  # no endless notices


async def rows(world: World, where: str) -> int:
    async with world.services.db.read() as conn, conn.execute(
            f"SELECT COUNT(*) FROM outbox WHERE {where}") as cur:  # noqa: S608 - test-only
        row = await cur.fetchone()
    assert row is not None
    return int(row[0])


async def two_admins(tmp_path: Path) -> World:
    world = World(tmp_path, admin_ids=(ADMIN_ID, SECOND_ADMIN_ID))
    await world.start()
    await world.enrol_team()
    world.second_admin = world.fake.user(SECOND_ADMIN_ID, "Ana", "en")  # type: ignore[attr-defined]
    await world.second_admin.send("/start")  # type: ignore[attr-defined]
    return world


async def test_blocked_admins_and_manager_never_stop_the_sos_or_the_sweep(
    tmp_path: Path,
) -> None:
    world = await two_admins(tmp_path)
    try:
        other_rep = world.fake.user(OTHER_REP_ID, "Oskar", "en")
        await world.enrol(other_rep, "staff", "north")
        await plan_trip(world, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
        # Both admins and the manager blocked the bot, and the bot has not been told. A first
        # message to the manager fails: the admins must not tell each other about each other
        # for ever (the tick would never return).
        for person in (ADMIN_ID, SECOND_ADMIN_ID, world.manager.id):
            world.fake.block(person)
        async with world.services.db.transaction() as conn:
            await outbox.enqueue(conn, dedupe="probe", recipient=world.manager.id,
                                 kind="trip_manager_unreachable", params={"trip_id": 0},
                                 priority=outbox.PRIORITY_NOTICE, now=world.clock.now())
        await asyncio.wait_for(world.tick(), timeout=20)
        await asyncio.wait_for(world.rep.send("/sos"), timeout=20)
        assert any("SOS A-1" in t for t in world.officer.texts())
        await asyncio.wait_for(world.advance(timedelta(seconds=5)), timeout=20)
        assert world.settings.heartbeat_file.read_text("utf-8") == world.clock.now().isoformat()
        # A later SOS goes out at once too.
        await asyncio.wait_for(other_rep.send("/sos"), timeout=20)
        assert any("SOS A-2" in t for t in world.officer.texts())
        await asyncio.wait_for(world.advance(timedelta(seconds=5)), timeout=20)
        assert world.settings.heartbeat_file.read_text("utf-8") == world.clock.now().isoformat()
        # Nothing is left bouncing between the admins, and nobody was told twice about anyone.
        assert await rows(world, f"state = 'pending' AND due_at <= '{ts(world.clock.now())}'") == 0
        notices = could_not_reach(world.officer.texts())  # the admins are gone: the officer
        assert len(notices) == len(set(notices)) <= 3
        assert await rows(world, "kind LIKE 'admin_%' AND recipient IN (1001, 1011)") <= 2
    finally:
        await world.stop()


async def test_a_failed_notice_causes_no_other_notice(tmp_path: Path) -> None:
    world = await two_admins(tmp_path)
    try:
        world.fake.block(ADMIN_ID)  # Ada's notices fail; Ana's arrive
        await fail_a_message_to(world, world.rep.id)
        second = world.second_admin  # type: ignore[attr-defined]
        assert len(could_not_reach(second.texts(), world.rep.id)) == 1
        assert could_not_reach(second.texts(), ADMIN_ID) == []
        await world.advance(timedelta(hours=2))
        assert could_not_reach(second.texts(), ADMIN_ID) == []
    finally:
        await world.stop()


async def test_notices_about_one_person_come_once_an_hour_with_a_count(team: World) -> None:
    for _ in range(3):
        await fail_a_message_to(team, team.rep.id)
        team.fake.unblock(team.rep.id)
    assert len(could_not_reach(team.admin.texts(), team.rep.id)) == 1
    await team.advance(timedelta(minutes=59))
    assert len(could_not_reach(team.admin.texts(), team.rep.id)) == 1
    await team.advance(timedelta(minutes=2))
    notices = could_not_reach(team.admin.texts(), team.rep.id)
    assert len(notices) == 2
    assert "This happened 2 times since the last notice" in notices[-1]


async def test_notices_never_go_to_erased_or_unreachable_people(tmp_path: Path) -> None:
    world = await two_admins(tmp_path)
    try:
        await world.services.privacy.erase(SECOND_ADMIN_ID, None)
        await world.admin.block()  # Ada tells the bot she blocked it
        await fail_a_message_to(world, world.rep.id)
        assert await rows(world, "kind LIKE 'admin_%' AND recipient < 0") == 0
        assert await rows(world, f"kind LIKE 'admin_%' AND recipient = {ADMIN_ID}") == 0
        # With no admin to reach, the safety officer hears of it.
        assert len(could_not_reach(world.officer.texts(), world.rep.id)) == 1
    finally:
        await world.stop()


async def test_a_backlog_of_notices_never_goes_before_a_ladder_step(team: World) -> None:
    now = team.clock.now()
    async with team.services.db.transaction() as conn:
        for n in range(150):  # a flood of notices to the admin, all due
            await outbox.enqueue(conn, dedupe=f"flood:{n}", recipient=team.admin.id,
                                 kind="trip_manager_unreachable", params={"trip_id": 0},
                                 priority=outbox.PRIORITY_NOTICE, now=now)
    await plan_trip(team, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
    team.clock.set(datetime.fromisoformat("2026-12-01T20:00:00+00:00"))  # Rita's deadline
    sent_before = len(team.fake.sent)
    await asyncio.wait_for(team.services.sweeper.tick(), timeout=60)
    sent = [m.text or "" for m in team.fake.sent[sent_before:]]
    assert "Alert A-1" in sent[0]  # the ladder's step went out first
    assert await rows(team, "kind = 'trip_manager_unreachable' AND state = 'pending'") == 0
