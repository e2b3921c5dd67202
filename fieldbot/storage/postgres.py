"""PostgreSQL behind the same unit of work (asyncpg): one connection per process, like SQLite.

Why one connection and a lock, as on SQLite: the storage modules were written for one writer
at a time (read, then write, in one transaction), and the services' throughput is bounded by
Telegram, not by the database. Across processes, `transaction()` takes one advisory
transaction lock (WRITE_LOCK) right after BEGIN: writers are serialised exactly as BEGIN
IMMEDIATE serialises them on SQLite, so READ COMMITTED inside that lock sees every committed
write and a read-then-write cannot interleave with another instance's (an operator's CLI
command while the leader runs). Reads take no lock.

A connection that broke (server restart, network cut, a cancelled statement) is dropped and
the next unit of work reconnects; the work in flight fails as StorageUnavailable.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Generator, Iterable, Iterator, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import asyncpg

from fieldbot.storage import sqlport
from fieldbot.storage.db import (
    Database,
    DatabaseRefused,
    Dialect,
    StorageUnavailable,
    Tx,
    migrations,
    redacted,
)

log = logging.getLogger(__name__)

# Advisory locks: (one of these, the schema's hash), so that two deployments in two schemas of
# one database never wait for each other. LEADER: fieldbot.storage.leadership.
WRITE_LOCK = 0x66620001
MIGRATE_LOCK = 0x66620002
LEADER_LOCK = 0x66620003


def lock_key(kind: int) -> str:
    """The advisory lock's two keys as SQL arguments."""
    return f"{kind}, hashtext(current_schema())"

CONNECT_TIMEOUT = 5.0
COMMAND_TIMEOUT = 30.0
# The server notices a peer that vanished (machine loss, network cut) within about
# idle + interval * count seconds and ends its session, freeing its advisory locks.
SERVER_SETTINGS = {
    "application_name": "fieldbot",
    "lock_timeout": "5s",  # as SQLite's busy_timeout: a writer waits this long, then gives up
    "tcp_keepalives_idle": "3",
    "tcp_keepalives_interval": "1",
    "tcp_keepalives_count": "3",
}

_UNAVAILABLE: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.InsufficientResourcesError,
    asyncpg.OperatorInterventionError,
    asyncpg.PostgresSystemError,
    asyncpg.LockNotAvailableError,
    asyncpg.TransactionRollbackError,
    asyncpg.QueryCanceledError,
)


async def connect(url: str, **settings: str) -> asyncpg.Connection:
    """One connection with our session settings (keepalives, lock timeout). A database that
    does not exist or a login refused is DatabaseRefused (the URL is wrong), not an outage."""
    try:
        return await asyncpg.connect(
            url, timeout=CONNECT_TIMEOUT, command_timeout=COMMAND_TIMEOUT,
            server_settings={**SERVER_SETTINGS, **settings},
        )
    except asyncpg.InvalidCatalogNameError:
        raise DatabaseRefused(f"{redacted(url)}: no such database (createdb it first)") from None
    except asyncpg.InvalidAuthorizationSpecificationError:
        raise DatabaseRefused(f"{redacted(url)}: the login is refused (check the user and"
                              " password in the URL)") from None


def _rowcount(status: str) -> int:
    """asyncpg's command tag ("UPDATE 3", "INSERT 0 1") as a DB-API rowcount."""
    tail = status.rsplit(" ", 1)[-1] if status else ""
    return int(tail) if tail.isdigit() and status.split(" ", 1)[0] in {
        "INSERT", "UPDATE", "DELETE", "MERGE"} else -1


class PgCursor:
    def __init__(self, rows: list[asyncpg.Record], rowcount: int) -> None:
        self._rows = rows
        self._pos = 0
        self.rowcount = rowcount

    @property
    def lastrowid(self) -> int:
        """Not portable: say so loudly rather than answer None (docs/ARCHITECTURE.md)."""
        raise NotImplementedError("no lastrowid on PostgreSQL: write INSERT ... RETURNING id")

    async def fetchone(self) -> asyncpg.Record | None:
        if self._pos >= len(self._rows):
            return None
        self._pos += 1
        return self._rows[self._pos - 1]

    async def fetchall(self) -> list[asyncpg.Record]:
        rest, self._pos = self._rows[self._pos:], len(self._rows)
        return rest

    def __aiter__(self) -> PgCursor:
        return self

    async def __anext__(self) -> asyncpg.Record:
        row = await self.fetchone()
        if row is None:
            raise StopAsyncIteration
        return row


class _PgStatement:
    def __init__(self, run: Callable[[], Any]) -> None:
        self._run = run

    def __await__(self) -> Generator[Any, None, PgCursor]:
        return self._run().__await__()

    async def __aenter__(self) -> PgCursor:
        return await self._run()

    async def __aexit__(self, *exc: object) -> None:
        return None


def _returns_rows(sql: str) -> bool:
    head = sql.lstrip()[:6].upper()
    return head in {"SELECT", "WITH", "VALUES", "SHOW", "EXPLAI"} or " RETURNING " in sql.upper()


class PgTx(Tx):
    dialect: Dialect = "postgresql"

    def __init__(self, db: PostgresDatabase, conn: asyncpg.Connection) -> None:
        self._db = db
        self._conn = conn

    async def _run(self, sql: str, parameters: Iterable[Any] | None) -> PgCursor:
        query, names = sqlport.pg_query(sql)
        if isinstance(parameters, Mapping):
            args: tuple[Any, ...] = tuple(parameters[name] for name in names)
        else:
            args = tuple(parameters) if parameters is not None else ()
        if self._db.trace is not None:
            self._db.trace(sql)
        with _translated(self._db):
            if _returns_rows(query):
                rows = await self._conn.fetch(query, *args)
                return PgCursor(rows, -1 if query.lstrip()[:6].upper() == "SELECT"
                                else len(rows))
            status = await self._conn.execute(query, *args)
            return PgCursor([], _rowcount(status))

    def execute(self, sql: str, parameters: Iterable[Any] | None = None) -> _PgStatement:
        return _PgStatement(lambda: self._run(sql, parameters))

    def executemany(self, sql: str, parameters: Iterable[Iterable[Any]]) -> _PgStatement:
        async def run() -> PgCursor:
            batch = [tuple(p) for p in parameters]
            if self._db.trace is not None:
                self._db.trace(sql)
            if batch:
                with _translated(self._db):
                    await self._conn.executemany(sqlport.pg_query(sql)[0], batch)
            return PgCursor([], -1)

        return _PgStatement(run)

    async def execute_fetchall(
        self, sql: str, parameters: Iterable[Any] | None = None
    ) -> list[asyncpg.Record]:
        return await (await self._run(sql, parameters)).fetchall()

    async def has_table(self, name: str) -> bool:
        return bool(await self._conn.fetchval("SELECT to_regclass($1) IS NOT NULL", name))

    @property
    def session(self) -> object:
        return self._db  # stays the same across reconnections

    @property
    def in_transaction(self) -> bool:
        return bool(self._conn.is_in_transaction())

    async def set_trace_callback(self, handler: Callable[[str], object] | None) -> None:
        self._db.trace = handler


@contextmanager
def _translated(db: PostgresDatabase) -> Iterator[None]:
    try:
        yield
    except _UNAVAILABLE as exc:
        db.drop_connection()
        raise StorageUnavailable(f"{type(exc).__name__}: {exc}") from exc


class PostgresDatabase(Database):
    dialect: Dialect = "postgresql"

    def __init__(self, target: Path | str) -> None:
        super().__init__(target)
        self.url = str(target)
        self.path = Path()
        self._conn: asyncpg.Connection | None = None
        self._lock = asyncio.Lock()
        self._opened = False
        self.trace: Callable[[str], object] | None = None

    @property
    def where(self) -> str:
        return redacted(self.url)

    @property
    def is_open(self) -> bool:
        return self._opened

    def drop_connection(self) -> None:
        """Forget a connection that broke (the next unit of work opens a new one)."""
        if self._conn is not None:
            self._conn.terminate()
            self._conn = None

    async def _connection(self) -> asyncpg.Connection:
        if self._conn is None or self._conn.is_closed():
            with _translated(self):
                self._conn = await connect(self.url)
        return self._conn

    async def connect(self, *, target_version: int | None = None) -> None:
        if self._opened:
            return
        conn = await self._connection()
        self._opened = True
        try:
            await migrate(conn, target_version)
            for hook in self.on_open:
                await hook()
        except BaseException:
            await self.close()
            raise

    async def close(self) -> None:
        self._opened = False
        if self._conn is not None:
            conn, self._conn = self._conn, None
            try:
                await asyncio.wait_for(conn.close(), timeout=2)
            except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError):
                conn.terminate()

    async def version(self) -> int:
        async with self.read() as tx:
            return await current_version(tx._conn)  # type: ignore[attr-defined]

    def _require(self) -> None:
        if not self._opened:
            raise RuntimeError("database is not connected")

    @asynccontextmanager
    async def read(self) -> AsyncIterator[Tx]:
        async with self._lock:
            self._require()
            conn = await self._connection()
            yield PgTx(self, conn)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Tx]:
        async with self._lock:
            self._require()
            conn = await self._connection()
            with _translated(self):
                # One round trip: BEGIN and the database's one write lock.
                await conn.execute(f"BEGIN; SELECT pg_advisory_xact_lock({lock_key(WRITE_LOCK)})")
            try:
                yield PgTx(self, conn)
            except BaseException:
                await self._rollback(conn)
                raise
            else:
                with _translated(self):
                    await conn.execute("COMMIT")

    @asynccontextmanager
    async def snapshot(self) -> AsyncIterator[Tx]:
        async with self._lock:
            self._require()
            conn = await self._connection()
            with _translated(self):
                await conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            try:
                yield PgTx(self, conn)
            finally:
                await self._rollback(conn)  # it changed nothing: ending it is all

    def autocommit(self) -> AbstractAsyncContextManager[Tx]:
        # The statement still takes the database's write lock first, as every writer does.
        return self.transaction()

    async def _rollback(self, conn: asyncpg.Connection) -> None:
        if conn.is_closed():
            self.drop_connection()
            return
        try:
            await asyncio.shield(conn.execute("ROLLBACK"))
        except (*_UNAVAILABLE, asyncpg.PostgresError):
            # Cancelled mid-statement, or the connection broke: never reuse it.
            self.drop_connection()


# --- migrations --------------------------------------------------------------------------------


async def current_version(conn: asyncpg.Connection) -> int:
    exists = await conn.fetchval("SELECT to_regclass('fieldbot_schema') IS NOT NULL")
    if not exists:
        return 0
    return int(await conn.fetchval("SELECT COALESCE(MAX(version), 0) FROM fieldbot_schema"))


async def migrate(conn: asyncpg.Connection, target_version: int | None = None) -> None:
    """Apply the pending migrations, translated, each in one transaction with its version.

    Two instances starting together: the migration lock makes the second wait, then find
    nothing left to do."""
    bundled = migrations()
    triggers = sqlport.trigger_tables([sql for _, _, sql in bundled])
    for version, name, sql in bundled:
        if target_version is not None and version > target_version:
            break
        async with conn.transaction():
            await conn.execute(f"SELECT pg_advisory_xact_lock({lock_key(MIGRATE_LOCK)})")
            if version <= await current_version(conn):
                continue
            log.info("applying migration %s (PostgreSQL)", name)
            await conn.execute(sqlport.PG_PRELUDE)
            await conn.execute(
                "CREATE TABLE IF NOT EXISTS fieldbot_schema (version BIGINT PRIMARY KEY,"
                " name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
            )
            for statement in sqlport.pg_migration(sql, triggers):
                await conn.execute(statement)
            await resync_identities(conn)
            await conn.execute("INSERT INTO fieldbot_schema (version, name) VALUES ($1, $2)",
                               version, name)


async def resync_identities(conn: asyncpg.Connection) -> None:
    """Move every identity column's sequence past the largest id (after rows were copied in
    with their ids: by a migration that rebuilds a table, or by migrate-db)."""
    columns = await conn.fetch(
        "SELECT table_name, column_name FROM information_schema.columns"
        " WHERE table_schema = current_schema() AND is_identity = 'YES'"
    )
    for table, column in columns:
        await conn.execute(
            f'SELECT setval(pg_get_serial_sequence($1, $2), COALESCE(MAX("{column}"), 0) + 1,'
            f' false) FROM "{table}"', table, column,
        )
