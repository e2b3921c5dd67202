"""`fieldbot migrate-db --to postgresql://…`: a SQLite database, with its key, into PostgreSQL."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from fieldbot.config import Settings
from fieldbot.dburl import is_postgres_url, redacted


async def migrate_db(settings: Settings, to: str) -> int:
    from fieldbot.services.migration import TargetNotEmpty, move_to_postgres

    if settings.postgres:
        print("fieldbot: FIELDBOT_DB is PostgreSQL already; migrate-db copies a SQLite database"
              " (set FIELDBOT_DB to its file)", file=sys.stderr)
        return 2
    if not is_postgres_url(to):
        print("fieldbot: --to must be a postgresql://user:pass@host:5432/name URL",
              file=sys.stderr)
        return 2
    if not await asyncio.to_thread(Path(settings.db).exists):
        print(f"fieldbot: no database at {settings.db}", file=sys.stderr)
        return 2
    target = redacted(to)
    try:
        moved = await move_to_postgres(settings, to)
    except TargetNotEmpty as exc:
        print(f"fieldbot: {target} is not empty ({exc}): migrate-db only fills an empty"
              " database. Create a new one (createdb) or drop what is there.", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"fieldbot: cannot reach {target}: {exc}", file=sys.stderr)
        return 1
    width = max(len(c.table) for c in moved.tables)
    for c in moved.tables:
        print(f"{c.table:<{width}}  {c.source:>9}  {c.target:>9}  {'ok' if c.ok else 'MISMATCH'}")
    if moved.audit is None:
        print("fieldbot: row counts differ: do not switch to the new database", file=sys.stderr)
        return 1
    if not moved.audit.intact:
        print(f"fieldbot: the audit log of the copy does not verify: {moved.audit.problem}",
              file=sys.stderr)
        return 1
    total = sum(c.target for c in moved.tables)
    print(f"copied {total} rows in {len(moved.tables)} tables to {target}; the key opens it and"
          f" the audit chain verifies ({moved.audit.entries} entries)."
          " Set FIELDBOT_DB to the new URL.")
    return 0
