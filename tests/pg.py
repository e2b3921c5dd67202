"""PostgreSQL for the tests: one fresh database per test run, one fresh schema per test.

The server is FIELDBOT_TEST_POSTGRES (default: the local one, trust auth). There is no skip:
a test that asks for PostgreSQL fails loudly when it cannot be reached (.ci/run starts it)."""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

BACKENDS = ["sqlite", "postgresql"]  # pytest.mark.parametrize("backend", BACKENDS, indirect=True)
SERVER = os.environ.get("FIELDBOT_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")


def _run(coro: Coroutine[Any, Any, Any]) -> Any:
    """Run a coroutine from sync code, whether or not a loop runs in this thread."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


def with_database(url: str, name: str, **query: str) -> str:
    parts = urlsplit(url)
    extra = "&".join(f"{k}={v}" for k, v in query.items())
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", extra, ""))


async def _admin(sql: str) -> None:
    conn = await asyncpg.connect(SERVER, timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


class PgServer:
    """The database of this test run; `fresh()` gives a URL to an empty schema in it."""

    def __init__(self) -> None:
        self.name = f"fieldbot_test_{secrets.token_hex(4)}"
        try:
            _run(_admin(f'CREATE DATABASE "{self.name}"'))
        except (OSError, asyncpg.PostgresError) as exc:
            pytest.fail(
                f"PostgreSQL is needed at {SERVER} (FIELDBOT_TEST_POSTGRES) and cannot be"
                f" reached: {exc}. Start it (`pg_ctlcluster 15 main start` or `service"
                " postgresql start`); .ci/run does.", pytrace=False)
        self.url = with_database(SERVER, self.name)
        self.extra: list[str] = []

    def fresh(self) -> str:
        schema = f"t_{secrets.token_hex(6)}"
        _run(self.execute(f"CREATE SCHEMA {schema}"))
        # Durability is not what these tests check: commits need not wait for the disk.
        return with_database(SERVER, self.name, search_path=schema, synchronous_commit="off")

    def empty_database(self) -> str:
        """A whole new database (for what needs one: migrate-db's target)."""
        name = f"{self.name}_{secrets.token_hex(3)}"
        _run(_admin(f'CREATE DATABASE "{name}"'))
        self.extra.append(name)
        return with_database(SERVER, name)

    async def execute(self, sql: str, *args: object) -> Any:
        conn = await asyncpg.connect(self.url, timeout=5)
        try:
            return await conn.fetch(sql, *args)
        finally:
            await conn.close()

    def drop(self) -> None:
        for name in [*self.extra, self.name]:
            _run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
