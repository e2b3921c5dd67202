"""Running an alert's ladder: load the alert and the people it could reach, ask the domain
what to do now (`domain.alerts.run`), claim the change and write its messages together.

A step that raises is pushed forward (never a crash loop) and the admins are told; a step
whose every message failed for good sends the alert up a tier.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from fieldbot.crypto import Cipher
from fieldbot.domain import alerts as rules
from fieldbot.domain import channels as channel_rules
from fieldbot.domain import drills as drill_rules
from fieldbot.domain.alerts import AlertState, EmptyTier, Ladder, People, Send
from fieldbot.domain.channels import step_not_reached
from fieldbot.domain.ladder import AlertKind, Tier
from fieldbot.domain.members import Member
from fieldbot.domain.policy import Policy
from fieldbot.domain.trips import leg_at
from fieldbot.services.escalation.fanout import Fanout
from fieldbot.services.escalation.notices import Notices
from fieldbot.services.escalation.visits import visit_details
from fieldbot.storage import alerts, audit, deliveries, outbox, trips, users, visits
from fieldbot.storage.alerts import AlertRow
from fieldbot.storage.codec import ts
from fieldbot.storage.db import Database, StorageUnavailable, Tx
from fieldbot.storage.outbox import OutboxMessage

log = logging.getLogger(__name__)


class LadderRunner:
    def __init__(
        self, db: Database, policy: Policy, cipher: Cipher, notices: Notices
    ) -> None:
        self._db = db
        self._policy = policy
        self._cipher = cipher
        self._notices = notices
        self.fanout = Fanout()  # Telegram only until the channels are wired (container)

    async def reaches_beyond_telegram(self, tx: Tx, user_id: int, kind: AlertKind) -> bool:
        """Whether an alert of `kind` reaches this person by SMS, a call or e-mail as well as
        Telegram: the policy sends it on such a channel at some tier, and it is usable for
        them (configured, a confirmed phone or address). The company's webhook is no way to
        reach a person."""
        usable = await self.fanout.usable(tx, user_id)
        return any(channel in usable and channel in channel_rules.PERSONAL
                   for tier in (Tier.MANAGER, Tier.OFFICERS, Tier.EMERGENCY)
                   for channel in channel_rules.tier_channels(self._policy.channels, kind, tier))

    async def sweep(self, alert_ids: list[int], now: datetime) -> tuple[int, int, list[int]]:
        """Run the due alerts; return (steps, failures, alerts whose failure went unnoted)."""
        steps = failures = 0
        unrecorded: list[int] = []
        for alert_id in alert_ids:
            try:
                async with self._db.transaction() as tx:
                    steps += await self.run_step(tx, alert_id, now)
            except Exception:
                # Never a crash loop: push the step forward, tell the admins, go on.
                log.exception("escalation step of alert %s failed; retrying later", alert_id)
                failures += 1
                try:
                    async with self._db.transaction() as tx:
                        await alerts.push_forward(tx, alert_id, rules.retry_at(now))
                        await self._notices.tell_admins(
                            tx, "step_failed", {"alert": f"A-{alert_id}"},
                            f"stepfail:{alert_id}", now,
                        )
                except StorageUnavailable:
                    # The database cannot take even this (disk full, I/O error): the step
                    # stays due as it was and the next sweep tries again; the other alerts
                    # are still worth a try, so no raise.
                    log.critical("could not record the failure of alert %s", alert_id,
                                 exc_info=True)
                    unrecorded.append(alert_id)
        return steps, failures, unrecorded

    async def run_step(self, tx: Tx, alert_id: int, now: datetime) -> int:
        """Carry out the step of an alert that is due now, inside the caller's transaction;
        return how many steps reached somebody."""
        a = await alerts.alert(tx, alert_id)
        if a is None or a.next_due_at is None or a.next_due_at > now:
            return 0
        if a.state is not AlertState.OPEN:
            await alerts.push_forward(tx, a.id, now)  # defensive: should not be due
            return 0
        if a.kind is AlertKind.DRILL and await alerts.open_alerts_for(
                tx, a.user_id, drill_rules.REAL_KINDS):
            # A real alert about them opened: the drill stands down for them, so no DRILL
            # message about them sits beside the real one in anybody's chat.
            await alerts.finish(tx, a.id, AlertState.CLOSED, None, now,
                                drill_rules.STOOD_DOWN_RESOLUTION)
            await outbox.withdraw_ladder(tx, a.id)
            return 0
        subject = await users.get(tx, a.user_id, cipher=self._cipher)
        people = await self._people(tx, a, subject)
        state = Ladder(a.kind, a.risk_level, a.anchor, a.step_index, a.skip_tier, a.next_due_at)
        run = rules.run(self._policy, state, people, now)
        if not run.changed:
            return 0
        # The claim first: if another worker moved this ladder, it carries the step out.
        if not await alerts.move_ladder(tx, a, run.step_index, run.next_due_at, run.skip_tier):
            return 0
        for effect in run.effects:
            if isinstance(effect, Send):
                await self._send(tx, a, effect, subject, now, run.late)
            else:
                await self._record_empty(tx, a, effect, now)
        return run.steps

    async def _people(self, tx: Tx, a: AlertRow, subject: Member | None) -> People:
        """Load everyone the alert's tiers could reach (`domain.alerts.AUDIENCES`)."""
        team_roles, any_roles = rules.audience_roles()
        team = subject.team if subject else ""
        in_team = {
            role: tuple(m.id for m in await users.with_role(tx, [role], team,
                                                            cipher=self._cipher))
            for role in sorted(team_roles)
        }
        anyone = {
            role: tuple(m.id for m in await users.with_role(tx, [role], cipher=self._cipher))
            for role in sorted(any_roles)
        }
        contact_id = None
        if a.trip_id is not None:
            trip = await trips.get(tx, a.trip_id, cipher=self._cipher)
            if trip and trip.contact_user_id and await users.get(
                    tx, trip.contact_user_id, cipher=self._cipher):
                contact_id = trip.contact_user_id
        return People(a.user_id, in_team, anyone, contact_id)

    async def _send(
        self, tx: Tx, a: AlertRow, send: Send, subject: Member | None, now: datetime,
        late: bool,
    ) -> None:
        step = send.step
        # How far behind the ladder is (downtime): people are told when it was due.
        assert a.next_due_at is not None
        params = await self.alert_details(tx, a, subject)
        params.update(tier=int(step.tier), attempt=step.attempt, late=late,
                      due_at=ts(a.next_due_at))
        for uid in send.to:
            # Numbered per person: a manager told again with the officers reads "message 2",
            # never a second "message 1". One message on each of the person's channels.
            told = await outbox.ladder_messages_to(tx, a.id, uid)
            await self.fanout.enqueue(
                tx, self._cipher, self._policy.channels, kind=a.kind, tier=step.tier,
                alert_id=a.id, step_index=step.index, to=(uid,),
                message_kind=rules.message_kind(step.tier),
                params={**params, "attempt": told + 1},
                priority=rules.message_priority(a.kind, step.attempt), now=now,
            )
        if step.tier is Tier.EMERGENCY:
            await self.fanout.enqueue_family(
                tx, self._cipher, self._policy.emergency_contact, alert_id=a.id,
                subject_id=a.user_id, params=params, now=now)
        if step.tier is not Tier.REP:
            await alerts.add_recipients(tx, a.id, list(send.to), now)
        # Each recipient is shown the subject's lodging, contact and location: a logged view.
        await audit.record(
            tx, None, "alert_step", a.user_id,
            f"alert={a.id} step={step.index} tier={int(step.tier)} attempt={step.attempt}"
            f" to={','.join(str(uid) for uid in send.to) or 'none'}",
            now,
        )
        log.info(
            "alert %s step %s (tier %s, attempt %s) to %s recipients%s",
            a.id, step.index, int(step.tier), step.attempt, len(send.to), " LATE" if late else "",
        )

    async def _record_empty(self, tx: Tx, a: AlertRow, empty: EmptyTier, now: datetime) -> None:
        """Nobody at this tier can be reached: the ladder went to the next tier at once."""
        step = empty.step
        await audit.record(tx, None, "alert_step", a.user_id,
                           f"alert={a.id} step={step.index} tier={int(step.tier)} to=none", now)
        await self._notices.tell_admins(
            tx, "empty_tier", {"alert": a.label, "tier": int(step.tier)}, f"empty:{a.id}", now,
        )

    async def alert_details(self, tx: Tx, a: AlertRow, subject: Member | None) -> dict[str, Any]:
        """What a manager needs to act: who, where, lodging, last location, contact."""
        details: dict[str, Any] = {
            "alert": a.label,
            "alert_id": a.id,
            "kind": a.kind.value,
            "subject_id": a.user_id,
            "subject_name": subject.name if subject else "?",
            "anchor": ts(a.anchor),
        }
        if a.kind is AlertKind.DRILL:
            details["drill"] = True  # every channel labels it DRILL (DESIGN.md §12)
        trip = await trips.get(tx, a.trip_id, cipher=self._cipher) if a.trip_id else None
        if trip is not None:
            # The zone of where the rep was: the missed night's own leg, or the leg under way.
            night = await alerts.night(tx, a.night_id) if a.night_id is not None else None
            details.update(
                trip_id=trip.id,
                places=[leg.place.label() for leg in trip.legs],
                named_places=[leg.place.named() for leg in trip.legs],
                tz=night.tz_name if night else leg_at(trip, a.anchor).place.tz_name,
                start=trip.start.isoformat(),
                end=trip.end.isoformat(),
                lodging=trip.lodging,
                contact_name=trip.contact_name,
                contact_phone=trip.contact_phone,
            )
        # A visit's alert (or an SOS during a visit) shows the visit: client, place, with whom.
        visit = await (visits.of_alert(tx, a.id, cipher=self._cipher) if a.kind is AlertKind.VISIT
                       else visits.open_for(tx, a.user_id, cipher=self._cipher))
        if visit is not None:
            details["visit"] = visit_details(visit)
            details.setdefault("tz", visit.tz_name)
        where = await alerts.last_location(tx, a.user_id, cipher=self._cipher)
        if where is not None:
            details["last_location"] = {"lat": where[0], "lon": where[1], "at": ts(where[2])}
        return details

    async def on_delivery_failed(self, tx: Tx, message: OutboxMessage, now: datetime) -> None:
        """A recipient is unreachable: tell the admins; if a whole step failed, go up a tier.

        A failed notice causes no other notice: two unreachable admins would otherwise tell
        each other about each other for ever, and the sweep would never finish.
        """
        if outbox.is_notice(message.kind):
            return
        await self._notices.tell_admins(
            tx, "unreachable", {"user_id": message.recipient},
            f"unreachable:{message.recipient}", now,
        )
        if message.alert_id is None or message.step_index is None:
            return
        # Their other channels for this step need not wait for fallback_after any more.
        await deliveries.pull_forward(tx, now, alert_id=message.alert_id,
                                      step_index=message.step_index,
                                      recipient=message.recipient)
        await self.on_not_reached(tx, message.alert_id, message.step_index, now)

    async def on_not_reached(self, tx: Tx, alert_id: int, step_index: int,
                             now: datetime) -> bool:
        """A message of a step did not reach its person (failed for good, an SMS undelivered,
        a call unanswered): if nobody the step went to was reached, the ladder moves on now.
        True if it did."""
        attempts = await deliveries.step_attempts(tx, alert_id, step_index)
        if step_not_reached(attempts):
            moved = await alerts.request_skip(tx, alert_id, step_index, now)
            if moved:
                log.info("alert %s step %s reached nobody: next tier now", alert_id, step_index)
            return moved
        return False
