"""Updates kept from their arrival until handled, so a killed process loses none.

Telegram forgets an update once the bot confirms it (the next getUpdates, or a webhook's 200),
which PTB does before the update is handled. A kill in between used to lose it: an SOS among
them. Each update is written here first; handled ones are marked done in the next write (one
fsync for both), so a crash replays at most the few handled since: at-least-once, like the
outbox. An update Telegram delivers again is recognised by its id and not handled twice.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from fieldbot.clock import Clock
from fieldbot.crypto import Cipher
from fieldbot.storage import inbox
from fieldbot.storage.db import Database

log = logging.getLogger(__name__)

REMEMBER_DONE = timedelta(days=2)  # Telegram redelivers an unconfirmed update for 24 hours


class UpdateInbox:
    def __init__(self, db: Database, clock: Clock, cipher: Cipher) -> None:
        self._db = db
        self._clock = clock
        self._cipher = cipher
        self._handled: list[int] = []

    async def arrived(self, update_id: int, update: dict[str, Any]) -> bool:
        """Keep an update before it is confirmed to Telegram; False if it was seen before."""
        now = self._clock.now()
        handled, self._handled = self._handled, []
        try:
            async with self._db.transaction() as conn:
                if handled:
                    await inbox.mark_done(conn, handled, now)
                new = await inbox.keep(conn, update_id, self._cipher.encrypt_json(update), now)
        except BaseException:
            self._handled = handled + self._handled
            raise
        if not new:
            log.info("update %s arrived again; already kept", update_id)
        return new

    def handled(self, update_id: int) -> None:
        """Note that an update has been handled (written with the next arrival or flush)."""
        self._handled.append(update_id)

    async def flush(self) -> None:
        """Write down the handled updates now (at shutdown, and from the sweep)."""
        handled, self._handled = self._handled, []
        if handled:
            async with self._db.transaction() as conn:
                await inbox.mark_done(conn, handled, self._clock.now())

    async def unfinished(self) -> list[dict[str, Any]]:
        """Return the updates a previous process kept but did not finish, oldest first."""
        await self.flush()
        async with self._db.transaction() as conn:
            await inbox.forget_done(conn, self._clock.now() - REMEMBER_DONE)
            rows = await inbox.unfinished(conn)
        found = [dict(self._cipher.decrypt_json(payload, empty={})) for _, payload in rows]
        if found:
            log.warning("replaying %s kept updates not handled yet", len(found))
        return [update for update in found if update]
