"""Group commit: the evening's check-ins that queue while one commits go to the disk together.

The unit (fieldbot.storage.groupcommit) on a commit function that records its batches; then
the check-in itself, through the real Application, many reps pressing "I'm safe" at once, and
the one compare-and-set statement that checks in many nights, on both engines."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from faketelegram.users import FakeUser
from fieldbot.domain.ladder import AlertKind
from fieldbot.domain.places import Place
from fieldbot.domain.trips import Leg
from fieldbot.services.trips import TripPlan
from fieldbot.storage import alerts
from fieldbot.storage.codec import ts
from fieldbot.storage.db import StorageUnavailable
from fieldbot.storage.groupcommit import GroupCommit
from tests.harness import World

BERLIN = Place("Berlin", "DE", "Germany", "Berlin", 52.52, 13.405, "Europe/Berlin")
REMINDER = datetime(2026, 12, 1, 19, 0, tzinfo=UTC)  # 20:00 in Berlin: tonight's reminder
TOAST = "✅ Checked in — thank you"


class Disk:
    """A commit function that records each batch; the test decides when a commit ends."""

    def __init__(self) -> None:
        self.batches: list[list[str]] = []
        self.hold: asyncio.Event | None = None
        self.fail_next: Exception | None = None

    async def commit(self, items: Sequence[str]) -> list[str]:
        self.batches.append(list(items))
        if self.hold is not None:
            await self.hold.wait()
        if self.fail_next is not None:
            failure, self.fail_next = self.fail_next, None
            raise failure
        return [f"{item} written" for item in items]


def first_letter(item: str) -> str:
    return item[0]


async def let_the_loop_run() -> None:
    """One turn of the event loop: what is ready runs (no time passes)."""
    turn = asyncio.get_running_loop().create_future()
    asyncio.get_running_loop().call_soon(turn.set_result, None)
    await turn


async def started(*coros: Coroutine[Any, Any, str]) -> list[asyncio.Task[str]]:
    """Start each submission and let every one reach the queue (and a commit begin)."""
    tasks = [asyncio.ensure_future(c) for c in coros]
    for _ in range(3):
        await let_the_loop_run()
    return tasks


async def test_a_lone_write_goes_at_once_in_a_batch_of_its_own() -> None:
    disk = Disk()
    group: GroupCommit[str, str] = GroupCommit(disk.commit, key=first_letter)
    assert await group.submit("a1") == "a1 written"
    assert disk.batches == [["a1"]]


async def test_writes_that_queue_during_a_commit_go_together_in_the_next() -> None:
    disk = Disk()
    disk.hold = asyncio.Event()
    group: GroupCommit[str, str] = GroupCommit(disk.commit, key=first_letter)
    first = await started(group.submit("a1"))
    assert disk.batches == [["a1"]]  # under way, held
    rest = await started(*(group.submit(name) for name in ("b1", "c1", "d1", "e1")))
    disk.hold.set()
    assert await asyncio.gather(*first, *rest) == [
        "a1 written", "b1 written", "c1 written", "d1 written", "e1 written"]
    assert disk.batches == [["a1"], ["b1", "c1", "d1", "e1"]]  # a batch for each commit


async def test_the_same_night_twice_goes_in_the_next_batch_in_order() -> None:
    disk = Disk()
    disk.hold = asyncio.Event()
    group: GroupCommit[str, str] = GroupCommit(disk.commit, key=first_letter)
    tasks = await started(group.submit("x0"))
    tasks += await started(*(group.submit(name) for name in ("a1", "b1", "a2", "a3", "c1")))
    disk.hold.set()
    await asyncio.gather(*tasks)
    assert disk.batches == [["x0"], ["a1", "b1", "c1"], ["a2"], ["a3"]]


async def test_a_batch_holds_at_most_its_limit() -> None:
    disk = Disk()
    disk.hold = asyncio.Event()
    group: GroupCommit[str, str] = GroupCommit(disk.commit, key=lambda item: item, limit=2)
    tasks = await started(*(group.submit(name) for name in ("a", "b", "c", "d", "e")))
    disk.hold.set()
    await asyncio.gather(*tasks)
    assert disk.batches == [["a", "b"], ["c", "d"], ["e"]]


async def test_a_failed_commit_fails_each_of_its_writes_and_the_next_is_tried_afresh() -> None:
    disk = Disk()
    disk.hold = asyncio.Event()
    group: GroupCommit[str, str] = GroupCommit(disk.commit, key=first_letter)
    first = await started(group.submit("a1"))
    queued = await started(group.submit("b1"), group.submit("c1"))
    disk.fail_next = StorageUnavailable("disk I/O error")
    disk.hold.set()
    with pytest.raises(StorageUnavailable):
        await first[0]
    assert await asyncio.gather(*queued) == ["b1 written", "c1 written"]
    disk.hold = asyncio.Event()
    disk.fail_next = StorageUnavailable("database or disk is full")
    failing = await started(group.submit("d1"))
    later = await started(group.submit("e1"))
    disk.hold.set()
    outcome = await asyncio.gather(*failing, *later, return_exceptions=True)
    assert isinstance(outcome[0], StorageUnavailable) and outcome[1] == "e1 written"


async def test_a_write_whose_caller_gave_up_before_its_turn_is_not_written() -> None:
    disk = Disk()
    disk.hold = asyncio.Event()
    group: GroupCommit[str, str] = GroupCommit(disk.commit, key=first_letter)
    tasks = await started(group.submit("a1"))
    b, c = await started(group.submit("b1"), group.submit("c1"))
    b.cancel()
    disk.hold.set()
    assert await asyncio.gather(*tasks, c) == ["a1 written", "c1 written"]
    assert b.cancelled()
    assert disk.batches == [["a1"], ["c1"]]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from("abcd"), st.integers(0, 3)), min_size=1, max_size=25),
       st.integers(1, 4))
def test_every_write_is_committed_once_in_order_and_batches_keep_the_rules(
        plan: list[tuple[str, int]], limit: int) -> None:
    """Writes arrive in waves (a wave may come while a commit is under way): each is committed
    exactly once and answered with its own result; a batch never exceeds the limit nor holds
    one key twice; one key's writes are committed in the order they were submitted."""
    async def run() -> None:
        disk = Disk()
        group: GroupCommit[str, str] = GroupCommit(disk.commit, key=first_letter, limit=limit)
        submitted: list[str] = []
        tasks: list[asyncio.Task[str]] = []
        for wave in range(4):
            names = [f"{key}{n}" for n, (key, w) in enumerate(plan) if w == wave]
            submitted += names
            tasks += await started(*(group.submit(name) for name in names))
        assert await asyncio.gather(*tasks) == [f"{name} written" for name in submitted]
        committed = [item for batch in disk.batches for item in batch]
        assert sorted(committed) == sorted(submitted)
        for batch in disk.batches:
            assert 0 < len(batch) <= limit
            assert len({first_letter(item) for item in batch}) == len(batch)
        for key in "abcd":
            assert [i for i in committed if i[0] == key] == [i for i in submitted if i[0] == key]
    asyncio.run(run())


# The check-in itself ---------------------------------------------------------------------

async def reps_with_a_trip(world: World, count: int) -> list[FakeUser]:
    """`count` reps of team north, each with tonight's reminder in front of them."""
    await world.enrol_team()
    reps = []
    for n in range(count):
        rep = world.fake.user(7100 + n, f"Fixture Rep {n}", "en")
        await world.enrol(rep, "staff", "north")
        member = await world.services.enrolment.member(rep.id)
        assert member is not None
        plan = TripPlan(legs=(Leg(BERLIN, date(2026, 12, 1), date(2026, 12, 3)),),
                        lodging="Hotel Fixture", contact_name="Sam Fixture",
                        contact_phone="+4917000000", contact_user_id=None,
                        night_visits=False, companion="")
        submitted = await world.services.trips.submit(member, plan, f"group-{n}")
        assert submitted.trip is not None and submitted.trip.status == "approved"
        reps.append(rep)
    world.clock.set(REMINDER)
    await world.tick()
    assert all(rep.last.buttons[0][0] == "✅ I'm safe" for rep in reps)
    return reps


async def nights_of(world: World, reps: list[FakeUser]) -> dict[int, tuple[str, str | None]]:
    marks = ",".join("?" * len(reps))
    async with world.services.db.read() as conn, conn.execute(
        f"SELECT user_id, state, checked_in_at FROM nights WHERE user_id IN ({marks})"
        " AND day = '2026-12-01'", [rep.id for rep in reps]) as cur:
        return {row[0]: (row[1], row[2]) for row in await cur.fetchall()}


async def test_reps_pressing_im_safe_at_once_are_each_checked_in_by_fewer_commits(
        world: World) -> None:
    reps = await reps_with_a_trip(world, 6)
    async with world.statements() as seen:
        await asyncio.gather(*(rep.press("✅ I'm safe") for rep in reps))
    assert all(rep.toasts[-1].text == TOAST for rep in reps)
    nights = await nights_of(world, reps)
    assert {state for state, _ in nights.values()} == {"checked_in"} and len(nights) == 6
    assert {at for _, at in nights.values()} == {ts(REMINDER)}
    writes = [sql for sql in seen if sql.startswith("UPDATE nights SET state")]
    assert 1 <= len(writes) < 6, writes  # one alone, the rest that queued meanwhile together
    # Each has the receipt, with the next deadline, in place of the reminder.
    assert all("checked in for tonight" in (rep.last.body or "") for rep in reps)


async def test_one_statement_checks_in_only_the_nights_still_as_read(world: World) -> None:
    reps = await reps_with_a_trip(world, 5)
    now = REMINDER + timedelta(minutes=5)
    async with world.services.db.read() as conn:
        read = [await alerts.current_night(conn, rep.id, now) for rep in reps]
    first, second, snoozed, alerted, checked = (n for n in read if n is not None)
    # Since they were read: one was snoozed, one's rep has an open missed-night alert, and one
    # was checked in another way.
    earlier = REMINDER + timedelta(minutes=1)
    async with world.services.db.transaction() as tx:
        await tx.execute("UPDATE nights SET deadline = ?, snoozes = 1 WHERE id = ?",
                         (ts(snoozed.deadline + timedelta(minutes=30)), snoozed.id))
        await alerts.open_alert(tx, kind=AlertKind.MISSED, user_id=alerted.user_id,
                                trip_id=alerted.trip_id, night_id=None, risk_level=1,
                                anchor=now, now=now)
        await tx.execute("UPDATE nights SET state = 'checked_in', due_at = NULL,"
                         " checked_in_at = ? WHERE id = ?", (ts(earlier), checked.id))
    wanted = [(night, now + timedelta(seconds=n)) for n, night in enumerate(
        (first, second, snoozed, alerted, checked))]
    async with world.services.db.autocommit() as tx:
        done = await alerts.check_in_unless_alerted(
            tx, wanted, (AlertKind.MISSED, AlertKind.EMERGENCY))
    assert done == {first.id, second.id}
    nights = await nights_of(world, reps)
    assert [nights[rep.id] for rep in reps] == [
        ("checked_in", ts(now)),
        ("checked_in", ts(now + timedelta(seconds=1))),  # each at its own instant
        ("reminded", None), ("reminded", None),
        ("checked_in", ts(earlier)),  # not moved to the later instant
    ]


async def test_a_write_cancelled_on_its_way_in_leaves_nothing_for_the_check_ins_to_join(
        world: World) -> None:
    # A unit of work cancelled while its BEGIN is on the writer's thread (a timeout, a handler
    # stopped at stand-down): the BEGIN runs anyway. Had it been left open, the next batch of
    # check-ins would run inside it and be told "checked in" with nothing committed.
    reps = await reps_with_a_trip(world, 3)

    async def some_write() -> None:
        async with world.services.db.transaction() as tx:
            await tx.execute("SELECT 1")

    victim = asyncio.ensure_future(some_write())
    await let_the_loop_run()  # it holds the lock and waits for its BEGIN
    victim.cancel()
    await asyncio.gather(victim, return_exceptions=True)
    assert victim.cancelled()
    told = await asyncio.gather(*(world.services.checkins.check_in(rep.id) for rep in reps))
    assert [result.status.value for result in told] == ["on_time"] * 3
    assert {state for state, _ in (await nights_of(world, reps)).values()} == {"checked_in"}
    async with world.services.db.transaction() as tx:  # and the writer takes work as before
        await tx.execute("SELECT 1")


async def test_each_rep_is_answered_from_their_own_night_when_it_moved_while_they_queued(
        world: World) -> None:
    # Four reps press at once while another unit of work holds the writer. Between their read
    # of tonight and their batch's commit, one night is snoozed, one rep gets an open
    # missed-night alert, and one night is checked in another way. Only the untouched night
    # is checked in by the batch; each of the others is answered from the night as it now is.
    reps = await reps_with_a_trip(world, 4)
    untouched, snoozed, alerted, checked = reps
    now = world.clock.now()
    async with world.services.db.read() as conn:
        nights = {rep.id: await alerts.current_night(conn, rep.id, now) for rep in reps}
    holding, release = asyncio.Event(), asyncio.Event()

    async def meanwhile() -> None:
        async with world.services.db.transaction() as tx:
            holding.set()
            await release.wait()
            night = nights[snoozed.id]
            assert night is not None
            await tx.execute("UPDATE nights SET deadline = ?, snoozes = 1 WHERE id = ?",
                             (ts(night.deadline + timedelta(minutes=30)), night.id))
            night = nights[alerted.id]
            assert night is not None
            await alerts.open_alert(tx, kind=AlertKind.MISSED, user_id=alerted.id,
                                    trip_id=night.trip_id, night_id=None, risk_level=1,
                                    anchor=now, now=now)
            night = nights[checked.id]
            assert night is not None
            await tx.execute("UPDATE nights SET state = 'checked_in', due_at = NULL,"
                             " checked_in_at = ? WHERE id = ?",
                             (ts(now - timedelta(minutes=1)), night.id))

    holder = asyncio.ensure_future(meanwhile())
    await holding.wait()
    told = [asyncio.ensure_future(world.services.checkins.check_in(rep.id)) for rep in reps]
    for _ in range(5):
        await let_the_loop_run()  # each reads tonight and queues for the writer
    assert not any(task.done() for task in told)
    release.set()
    await holder
    results = await asyncio.gather(*told)
    # The alerted rep's check-in ended the alert: an all-clear went out ("late").
    assert [result.status.value for result in results] == ["on_time", "on_time", "late",
                                                            "already"]
    states = await nights_of(world, reps)
    assert {states[rep.id][0] for rep in reps} == {"checked_in"}
    assert states[checked.id][1] == ts(now - timedelta(minutes=1))  # not moved by the press
    async with world.services.db.read() as conn:
        assert await alerts.open_alerts_for(conn, alerted.id, (AlertKind.MISSED,)) == []


def test_a_committer_left_on_a_closed_loop_does_not_hold_the_next_writes() -> None:
    # A loop stopped and closed right after a submission (a stop in the middle of a
    # check-in): the committer task was created but never ran, so its clean-up never ran
    # either. The next write, on the next loop (a restart in the same process), must still be
    # committed, and the old loop's waiter (nobody can be told on a closed loop) dropped.
    disk = Disk()
    group: GroupCommit[str, str] = GroupCommit(disk.commit, key=first_letter)
    old = asyncio.new_event_loop()

    def submit_and_stop() -> None:
        old.stop()  # after this turn: the committer, scheduled now, never runs
        submission = group.submit("a0")
        submission.send(None)  # it queues and starts a committer, then waits for it
        submission.close()

    old.call_soon(submit_and_stop)
    old.run_forever()
    old.close()

    async def next_write() -> str:
        return await asyncio.wait_for(group.submit("b0"), timeout=5)  # a bound, not a pause

    assert asyncio.run(next_write()) == "b0 written"
    assert disk.batches == [["b0"]]


async def test_one_statement_takes_at_most_a_batch_of_nights(world: World) -> None:
    reps = await reps_with_a_trip(world, 1)
    now = REMINDER + timedelta(minutes=5)
    async with world.services.db.read() as conn:
        night = await alerts.current_night(conn, reps[0].id, now)
    assert night is not None
    too_many = [(night, now)] * (alerts.CHECK_IN_BATCH + 1)
    with pytest.raises(ValueError, match="at most 64"):
        async with world.services.db.autocommit() as tx:
            await alerts.check_in_unless_alerted(tx, too_many, (AlertKind.MISSED,))
    assert (await nights_of(world, reps))[reps[0].id] == ("reminded", None)
