"""What a rep does each night: check in, ask for more time, skip with a reason, share
a location. A check-in is a sign of life: it closes any missed-check-in alert with an all-clear.

The duress word may be in any text the rep writes here (a check-in, a reply to the reminder, a
skip reason). It silently raises a duress alert, and the rep sees exactly what she would have
seen without it: same receipt, same refusals, no all-clear going out, nothing later either.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from fieldbot.clock import Clock
from fieldbot.crypto import Cipher
from fieldbot.domain import nights
from fieldbot.domain.alerts import Priority
from fieldbot.domain.ladder import AlertKind
from fieldbot.domain.nights import CheckinStatus, NightState, Refusal
from fieldbot.domain.policy import Policy
from fieldbot.domain.roles import Role
from fieldbot.services.escalation import EscalationService
from fieldbot.storage import alerts, outbox, users
from fieldbot.storage.alerts import NightRow
from fieldbot.storage.db import Database
from fieldbot.storage.groupcommit import GroupCommit

log = logging.getLogger(__name__)

__all__ = ["CheckinResult", "CheckinService", "CheckinStatus", "NightChange", "Refusal"]

# The alerts a check-in ends with an all-clear (a sign of life): a missed night, and the
# emergency raised after several in a row. An SOS is not among them: it needs a person.
_ENDED_BY_CHECKIN = (AlertKind.MISSED, AlertKind.EMERGENCY)


@dataclass(frozen=True, slots=True)
class CheckinResult:
    status: CheckinStatus
    night: NightRow | None
    next_night: NightRow | None
    # Whether the check-in put anything in the outbox (an all-clear for an alert it ended, a
    # duress SOS): only then has its handler anything to send. The evening's usual check-in
    # puts nothing there, and need not look.
    queued: bool


@dataclass(frozen=True, slots=True)
class NightChange:
    night: NightRow | None
    refused: Refusal | None = None
    new_deadline: datetime | None = None


class CheckinService:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        policy: Policy,
        escalation: EscalationService,
        cipher: Cipher,
    ) -> None:
        self._db = db
        self._clock = clock
        self._policy = policy
        self._escalation = escalation
        self._cipher = cipher
        # The evening's check-ins that queue while one commits go to the disk together.
        self._quick_writes: GroupCommit[tuple[NightRow, datetime], bool] = GroupCommit(
            self._commit_check_ins, key=lambda wanted: wanted[0].id,
            limit=alerts.CHECK_IN_BATCH)

    async def check_in(
        self, user_id: int, text: str = "", location: tuple[float, float] | None = None
    ) -> CheckinResult:
        """Record "I'm safe" for tonight; a duress word silently raises an SOS as well."""
        duress = await self.heed(user_id, text)
        now = self._clock.now()
        if location is None and not duress:
            quick = await self._check_in_quickly(user_id, now)
            if quick is not None:
                return quick
        async with self._db.transaction() as tx:
            if location is not None:
                await alerts.add_location(tx, user_id, location[0], location[1], False, now,
                                          cipher=self._cipher)
            night, coming = await alerts.tonight_and_next(tx, user_id, now)
            # Any open missed-night alert ends with a sign of life; an SOS needs a person.
            missed = await alerts.open_alerts_for(tx, user_id, _ENDED_BY_CHECKIN)
            status = nights.check_in(night, closes_alert=bool(missed))
            if night is not None and night.state is not NightState.CHECKED_IN:
                await alerts.move_night(tx, night, state=NightState.CHECKED_IN, due_at=None,
                                        checked_in_at=now)
            for a in missed:
                if duress:
                    await self._escalation.fold_into_duress(tx, a, now)
                else:
                    await self._escalation.all_clear(tx, a, now)
        return self._checked_in(user_id, night, coming, status, queued=duress or bool(missed))

    async def _check_in_quickly(self, user_id: int, now: datetime) -> CheckinResult | None:
        """The evening's usual check-in, with the write lock held for one statement: read
        tonight without the lock, then check it in only if it is as read and no alert is open
        (one atomic compare-and-set, committed with the others that queued meanwhile). None:
        there is an alert to end, or the night moved meanwhile (the deadline passed, a
        snooze): `check_in` takes the transaction's way."""
        async with self._db.glance() as tx:
            night, coming = await alerts.tonight_and_next(tx, user_id, now)
            if await alerts.open_alerts_for(tx, user_id, _ENDED_BY_CHECKIN):
                return None
        if (night is not None and night.state is not NightState.CHECKED_IN
                and not await self._quick_writes.submit((night, now))):
            return None
        return self._checked_in(user_id, night, coming, nights.check_in(night, closes_alert=False),
                                queued=False)

    async def _commit_check_ins(self, wanted: Sequence[tuple[NightRow, datetime]]) -> list[bool]:
        """One statement and one commit for the quick check-ins that queued together."""
        async with self._db.autocommit() as tx:
            done = await alerts.check_in_unless_alerted(tx, wanted, _ENDED_BY_CHECKIN)
        return [night.id in done for night, _ in wanted]

    def _checked_in(self, user_id: int, night: NightRow | None, coming: list[NightRow],
                    status: CheckinStatus, *, queued: bool) -> CheckinResult:
        # The next deadline once tonight is checked in: tonight itself no longer counts.
        upcoming = next((n for n in coming if night is None or n.id != night.id), None)
        log.info("user %s checked in: %s", user_id, status.value)
        return CheckinResult(status, night, upcoming, queued)

    async def heed(self, user_id: int, text: str) -> bool:
        """Raise a silent duress alert if `text` (anything the rep wrote in answer to a check-in
        question) holds the duress word; return whether it did.

        It is raised before the check-in is recorded, in its own transaction: should the
        check-in then fail, the signal is out anyway.
        """
        if not self._policy.checkin.is_duress(text):
            return False
        await self._escalation.raise_sos(user_id, duress=True)
        return True

    async def awaits_reply(self, user_id: int) -> bool:
        """Whether tonight's reminder went out and is still unanswered (a reply checks in)."""
        async with self._db.read() as tx:
            night = await alerts.current_night(tx, user_id, self._clock.now())
        return night is not None and night.state.awaits_reply

    async def missed_open(self, user_id: int) -> bool:
        """Whether a missed check-in of hers is still open (a check-in now ends it)."""
        async with self._db.read() as tx:
            return bool(await alerts.open_alerts_for(
                tx, user_id, (AlertKind.MISSED, AlertKind.EMERGENCY)))

    async def may_skip(self, user_id: int, night_id: int | None = None) -> NightChange:
        """Whether tonight (or night `night_id`, which must be tonight) may still be skipped."""
        now = self._clock.now()
        async with self._db.read() as tx:
            night = await alerts.current_night(tx, user_id, now)
        return NightChange(night, nights.refuse_change(night, now, night_id))

    async def snooze(self, user_id: int, night_id: int | None = None) -> NightChange:
        """Move tonight's deadline later (`policy.checkin.snooze`, `max_snoozes` times at most),
        only before it passes. `night_id` is the night the reminder was about: if it is not
        tonight, nothing moves."""
        now = self._clock.now()
        async with self._db.transaction() as tx:
            night = await alerts.current_night(tx, user_id, now)
            refused = nights.refuse_change(night, now, night_id)
            if refused is not None or night is None:
                return NightChange(night, refused or Refusal.NOTHING_DUE)
            moved = nights.snooze(self._policy.checkin, night, now)
            if isinstance(moved, Refusal):
                return NightChange(night, moved)
            await alerts.move_night(tx, night, state=night.state, due_at=moved.due_at,
                                    deadline=moved.deadline, snoozes=moved.snoozes)
        return NightChange(night, None, moved.deadline)

    async def skip(self, user_id: int, reason: str, night_id: int | None = None) -> NightChange:
        """Skip tonight with a reason: no alert; the managers are informed, not alarmed.

        `night_id` is the night the rep was asked about: if another night is current by now,
        nothing is skipped (the question was about a night that is over).
        """
        await self.heed(user_id, reason)
        now = self._clock.now()
        async with self._db.transaction() as tx:
            night = await alerts.current_night(tx, user_id, now)
            refused = nights.refuse_change(night, now, night_id)
            if refused is not None or night is None:
                return NightChange(night, refused or Refusal.NOTHING_DUE)
            await alerts.move_night(tx, night, state=NightState.SKIPPED, due_at=None, note=reason,
                                    cipher=self._cipher)
            subject = await users.get(tx, user_id, cipher=self._cipher)
            team = subject.team if subject else ""
            for manager in await users.with_role(tx, [Role.MANAGER], team, cipher=self._cipher):
                if manager.id == user_id:
                    continue
                await outbox.enqueue(
                    tx, cipher=self._cipher, dedupe=f"night:{night.id}:skip:to:{manager.id}",
                    recipient=manager.id,
                    kind="skip_notice", priority=int(Priority.NOTICE), now=now,
                    params={"subject_name": subject.name if subject else "?", "reason": reason,
                            "day": night.day, "tz": night.tz_name}, about=(user_id,),
                )
        return NightChange(night)

    async def record_location(
        self, user_id: int, lat: float, lon: float, *, live: bool = False
    ) -> None:
        """Keep a shared location as the rep's last known location."""
        async with self._db.transaction() as tx:
            await alerts.add_location(tx, user_id, lat, lon, live, self._clock.now(),
                                      cipher=self._cipher)

    async def next_deadline(self, user_id: int) -> NightRow | None:
        async with self._db.read() as tx:
            return await alerts.next_night(tx, user_id, self._clock.now())
