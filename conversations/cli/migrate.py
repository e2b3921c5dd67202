"""`fieldbot migrate-db --to postgresql://…`: a SQLite database, with its key, into PostgreSQL."""

from __future__ import annotations

import sys

from fieldbot.clock import SystemClock
from fieldbot.config import Settings
from fieldbot.dburl import is_postgres_url, redacted


async def migrate_db(settings: Settings, to: str) -> int:
    from fieldbot.services.container import opened
    from fieldbot.storage.db import SQLiteDatabase
    from fieldbot.storage.transfer import TargetNotEmpty, copy_sqlite_to_postgres

    if settings.postgres:
        print("fieldbot: FIELDBOT_DB is PostgreSQL already; migrate-db copies a SQLite database"
              " (set FIELDBOT_DB to its file)", file=sys.stderr)
        return 2
    if not is_postgres_url(to):
        print("fieldbot: --to must be a postgresql://user:pass@host:5432/name URL",
              file=sys.stderr)
        return 2
    if not settings.db.exists():  # type: ignore[union-attr]
        print(f"fieldbot: no database at {settings.db}", file=sys.stderr)
        return 2
    target = redacted(to)
    # Opening the source checks its key (the canary) and brings it to the latest version.
    async with opened(settings, SystemClock()) as services:
        assert isinstance(services.db, SQLiteDatabase)
        try:
            copied = await copy_sqlite_to_postgres(services.db, to)
        except TargetNotEmpty as exc:
            print(f"fieldbot: {target} is not empty ({exc}): migrate-db only fills an empty"
                  " database. Create a new one (createdb) or drop what is there.",
                  file=sys.stderr)
            return 2
        except OSError as exc:
            print(f"fieldbot: cannot reach {target}: {exc}", file=sys.stderr)
            return 1
    width = max(len(c.table) for c in copied)
    for c in copied:
        mark = "ok" if c.ok else "MISMATCH"
        print(f"{c.table:<{width}}  {c.source:>9}  {c.target:>9}  {mark}")
    if not all(c.ok for c in copied):
        print("fieldbot: row counts differ: do not switch to the new database", file=sys.stderr)
        return 1
    # The same key opens the copy, and its audit chain still verifies.
    moved = settings.model_copy(update={"db": to})
    async with opened(moved, SystemClock()) as services:
        check = await services.privacy.verify_audit()
    if not check.intact:
        print(f"fieldbot: the audit log of the copy does not verify: {check.problem}",
              file=sys.stderr)
        return 1
    total = sum(c.target for c in copied)
    print(f"copied {total} rows in {len(copied)} tables to {target}; the key opens it and the"
          f" audit chain verifies ({check.entries} entries). Set FIELDBOT_DB to the new URL.")
    return 0
