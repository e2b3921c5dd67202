"""The visit sweep: each visit due becomes the rep's "I'm done?" question or, past its end,
a VISIT alert that climbs its own ladder (policy [visit]) on the same runner as the nights'.

The rules are `domain.visits`; this module loads a visit, asks what happens now, stores the
change as a compare-and-set and writes its message or alert in the same transaction.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from fieldbot.crypto import Cipher
from fieldbot.domain import alerts as alert_rules
from fieldbot.domain import visits as rules
from fieldbot.domain.ladder import AlertKind
from fieldbot.domain.policy import Policy
from fieldbot.domain.visits import VisitEffect
from fieldbot.storage import alerts, audit, outbox, visits
from fieldbot.storage.codec import ts
from fieldbot.storage.db import Database, StorageUnavailable, Tx
from fieldbot.storage.visits import VisitRow

log = logging.getLogger(__name__)


def visit_details(v: VisitRow) -> dict[str, Any]:
    """What an alert or a notice shows of a visit: where, which client, with whom, until when."""
    details: dict[str, Any] = {
        "id": v.id, "client": v.client, "place": v.place, "place_zh": v.place_zh,
        "companion": v.companion,
        "alone": v.alone, "ends_at": ts(v.ends_at), "tz": v.tz_name,
    }
    if v.point is not None:
        details["lat"], details["lon"] = v.point
    return details


class VisitSweep:
    def __init__(self, db: Database, policy: Policy, cipher: Cipher) -> None:
        self._db = db
        self._policy = policy
        self._cipher = cipher

    async def due_ids(self, now: datetime, limit: int) -> list[int]:
        async with self._db.read() as tx:
            return await visits.due_ids(tx, now, limit)

    async def next_due(self, tx: Tx) -> datetime | None:
        return await visits.next_due(tx)

    async def sweep(self, visit_ids: list[int], now: datetime) -> list[VisitEffect]:
        """Advance the visits due, one transaction each; a visit that raises is pushed
        forward instead of looping."""
        effects = []
        for visit_id in visit_ids:
            try:
                async with self._db.transaction() as tx:
                    effects.append(await self._advance(tx, visit_id, now))
            except Exception:
                log.exception("visit %s failed; retrying later", visit_id)
                try:
                    async with self._db.transaction() as tx:
                        await visits.push(tx, visit_id, alert_rules.retry_at(now))
                except StorageUnavailable:
                    log.critical("could not push visit %s forward", visit_id, exc_info=True)
                effects.append(VisitEffect.NONE)
        return effects

    async def _advance(self, tx: Tx, visit_id: int, now: datetime) -> VisitEffect:
        v = await visits.get(tx, visit_id, cipher=self._cipher)
        move = rules.on_due(self._policy.visit, v, now) if v is not None else None
        if v is None or move is None:
            return VisitEffect.NONE
        if not await visits.move(tx, v, state=move.state, due_at=move.due_at):
            return VisitEffect.NONE  # another worker (or the rep's "I'm done") got there first
        if move.effect is VisitEffect.REMIND:
            await outbox.enqueue(
                tx, cipher=self._cipher, dedupe=f"visit:{v.id}:reminder:{ts(v.ends_at)}",
                recipient=v.user_id, kind="visit_reminder", priority=outbox.PRIORITY_ALERT,
                now=now, params={"visit_id": v.id, "ends_at": ts(v.ends_at), "tz": v.tz_name,
                                 "client": v.client})
        elif move.effect is VisitEffect.OPEN_ALERT:
            alert_id = await alerts.open_alert(
                tx, kind=AlertKind.VISIT, user_id=v.user_id, trip_id=None, night_id=None,
                risk_level=0, anchor=v.ends_at, now=now)
            assert alert_id is not None  # no night: nothing to conflict with
            await visits.set_alert(tx, v.id, alert_id)
            await audit.record(tx, None, "alert_open", v.user_id,
                               f"alert={alert_id} kind=visit visit={v.id}", now)
            log.info("visit %s overdue: alert %s", v.id, alert_id)
        return move.effect
