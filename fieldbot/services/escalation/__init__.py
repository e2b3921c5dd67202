"""The sweep and the alerts: nights become reminders or alerts, alerts climb their ladder,
until a person acknowledges.

The database is the source of truth. Every change is a compare-and-set on a row read a moment
before, and the messages a change causes are written to the outbox in the same transaction,
so a crash between "decided" and "sent" loses nothing: the outbox is delivered after restart.

One module per job: `nights` (the night sweep), `ladder` (running an alert's steps),
`actions` (SOS, acknowledge, resolve, all-clear), `notices` (the admins' notices). The rules
they apply are in `fieldbot.domain` (`nights`, `alerts`, `ladder`). `EscalationService` is the
one face the rest of the bot uses.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fieldbot.clock import Clock
from fieldbot.crypto import Cipher
from fieldbot.domain import alerts as rules
from fieldbot.domain.alerts import Alerted
from fieldbot.domain.members import Member
from fieldbot.domain.nights import NightEffect
from fieldbot.domain.policy import Policy
from fieldbot.domain.visits import VisitEffect
from fieldbot.services.escalation.actions import AlertActionError, AlertActions
from fieldbot.services.escalation.ladder import LadderRunner
from fieldbot.services.escalation.nights import NightSweep
from fieldbot.services.escalation.notices import Notices
from fieldbot.services.escalation.visits import VisitSweep
from fieldbot.storage import alerts, outbox
from fieldbot.storage.alerts import AlertRow
from fieldbot.storage.db import Database, Tx
from fieldbot.storage.outbox import OutboxMessage

__all__ = ["AlertActionError", "EscalationService", "SweepReport"]

SWEEP_BATCH = 500


@dataclass(frozen=True, slots=True)
class SweepReport:
    reminders: int = 0
    missed: int = 0
    steps: int = 0
    failures: int = 0
    visit_reminders: int = 0
    visits_overdue: int = 0
    saturated: bool = False  # a batch was full: more may be due right now
    unrecorded: tuple[int, ...] = ()  # alerts whose failure the database could not even note


class EscalationService:
    def __init__(self, db: Database, clock: Clock, policy: Policy, cipher: Cipher) -> None:
        self._db = db
        self._clock = clock
        self.notices = Notices(db, cipher)
        self.nights = NightSweep(db, policy, cipher)
        self.visits = VisitSweep(db, policy, cipher)
        self.ladder = LadderRunner(db, policy, cipher, self.notices)
        self.actions = AlertActions(db, clock, cipher, self.ladder)

    async def sweep(self) -> SweepReport:
        """Carry out everything due now: reminders, missed deadlines, ladder steps."""
        now = self._clock.now()
        async with self._db.read() as tx:
            night_ids = await alerts.due_night_ids(tx, now, SWEEP_BATCH)
        effects = await self.nights.sweep(night_ids, now)
        visit_ids = await self.visits.due_ids(now, SWEEP_BATCH)
        visited = await self.visits.sweep(visit_ids, now)  # before the alerts: a new one runs
        async with self._db.read() as tx:
            alert_ids = await alerts.due_alert_ids(tx, now, SWEEP_BATCH,
                                                   first=rules.swept_first())
        steps, failures, unrecorded = await self.ladder.sweep(alert_ids, now)
        saturated = SWEEP_BATCH in (len(night_ids), len(visit_ids), len(alert_ids))
        return SweepReport(
            reminders=effects.count(NightEffect.REMIND),
            missed=effects.count(NightEffect.OPEN_ALERT),
            steps=steps, failures=failures,
            visit_reminders=visited.count(VisitEffect.REMIND),
            visits_overdue=visited.count(VisitEffect.OPEN_ALERT),
            saturated=saturated, unrecorded=tuple(unrecorded),
        )

    async def next_due(self) -> datetime | None:
        """Return when the sweep next has something to do (for the scheduler's one-shot)."""
        async with self._db.read() as tx:
            due = await alerts.next_due(tx)
            mail = await outbox.next_due(tx)
            visit = await self.visits.next_due(tx)
        candidates = [d for d in (due, mail, visit) if d is not None]
        return min(candidates) if candidates else None

    async def admin_ids(self) -> list[int]:
        return await self.notices.admin_ids()

    async def run_step(self, tx: Tx, alert_id: int, now: datetime) -> int:
        return await self.ladder.run_step(tx, alert_id, now)

    async def alert_details(self, tx: Tx, a: AlertRow, subject: Member | None) -> dict[str, Any]:
        return await self.ladder.alert_details(tx, a, subject)

    async def on_not_reached(self, tx: Tx, message: OutboxMessage) -> None:
        """The outbox sender's hook for a message beyond Telegram that did not go out."""
        if message.alert_id is not None and message.step_index is not None:
            await self.ladder.on_not_reached(tx, message.alert_id, message.step_index,
                                             self._clock.now())

    async def on_delivery_failed(self, tx: Tx, message: OutboxMessage) -> None:
        """The outbox sender's hook for a message that failed for good."""
        await self.ladder.on_delivery_failed(tx, message, self._clock.now())

    async def raise_sos(self, user_id: int, *, duress: bool = False) -> tuple[int, bool]:
        return await self.actions.raise_sos(user_id, duress=duress)

    async def release_unable(self, member: Member) -> int:
        return await self.actions.release_unable(member)

    async def release_held(self, tx: Tx, user_id: int, now: datetime, reason: str) -> int:
        return await self.actions.release_held(tx, user_id, now, reason)

    async def alerted(self, alert_id: int) -> Alerted:
        return await self.actions.alerted(alert_id)

    async def receipt_later(self, user_id: int, alert_id: int, created: bool,
                            alerted: Alerted) -> None:
        await self.actions.receipt_later(user_id, alert_id, created, alerted)

    async def withdraw_mistaken_sos(self, user_id: int) -> bool:
        return await self.actions.withdraw_mistaken_sos(user_id)

    async def acknowledge(self, alert_id: int, by: Member, via: str = "telegram") -> AlertRow:
        return await self.actions.acknowledge(alert_id, by, via)

    async def resolve(self, alert_id: int, by: Member, reason: str, note: str = "") -> AlertRow:
        return await self.actions.resolve(alert_id, by, reason, note)

    async def all_clear(self, tx: Tx, a: AlertRow, now: datetime) -> None:
        await self.actions.all_clear(tx, a, now)

    async def fold_into_duress(self, tx: Tx, a: AlertRow, now: datetime) -> None:
        await self.actions.fold_into_duress(tx, a, now)
