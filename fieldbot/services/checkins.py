"""What a rep does each night: check in, ask for 30 more minutes, skip with a reason, share
a location. A check-in is a sign of life: it closes any missed-check-in alert with an all-clear.

The duress word may be in any text the rep writes here (a check-in, a reply to the reminder, a
skip reason). It silently raises a duress alert, and the rep sees exactly what she would have
seen without it: same receipt, same refusals, no all-clear going out, nothing later either.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

import aiosqlite

from fieldbot.clock import Clock
from fieldbot.crypto import Cipher
from fieldbot.domain.ladder import AlertKind
from fieldbot.domain.policy import Policy
from fieldbot.domain.roles import Role
from fieldbot.services.escalation import EscalationService
from fieldbot.storage import alerts, audit, outbox, users
from fieldbot.storage.alerts import AlertRow, NightRow
from fieldbot.storage.db import Database

log = logging.getLogger(__name__)

SNOOZE = timedelta(minutes=30)
MAX_SNOOZES = 2


class CheckinStatus(StrEnum):
    ON_TIME = "on_time"
    LATE = "late"  # after the deadline: an all-clear went to everyone alerted
    ALREADY = "already"
    NOTHING_DUE = "nothing_due"  # no trip night now; the location (if any) was still kept


class Refusal(StrEnum):
    NOTHING_DUE = "nothing_due"
    PAST_DEADLINE = "past_deadline"
    TOO_MANY = "too_many"
    SETTLED = "settled"
    OTHER_NIGHT = "other_night"  # the question was about a night that is no longer tonight


@dataclass(frozen=True, slots=True)
class CheckinResult:
    status: CheckinStatus
    night: NightRow | None
    next_night: NightRow | None


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

    async def check_in(
        self, user_id: int, text: str = "", location: tuple[float, float] | None = None
    ) -> CheckinResult:
        """Record "I'm safe" for tonight; a duress word silently raises an SOS as well."""
        duress = await self.heed(user_id, text)
        now = self._clock.now()
        async with self._db.transaction() as conn:
            if location is not None:
                await alerts.add_location(conn, user_id, location[0], location[1], False, now,
                                          cipher=self._cipher)
            night = await alerts.current_night(conn, user_id, now)
            status = CheckinStatus.NOTHING_DUE
            if night is not None:
                if night.state == "checked_in":
                    status = CheckinStatus.ALREADY
                else:
                    late = night.state == "missed"
                    await alerts.move_night(conn, night, state="checked_in", due_at=None,
                                            checked_in_at=now)
                    status = CheckinStatus.LATE if late else CheckinStatus.ON_TIME
            # Any open missed-night alert ends with a sign of life; an SOS needs a person.
            for a in await alerts.open_alerts_for(
                conn, user_id, (AlertKind.MISSED, AlertKind.EMERGENCY)
            ):
                if duress:
                    await self._fold_into_duress(conn, a, now)
                else:
                    await self._escalation.all_clear(conn, a, now)
                status = CheckinStatus.LATE if night is not None else status
            upcoming = await alerts.next_night(conn, user_id, now)
        log.info("user %s checked in: %s", user_id, status.value)
        return CheckinResult(status, night, upcoming)

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

    async def _fold_into_duress(
        self, conn: aiosqlite.Connection, a: AlertRow, now: datetime
    ) -> None:
        """End a missed-check-in alert silently because a duress alert has taken it over.

        Folded rather than left open: the duress alert already runs the fastest ladder (the
        officers and every manager of the team at once, repeated every few minutes), so nobody
        who heard of the missed check-in loses anything; left open, the missed alert would keep
        sending the rep "you have not checked in" after a check-in she was shown as accepted,
        telling whoever holds her phone that it did not count. No all-clear goes out: the people
        alerted must not read "safe" next to the duress alert.
        """
        if not await alerts.finish(conn, a.id, "closed", None, now, "duress"):
            return
        await outbox.withdraw_ladder(conn, a.id)
        await audit.record(conn, None, "alert_folded", a.user_id,
                           f"alert={a.id} into=duress", now)

    async def awaits_reply(self, user_id: int) -> bool:
        """Whether tonight's reminder went out and is still unanswered (a reply checks in)."""
        async with self._db.read() as conn:
            night = await alerts.current_night(conn, user_id, self._clock.now())
        return night is not None and night.state in ("reminded", "missed")

    async def may_skip(self, user_id: int, night_id: int | None = None) -> NightChange:
        """Whether tonight (or night `night_id`, which must be tonight) may still be skipped."""
        now = self._clock.now()
        async with self._db.read() as conn:
            night = await alerts.current_night(conn, user_id, now)
        return NightChange(night, self._refuse_change(night, now, night_id))

    async def snooze(self, user_id: int, night_id: int | None = None) -> NightChange:
        """Move tonight's deadline 30 minutes later, at most twice, only before it passes.
        `night_id` is the night the reminder was about: if it is not tonight, nothing moves."""
        now = self._clock.now()
        async with self._db.transaction() as conn:
            night = await alerts.current_night(conn, user_id, now)
            refused = self._refuse_change(night, now, night_id)
            if refused is not None or night is None:
                return NightChange(night, refused or Refusal.NOTHING_DUE)
            if night.snoozes >= MAX_SNOOZES:
                return NightChange(night, Refusal.TOO_MANY)
            deadline = night.deadline + SNOOZE
            due = deadline if night.state == "reminded" else night.due_at
            await alerts.move_night(conn, night, state=night.state, due_at=due, deadline=deadline,
                                    snoozes=night.snoozes + 1)
        return NightChange(night, None, deadline)

    async def skip(self, user_id: int, reason: str, night_id: int | None = None) -> NightChange:
        """Skip tonight with a reason: no alert; the managers are informed, not alarmed.

        `night_id` is the night the rep was asked about: if another night is current by now,
        nothing is skipped (the question was about a night that is over).
        """
        await self.heed(user_id, reason)
        now = self._clock.now()
        async with self._db.transaction() as conn:
            night = await alerts.current_night(conn, user_id, now)
            refused = self._refuse_change(night, now, night_id)
            if refused is not None or night is None:
                return NightChange(night, refused or Refusal.NOTHING_DUE)
            await alerts.move_night(conn, night, state="skipped", due_at=None, note=reason,
                                    cipher=self._cipher)
            subject = await users.get(conn, user_id, cipher=self._cipher)
            team = subject.team if subject else ""
            for manager in await users.with_role(conn, [Role.MANAGER], team, cipher=self._cipher):
                if manager.id == user_id:
                    continue
                await outbox.enqueue(
                    conn, cipher=self._cipher, dedupe=f"night:{night.id}:skip:to:{manager.id}",
                    recipient=manager.id,
                    kind="skip_notice", priority=outbox.PRIORITY_NOTICE, now=now,
                    params={"subject_name": subject.name if subject else "?", "reason": reason,
                            "day": night.day, "tz": night.tz_name},
                )
        return NightChange(night)

    async def record_location(
        self, user_id: int, lat: float, lon: float, *, live: bool = False
    ) -> None:
        """Keep a shared location as the rep's last known location."""
        async with self._db.transaction() as conn:
            await alerts.add_location(conn, user_id, lat, lon, live, self._clock.now(),
                                      cipher=self._cipher)

    async def next_deadline(self, user_id: int) -> NightRow | None:
        async with self._db.read() as conn:
            return await alerts.next_night(conn, user_id, self._clock.now())

    @staticmethod
    def _refuse_change(
        night: NightRow | None, now: datetime, night_id: int | None = None
    ) -> Refusal | None:
        if night_id is not None and (night is None or night.id != night_id):
            return Refusal.OTHER_NIGHT
        if night is None:
            return Refusal.NOTHING_DUE
        if night.state not in ("pending", "reminded"):
            return Refusal.SETTLED
        if now >= night.deadline:
            return Refusal.PAST_DEADLINE
        return None


