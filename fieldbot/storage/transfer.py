"""Copying a SQLite database into an empty PostgreSQL one (`fieldbot migrate-db`).

Rows are copied as they are: encrypted columns stay the same Fernet tokens (the same key opens
them), the audit log keeps its ids and chain values (so its chain still verifies), ids are kept
and the identity sequences moved past them. The copy runs in one PostgreSQL transaction: a
failure leaves the target with its schema and no rows, and the command can run again. The
source is read inside one SQLite write transaction, so nothing changes under the copy.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import asyncpg

from fieldbot.storage.postgres import PostgresDatabase, connect, resync_identities
from fieldbot.storage.sqlite import SQLiteDatabase

log = logging.getLogger(__name__)

BATCH = 5000
# Rows the migrations themselves write into an empty database (0007's marks): not data.
_SCHEMA_ONLY = {"fieldbot_schema"}


class TargetNotEmpty(Exception):
    """The PostgreSQL database already holds fieldbot data (or other tables)."""


@dataclass(frozen=True, slots=True)
class Copied:
    table: str
    source: int
    target: int

    @property
    def ok(self) -> bool:
        return self.source == self.target


async def check_empty(url: str) -> None:
    """Refuse a target that holds anything but an unused fieldbot schema."""
    conn = await connect(url)
    try:
        tables = [r[0] for r in await conn.fetch(
            "SELECT table_name FROM information_schema.tables"
            " WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'")]
        if tables and "fieldbot_schema" not in tables:
            raise TargetNotEmpty(
                f"it has tables that are not fieldbot's ({', '.join(sorted(tables)[:5])})")
        for table in tables:
            if table in _SCHEMA_ONLY:
                continue
            where = " WHERE name = 'canary'" if table == "vault" else ""
            if await conn.fetchval(f'SELECT EXISTS (SELECT 1 FROM "{table}"{where})'):
                raise TargetNotEmpty(f"table {table} has rows")
    finally:
        await conn.close()


def _order(tables: list[str], depends: dict[str, set[str]]) -> list[str]:
    """Parents before children (foreign keys), otherwise alphabetical."""
    done: list[str] = []
    waiting = sorted(tables)
    while waiting:
        ready = [t for t in waiting if not (depends.get(t, set()) - set(done) - {t})]
        if not ready:  # a cycle: copy the rest as they come (none in our schema)
            ready = waiting[:1]
        done += ready
        waiting = [t for t in waiting if t not in ready]
    return done


def _coerce(kind: str, value: Any) -> Any:
    """SQLite stores what it is given; PostgreSQL wants the column's type."""
    if value is None:
        return None
    if kind in {"bigint", "integer", "smallint"}:
        return int(value)
    if kind in {"double precision", "real", "numeric"}:
        return float(value)
    if kind == "bytea":
        return value if isinstance(value, bytes) else str(value).encode()
    return value if isinstance(value, str) else str(value)


async def copy_sqlite_to_postgres(source: SQLiteDatabase, url: str) -> list[Copied]:
    """Copy every table of `source` (open, at the latest version) into the empty `url`."""
    await check_empty(url)
    target = PostgresDatabase(url)
    await target.connect()  # the schema, by the same migrations (no key needed: no hooks)
    await target.close()
    async with source.transaction() as src:
        tables = [r[0] for r in await src.execute_fetchall(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
        depends = {t: {r[2] for r in await src.execute_fetchall(
            f'PRAGMA foreign_key_list("{t}")')} for t in tables}
        conn = await connect(url)
        try:
            async with conn.transaction():
                await conn.execute("DELETE FROM vault")  # the migrations' marks: the source's
                copied = [await _copy(src, conn, table) for table in _order(tables, depends)]
                await resync_identities(conn)
        finally:
            await conn.close()
    return copied


async def _copy(src: Any, conn: asyncpg.Connection, table: str) -> Copied:
    columns = [r[1] for r in await src.execute_fetchall(f'PRAGMA table_info("{table}")')]
    kinds = {r[0]: r[1] for r in await conn.fetch(
        "SELECT column_name, data_type FROM information_schema.columns"
        " WHERE table_schema = current_schema() AND table_name = $1", table)}
    missing = [c for c in columns if c not in kinds]
    if missing:
        raise RuntimeError(f"{table}: columns missing in PostgreSQL: {missing}")
    count = 0
    quoted = ", ".join(f'"{c}"' for c in columns)
    async with src.execute(f'SELECT {quoted} FROM "{table}"') as cur:
        while True:
            rows = await cur.fetchmany(BATCH)
            if not rows:
                break
            records = [tuple(_coerce(kinds[c], v) for c, v in zip(columns, row, strict=True))
                       for row in rows]
            await conn.copy_records_to_table(table, records=records, columns=columns)
            count += len(records)
    [(source,)] = list(await src.execute_fetchall(f'SELECT COUNT(*) FROM "{table}"'))
    target = int(await conn.fetchval(f'SELECT COUNT(*) FROM "{table}"'))
    log.info("migrate-db: %s: %s rows read, %s in the source, %s in the target",
             table, count, source, target)
    return Copied(table, int(source), target)
