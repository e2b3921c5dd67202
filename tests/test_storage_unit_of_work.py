"""The unit of work the services hold: one transaction, and the driver's troubles in our words."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from fieldbot.storage.db import Database, StorageUnavailable


async def insert_then_fail(db: Database) -> None:
    async with db.transaction() as tx:
        await tx.execute("INSERT INTO t VALUES (1)")
        await tx.execute("INSERT INTO no_such_table VALUES (1)")  # an OperationalError


async def test_an_operational_error_leaves_as_storage_unavailable_and_rolls_back(
    tmp_path: Path,
) -> None:
    db = Database(tmp_path / "uow.db")
    await db.connect()
    try:
        async with db.transaction() as tx:
            await tx.execute("CREATE TABLE t (x INTEGER)")
        with pytest.raises(StorageUnavailable) as info:
            await insert_then_fail(db)
        assert isinstance(info.value.__cause__, sqlite3.OperationalError)
        async with db.read() as tx, tx.execute("SELECT COUNT(*) FROM t") as cur:
            row = await cur.fetchone()
        assert row is not None and row[0] == 0  # the first insert was rolled back
    finally:
        await db.close()


async def test_a_broken_constraint_is_a_bug_and_keeps_its_own_error(tmp_path: Path) -> None:
    db = Database(tmp_path / "uow.db")
    await db.connect()
    try:
        async with db.transaction() as tx:
            await tx.execute("CREATE TABLE t (x INTEGER UNIQUE)")
            await tx.execute("INSERT INTO t VALUES (1)")
        with pytest.raises(sqlite3.IntegrityError):
            async with db.transaction() as tx:
                await tx.execute("INSERT INTO t VALUES (1)")
    finally:
        await db.close()
