"""One storage layer, two engines: the unit of work, the migrations and the audit log's guards
behave the same on SQLite and PostgreSQL; the SQL translation is mechanical and checked."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from fieldbot.storage import sqlport
from fieldbot.storage.db import Database, StorageUnavailable, migrations
from tests.harness import World
from tests.pg import BACKENDS, PgServer

pytestmark = pytest.mark.parametrize("backend", BACKENDS, indirect=True)

INTEGRITY = (sqlite3.IntegrityError, asyncpg.IntegrityConstraintViolationError)
BIG_ID = 7_123_456_789  # Telegram ids pass 2**31


@pytest.fixture
async def db(db_target: Path | str) -> AsyncIterator[Database]:
    database = Database(db_target)
    await database.connect()
    yield database
    await database.close()


async def test_database_picks_the_engine_from_the_target(db: Database, backend: str) -> None:
    assert db.dialect == backend
    assert "@" not in db.where or ":" not in db.where.split("@")[0].split("//")[1]


async def test_a_failed_transaction_is_rolled_back_and_a_broken_constraint_keeps_its_error(
    db: Database,
) -> None:
    async with db.transaction() as tx:
        await tx.execute("CREATE TABLE t (x INTEGER UNIQUE)")
        await tx.execute("INSERT INTO t VALUES (1)")
    async def insert_2_then_1() -> None:
        async with db.transaction() as tx:
            await tx.execute("INSERT INTO t VALUES (2)")
            await tx.execute("INSERT INTO t VALUES (1)")

    with pytest.raises(INTEGRITY):
        await insert_2_then_1()
    async with db.read() as tx:
        rows = list(await tx.execute_fetchall("SELECT x FROM t ORDER BY x"))
    assert [r[0] for r in rows] == [1]  # the 2 went with the failed transaction


async def test_a_connection_lost_mid_transaction_is_storage_unavailable_then_recovers(
    db: Database, backend: str, pg_server: PgServer,
) -> None:
    async with db.transaction() as tx:
        await tx.execute("CREATE TABLE t (x INTEGER)")

    async def insert_then_lose_the_connection() -> None:
        async with db.transaction() as tx:
            await tx.execute("INSERT INTO t VALUES (1)")
            if backend == "postgresql":  # the server ends the session (restart, network cut)
                await tx.execute("SELECT pg_terminate_backend(pg_backend_pid())")
            else:
                await tx.execute("INSERT INTO no_such_table VALUES (1)")

    with pytest.raises(StorageUnavailable):
        await insert_then_lose_the_connection()
    async with db.transaction() as tx:  # the next unit of work works (a new connection)
        await tx.execute("INSERT INTO t VALUES (2)")
    async with db.read() as tx:
        assert [r[0] for r in await tx.execute_fetchall("SELECT x FROM t")] == [2]


async def test_rowcount_returning_and_on_conflict_mean_the_same(db: Database) -> None:
    async with db.transaction() as tx:
        cur = await tx.execute(
            "INSERT INTO users (id, name, role, enrolled_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (id) DO NOTHING", (BIG_ID, "n", "staff", "2026-12-01T09:00:00+00:00"))
        assert cur.rowcount == 1
        cur = await tx.execute(
            "INSERT INTO users (id, name, role, enrolled_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (id) DO NOTHING", (BIG_ID, "n", "staff", "2026-12-01T09:00:00+00:00"))
        assert cur.rowcount == 0
        cur = await tx.execute(
            "INSERT INTO trips (user_id, status, created_at, draft_key) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (draft_key) DO NOTHING RETURNING id",
            (BIG_ID, "draft", "2026-12-01T09:00:00+00:00", "k1"))
        first = await cur.fetchone()
        cur = await tx.execute(
            "INSERT INTO trips (user_id, status, created_at, draft_key) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (draft_key) DO NOTHING RETURNING id",
            (BIG_ID, "draft", "2026-12-01T09:00:00+00:00", "k1"))
        assert first is not None and await cur.fetchone() is None
        cur = await tx.execute("UPDATE trips SET status = 'x' WHERE user_id = ?", (BIG_ID,))
        assert cur.rowcount == 1
        await tx.executemany(
            "INSERT INTO locations (user_id, at, point) VALUES (?, ?, ?)",
            [(BIG_ID, f"2026-12-0{i}T09:00:00+00:00", "p") for i in range(1, 4)])
        cur = await tx.execute("DELETE FROM locations WHERE at < :cutoff",
                               {"cutoff": "2026-12-03"})
        assert cur.rowcount == 2
    async with db.read() as tx, tx.execute(
        "SELECT id, name FROM users WHERE unreachable IS NOT 'erased' AND id = ?", (BIG_ID,)
    ) as cur:
        row = await cur.fetchone()
    assert row is not None and (row["id"], row[1]) == (BIG_ID, "n")


async def test_floats_keep_their_precision_and_text_sorts_bytewise(db: Database) -> None:
    async with db.transaction() as tx:
        await tx.execute(
            "INSERT INTO advisories (country_code, source, level, title, url, published,"
            " imported_at) VALUES ('KE', 'a', 1, 'Zeta', 'u', 'p', 'i'),"
            " ('KE', 'b', 1, 'alpha', 'u', 'p', 'i'), ('KE', 'c', 1, '_x', 'u', 'p', 'i')")
        await tx.execute(
            "INSERT INTO users (id, name, role, enrolled_at) VALUES (1, 'n', 'staff', 'e')")
        await tx.execute(
            "INSERT INTO trips (id, user_id, status, created_at) VALUES (1, 1, 'draft', 'c')")
        await tx.execute(
            "INSERT INTO legs (trip_id, idx, place_name, country_code, country_name, region,"
            " lat, lon, tz_name, start_date, end_date) VALUES (1, 0, 'p', 'KE', 'Kenya', 'r',"
            " ?, ?, 'Africa/Nairobi', '2026-12-01', '2026-12-02')", (-1.2920659, 36.8219462))
    async with db.read() as tx:
        titles = [r[0] for r in await tx.execute_fetchall(
            "SELECT title FROM advisories ORDER BY title")]
        leg = list(await tx.execute_fetchall("SELECT lat, lon FROM legs"))[0]
    assert titles == ["Zeta", "_x", "alpha"]  # bytewise, as SQLite's BINARY collation
    assert (leg[0], leg[1]) == (-1.2920659, 36.8219462)


async def test_the_audit_log_refuses_change_delete_and_truncate(world: World) -> None:
    await world.enrol_team()
    db = world.services.db
    for sql in ("UPDATE audit SET detail = 'forged' WHERE id = 1", "DELETE FROM audit"):
        with pytest.raises(INTEGRITY, match="append-only"):
            async with db.transaction() as tx:
                await tx.execute(sql)
    if db.dialect == "postgresql":
        with pytest.raises(INTEGRITY, match="append-only"):
            async with db.transaction() as tx:
                await tx.execute("TRUNCATE audit")
    check = await world.services.privacy.verify_audit()
    assert check.intact and check.entries >= 4


STATE_OWNER = 8  # 0008_state_owner.sql


async def test_migrations_from_nothing_and_from_every_earlier_version_with_data(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest,
) -> None:
    latest = len(migrations())
    for start in range(0, latest):
        if backend == "sqlite":
            target: Path | str = tmp_path / f"from{start}.db"
        else:
            target = request.getfixturevalue("pg_server").fresh()
        db = Database(target)
        if start:
            await db.connect(target_version=start)
            assert await db.version() == start
            async with db.transaction() as tx:
                await tx.execute("INSERT INTO users (id, name, role, enrolled_at)"
                                 " VALUES (?, 'n', 'staff', 'e')", (BIG_ID,))
                await tx.execute("INSERT INTO ptb_state (kind, key, value) VALUES"
                                 " ('conversation:trip', ?, '{}')", (f"[{BIG_ID}, {BIG_ID}]",))
                if start >= 3:
                    await tx.execute("INSERT INTO trips (id, user_id, status, created_at)"
                                     " VALUES (5, ?, 'ended', 'c')", (BIG_ID,))
                    await tx.execute(
                        "INSERT INTO outbox (dedupe, recipient, kind, params, priority,"
                        " created_at, due_at) VALUES ('d', 1, 'k', '{}', 1, 'c', 'd')")
                if 3 <= start < 5:
                    await tx.execute("INSERT INTO locations (user_id, at, lat, lon)"
                                     " VALUES (?, 'a', 1.5, 2.25)", (BIG_ID,))
            await db.close()
        await db.connect()
        assert await db.version() == latest
        async with db.read() as tx:
            users = list(await tx.execute_fetchall("SELECT id FROM users"))
            owners = list(await tx.execute_fetchall("SELECT owner FROM ptb_state"))
            points = list(await tx.execute_fetchall("SELECT point FROM locations"))
        if start:
            assert [r[0] for r in users] == [BIG_ID]
        if 0 < start < STATE_OWNER:  # a row from before 0008 is given its owner by it
            assert [r[0] for r in owners] == [BIG_ID]
        if 3 <= start < 5:
            assert [r[0] for r in points] == ["1.500000,2.250000"]
        async with db.transaction() as tx:  # ids go on after copied rows
            await tx.execute("INSERT INTO users (id, name, role, enrolled_at)"
                             " VALUES (1, 'n', 'staff', 'e') ON CONFLICT DO NOTHING")
            cur = await tx.execute("INSERT INTO trips (user_id, status, created_at)"
                                   " VALUES (1, 'draft', 'c') RETURNING id")
            row = await cur.fetchone()
        assert row is not None and row[0] >= (6 if start >= 3 else 1)
        await db.close()


# --- the translation, statement by statement (independent of the engine) -----------------------


def test_queries_translate_mechanically(backend: str) -> None:
    sql, names = sqlport.pg_query(
        "SELECT a FROM t WHERE x = ? AND y IS ? AND z IS NOT 'e' AND w = '?'"
        " AND v IS NULL AND u IS NOT NULL AND CAST(k AS INTEGER) = ?")
    assert sql == ("SELECT a FROM t WHERE x = $1 AND y IS NOT DISTINCT FROM $2 AND z IS"
                   " DISTINCT FROM 'e' AND w = '?' AND v IS NULL AND u IS NOT NULL"
                   " AND CAST(k AS BIGINT) = $3")
    assert names == ()
    assert sqlport.pg_query("DELETE FROM l WHERE a < :cut AND b = :day AND c > :cut") == (
        "DELETE FROM l WHERE a < $1 AND b = $2 AND c > $1", ("cut", "day"))


def test_migrations_translate_mechanically(backend: str) -> None:
    [table] = sqlport.pg_statement(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER NOT NULL DEFAULT 0, x REAL,"
        " b BLOB, s TEXT CHECK (s IN ('TEXT', 'INTEGER')))", {})
    assert table == ("CREATE TABLE t (id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
                     " n BIGINT NOT NULL DEFAULT 0, x DOUBLE PRECISION, b BYTEA,"
                     " s TEXT COLLATE \"C\" CHECK (s IN ('TEXT', 'INTEGER')))")
    assert sqlport.pg_statement("INSERT OR IGNORE INTO t (id) VALUES (1)", {}) == [
        "INSERT INTO t (id) VALUES (1) ON CONFLICT DO NOTHING"]
    trigger = ("CREATE TRIGGER t_no_delete BEFORE DELETE ON t\nBEGIN\n"
               "    SELECT RAISE(ABORT, 'no');\nEND")
    assert sqlport.pg_statement(trigger, {}) == [
        "CREATE TRIGGER t_no_delete BEFORE DELETE ON t FOR EACH ROW"
        " EXECUTE FUNCTION fieldbot_abort('no')",
        "CREATE TRIGGER t_no_delete_truncate BEFORE TRUNCATE ON t FOR EACH STATEMENT"
        " EXECUTE FUNCTION fieldbot_abort('no')"]
    assert sqlport.pg_statement("DROP TRIGGER t_no_delete", {"t_no_delete": "t"}) == [
        "DROP TRIGGER t_no_delete ON t"]
    script = ("-- a comment; with a semicolon\n"
              "-- postgresql: UPDATE t SET o = CAST(k::jsonb ->> -1 AS BIGINT);\n"
              "UPDATE t SET o = json_extract(k, '$[#-1]');\n"
              f"{trigger};\nCREATE INDEX i ON t (s) WHERE s != 'a;b';")
    assert sqlport.pg_migration(script, {})[0] == (
        "UPDATE t SET o = CAST(k::jsonb ->> -1 AS BIGINT)")
    assert sqlport.pg_migration(script, {})[-1] == "CREATE INDEX i ON t (s) WHERE s != 'a;b'"


@pytest.mark.parametrize("statement", [
    "PRAGMA foreign_keys = ON", "UPDATE t SET d = strftime('%s', 'now')",
    "INSERT OR REPLACE INTO t VALUES (1)", "SELECT group_concat(x) FROM t",
    "CREATE TRIGGER x AFTER INSERT ON t BEGIN UPDATE t SET a = 1; END",
    "UPDATE t SET a = json_extract(b, '$.c')", "SELECT rowid FROM t",
])
def test_what_does_not_translate_is_named(statement: str, backend: str) -> None:
    with pytest.raises(sqlport.NotPortable):
        sqlport.pg_migration(statement, {})


def test_every_bundled_migration_translates(backend: str) -> None:
    bundled = migrations()
    triggers = sqlport.trigger_tables([sql for _, _, sql in bundled])
    for _, name, sql in bundled:
        assert sqlport.pg_migration(sql, triggers), name
