"""The night sweep: each night due becomes a reminder or, past its deadline, an alert.

The rules are `domain.nights`; this module loads a night, asks it what happens now, stores
the change as a compare-and-set and writes its message or alert in the same transaction.
"""

from __future__ import annotations

import logging
from datetime import datetime

from fieldbot.crypto import Cipher
from fieldbot.domain import alerts as alert_rules
from fieldbot.domain import nights as night_rules
from fieldbot.domain.nights import NightEffect
from fieldbot.domain.policy import Policy
from fieldbot.storage import alerts, audit, outbox, trips
from fieldbot.storage.alerts import NightRow
from fieldbot.storage.codec import ts
from fieldbot.storage.db import Database, StorageUnavailable, Tx

log = logging.getLogger(__name__)

NIGHT_CHUNK = 100


class NightSweep:
    def __init__(self, db: Database, policy: Policy, cipher: Cipher) -> None:
        self._db = db
        self._policy = policy
        self._cipher = cipher

    async def sweep(self, night_ids: list[int], now: datetime) -> list[NightEffect]:
        """Advance the nights due; return what each caused."""
        effects: list[NightEffect] = []
        # Nights are advanced NIGHT_CHUNK to a transaction: each commit is an fsync
        # (synchronous=FULL), and a night's change is a compare-and-set that stands alone.
        for first in range(0, len(night_ids), NIGHT_CHUNK):
            chunk = night_ids[first : first + NIGHT_CHUNK]
            try:
                async with self._db.transaction() as tx:
                    done = [await self._advance(tx, n, now) for n in chunk]
            except Exception:
                log.exception("advancing nights failed; retrying them one by one")
                done = [await self._advance_alone(n, now) for n in chunk]
            effects += done
        return effects

    async def _advance_alone(self, night_id: int, now: datetime) -> NightEffect:
        """Advance one night; if it raises, push it forward instead of looping."""
        try:
            async with self._db.transaction() as tx:
                return await self._advance(tx, night_id, now)
        except Exception:
            log.exception("night %s failed; retrying later", night_id)
            try:
                async with self._db.transaction() as tx:
                    await alerts.push_night(tx, night_id, alert_rules.retry_at(now))
            except StorageUnavailable:  # disk full: it stays due; the sweep goes on
                log.critical("could not push night %s forward", night_id, exc_info=True)
            return NightEffect.NONE

    async def _advance(self, tx: Tx, night_id: int, now: datetime) -> NightEffect:
        night = await alerts.night(tx, night_id)
        move = night_rules.on_due(night, now) if night is not None else None
        if night is None or move is None:
            return NightEffect.NONE  # another worker got there first
        stored = await alerts.move_night(tx, night, state=move.state, due_at=move.due_at)
        if not stored:
            return NightEffect.NONE
        if move.effect is NightEffect.REMIND:
            await outbox.enqueue(
                tx,
                cipher=self._cipher,
                dedupe=f"night:{night.id}:reminder",
                recipient=night.user_id,
                kind="reminder",
                priority=outbox.PRIORITY_REMINDER,
                now=now,
                params={"night_id": night.id, "deadline": ts(night.deadline), "tz": night.tz_name},
            )
        elif move.effect is NightEffect.OPEN_ALERT:
            await self._open_missed_alert(tx, night, now)
        return move.effect

    async def _open_missed_alert(self, tx: Tx, night: NightRow, now: datetime) -> None:
        trip = await trips.get(tx, night.trip_id, cipher=self._cipher)
        level = trip.risk_level if trip else 0
        esc = self._policy.escalation_for(level)
        recent = await alerts.recent_states(
            tx, night.user_id, night.day, esc.emergency_after_missed_nights
        )
        kind = night_rules.missed_alert_kind(esc, recent)
        alert_id = await alerts.open_alert(
            tx,
            kind=kind,
            user_id=night.user_id,
            trip_id=night.trip_id,
            night_id=night.id,
            risk_level=level,
            anchor=night.deadline,
            now=now,
        )
        if alert_id is not None:
            await audit.record(tx, None, "alert_open", night.user_id,
                               f"alert={alert_id} kind={kind.value} night={night.id}", now)
        log.info("night %s missed: alert %s (%s)", night.id, alert_id, kind.value)
