"""The unit of work the services hold: one transaction, and the driver's troubles in our words."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from fieldbot.storage.db import Database, StorageUnavailable
from fieldbot.storage.privacy import truncate_wal


@asynccontextmanager
async def opened(path: Path) -> AsyncIterator[Database]:
    db = Database(path)
    await db.connect()
    try:
        yield db
    finally:
        await db.close()


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    async with opened(tmp_path / "uow.db") as database:
        yield database


async def insert_then_fail(db: Database) -> None:
    async with db.transaction() as tx:
        await tx.execute("INSERT INTO t VALUES (1)")
        await tx.execute("INSERT INTO no_such_table VALUES (1)")  # an OperationalError


async def test_an_operational_error_leaves_as_storage_unavailable_and_rolls_back(
    db: Database,
) -> None:
    async with db.transaction() as tx:
        await tx.execute("CREATE TABLE t (x INTEGER)")
    with pytest.raises(StorageUnavailable) as info:
        await insert_then_fail(db)
    assert isinstance(info.value.__cause__, sqlite3.OperationalError)
    async with db.read() as tx, tx.execute("SELECT COUNT(*) FROM t") as cur:
        row = await cur.fetchone()
    assert row is not None and row[0] == 0  # the first insert was rolled back


async def test_a_broken_constraint_is_a_bug_and_keeps_its_own_error(db: Database) -> None:
    async with db.transaction() as tx:
        await tx.execute("CREATE TABLE t (x INTEGER UNIQUE)")
        await tx.execute("INSERT INTO t VALUES (1)")
    with pytest.raises(sqlite3.IntegrityError):
        async with db.transaction() as tx:
            await tx.execute("INSERT INTO t VALUES (1)")


async def table_of(db: Database, *values: int) -> None:
    async with db.transaction() as tx:
        await tx.execute("CREATE TABLE t (x INTEGER)")
        for x in values:
            await tx.execute("INSERT INTO t VALUES (?)", (x,))


async def xs(db: Database) -> list[int]:
    async with db.read() as tx:
        return [row[0] for row in await tx.execute_fetchall("SELECT x FROM t ORDER BY x")]


async def test_a_read_does_not_wait_for_an_open_transaction_and_sees_only_what_was_committed(
    db: Database,
) -> None:
    # A report or the guard's look-up must not queue behind a check-in's transaction (nor an
    # SOS behind a long report). With one connection and one lock for both, this read waited
    # for the transaction it runs inside: for ever.
    await table_of(db, 1)
    async with db.transaction() as tx:
        await tx.execute("INSERT INTO t VALUES (2)")
        async with asyncio.timeout(30):  # a guard against hanging, not a wait
            assert await xs(db) == [1]
    assert await xs(db) == [1, 2]


async def test_nothing_can_be_written_through_a_read(db: Database) -> None:
    await table_of(db, 1)
    with pytest.raises(RuntimeError, match="use transaction"):  # a bug, not an outage
        async with db.read() as tx:
            await tx.execute("INSERT INTO t VALUES (2)")
    assert await xs(db) == [1]


async def test_a_unit_of_one_statement_commits_it_without_begin_or_commit(db: Database) -> None:
    seen: list[str] = []
    await table_of(db, 1)
    async with db.read() as tx:
        await tx.set_trace_callback(seen.append)  # both connections: the writer's too
    async with db.autocommit() as tx:
        await tx.execute("UPDATE t SET x = 5 WHERE x = 1")
    assert seen == ["UPDATE t SET x = 5 WHERE x = 1"]
    assert await xs(db) == [5]  # committed: the reader sees it


async def test_a_read_sees_every_commit_made_before_it_even_beside_a_read_under_way(
    db: Database,
) -> None:
    # The reader is shared: were a statement left open between trips, every read started
    # meanwhile would join its older snapshot, and a drain would not see the SOS just queued.
    await table_of(db, 1, 2, 3)
    async with db.read() as slow, slow.execute("SELECT x FROM t ORDER BY x") as cur:
        first = await cur.fetchone()
        async with db.autocommit() as tx:
            await tx.execute("INSERT INTO t VALUES (9)")
        assert 9 in await xs(db)
        assert first[0] == 1 and [r[0] for r in await cur.fetchall()] == [2, 3]


async def test_a_snapshot_reads_one_state_while_another_process_goes_on_writing(
    tmp_path: Path,
) -> None:
    # `fieldbot audit --verify` beside the running bot: the chain and its head must read as
    # one, and the bot must not be held up (a write lock here would stall its every write).
    async with opened(tmp_path / "uow.db") as db, opened(tmp_path / "uow.db") as bot:
        await table_of(db, 1)
        async with db.snapshot() as tx:
            assert len(await tx.execute_fetchall("SELECT x FROM t")) == 1
            async with bot.transaction() as other:
                await other.execute("INSERT INTO t VALUES (2)")
            assert len(await tx.execute_fetchall("SELECT x FROM t")) == 1
        assert await xs(db) == [1, 2]


def finished_at_once(coro: object) -> object:
    """Run `coro` until it first waits; return its result if it never did (no trip to any
    thread, no turn of the event loop). A coroutine that waits fails the test."""
    assert asyncio.iscoroutine(coro)
    try:
        coro.send(None)
    except StopIteration as done:
        return done.value
    coro.close()
    raise AssertionError("it waited: a trip to a database thread")


async def glanced(db: Database) -> list[int]:
    async with db.glance() as tx:
        return [row["x"] for row in await tx.execute_fetchall("SELECT x FROM t ORDER BY x")]


async def test_a_glance_answers_on_the_event_loops_own_thread(db: Database) -> None:
    # The guard's look-up of who is asking runs for every update: a trip to the reader's
    # thread costs a busy loop ~0.1 ms, the statement itself some microseconds.
    await table_of(db, 1, 2)
    assert finished_at_once(glanced(db)) == [1, 2]

    async def through_a_cursor() -> object:
        async with db.glance() as tx, tx.execute("SELECT COUNT(*) FROM t") as cur:
            return (await cur.fetchone())[0]

    assert finished_at_once(through_a_cursor()) == 2


async def test_a_glance_sees_what_was_committed_before_it_and_not_what_is_under_way(
    db: Database,
) -> None:
    await table_of(db, 1)
    async with db.transaction() as tx:
        await tx.execute("INSERT INTO t VALUES (2)")
        assert await glanced(db) == [1]  # in WAL mode: not waiting for the writer either
    assert await glanced(db) == [1, 2]
    async with db.autocommit() as tx:
        await tx.execute("INSERT INTO t VALUES (3)")
    assert await glanced(db) == [1, 2, 3]


async def test_a_glance_that_fails_on_the_loops_thread_is_read_on_the_readers(
    db: Database,
) -> None:
    # Locked, or anything else: the statement goes the usual way rather than fail or wait.
    await table_of(db, 1, 2)
    glancer = db._glancer  # type: ignore[attr-defined]
    glancer.set_progress_handler(lambda: 1, 1)  # every statement there is interrupted
    with pytest.raises(AssertionError, match="it waited"):
        finished_at_once(glanced(db))
    assert await glanced(db) == [1, 2]
    glancer.set_progress_handler(None, 1)
    assert finished_at_once(glanced(db)) == [1, 2]


async def test_a_glance_writes_nothing(db: Database) -> None:
    await table_of(db, 1)
    with pytest.raises(RuntimeError, match="glance"):
        async with db.glance() as tx:
            await tx.execute("INSERT INTO t VALUES (2)")
    assert await xs(db) == [1]


async def test_a_glance_leaves_no_snapshot_behind(db: Database, tmp_path: Path) -> None:
    # An erasure empties the write-ahead log (no old frame keeps the erased name): a glance
    # whose statement stayed open would hold its snapshot, and the log could not be emptied.
    await table_of(db, 1, 2, 3)
    async with db.glance() as tx, tx.execute("SELECT x FROM t ORDER BY x") as cur:
        assert await cur.fetchone() is not None  # only the first row taken
    await truncate_wal(db)
    assert (tmp_path / "uow.db-wal").stat().st_size == 0


async def test_a_glance_that_cannot_be_read_anywhere_says_so_as_a_read_does(db: Database) -> None:
    # A text that is not UTF-8 fails in Python's sqlite3 itself (an error without SQLite's
    # code): on the reader's thread too, so the storage's own error, not a crash.
    async with db.transaction() as tx:
        await tx.execute("CREATE TABLE t (x TEXT)")
        await tx.execute("INSERT INTO t VALUES (CAST(x'ff' AS TEXT))")
    for unit in (db.read, db.glance):
        with pytest.raises(StorageUnavailable):
            async with unit() as tx:
                await tx.execute_fetchall("SELECT x FROM t")
