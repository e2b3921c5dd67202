"""The database: SQLite (fieldbot.storage.sqlite, the default) or PostgreSQL
(fieldbot.storage.postgres), migrations, the units of work.

`Database(target)` picks the engine: a path or sqlite:///path opens SQLite, a postgresql://
URL opens PostgreSQL. Both hand out the same unit of work (`Tx`); the storage modules write
their SQL once, in the portable subset of fieldbot.storage.sqlport."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from contextlib import AbstractAsyncContextManager
from importlib import resources
from pathlib import Path
from typing import Any, Literal, Protocol

from fieldbot.dburl import is_postgres_url, redacted

__all__ = ["Database", "StorageUnavailable", "Tx", "is_postgres_url", "redacted"]



def migrations() -> list[tuple[int, str, str]]:
    """Return the bundled migrations as (version, name, sql), in order."""
    folder = resources.files("fieldbot.storage") / "migrations"
    found = []
    for entry in folder.iterdir():
        if entry.name.endswith(".sql"):
            version = int(entry.name.split("_", 1)[0])
            found.append((version, entry.name, entry.read_text(encoding="utf-8")))
    found.sort()
    expected = list(range(1, len(found) + 1))
    if [v for v, _, _ in found] != expected:
        raise RuntimeError(f"migrations must be numbered 1..n without gaps: {found}")
    return found


class StorageUnavailable(Exception):
    """The database cannot take the work now (disk full, I/O error, locked too long).

    The services catch this, never a driver's own error: what fails is the storage, and
    the caller decides whether to retry later; the transaction was rolled back."""


class DatabaseRefused(Exception):
    """The database server refused the URL: no such database, or the login is refused. A
    setting to fix, not an outage to wait out: retrying would wait for ever, looking healthy."""


Dialect = Literal["sqlite", "postgresql"]


class Row(Protocol):
    """A result row: by position or by column name (sqlite3.Row, asyncpg.Record)."""

    def __getitem__(self, key: int | str, /) -> Any: ...
    def __len__(self) -> int: ...
    def keys(self) -> Any: ...


class Cursor(Protocol):
    """What a statement gives back. `rowcount`: rows changed by INSERT/UPDATE/DELETE (for an
    INSERT ... ON CONFLICT DO NOTHING, 0 when it did nothing). There is no `lastrowid` that
    both engines share: write INSERT ... RETURNING id and fetch it."""

    @property
    def rowcount(self) -> int: ...
    async def fetchone(self) -> Any: ...
    async def fetchall(self) -> Iterable[Any]: ...
    def __aiter__(self) -> Any: ...


class Statement(Protocol):
    """A statement under way: await it, or use it as `async with ... as cursor`."""

    def __await__(self) -> Any: ...
    async def __aenter__(self) -> Cursor: ...
    async def __aexit__(self, *exc: object) -> Any: ...


class Tx:
    """A unit of work: the connection, inside one transaction (or one read).

    The services hold one of these and hand it to the storage functions; they never see
    the driver. Only the `Database`'s units of work make one: `read()`, `transaction()`,
    `autocommit()` and `snapshot()`."""

    dialect: Dialect = "sqlite"

    def execute(self, sql: str, parameters: Iterable[Any] | None = None) -> Statement:
        """Run one statement (await it, or use it as `async with ... as cursor`)."""
        raise NotImplementedError

    def executemany(self, sql: str, parameters: Iterable[Iterable[Any]]) -> Statement:
        raise NotImplementedError

    async def execute_fetchall(
        self, sql: str, parameters: Iterable[Any] | None = None
    ) -> Iterable[Any]:
        raise NotImplementedError

    async def has_table(self, name: str) -> bool:
        """Whether the schema has this table (some arrived with a later migration)."""
        raise NotImplementedError

    @property
    def session(self) -> object:
        """Return what stays the same for every unit of work on one database (a key for
        what belongs to the connection, such as the audit log's key)."""
        raise NotImplementedError

    @property
    def in_transaction(self) -> bool:
        raise NotImplementedError

    async def set_trace_callback(self, handler: Callable[[str], object] | None) -> None:
        """See every statement run from now on (diagnostics and tests)."""
        raise NotImplementedError


class Database:
    """The database of one process: `Database(path_or_url)` opens SQLite or PostgreSQL.

    Access goes through its units of work (`read()`, `glance()`, `transaction()`,
    `autocommit()`, `snapshot()`); `transaction()` holds the database's one write lock
    (BEGIN IMMEDIATE on SQLite, an advisory transaction lock on PostgreSQL), so writers are
    serialised on both engines and a read-then-write inside one stays true."""

    dialect: Dialect
    path: Path  # SQLite: the file; PostgreSQL: Path() (see `where`)

    def __new__(cls, target: Path | str) -> Database:  # noqa: PYI034
        if cls is Database:
            if is_postgres_url(target):
                from fieldbot.storage.postgres import PostgresDatabase

                return super().__new__(PostgresDatabase)
            from fieldbot.storage.sqlite import SQLiteDatabase

            return super().__new__(SQLiteDatabase)
        return super().__new__(cls)

    def __init__(self, target: Path | str) -> None:
        # Run once the schema is current, before anyone else uses the connection: whoever
        # opens the database first (the bot, PTB's persistence, a CLI command) checks the key.
        self.on_open: list[Callable[[], Awaitable[None]]] = []

    @property
    def where(self) -> str:
        """The database's name for people (a URL without its password)."""
        raise NotImplementedError

    @property
    def is_open(self) -> bool:
        raise NotImplementedError

    async def connect(self, *, target_version: int | None = None) -> None:
        raise NotImplementedError

    async def close(self) -> None:
        raise NotImplementedError

    async def version(self) -> int:
        raise NotImplementedError

    def read(self) -> AbstractAsyncContextManager[Tx]:
        raise NotImplementedError

    def glance(self) -> AbstractAsyncContextManager[Tx]:
        """Yield a unit of reads for the few indexed look-ups every update makes (who is
        asking, tonight's night): on SQLite run on the event loop's own thread, with no trip
        to a database thread. Never for a scan or a report: a long statement here would
        hold up every update. Otherwise as `read()` (which PostgreSQL uses)."""
        return self.read()

    def transaction(self) -> AbstractAsyncContextManager[Tx]:
        raise NotImplementedError

    def autocommit(self) -> AbstractAsyncContextManager[Tx]:
        """Yield a unit of work for ONE write statement that needs no transaction around it:
        a compare-and-set whose conditions are all in its WHERE clause. It holds the write
        lock like `transaction()`; the statement commits by itself (on SQLite one trip to the
        database thread instead of three: no BEGIN, no COMMIT). Two statements here would be
        two commits: use `transaction()` for anything more."""
        raise NotImplementedError

    def snapshot(self) -> AbstractAsyncContextManager[Tx]:
        """Yield a unit of reads that see one state of the database (the audit chain and its
        head, read as one), without the write lock: other processes go on writing meanwhile.
        In this process it waits for the writer's turn, and holds it while it runs."""
        raise NotImplementedError
