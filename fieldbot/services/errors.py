"""The storage's failures the callers of the services may meet (a database that cannot be used
now; one whose server refuses the URL), under the services' name, and a probe of a database
URL: the Telegram layer and the CLI never import the storage."""

from fieldbot.storage.db import DatabaseRefused, StorageUnavailable

__all__ = ["DatabaseRefused", "StorageUnavailable", "probe_database"]


async def probe_database(url: str) -> str | None:
    """Connect once to a PostgreSQL URL and hang up: what is wrong with it, or None."""
    from fieldbot.dburl import redacted
    from fieldbot.storage.postgres import connect

    try:
        conn = await connect(url)
    except DatabaseRefused as exc:
        return f"the database server refused {exc}"
    except (OSError, TimeoutError) as exc:
        return f"cannot reach {redacted(url)} ({type(exc).__name__})"
    await conn.close()
    return None
