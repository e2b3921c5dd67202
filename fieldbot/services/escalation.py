"""The sweep: nights become reminders or alerts, alerts climb their ladder, until a person acks.

The database is the source of truth. Every change is a compare-and-set on a row read a moment
before, and the messages a change causes are written to the outbox in the same transaction,
so a crash between "decided" and "sent" loses nothing: the outbox is delivered after restart.
"""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import aiosqlite

from fieldbot.clock import Clock
from fieldbot.crypto import Cipher
from fieldbot.domain import ladder
from fieldbot.domain.ladder import AlertKind, NightOutcome, Step, Tier
from fieldbot.domain.members import Member
from fieldbot.domain.policy import Policy
from fieldbot.domain.roles import Role
from fieldbot.domain.trips import in_progress, leg_at
from fieldbot.storage import alerts, audit, outbox, trips, users
from fieldbot.storage.alerts import AlertRow, NightRow
from fieldbot.storage.codec import ts
from fieldbot.storage.db import Database
from fieldbot.storage.outbox import OutboxMessage

log = logging.getLogger(__name__)

SWEEP_BATCH = 500
NIGHT_CHUNK = 100
LATE_AFTER = outbox.LATE_AFTER  # a step carried out later than this is marked late
STEP_RETRY = timedelta(minutes=1)  # a step that raised is tried again this much later
NOTICE_EVERY = timedelta(hours=1)  # at most one notice per topic (a person, an alert) a while


class AlertActionError(Exception):
    """Why an acknowledge/resolve was refused: own alert, already handled, not allowed."""

    def __init__(self, reason: str, by: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.by = by


@dataclass(frozen=True, slots=True)
class SweepReport:
    reminders: int = 0
    missed: int = 0
    steps: int = 0
    failures: int = 0
    saturated: bool = False  # a batch was full: more may be due right now
    unrecorded: tuple[int, ...] = ()  # alerts whose failure the database could not even note


class EscalationService:
    def __init__(self, db: Database, clock: Clock, policy: Policy, cipher: Cipher) -> None:
        self._db = db
        self._clock = clock
        self._policy = policy
        self._cipher = cipher

    # --- the sweep ------------------------------------------------------------------------

    async def sweep(self) -> SweepReport:
        """Carry out everything due now: reminders, missed deadlines, ladder steps."""
        now = self._clock.now()
        reminders = missed = steps = failures = 0
        unrecorded: list[int] = []
        async with self._db.read() as conn:
            night_ids = await alerts.due_night_ids(conn, now, SWEEP_BATCH)
        # Nights are advanced NIGHT_CHUNK to a transaction: each commit is an fsync
        # (synchronous=FULL), and a night's change is a compare-and-set that stands alone.
        for first in range(0, len(night_ids), NIGHT_CHUNK):
            chunk = night_ids[first : first + NIGHT_CHUNK]
            try:
                async with self._db.transaction() as conn:
                    outcomes = [await self._advance_night(conn, n, now) for n in chunk]
            except Exception:
                log.exception("advancing nights failed; retrying them one by one")
                outcomes = [await self._advance_night_alone(n, now) for n in chunk]
            reminders += outcomes.count("reminded")
            missed += outcomes.count("missed")
        async with self._db.read() as conn:
            alert_ids = await alerts.due_alert_ids(conn, now, SWEEP_BATCH)
        for alert_id in alert_ids:
            try:
                async with self._db.transaction() as conn:
                    steps += await self.run_step(conn, alert_id, now)
            except Exception:
                # Never a crash loop: push the step forward, tell the admins, go on.
                log.exception("escalation step of alert %s failed; retrying later", alert_id)
                failures += 1
                try:
                    async with self._db.transaction() as conn:
                        await alerts.push_forward(conn, alert_id, now + STEP_RETRY)
                        await self._tell_admins(
                            conn, "step_failed", {"alert": f"A-{alert_id}"},
                            f"stepfail:{alert_id}", now,
                        )
                except sqlite3.OperationalError:
                    # The database cannot take even this (disk full, I/O error): the step
                    # stays due as it was and the next sweep tries again; the other alerts
                    # are still worth a try, so no raise.
                    log.critical("could not record the failure of alert %s", alert_id,
                                 exc_info=True)
                    unrecorded.append(alert_id)
        saturated = SWEEP_BATCH in (len(night_ids), len(alert_ids))
        return SweepReport(reminders, missed, steps, failures, saturated, tuple(unrecorded))

    async def admin_ids(self) -> list[int]:
        """Who hears of the bot's own troubles (`users.notice_recipients`)."""
        async with self._db.read() as conn:
            people = await users.notice_recipients(conn, cipher=self._cipher)
        return [person.id for person in people]

    async def next_due(self) -> datetime | None:
        """Return when the sweep next has something to do (for the scheduler's one-shot)."""
        async with self._db.read() as conn:
            due = await alerts.next_due(conn)
            mail = await outbox.next_due(conn)
        candidates = [d for d in (due, mail) if d is not None]
        return min(candidates) if candidates else None

    async def _advance_night_alone(self, night_id: int, now: datetime) -> str:
        """Advance one night; if it raises, push it a minute forward instead of looping."""
        try:
            async with self._db.transaction() as conn:
                return await self._advance_night(conn, night_id, now)
        except Exception:
            log.exception("night %s failed; retrying later", night_id)
            try:
                async with self._db.transaction() as conn:
                    await alerts.push_night(conn, night_id, now + STEP_RETRY)
            except sqlite3.OperationalError:  # disk full: it stays due; the sweep goes on
                log.critical("could not push night %s forward", night_id, exc_info=True)
            return "failed"

    async def _advance_night(
        self, conn: aiosqlite.Connection, night_id: int, now: datetime
    ) -> str:
        night = await alerts.night(conn, night_id)
        if night is None or night.due_at is None or night.due_at > now:
            return "gone"  # another worker got there first
        if night.state not in ("pending", "reminded"):
            await alerts.move_night(conn, night, state=night.state, due_at=None)
            return "gone"
        if now < night.deadline:
            if night.state == "reminded":  # woken early after a snooze: wait for the deadline
                await alerts.move_night(conn, night, state="reminded", due_at=night.deadline)
                return "gone"
            if not await alerts.move_night(conn, night, state="reminded", due_at=night.deadline):
                return "gone"
            await outbox.enqueue(
                conn,
                cipher=self._cipher,
                dedupe=f"night:{night.id}:reminder",
                recipient=night.user_id,
                kind="reminder",
                priority=outbox.PRIORITY_REMINDER,
                now=now,
                params={"night_id": night.id, "deadline": ts(night.deadline), "tz": night.tz_name},
            )
            return "reminded"
        if not await alerts.move_night(conn, night, state="missed", due_at=None):
            return "gone"
        await self._open_missed_alert(conn, night, now)
        return "missed"

    async def _open_missed_alert(
        self, conn: aiosqlite.Connection, night: NightRow, now: datetime
    ) -> None:
        trip = await trips.get(conn, night.trip_id, cipher=self._cipher)
        level = trip.risk_level if trip else 0
        esc = self._policy.escalation_for(level)
        states = await alerts.recent_outcomes(
            conn, night.trip_id, night.day, esc.emergency_after_missed_nights
        )
        outcomes = [
            NightOutcome.MISSED
            if s == "missed"
            else NightOutcome.SKIPPED
            if s == "skipped"
            else NightOutcome.CHECKED_IN
            for s in states
        ]
        kind = (
            AlertKind.EMERGENCY
            if ladder.is_emergency(ladder.consecutive_missed(outcomes), esc)
            else AlertKind.MISSED
        )
        alert_id = await alerts.open_alert(
            conn,
            kind=kind,
            user_id=night.user_id,
            trip_id=night.trip_id,
            night_id=night.id,
            risk_level=level,
            anchor=night.deadline,
            now=now,
        )
        if alert_id is not None:
            await audit.record(conn, None, "alert_open", night.user_id,
                               f"alert={alert_id} kind={kind.value} night={night.id}", now)
        log.info("night %s missed: alert %s (%s)", night.id, alert_id, kind.value)

    async def run_step(self, conn: aiosqlite.Connection, alert_id: int, now: datetime) -> int:
        """Carry out the step of an alert that is due now, inside the caller's transaction."""
        a = await alerts.alert(conn, alert_id)
        if a is None or a.next_due_at is None or a.next_due_at > now:
            return 0
        if a.state != "open":
            await alerts.push_forward(conn, a.id, now)  # defensive: should not be due
            return 0
        esc = self._policy.escalation_for(a.risk_level)
        sos = self._policy.sos
        done = (
            ladder.step_at(a.kind, esc, sos, a.anchor, a.step_index) if a.step_index >= 0 else None
        )
        # How far behind the ladder is (downtime): the step we run may be due now by its own
        # time, yet the alert waited since `was_due` — that is what people must be told.
        was_due = a.next_due_at
        steps = 0
        while True:
            if a.skip_tier and done is not None:
                step: Step | None = ladder.skip_tier(a.kind, esc, sos, a.anchor, done, now)
            else:
                step = ladder.catch_up(a.kind, esc, sos, a.anchor, done, now)
            if step is None or step.due_at > now:
                if a.skip_tier:  # nobody higher to go to: wait for the tier's next repeat
                    following_due = step.due_at if step else now + esc.repeat_every
                    await alerts.settle(conn, a.id, following_due)
                break
            subject = await users.get(conn, a.user_id, cipher=self._cipher)
            # Steps due at the very same instant (an EMERGENCY night messages the rep and the
            # officers at once) are all carried out; catch_up alone would keep only the last.
            first_index = done.index + 1 if done is not None else 0
            for index in range(first_index, step.index):
                twin = ladder.step_at(a.kind, esc, sos, a.anchor, index)
                if twin.due_at == step.due_at and twin.tier != step.tier:
                    twins = await self._recipients(conn, a, twin.tier, subject)
                    await self._enqueue_step(conn, a, twin, twins, subject, now, was_due)
            recipients = await self._recipients(conn, a, step.tier, subject)
            if recipients:
                await self._enqueue_step(conn, a, step, recipients, subject, now, was_due)
                steps += 1
            following = ladder.next_step(a.kind, esc, sos, a.anchor, step)
            if not await alerts.advance(conn, a, step.index, following.due_at):
                return steps  # another worker carried this step out
            a = await alerts.alert(conn, a.id)
            assert a is not None
            done = step
            if recipients:
                break
            # Nobody at this tier can be reached: go to the next tier at once.
            await alerts.request_skip(conn, a.id, step.index, now)
            await audit.record(conn, None, "alert_step", a.user_id,
                               f"alert={a.id} step={step.index} tier={int(step.tier)} to=none",
                               now)
            await self._tell_admins(
                conn, "empty_tier", {"alert": a.label, "tier": int(step.tier)},
                f"empty:{a.id}", now,
            )
            a = await alerts.alert(conn, a.id)
            assert a is not None
        return steps

    async def _recipients(
        self, conn: aiosqlite.Connection, a: AlertRow, tier: Tier, subject: Member | None
    ) -> list[int]:
        if tier is Tier.REP:
            return [a.user_id] if a.kind.rep_may_see else []
        team = subject.team if subject else ""
        people = await users.with_role(conn, [Role.MANAGER], team, cipher=self._cipher)
        if tier >= Tier.OFFICERS:
            people += await users.with_role(conn, [Role.OFFICER], cipher=self._cipher)
        ids = [m.id for m in people if m.id != a.user_id]
        if tier is Tier.EMERGENCY and a.trip_id is not None:
            trip = await trips.get(conn, a.trip_id, cipher=self._cipher)
            if trip and trip.contact_user_id and await users.get(
                    conn, trip.contact_user_id, cipher=self._cipher):
                ids.append(trip.contact_user_id)
        return sorted(set(ids))

    async def _enqueue_step(
        self,
        conn: aiosqlite.Connection,
        a: AlertRow,
        step: Step,
        recipients: list[int],
        subject: Member | None,
        now: datetime,
        was_due: datetime,
    ) -> None:
        late = now - was_due > LATE_AFTER
        params = await self.alert_details(conn, a, subject)
        params.update(tier=int(step.tier), attempt=step.attempt, late=late, due_at=ts(was_due))
        priority = (
            outbox.PRIORITY_SOS
            if a.kind in (AlertKind.SOS, AlertKind.DURESS)
            else outbox.PRIORITY_EMERGENCY
            if a.kind is AlertKind.EMERGENCY
            else outbox.PRIORITY_ALERT
        )
        for uid in recipients:
            kind = "alert_rep" if step.tier is Tier.REP else "alert"
            await outbox.enqueue(
                conn,
                cipher=self._cipher,
                dedupe=f"alert:{a.id}:step:{step.index}:to:{uid}",
                recipient=uid,
                kind=kind,
                params=params,
                priority=priority,
                now=now,
                alert_id=a.id,
                step_index=step.index,
            )
        if step.tier is not Tier.REP:
            await alerts.add_recipients(conn, a.id, recipients, now)
        # Each recipient is shown the subject's lodging, contact and location: a logged view.
        await audit.record(
            conn, None, "alert_step", a.user_id,
            f"alert={a.id} step={step.index} tier={int(step.tier)} attempt={step.attempt}"
            f" to={','.join(str(uid) for uid in recipients) or 'none'}",
            now,
        )
        log.info(
            "alert %s step %s (tier %s, attempt %s) to %s recipients%s",
            a.id,
            step.index,
            int(step.tier),
            step.attempt,
            len(recipients),
            " LATE" if late else "",
        )

    async def alert_details(
        self, conn: aiosqlite.Connection, a: AlertRow, subject: Member | None
    ) -> dict[str, Any]:
        """What a manager needs to act: who, where, lodging, last location, contact."""
        details: dict[str, Any] = {
            "alert": a.label,
            "alert_id": a.id,
            "kind": a.kind.value,
            "subject_id": a.user_id,
            "subject_name": subject.name if subject else "?",
            "anchor": ts(a.anchor),
        }
        trip = await trips.get(conn, a.trip_id, cipher=self._cipher) if a.trip_id else None
        if trip is not None:
            # The zone of where the rep was: the missed night's own leg, or the leg under way.
            night = await alerts.night(conn, a.night_id) if a.night_id is not None else None
            details.update(
                trip_id=trip.id,
                places=[leg.place.label() for leg in trip.legs],
                tz=night.tz_name if night else leg_at(trip, a.anchor).place.tz_name,
                start=trip.start.isoformat(),
                end=trip.end.isoformat(),
                lodging=trip.lodging,
                contact_name=trip.contact_name,
                contact_phone=trip.contact_phone,
            )
        where = await alerts.last_location(conn, a.user_id, cipher=self._cipher)
        if where is not None:
            details["last_location"] = {"lat": where[0], "lon": where[1], "at": ts(where[2])}
        return details

    # --- failures reported by the outbox sender -------------------------------------------

    async def on_delivery_failed(self, conn: aiosqlite.Connection, message: OutboxMessage) -> None:
        """A recipient is unreachable: tell the admins; if a whole step failed, go up a tier.

        A failed notice causes no other notice: two unreachable admins would otherwise tell
        each other about each other for ever, and the sweep would never finish.
        """
        if outbox.is_notice(message.kind):
            return
        now = self._clock.now()
        await self._tell_admins(
            conn, "unreachable", {"user_id": message.recipient},
            f"unreachable:{message.recipient}", now,
        )
        if message.alert_id is None or message.step_index is None:
            return
        sent, _failed, pending = await outbox.step_outcome(
            conn, message.alert_id, message.step_index
        )
        if sent == 0 and pending == 0:
            await alerts.request_skip(conn, message.alert_id, message.step_index, now)

    async def _tell_admins(
        self,
        conn: aiosqlite.Connection,
        kind: str,
        params: dict[str, Any],
        topic: str,
        now: datetime,
    ) -> None:
        """Notice `kind` to whoever hears of the bot's troubles, never about themselves;
        notices on one topic are collapsed to one per NOTICE_EVERY, with a count."""
        for person in await users.notice_recipients(conn, cipher=self._cipher):
            if person.id == params.get("user_id"):
                continue
            await outbox.enqueue_notice(
                conn, topic=topic, recipient=person.id, kind=f"admin_{kind}", params=params,
                now=now, every=NOTICE_EVERY, cipher=self._cipher,
            )

    # --- people acting on alerts ----------------------------------------------------------

    async def raise_sos(self, user_id: int, *, duress: bool = False) -> tuple[int, bool]:
        """Open an SOS (or a silent duress alert) and carry out its first step at once.

        Returns (alert id, created); an SOS already open is reused, not duplicated.
        """
        now = self._clock.now()
        kind = AlertKind.DURESS if duress else AlertKind.SOS
        async with self._db.transaction() as conn:
            # Only an open SOS is reused: an open duress alert must never show through (the
            # rep would read "already active"), so her own SOS is a real one next to it.
            existing = await alerts.open_alerts_for(conn, user_id, (AlertKind.SOS,))
            if existing and not duress:
                return existing[-1].id, False
            # Only the trip under way counts: a future trip's hotel is not where the rep is.
            approved = await trips.for_user(conn, user_id, ["approved"],
                                            (now - timedelta(days=1)).date(),
                                            cipher=self._cipher)
            trip = next((t for t in approved if in_progress(t, now)), None)
            alert_id = await alerts.open_alert(
                conn,
                kind=kind,
                user_id=user_id,
                trip_id=trip.id if trip else None,
                night_id=None,
                risk_level=trip.risk_level if trip else 0,
                anchor=now,
                now=now,
            )
            assert alert_id is not None
            await audit.record(conn, user_id, "alert_open", user_id,
                               f"alert={alert_id} kind={kind.value}", now)
            await self.run_step(conn, alert_id, now)
        log.warning("alert %s raised (%s) for user %s", alert_id, kind.value, user_id)
        return alert_id, True

    async def acknowledge(self, alert_id: int, by: Member) -> AlertRow:
        """Acknowledge an alert: stops the ladder; the other recipients are told who has it."""
        now = self._clock.now()
        async with self._db.transaction() as conn:
            a = await self._actionable(conn, alert_id, by)
            if not await alerts.acknowledge(conn, alert_id, by.id, now):
                raise AlertActionError("already", a.acked_by or a.resolved_by)
            await outbox.withdraw_ladder(conn, alert_id)
            await audit.record(conn, by.id, "alert_ack", a.user_id, f"alert={alert_id}", now)
            for uid in await alerts.recipients(conn, alert_id):
                if uid != by.id:
                    await outbox.enqueue(
                        conn,
                        cipher=self._cipher,
                        dedupe=f"ack:{alert_id}:to:{uid}",
                        recipient=uid,
                        kind="ack_notice",
                        params={"alert": a.label, "by_name": by.name},
                        now=now,
                        priority=outbox.PRIORITY_ALERT,
                    )
            done = await alerts.alert(conn, alert_id)
        assert done is not None
        log.info("alert %s acknowledged by %s", alert_id, by.id)
        return done

    async def resolve(self, alert_id: int, by: Member, reason: str, note: str = "") -> AlertRow:
        """Close an alert with a reason; everyone who was alerted is told."""
        now = self._clock.now()
        async with self._db.transaction() as conn:
            a = await self._actionable(conn, alert_id, by)
            if not await alerts.finish(conn, alert_id, "resolved", by.id, now, reason, note,
                                       cipher=self._cipher):
                raise AlertActionError("already", a.resolved_by or a.acked_by)
            await outbox.withdraw_ladder(conn, alert_id)
            await audit.record(conn, by.id, "alert_resolve", a.user_id,
                               f"alert={alert_id} reason={reason}", now)
            for uid in await alerts.recipients(conn, alert_id):
                await outbox.enqueue(
                    conn,
                    cipher=self._cipher,
                    dedupe=f"resolved:{alert_id}:to:{uid}",
                    recipient=uid,
                    kind="resolved",
                    params={"alert": a.label, "by_name": by.name, "reason": reason, "note": note},
                    priority=outbox.PRIORITY_ALERT,
                    now=now,
                )
            done = await alerts.alert(conn, alert_id)
        assert done is not None
        return done

    async def _actionable(self, conn: aiosqlite.Connection, alert_id: int, by: Member) -> AlertRow:
        a = await alerts.alert(conn, alert_id)
        if a is None:
            raise AlertActionError("unknown")
        if a.user_id == by.id:
            raise AlertActionError("own")
        subject = await users.get(conn, a.user_id, cipher=self._cipher)
        if by.role is Role.STAFF or (
            by.role is Role.MANAGER
            and subject is not None
            and subject.team != by.team
            and by.id not in await alerts.recipients(conn, alert_id)
        ):
            raise AlertActionError("not_allowed")
        if a.state not in ("open", "acknowledged"):
            raise AlertActionError("already", a.resolved_by or a.acked_by)
        return a

    async def all_clear(self, conn: aiosqlite.Connection, a: AlertRow, now: datetime) -> None:
        """Close an alert because the rep checked in; tell everyone who was alerted."""
        if not await alerts.finish(conn, a.id, "closed", None, now, "checked_in"):
            return
        await outbox.withdraw_ladder(conn, a.id)
        await audit.record(conn, None, "alert_all_clear", a.user_id, f"alert={a.id}", now)
        subject = await users.get(conn, a.user_id, cipher=self._cipher)
        for uid in await alerts.recipients(conn, a.id):
            await outbox.enqueue(
                conn,
                cipher=self._cipher,
                dedupe=f"clear:{a.id}:to:{uid}",
                recipient=uid,
                kind="all_clear",
                params={
                    "alert": a.label,
                    "subject_name": subject.name if subject else "?",
                    "at": ts(now),
                },
                priority=outbox.PRIORITY_ALERT,
                now=now,
            )
