"""People acting on alerts: raise an SOS, acknowledge, resolve; and the all-clear a
check-in gives. Who may act is `domain.alerts.refuse_action`."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from fieldbot.clock import Clock
from fieldbot.crypto import Cipher
from fieldbot.domain import alerts as rules
from fieldbot.domain.alerts import ActionRefusal, Alerted, AlertState, Priority
from fieldbot.domain.ladder import AlertKind
from fieldbot.domain.members import Member
from fieldbot.domain.trips import TripStatus, in_progress
from fieldbot.services.escalation.ladder import LadderRunner
from fieldbot.storage import alerts, audit, outbox, trips, users, visits
from fieldbot.storage.alerts import AlertRow
from fieldbot.storage.codec import ts
from fieldbot.storage.db import Database, Tx

log = logging.getLogger(__name__)


class AlertActionError(Exception):
    """Why an acknowledge/resolve was refused: own alert, already handled, not allowed."""

    def __init__(self, reason: str, by: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.by = by


class AlertActions:
    def __init__(self, db: Database, clock: Clock, cipher: Cipher, ladder: LadderRunner) -> None:
        self._db = db
        self._clock = clock
        self._cipher = cipher
        self._ladder = ladder

    async def raise_sos(self, user_id: int, *, duress: bool = False) -> tuple[int, bool]:
        """Open an SOS (or a silent duress alert) and carry out its first step at once.

        Returns (alert id, created); an SOS already open is reused, not duplicated.
        """
        now = self._clock.now()
        kind = AlertKind.DURESS if duress else AlertKind.SOS
        async with self._db.transaction() as tx:
            # Only an open SOS is reused: an open duress alert must never show through (the
            # rep would read "already active"), so her own SOS is a real one next to it.
            existing = await alerts.open_alerts_for(tx, user_id, (AlertKind.SOS,))
            if existing and not duress:
                return existing[-1].id, False
            # Only the trip under way counts: a future trip's hotel is not where the rep is.
            approved = await trips.for_user(tx, user_id, [TripStatus.APPROVED.value],
                                            (now - timedelta(days=1)).date(),
                                            cipher=self._cipher)
            trip = next((t for t in approved if in_progress(t, now)), None)
            alert_id = await alerts.open_alert(
                tx,
                kind=kind,
                user_id=user_id,
                trip_id=trip.id if trip else None,
                night_id=None,
                risk_level=trip.risk_level if trip else 0,
                anchor=now,
                now=now,
            )
            assert alert_id is not None
            await audit.record(tx, user_id, "alert_open", user_id,
                               f"alert={alert_id} kind={kind.value}", now)
            await self._ladder.run_step(tx, alert_id, now)
        log.warning("alert %s raised (%s) for user %s", alert_id, kind.value, user_id)
        return alert_id, True

    async def alerted(self, alert_id: int) -> Alerted:
        """Who an SOS is reaching now, for her receipt: those its steps went to, but not one
        known to be out of reach (blocked the bot) with no other channel to reach them by."""
        async with self._db.read() as conn:
            a = await alerts.alert(conn, alert_id)
            kind = a.kind if a else AlertKind.SOS
            roles = []
            for uid in await alerts.recipients(conn, alert_id):
                member = await users.get(conn, uid, cipher=self._cipher)
                if member is None:
                    continue
                if member.unreachable and not await self._ladder.reaches_beyond_telegram(
                        conn, uid, kind):
                    continue
                roles.append(member.role)
        return rules.alerted(roles)

    async def receipt_later(self, user_id: int, alert_id: int, created: bool,
                            alerted: Alerted) -> None:
        """The rep's "SOS sent" could not be sent at once (Telegram failing): it goes through
        the outbox instead, retried like the alert itself, so she learns it went out."""
        now = self._clock.now()
        async with self._db.transaction() as tx:
            await outbox.enqueue(
                tx, cipher=self._cipher, dedupe=f"sos:{alert_id}:receipt:{ts(now)}",
                recipient=user_id, kind="sos_receipt",
                params={"created": created, "alerted": alerted.value},
                priority=outbox.PRIORITY_SOS, now=now,
            )

    async def acknowledge(self, alert_id: int, by: Member, via: str = "telegram") -> AlertRow:
        """Acknowledge an alert: stops the ladder; the other recipients are told who has it.

        Every way in (a button, a key pressed on a call, an SMS reply, an e-mailed link) comes
        here: the first wins, nobody acknowledges their own alert, and it is audited."""
        now = self._clock.now()
        async with self._db.transaction() as tx:
            a = await self._actionable(tx, alert_id, by)
            if not await alerts.acknowledge(tx, alert_id, by.id, now):
                raise await self._changed(tx, alert_id)
            await outbox.withdraw_ladder(tx, alert_id)
            detail = f"alert={alert_id}" + ("" if via == "telegram" else f" via={via}")
            await audit.record(tx, by.id, "alert_ack", a.user_id, detail, now)
            await self._tell_alerted(tx, a, "ack", "ack_notice",
                                     {"alert": a.label, "by_name": by.name}, now, but=by.id,
                                     by=by.id)
            # The rep learns who has her missed check-in's alert (main's `_tell_sender` tells
            # her of her SOS); never of a duress alert: whoever holds her phone must not know.
            if a.kind in (AlertKind.MISSED, AlertKind.EMERGENCY):
                await outbox.enqueue(
                    tx, cipher=self._cipher, dedupe=f"ack:{a.id}:rep", recipient=a.user_id,
                    kind="ack_rep", params={"alert": a.label, "by_name": by.name,
                                            "kind": a.kind.value},
                    priority=int(Priority.ALERT), now=now, about=(by.id,),
                )
            await self._tell_sender(tx, a, "sos_seen", {"by_name": by.name}, now, by=by.id)
            done = await alerts.alert(tx, alert_id)
        assert done is not None
        log.info("alert %s acknowledged by %s", alert_id, by.id)
        return done

    async def resolve(self, alert_id: int, by: Member, reason: str, note: str = "") -> AlertRow:
        """Close an alert with a reason; everyone who was alerted is told."""
        now = self._clock.now()
        async with self._db.transaction() as tx:
            a = await self._actionable(tx, alert_id, by)
            if not await alerts.finish(tx, alert_id, AlertState.RESOLVED, by.id, now, reason,
                                       note, cipher=self._cipher):
                raise await self._changed(tx, alert_id)
            await outbox.withdraw_ladder(tx, alert_id)
            if a.kind is AlertKind.VISIT:  # the person was reached: the visit is over
                await visits.end_for_alert(tx, alert_id, now)
            await audit.record(tx, by.id, "alert_resolve", a.user_id,
                               f"alert={alert_id} reason={reason}", now)
            await self._tell_alerted(tx, a, "resolved", "resolved",
                                     {"alert": a.label, "by_name": by.name, "reason": reason,
                                      "note": note}, now, by=by.id)
            await self._tell_sender(tx, a, "sos_closed", {"by_name": by.name}, now, by=by.id)
            done = await alerts.alert(tx, alert_id)
        assert done is not None
        return done

    async def withdraw_mistaken_sos(self, user_id: int) -> bool:
        """The rep pressed SOS by mistake: close her open SOS as a false alarm and tell
        everyone it reached. Never a duress alert; False when no SOS of hers is open."""
        now = self._clock.now()
        async with self._db.transaction() as tx:
            mine = await alerts.open_alerts_for(tx, user_id, (AlertKind.SOS,))
            if not mine:
                return False
            a = mine[-1]
            alert_id = a.id
            if not await alerts.finish(tx, alert_id, AlertState.RESOLVED, user_id, now,
                                       "false_alarm", "", cipher=self._cipher):
                return False
            await outbox.withdraw_ladder(tx, alert_id)
            await audit.record(tx, user_id, "alert_mistake", user_id, f"alert={alert_id}", now)
            subject = await users.get(tx, user_id, cipher=self._cipher)
            await self._tell_alerted(tx, a, "mistake", "sos_mistake",
                                     {"alert": a.label,
                                      "subject_name": subject.name if subject else "?"}, now,
                                     but=user_id)
        log.info("alert %s withdrawn by its sender as a mistake", alert_id)
        return True

    async def _tell_sender(
        self, tx: Tx, a: AlertRow, kind: str, params: dict[str, Any], now: datetime, *,
        by: int,
    ) -> None:
        """Tell the rep who raised an SOS that someone (`by`) is on it, or that it is closed.
        Never for a duress alert: whoever holds her phone must not learn it was raised."""
        if a.kind is AlertKind.SOS:
            await outbox.enqueue(
                tx, cipher=self._cipher, dedupe=f"{kind}:{a.id}", recipient=a.user_id,
                kind=kind, params={"alert": a.label, **params}, priority=int(Priority.SOS),
                now=now, about=(by,),
            )

    async def _actionable(self, tx: Tx, alert_id: int, by: Member) -> AlertRow:
        a = await alerts.alert(tx, alert_id)
        # A duress alert about the one asking does not exist for them: whoever holds her
        # phone must not learn of it by trying alert numbers (a forged button, the desk page).
        if a is None or (a.kind is AlertKind.DURESS and a.user_id == by.id):
            raise AlertActionError(ActionRefusal.UNKNOWN)
        subject = await users.get(tx, a.user_id, cipher=self._cipher)
        was_alerted = by.id in await alerts.recipients(tx, alert_id)
        refused = rules.refuse_action(a.state, a.user_id, subject.team if subject else None, by,
                                      was_alerted)
        if refused is not None:
            # Who ended it, if a person did ("resolved by Mia"), never as if they held it now.
            by_whom = a.resolved_by if refused is ActionRefusal.CLOSED else None
            raise AlertActionError(refused, by_whom)
        return a

    async def release_held(self, tx: Tx, user_id: int, now: datetime, reason: str,
                           member: Member | None = None) -> int:
        """Alerts this person acknowledged and can no longer handle go back up their ladder,
        at the next tier, due now, and everyone they reached is told it is open again: all of
        them when the person is erased (`member` None), those their new role or team may not
        act on when it changed (an acknowledger made staff kept the alert for good: nobody
        else was told, nothing repeated, and they could not resolve it)."""
        only: set[int] | None = None
        if member is not None:
            only = set()
            for a in await alerts.held_by(tx, user_id):
                subject = await users.get(tx, a.user_id, cipher=self._cipher)
                was_alerted = user_id in await alerts.recipients(tx, a.id)
                if rules.refuse_action(a.state, a.user_id, subject.team if subject else None,
                                       member, was_alerted) is not None:
                    only.add(a.id)
            if not only:
                return 0
        released = await alerts.release_acknowledged_by(tx, user_id, now, only)
        for a in released:
            await audit.record(tx, None, "alert_reopen", a.user_id,
                               f"alert={a.id} acked_by={user_id} reason={reason}", now)
            for uid in await alerts.recipients(tx, a.id):
                if uid == user_id:
                    continue
                await outbox.enqueue(
                    tx, cipher=self._cipher, dedupe=f"reopened:{a.id}:{ts(now)}:to:{uid}",
                    recipient=uid, kind="ack_released", params={"alert": a.label},
                    priority=outbox.PRIORITY_ALERT, now=now,
                )
            log.info("alert %s back on its ladder: user %s who acknowledged it %s",
                     a.id, user_id, reason)
        return len(released)

    async def release_unable(self, member: Member) -> int:
        """After a change of role or team: the alerts `member` acknowledged and may no longer
        act on go back up their ladders (see `release_held`); return how many."""
        now = self._clock.now()
        async with self._db.transaction() as tx:
            return await self.release_held(tx, member.id, now, "role_changed", member)

    async def _changed(self, tx: Tx, alert_id: int) -> AlertActionError:
        """Why a write the check allowed found the alert changed: someone acknowledged it, or
        it is over (on PostgreSQL another instance may have written between the check and the
        write): read as it is now, never "? is already handling it" of an alert resolved."""
        now_row = await alerts.alert(tx, alert_id)
        if now_row is None or not now_row.state.is_live:
            return AlertActionError(ActionRefusal.CLOSED, now_row.resolved_by if now_row else None)
        return AlertActionError(ActionRefusal.ALREADY, now_row.acked_by)

    async def all_clear(self, tx: Tx, a: AlertRow, now: datetime) -> None:
        """Close an alert because the rep checked in; tell everyone who was alerted."""
        if not await alerts.finish(tx, a.id, AlertState.CLOSED, None, now, "checked_in"):
            return
        await outbox.withdraw_ladder(tx, a.id)
        await audit.record(tx, None, "alert_all_clear", a.user_id, f"alert={a.id}", now)
        subject = await users.get(tx, a.user_id, cipher=self._cipher)
        await self._tell_alerted(tx, a, "clear", "all_clear",
                                 {"alert": a.label, "at": ts(now), "kind": a.kind.value,
                                  "subject_name": subject.name if subject else "?"}, now)

    async def _tell_alerted(
        self, tx: Tx, a: AlertRow, topic: str, kind: str, params: dict[str, Any],
        now: datetime, *, but: int | None = None, by: int | None = None,
    ) -> None:
        """Tell everyone the alert reached (except `but`) what became of it, once each, on
        every channel it reached them on. The message names the alert's person, and `by`
        (who acknowledged or resolved it) if given: erasing either empties it."""
        about = (a.user_id,) if by is None else (a.user_id, by)
        if a.kind is AlertKind.DRILL:
            params = {**params, "drill": True}
        for uid in await alerts.recipients(tx, a.id):
            if uid == but:
                continue
            for channel in await self._ladder.fanout.told_on(tx, a.id, uid):
                suffix = "" if channel == "telegram" else f":{channel}"
                await outbox.enqueue(
                    tx, cipher=self._cipher, dedupe=f"{topic}:{a.id}:to:{uid}{suffix}",
                    recipient=uid, kind=kind, params=params, priority=int(Priority.ALERT),
                    now=now, channel=channel, about=about,
                )

    async def fold_into_duress(self, tx: Tx, a: AlertRow, now: datetime) -> None:
        """End a missed-check-in alert silently because a duress alert has taken it over.

        Folded rather than left open: the duress alert already runs the fastest ladder (the
        officers and every manager of the team at once, repeated every few minutes), so nobody
        who heard of the missed check-in loses anything; left open, the missed alert would keep
        sending the rep "you have not checked in" after a check-in she was shown as accepted,
        telling whoever holds her phone that it did not count. No all-clear goes out: the people
        alerted must not read "safe" next to the duress alert.
        """
        if not await alerts.finish(tx, a.id, AlertState.CLOSED, None, now, "duress"):
            return
        await outbox.withdraw_ladder(tx, a.id)
        await audit.record(tx, None, "alert_folded", a.user_id,
                           f"alert={a.id} into=duress", now)
