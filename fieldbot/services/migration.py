"""Moving a SQLite deployment to PostgreSQL (`fieldbot migrate-db`): copy, count, verify."""

from __future__ import annotations

from dataclasses import dataclass

from fieldbot.clock import SystemClock
from fieldbot.config import Settings
from fieldbot.services.container import opened
from fieldbot.storage.audit import ChainCheck
from fieldbot.storage.sqlite import SQLiteDatabase
from fieldbot.storage.transfer import Copied, TargetNotEmpty, copy_sqlite_to_postgres

__all__ = ["Copied", "Moved", "TargetNotEmpty", "move_to_postgres"]


@dataclass(frozen=True, slots=True)
class Moved:
    tables: list[Copied]
    audit: ChainCheck | None  # None when the counts differ (the copy is not to be used)

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.tables) and self.audit is not None and self.audit.intact


async def move_to_postgres(settings: Settings, url: str) -> Moved:
    """Copy the SQLite database of `settings` into the empty PostgreSQL `url`.

    Opening the source checks its key (the canary) and brings it to the latest version; the
    copy is then opened with the same key and its audit chain verified."""
    async with opened(settings, SystemClock()) as services:
        assert isinstance(services.db, SQLiteDatabase)
        copied = await copy_sqlite_to_postgres(services.db, url)
    if not all(c.ok for c in copied):
        return Moved(copied, None)
    async with opened(settings.model_copy(update={"db": url}), SystemClock()) as services:
        check = await services.privacy.verify_audit()
    return Moved(copied, check)
