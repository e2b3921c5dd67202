"""Admin notices: the bot's own troubles (an unreachable person, a failed or empty step)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fieldbot.crypto import Cipher
from fieldbot.domain.alerts import NOTICE_EVERY
from fieldbot.storage import outbox, users
from fieldbot.storage.db import Database, Tx


class Notices:
    def __init__(self, db: Database, cipher: Cipher) -> None:
        self._db = db
        self._cipher = cipher

    async def tell_admins(
        self, tx: Tx, kind: str, params: dict[str, Any], topic: str, now: datetime
    ) -> None:
        """Notice `kind` to whoever hears of the bot's troubles, never about themselves;
        notices on one topic are collapsed to one per NOTICE_EVERY, with a count."""
        for person in await users.notice_recipients(tx, cipher=self._cipher):
            if person.id == params.get("user_id"):
                continue
            await outbox.enqueue_notice(
                tx, topic=topic, recipient=person.id, kind=f"{outbox.NOTICE_PREFIX}{kind}",
                params=params, now=now, every=NOTICE_EVERY, cipher=self._cipher,
            )

    async def admin_ids(self) -> list[int]:
        """Who hears of the bot's own troubles (`domain.alerts.notice_recipients`)."""
        async with self._db.read() as tx:
            people = await users.notice_recipients(tx, cipher=self._cipher)
        return [person.id for person in people]
