"""Loading official travel advisories: a saved copy of a feed, or the feeds fetched online."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from pathlib import Path

import httpx

from fieldbot.clock import Clock
from fieldbot.domain.risk import Advisory
from fieldbot.geo.advisories import FEED_URLS, fetch, import_file, parse_feed
from fieldbot.storage.advisories import AdvisoryStore

log = logging.getLogger(__name__)


class AdvisoryService:
    def __init__(self, store: AdvisoryStore, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    async def import_path(self, path: Path) -> dict[str, int]:
        """Load a saved feed file; return how many advisories each source now has."""
        unmapped: list[str] = []
        advisories = await asyncio.to_thread(import_file, path, unmapped=unmapped)
        for problem in unmapped:
            log.warning("advisory not imported: %s", problem)
        return await self._replace(advisories)

    async def refresh(self, client: httpx.AsyncClient) -> dict[str, int]:
        """Fetch every official feed; a feed that fails keeps its previous import."""
        counts: dict[str, int] = {}
        for url in FEED_URLS:
            try:
                data = await fetch(url, client)
                advisories = await asyncio.to_thread(parse_feed, data)
            except (httpx.HTTPError, ValueError) as exc:
                log.warning("advisory feed %s not refreshed: %s", url, type(exc).__name__)
                continue
            counts.update(await self._replace(advisories))
        return counts

    async def _replace(self, advisories: list[Advisory]) -> dict[str, int]:
        by_source = Counter(a.source for a in advisories)
        now = self._clock.now()
        for source in by_source:
            await self._store.replace(source, advisories, now)
        return dict(by_source)
