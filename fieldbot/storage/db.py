"""The SQLite database: one long-lived aiosqlite connection, migrations, transactions."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path

import aiosqlite

log = logging.getLogger(__name__)


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


class Database:
    """One connection shared by the whole process; every use is serialised by a lock.

    Access goes through `read()` or `transaction()`. The lock matters: aiosqlite runs one
    connection on one thread, so without it another coroutine's statements could land inside
    someone else's open transaction.
    """

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._conn: aiosqlite.Connection | None = None
        self._lock = asyncio.Lock()
        # Run once the schema is current, before anyone else uses the connection: whoever
        # opens the database first (the bot, PTB's persistence, a CLI command) checks the key.
        self.on_open: list[Callable[[], Awaitable[None]]] = []

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
        conn = await aiosqlite.connect(self.path, isolation_level=None)
        conn.row_factory = aiosqlite.Row
        await conn.execute("PRAGMA journal_mode=WAL")
        await conn.execute("PRAGMA synchronous=FULL")
        await conn.execute("PRAGMA foreign_keys=ON")
        await conn.execute("PRAGMA busy_timeout=5000")
        # Erased and purged personal data is overwritten with zeros, not just unlinked.
        await conn.execute("PRAGMA secure_delete=ON")
        self._conn = conn
        try:
            await self._migrate(target_version)
            for hook in self.on_open:
                await hook()
        except BaseException:
            await self.close()
            raise

    def _private_files(self) -> None:
        """The database holds personal data: readable by its owner only (0600). SQLite gives
        its -wal and -shm files the database file's mode; older ones are corrected here."""
        os.close(os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600))
        for path in (self.path, Path(f"{self.path}-wal"), Path(f"{self.path}-shm")):
            if path.exists():
                path.chmod(0o600)

    async def close(self) -> None:
        if self._conn is not None:
            await self._conn.close()
            self._conn = None

    async def version(self) -> int:
        async with self.read() as conn, conn.execute("PRAGMA user_version") as cur:
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

    @asynccontextmanager
    async def read(self) -> AsyncIterator[aiosqlite.Connection]:
        """Yield the connection for reads (no transaction)."""
        async with self._lock:
            yield self._require()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """Yield the connection inside BEGIN IMMEDIATE; commit on success, roll back on error."""
        async with self._lock:
            conn = self._require()
            await conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                # SQLite may have rolled back already (SQLITE_FULL, IOERR, NOMEM, BUSY):
                # a second ROLLBACK would raise and hide the error that matters.
                if conn.in_transaction:
                    await conn.execute("ROLLBACK")
                raise
            else:
                await conn.execute("COMMIT")
