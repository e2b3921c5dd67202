"""Official travel advisories as imported from the feeds (source and date kept)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from fieldbot.domain.risk import Advisory, RiskLevel
from fieldbot.storage.codec import parse_ts, ts
from fieldbot.storage.db import Database


class AdvisoryStore:
    """The SQLite side of the advisories: what `fieldbot risk import/refresh` wrote."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def for_country(self, country_code: str) -> list[Advisory]:
        async with self._db.read() as conn, conn.execute(
            "SELECT * FROM advisories WHERE country_code = ? ORDER BY source",
            (country_code.upper(),),
        ) as cur:
            rows = await cur.fetchall()
        return [
            Advisory(
                country_code=r["country_code"], level=RiskLevel(r["level"]), source=r["source"],
                title=r["title"], url=r["url"], published=parse_ts(r["published"]),
            )
            for r in rows
        ]

    async def replace(self, source: str, advisories: Sequence[Advisory], now: datetime) -> int:
        """Replace everything from one source with a fresh import; return how many rows."""
        async with self._db.transaction() as conn:
            await conn.execute("DELETE FROM advisories WHERE source = ?", (source,))
            await conn.executemany(
                "INSERT INTO advisories (country_code, source, level, title, url, published,"
                " imported_at) VALUES (?,?,?,?,?,?,?) ON CONFLICT (country_code, source)"
                " DO UPDATE SET"
                " level = excluded.level, title = excluded.title, url = excluded.url,"
                " published = excluded.published, imported_at = excluded.imported_at",
                [(a.country_code, a.source, int(a.level), a.title, a.url, ts(a.published), ts(now))
                 for a in advisories if a.source == source],
            )
        return sum(1 for a in advisories if a.source == source)
