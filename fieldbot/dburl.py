"""Which database a FIELDBOT_DB value names, and how to show it without its password."""

from __future__ import annotations

from pathlib import Path


def is_postgres_url(target: object) -> bool:
    return isinstance(target, str) and target.startswith(("postgresql://", "postgres://"))


def redacted(target: Path | str) -> str:
    """The database's name for messages and logs: a URL loses its password."""
    if is_postgres_url(target):
        scheme, _, rest = str(target).partition("://")
        creds, at, host = rest.rpartition("@")
        if at:
            user = creds.partition(":")[0]
            return f"{scheme}://{user}@{host}"
    return str(target)
