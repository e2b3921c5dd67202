"""Who can be reached follows what Telegram says and what people do (issue 10, items 3 and 23).

A manager who blocks the bot is unreachable at once; unblocking it, or any message or button
from them, makes them reachable again: one failed message never locks their team out of
filing trips until someone re-invites them.
"""

from __future__ import annotations

from datetime import date

from telegram import ChatMemberBanned, ChatMemberMember, Update

from fieldbot.domain.trips import Leg
from fieldbot.services.trips import Submitted, TripPlan, TripRefused
from fieldbot.storage import outbox
from tests.builders import BERLIN, plan_trip
from tests.harness import World


async def submit_trip(world: World, day: int) -> Submitted:
    """Rita files a short trip (as /trip's last step does)."""
    member = await world.services.enrolment.member(world.rep.id)
    assert member is not None
    plan = TripPlan(
        legs=(Leg(BERLIN, date(2026, 12, day), date(2026, 12, day + 1)),),
        lodging="Hotel Fixture", contact_name="Sam Fixture", contact_phone="+4917000000",
        contact_user_id=None, night_visits=False, companion="",
    )
    return await world.services.trips.submit(member, plan, f"reach-{day}")


async def unreachable(world: World, user_id: int) -> str | None:
    member = await world.services.enrolment.member(user_id)
    assert member is not None
    return member.unreachable


async def fail_a_message_to(world: World, user_id: int) -> None:
    """A message to them fails for good, as the outbox records it (no update from Telegram)."""
    assert world.services.sender is not None
    world.fake.block(user_id)  # blocked, and the bot was not told
    async with world.services.db.transaction() as conn:
        await outbox.enqueue(conn, dedupe=f"probe:{user_id}", recipient=user_id,
                             kind="trip_manager_unreachable", params={"trip_id": 0},
                             priority=outbox.PRIORITY_NOTICE, now=world.clock.now())
    await world.services.sender.drain()
    world.fake.unblock(user_id)


# --- the fake sends what the Bot API sends (item 23) ------------------------------------------


async def test_block_and_unblock_send_updates_ptb_can_read(team: World) -> None:
    assert team.app is not None
    await team.manager.block()
    blocked = Update.de_json(team.fake.updates[-1], team.app.bot)
    await team.manager.unblock()
    unblocked = Update.de_json(team.fake.updates[-1], team.app.bot)
    for update, old, new in ((blocked, ChatMemberMember, ChatMemberBanned),
                             (unblocked, ChatMemberBanned, ChatMemberMember)):
        change = update.my_chat_member
        assert change is not None
        assert isinstance(change.old_chat_member, old)
        assert isinstance(change.new_chat_member, new)
        assert change.from_user.id == team.manager.id and change.chat.id == team.manager.id
        assert change.new_chat_member.user.id == team.fake.bot_id
        assert change.date is not None
    assert isinstance(unblocked.my_chat_member.old_chat_member, ChatMemberBanned)  # type: ignore[union-attr]
    assert unblocked.my_chat_member.old_chat_member.until_date is not None  # type: ignore[union-attr]


# --- blocked: unreachable at once (item 3) ------------------------------------------------------


async def test_a_manager_who_blocks_the_bot_is_unreachable_at_once(team: World) -> None:
    await team.manager.block()
    assert await unreachable(team, team.manager.id) == "blocked the bot"
    refused = await submit_trip(team, 2)
    assert refused.trip is None and refused.refused is TripRefused.NO_MANAGER


async def test_unblocking_makes_the_manager_reachable_and_trips_can_be_filed(team: World) -> None:
    await team.manager.block()
    await team.manager.unblock()
    assert await unreachable(team, team.manager.id) is None
    filed = await submit_trip(team, 2)
    assert filed.trip is not None


# --- one failed message is not for ever ----------------------------------------------------------


async def test_a_failed_message_is_forgotten_when_the_manager_writes_again(team: World) -> None:
    await fail_a_message_to(team, team.manager.id)
    assert await unreachable(team, team.manager.id) is not None
    assert (await submit_trip(team, 2)).refused is TripRefused.NO_MANAGER
    await team.manager.send("/help")
    assert await unreachable(team, team.manager.id) is None
    assert (await submit_trip(team, 4)).trip is not None


async def test_a_button_press_or_start_makes_a_person_reachable_again(team: World) -> None:
    await plan_trip(team, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
    await team.rep.send("/sos")
    await fail_a_message_to(team, team.manager.id)
    assert await unreachable(team, team.manager.id) is not None
    await team.manager.press("Acknowledge")
    assert await unreachable(team, team.manager.id) is None
    await fail_a_message_to(team, team.rep.id)
    await team.rep.send("/start")
    assert await unreachable(team, team.rep.id) is None


async def test_an_ordinary_update_writes_nothing_for_a_reachable_person(team: World) -> None:
    async with team.statements() as writes:
        await team.manager.send("/help")
    assert writes, "the trace saw the update's queries"
    assert not [sql for sql in writes if sql.startswith("UPDATE users")]


async def test_a_stranger_blocking_the_bot_gets_no_reply_and_is_not_counted(world: World) -> None:
    stranger = world.fake.user(9090, "Stan")
    await stranger.block()
    await stranger.unblock()
    assert stranger.messages == []
    async with world.services.db.read() as conn, conn.execute(
            "SELECT COUNT(*) FROM stranger_hits") as cur:
        row = await cur.fetchone()
    assert row is not None and row[0] == 0
