"""Fan a ladder message out over the channels: one outbox row per channel, each due when the
policy says (`domain.channels.plan`), for the channels this deployment has and the person has
a confirmed contact point for."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fieldbot.crypto import Cipher
from fieldbot.domain import channels as rules
from fieldbot.domain.alerts import Priority
from fieldbot.domain.contacts import ContactPoints
from fieldbot.domain.ladder import AlertKind, Tier
from fieldbot.domain.policy import ChannelPolicy, EmergencyContactPolicy
from fieldbot.services.contacts import ContactRefused, parse_phone
from fieldbot.storage import deliveries, outbox
from fieldbot.storage.codec import ts
from fieldbot.storage.db import Tx

log = logging.getLogger(__name__)

PointsReader = Callable[[Tx, int], Awaitable[ContactPoints]]


async def _no_points(tx: Tx, user_id: int) -> ContactPoints:
    return ContactPoints()


@dataclass
class Fanout:
    """What the ladder needs to know about channels: which are live, whether Telegram is
    down now, and how to read a person's contact points."""

    live: frozenset[str] = frozenset({rules.TELEGRAM})
    points: PointsReader = _no_points
    telegram_down: bool = False

    async def usable(self, tx: Tx, user_id: int) -> frozenset[str]:
        """Return the channels that can reach this person now: live, with a confirmed point."""
        if self.live == {rules.TELEGRAM}:
            return self.live
        points = await self.points(tx, user_id)
        usable = {rules.TELEGRAM}
        if points.reachable_phone:
            usable |= {c for c in rules.PHONE_CHANNELS if c in self.live}
        if points.reachable_email and rules.EMAIL in self.live:
            usable.add(rules.EMAIL)
        if rules.WEBHOOK in self.live:
            usable.add(rules.WEBHOOK)
        return frozenset(usable)

    async def enqueue(
        self, tx: Tx, cipher: Cipher, policy: ChannelPolicy, *, kind: AlertKind, tier: Tier,
        alert_id: int, step_index: int, to: tuple[int, ...], message_kind: str,
        params: dict[str, Any], priority: int, now: datetime,
    ) -> None:
        """Write one step's messages: Telegram to each recipient now, the tier's other
        channels at once or at `fallback_after`; the outgoing webhook once per step."""
        hooked = False
        for uid in to:
            usable = await self.usable(tx, uid)
            for planned in rules.plan(policy, kind, tier, usable, now,
                                      telegram_down=self.telegram_down):
                channel = planned.channel
                if channel == rules.WEBHOOK:
                    if hooked:
                        continue
                    hooked = True
                    dedupe = f"alert:{alert_id}:step:{step_index}:webhook"
                elif channel == rules.TELEGRAM:
                    dedupe = f"alert:{alert_id}:step:{step_index}:to:{uid}"
                else:
                    # A repeat that comes before the last step's SMS or call is due plans no
                    # other: that one goes at its time. Each new one would supersede the one
                    # waiting (`outbox.withdraw_superseded`), so with repeats shorter than
                    # fallback_after no SMS or call ever went out.
                    if planned.due_at > now and await outbox.fallback_waiting(
                            tx, alert_id, uid, channel):
                        continue
                    dedupe = f"alert:{alert_id}:step:{step_index}:to:{uid}:{channel}"
                planned_params = params if planned.due_at <= now else {
                    **params, "planned": ts(planned.due_at)}
                await outbox.enqueue(
                    tx, cipher=cipher, dedupe=dedupe, recipient=uid, kind=message_kind,
                    params=planned_params, priority=priority, now=now, alert_id=alert_id,
                    step_index=step_index, due_at=planned.due_at, channel=channel,
                )

    async def told_on(self, tx: Tx, alert_id: int, user_id: int) -> list[str]:
        """Return the channels to tell a person how an alert ended on: Telegram, and each
        other channel its messages reached them on (a call is followed by an SMS)."""
        told = [rules.TELEGRAM]
        if self.live == {rules.TELEGRAM}:
            return told
        for channel in await deliveries.reached_channels(tx, alert_id, user_id):
            if channel == rules.CALL:
                channel = rules.SMS
            if channel in (rules.SMS, rules.EMAIL) and channel in self.live \
                    and channel not in told:
                told.append(channel)
        return told

    async def enqueue_family(
        self, tx: Tx, cipher: Cipher, policy: EmergencyContactPolicy, *, alert_id: int,
        subject_id: int, params: dict[str, Any], now: datetime,
    ) -> None:
        """At the EMERGENCY tier, if the organisation turned it on: the trip's emergency
        contact (family, not enrolled) gets the organisation's own words by SMS (and a call),
        once per alert, in the rep's language. A number that is not a mobile is left to the
        safety officers, whose alert names it."""
        if policy.notify == "off" or rules.SMS not in self.live or params.get("drill"):
            # A drill never reaches family, whatever tier it got to (DESIGN.md §12).
            return
        try:
            phone = parse_phone(str(params.get("contact_phone") or ""), None)
        except ContactRefused:
            log.info("alert %s: the emergency contact's number cannot take an SMS", alert_id)
            return
        wanted = [rules.SMS] + ([rules.CALL] if policy.notify == "sms+call"
                                and rules.CALL in self.live else [])
        family = {"alert": params.get("alert"), "name": params.get("subject_name", ""),
                  "phone": phone}
        for channel in wanted:
            await outbox.enqueue(
                tx, cipher=cipher, dedupe=f"alert:{alert_id}:family:{channel}",
                recipient=subject_id, kind="family", params=family,
                priority=int(Priority.EMERGENCY), now=now, alert_id=alert_id, channel=channel,
            )
