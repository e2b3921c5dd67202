"""SQLite, the embedded default: a writer and a reader connection, each on its own aiosqlite
thread (see `SQLiteDatabase`)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import aiosqlite

from fieldbot.storage.db import Database, Dialect, Statement, StorageUnavailable, Tx, migrations

log = logging.getLogger(__name__)


@contextmanager
def _translated() -> Iterator[None]:
    try:
        yield
    except sqlite3.OperationalError as exc:
        raise StorageUnavailable(str(exc)) from exc


class _Rows:
    """A query's rows, all read in the one trip that ran it (a cursor of the reader)."""

    rowcount = -1  # a query changes nothing

    def __init__(self, rows: Iterable[Any]) -> None:
        self._rows = iter(rows)

    async def fetchone(self) -> Any:
        return next(self._rows, None)

    async def fetchall(self) -> list[Any]:
        return list(self._rows)

    def __aiter__(self) -> _Rows:
        return self

    async def __anext__(self) -> Any:
        row = next(self._rows, None)
        if row is None:
            raise StopAsyncIteration
        return row


Fetch = Callable[[str, Iterable[Any] | None], Awaitable[Iterable[Any]]]


class _RunToEnd:
    """A statement run to its end at once, its rows kept: on the reader, in one trip to its
    thread (`fetch` is the reader's execute_fetchall); in a glance, on the loop's own thread
    (`SQLiteDatabase.glance_rows`).

    Many read units share the reader at once, without a lock. SQLite keeps a connection's read
    snapshot while any of its statements is unfinished, and every statement started meanwhile
    joins that older snapshot: a cursor left open between trips would hide from the others
    what was committed after it began (an SOS's outbox rows from the drain that should send
    them). Finished at once, each statement starts a snapshot of its own."""

    __slots__ = ("_fetch", "_parameters", "_sql")

    def __init__(self, fetch: Fetch, sql: str, parameters: Iterable[Any] | None) -> None:
        self._fetch, self._sql, self._parameters = fetch, sql, parameters

    async def _run(self) -> _Rows:
        return _Rows(await self._fetch(self._sql, self._parameters))

    def __await__(self) -> Any:
        return self._run().__await__()

    async def __aenter__(self) -> _Rows:
        return await self._run()

    async def __aexit__(self, *exc: object) -> None:
        return None


class SQLiteTx(Tx):
    __slots__ = ("_conn", "_db", "_reads")

    def __init__(self, db: SQLiteDatabase, conn: aiosqlite.Connection, *,
                 reads: bool = False) -> None:
        self._db = db
        self._conn = conn
        self._reads = reads  # on the shared reader: every statement in one trip

    def execute(self, sql: str, parameters: Iterable[Any] | None = None) -> Statement:
        if self._reads:
            return _RunToEnd(self._conn.execute_fetchall, sql, parameters)
        return self._conn.execute(sql, parameters)  # type: ignore[return-value]

    def executemany(self, sql: str, parameters: Iterable[Iterable[Any]]) -> Statement:
        return self._conn.executemany(sql, parameters)  # type: ignore[return-value]

    async def execute_fetchall(
        self, sql: str, parameters: Iterable[Any] | None = None
    ) -> Iterable[aiosqlite.Row]:
        """Run one query and fetch every row in one trip to the database thread (execute,
        fetch and close at once): each trip is a thread hand-over both ways."""
        return await self._conn.execute_fetchall(sql, parameters)

    async def has_table(self, name: str) -> bool:
        rows = await self.execute_fetchall(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,))
        return bool(list(rows))

    @property
    def session(self) -> object:
        return self._db  # the same for the reader and the writer

    @property
    def in_transaction(self) -> bool:
        return self._conn.in_transaction

    async def set_trace_callback(self, handler: Callable[[str], object] | None) -> None:
        await self._db.trace(handler)  # every connection: a unit of reads sees the writer's too


class _GlanceTx(SQLiteTx):
    """The unit of a glance: each statement on the loop's own connection (no trip)."""

    __slots__ = ()

    def execute(self, sql: str, parameters: Iterable[Any] | None = None) -> Statement:
        return _RunToEnd(self._db.glance_rows, sql, parameters)

    def executemany(self, sql: str, parameters: Iterable[Iterable[Any]]) -> Statement:
        raise RuntimeError("a write inside Database.glance(): use transaction()")

    async def execute_fetchall(
        self, sql: str, parameters: Iterable[Any] | None = None
    ) -> Iterable[aiosqlite.Row]:
        return await self._db.glance_rows(sql, parameters)

    @property
    def in_transaction(self) -> bool:
        return False


def sqlite_path(target: Path | str) -> Path:
    text = str(target)
    return Path(text[len("sqlite:///"):] if text.startswith("sqlite:///") else text)


class SQLiteDatabase(Database):
    """Two connections per process, each on its own aiosqlite thread: one writes, one reads.

    The writer runs every transaction, one at a time under a lock: aiosqlite runs a
    connection's statements on one thread, so without it another coroutine's statements could
    land inside someone else's open transaction. The reader (query_only, no transaction of its
    own) runs `read()` units without that lock: in WAL mode it reads what was committed while
    the writer works, so a read neither waits for a check-in's transaction nor holds one up,
    and a long report no longer stalls an SOS. Each of its statements runs to its end in one
    trip (`_RunToEnd`) and sees every commit made before it, as on PostgreSQL (read committed):
    a unit of several reads is not one snapshot. What must read as one (the audit chain and
    its head) reads inside `snapshot()`.
    """

    dialect: Dialect = "sqlite"

    def __init__(self, target: Path | str) -> None:
        super().__init__(target)
        self.path = sqlite_path(target)
        self._conn: aiosqlite.Connection | None = None
        self._reader: aiosqlite.Connection | None = None
        self._glancer: sqlite3.Connection | None = None  # the loop's own, for glance()
        self._lock = asyncio.Lock()

    @property
    def where(self) -> str:
        return str(self.path)

    @property
    def is_open(self) -> bool:
        return self._conn is not None

    async def connect(self, *, target_version: int | None = None) -> None:
        """Open the connection (idempotent) and apply pending migrations."""
        if self._conn is not None:
            return
        if self.path.parent and not self.path.parent.exists():
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        await asyncio.to_thread(self._private_files)
        conn = await self._open()
        self._conn = conn
        try:
            await self._migrate(target_version)
            # After the migrations: the reader must see the current schema.
            self._reader = await self._open(query_only=True)
            self._glancer = self._open_glancer()
            for hook in self.on_open:
                await hook()
        except BaseException:
            await self.close()
            raise

    async def _open(self, *, query_only: bool = False) -> aiosqlite.Connection:
        conn = await aiosqlite.connect(self.path, isolation_level=None)
        try:
            conn.row_factory = aiosqlite.Row
            await conn.execute("PRAGMA journal_mode=WAL")
            await conn.execute("PRAGMA synchronous=FULL")
            await conn.execute("PRAGMA foreign_keys=ON")
            await conn.execute("PRAGMA busy_timeout=5000")
            # Erased and purged personal data is overwritten with zeros, not just unlinked.
            await conn.execute("PRAGMA secure_delete=ON")
            if query_only:
                await conn.execute("PRAGMA query_only=ON")
        except BaseException:
            await conn.close()
            raise
        return conn

    def _open_glancer(self) -> sqlite3.Connection:
        # Used from the event loop's thread only (check_same_thread stays off for the loop a
        # test or a command runs in another thread). No busy wait: a glance that would wait
        # for a lock goes to the reader's thread instead (`glance_rows`), never stalls the loop.
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        try:
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA busy_timeout=0")
            conn.execute("PRAGMA query_only=ON")
        except BaseException:
            conn.close()
            raise
        return conn

    def connections(self) -> list[aiosqlite.Connection]:
        return [c for c in (self._conn, self._reader) if c is not None]

    async def trace(self, handler: Callable[[str], object] | None) -> None:
        for conn in self.connections():
            await conn.set_trace_callback(handler)  # type: ignore[arg-type]
        if self._glancer is not None:
            self._glancer.set_trace_callback(handler)

    def _private_files(self) -> None:
        """The database holds personal data: readable by its owner only (0600). SQLite gives
        its -wal and -shm files the database file's mode; older ones are corrected here."""
        os.close(os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600))
        for path in (self.path, Path(f"{self.path}-wal"), Path(f"{self.path}-shm")):
            if path.exists():
                path.chmod(0o600)

    async def close(self) -> None:
        glancer, self._glancer = self._glancer, None
        if glancer is not None:
            glancer.close()
        reader, self._reader = self._reader, None
        writer, self._conn = self._conn, None
        try:
            if reader is not None:
                await reader.close()
        finally:
            if writer is not None:
                await writer.close()

    async def version(self) -> int:
        async with self.read() as tx, tx.execute("PRAGMA user_version") as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else 0

    async def _migrate(self, target_version: int | None) -> None:
        conn = self._require()
        async with conn.execute("PRAGMA user_version") as cur:
            row = await cur.fetchone()
        current = int(row[0]) if row else 0
        for version, name, sql in migrations():
            if version <= current or (target_version is not None and version > target_version):
                continue
            log.info("applying migration %s", name)
            # executescript commits first; the migration's own statements plus the version
            # bump run in one transaction so a crash mid-migration leaves the old version.
            await conn.executescript(
                f"BEGIN IMMEDIATE;\n{sql}\nPRAGMA user_version = {version};\nCOMMIT;"
            )

    def _require(self) -> aiosqlite.Connection:
        if self._conn is None:
            raise RuntimeError("database is not connected")
        return self._conn

    async def _writer(self) -> aiosqlite.Connection:
        """The writer, for the holder of the lock. Nobody else can be in a transaction on it
        now: one left open (it should never be, see `_begin`) is rolled back, never joined, so
        a write that follows is never told done while it waits for a COMMIT nobody will send."""
        conn = self._require()
        if conn.in_transaction:
            log.warning("rolled back a transaction that a unit of work had left open")
            with _translated():
                await conn.execute("ROLLBACK")
        return conn

    @staticmethod
    async def _begin(conn: aiosqlite.Connection, sql: str) -> None:
        """Begin a transaction, even if the caller is cancelled meanwhile: the BEGIN runs on
        the writer's thread whatever happens here, so a cancelled caller waits for it and rolls
        it back before the lock goes to the next unit of work (which would run inside it)."""
        begin = asyncio.ensure_future(conn.execute(sql))
        try:
            await asyncio.shield(begin)
        except asyncio.CancelledError:
            with contextlib.suppress(Exception):
                await begin
                if conn.in_transaction:
                    await conn.execute("ROLLBACK")
            raise

    @asynccontextmanager
    async def read(self) -> AsyncIterator[Tx]:
        """Yield a unit of work for reads (no transaction) on the reader, without the lock:
        with no transaction of its own, its statements may interleave with other reads."""
        self._require()
        if self._reader is None:  # connect() failed half-way: the writer is all there is
            async with self._lock:
                with _translated():
                    yield SQLiteTx(self, self._require())
            return
        try:
            with _translated():
                yield SQLiteTx(self, self._reader, reads=True)
        except StorageUnavailable as exc:
            if getattr(exc.__cause__, "sqlite_errorcode", None) == sqlite3.SQLITE_READONLY:
                # The reader is query_only: a write here is a bug, not a storage outage.
                raise RuntimeError("a write inside Database.read(): use transaction()") \
                    from exc.__cause__
            raise

    @asynccontextmanager
    async def glance(self) -> AsyncIterator[Tx]:
        """Yield a unit of reads run on the event loop's own thread, for the few indexed
        look-ups every update makes (who is asking, tonight's night, is anything waiting to
        be sent).

        In WAL mode a reader never waits for a writer, and such a look-up takes SQLite some
        microseconds from the page cache, while a trip to the reader's thread costs a busy
        loop about 0.1 ms (a future, a queue, the other thread taking the GIL, the loop's
        wake-up). Should the statement fail here (the database locked: no waiting on this
        thread; or anything else), it runs again on the reader's thread, which waits if it
        must and says what is wrong if it still is. Each statement, as on the reader, sees
        every commit made before it."""
        if self._glancer is None:  # connect() failed half-way
            async with self.read() as tx:
                yield tx
            return
        try:
            with _translated():
                yield _GlanceTx(self, self._require())
        except StorageUnavailable as exc:
            if getattr(exc.__cause__, "sqlite_errorcode", None) == sqlite3.SQLITE_READONLY:
                raise RuntimeError("a write inside Database.glance(): use transaction()") \
                    from exc.__cause__
            raise

    async def glance_rows(self, sql: str, parameters: Iterable[Any] | None) -> list[Any]:
        """Run one statement of a glance to its end (see `glance`)."""
        glancer = self._glancer
        if glancer is not None:
            try:
                return glancer.execute(sql, tuple(parameters or ())).fetchall()
            except sqlite3.OperationalError as exc:
                # Locked (no waiting here), or anything else: the reader's thread tries it the
                # usual way, waits if it must, and says what is wrong if it is still wrong.
                # (Python's own errors, such as a text that is not UTF-8, name no code.)
                log.debug("a glance went to the reader's thread: %s",
                          getattr(exc, "sqlite_errorname", type(exc).__name__))
        reader = self._reader or self._require()
        return list(await reader.execute_fetchall(sql, parameters))

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Tx]:
        """Yield a unit of work inside BEGIN IMMEDIATE; commit on success, roll back on error.

        The driver's operational errors (disk full, I/O error, busy) leave as
        `StorageUnavailable`; anything else (a broken constraint: a bug) as it was."""
        async with self._lock:
            conn = await self._writer()
            with _translated():
                await self._begin(conn, "BEGIN IMMEDIATE")
                try:
                    yield SQLiteTx(self, conn)
                except BaseException:
                    # SQLite may have rolled back already (SQLITE_FULL, IOERR, NOMEM, BUSY):
                    # a second ROLLBACK would raise and hide the error that matters.
                    if conn.in_transaction:
                        await conn.execute("ROLLBACK")
                    raise
                else:
                    await conn.execute("COMMIT")

    @asynccontextmanager
    async def autocommit(self) -> AsyncIterator[Tx]:
        async with self._lock:
            conn = await self._writer()
            with _translated():
                yield SQLiteTx(self, conn)

    @asynccontextmanager
    async def snapshot(self) -> AsyncIterator[Tx]:
        async with self._lock:
            conn = await self._writer()
            with _translated():
                await self._begin(conn, "BEGIN")  # deferred: a read transaction, no write lock
                try:
                    yield SQLiteTx(self, conn)
                finally:
                    if conn.in_transaction:
                        await conn.execute("COMMIT")
