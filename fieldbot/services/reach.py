"""Reaching people beyond Telegram, the core's side: what the providers report back, calls
capped per person, Telegram's outages, and acknowledgements from a call, an SMS or a link.

Every acknowledgement goes through `EscalationService.acknowledge`, as a button press does.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from fieldbot.clock import Clock
from fieldbot.crypto import Cipher
from fieldbot.domain import channels as rules
from fieldbot.domain.alerts import Priority
from fieldbot.domain.contacts import ContactPoints
from fieldbot.domain.members import Member
from fieldbot.domain.policy import Policy
from fieldbot.domain.roles import Role
from fieldbot.services.enrolment import EnrolmentService
from fieldbot.services.escalation import AlertActionError, EscalationService
from fieldbot.services.escalation.fanout import Fanout, PointsReader
from fieldbot.services.links import LinkSigner
from fieldbot.storage import alerts, audit, deliveries, kv, outbox, users
from fieldbot.storage.codec import parse_ts, ts
from fieldbot.storage.db import Database, StorageUnavailable, Tx

log = logging.getLogger(__name__)

EXPLAIN_EVERY = timedelta(hours=1)  # "reply 1 to acknowledge", at most this often a person
EXPLAINED_KEPT = 1000  # then who was told more than an hour ago is forgotten
OUTAGES_TOLD_PER_HOUR = 3  # beyond this a flapping Telegram is not e-mailed about (logged)
# An outage outlives the process that saw it (a restart, the leader's death): its start and
# its latest failure are kept in the database, the latest at most this often.
OUTAGE_KIND, OUTAGE_KEY = "reach", "telegram_failing"
OUTAGE_STAMP_EVERY = timedelta(seconds=15)
PhoneOwner = Callable[[Tx, str], Awaitable[int | None]]
Wake = Callable[[], None]


@dataclass(frozen=True, slots=True)
class RemoteAck:
    """What became of an acknowledgement from outside Telegram, to tell the person."""

    outcome: str  # "acknowledged", an ActionRefusal value, "closed", "no_alert",
    #               "not_understood", "expired", "used", "invalid"
    language: str = "en"
    alert: str = ""  # "A-12"
    by_name: str = ""  # who has it, when someone was first
    subject_name: str = ""


async def _nobody(tx: Tx, phone: str) -> int | None:
    return None


def setup_warnings(live: frozenset[str], public_url: str | None, http_port: int | None,
                   webhook: bool = False) -> list[str]:
    """What an operator should know before relying on the channels (`fieldbot check-config`):
    callbacks and links need the bot's public address, and something listening on it."""
    out = []
    needs = sorted(rules.NEEDS_PUBLIC_URL & live)
    if needs and not public_url:
        out.append(
            f"{', '.join(needs)} live but FIELDBOT_PUBLIC_URL is not set: no delivery reports "
            "(a failed SMS or an unanswered call cannot move an alert on), no 'press 1' on "
            "calls, no SMS replies, no acknowledgement links in e-mails")
    if public_url and http_port is None and not webhook:
        out.append("FIELDBOT_PUBLIC_URL is set but FIELDBOT_HTTP_PORT is not: nothing listens "
                   "for callbacks and links (unless the bot runs with --webhook)")
    return out


class ReachService:
    def __init__(
        self, db: Database, clock: Clock, policy: Policy, cipher: Cipher,
        escalation: EscalationService, enrolment: EnrolmentService, *,
        live: frozenset[str] = frozenset({rules.TELEGRAM}), points: PointsReader | None = None,
        phone_owner: PhoneOwner = _nobody,
    ) -> None:
        self._db = db
        self._clock = clock
        self._policy = policy
        self._cipher = cipher
        self._escalation = escalation
        self._enrolment = enrolment
        self._phone_owner = phone_owner
        self.fanout = Fanout(live, points) if points is not None else Fanout(live)
        escalation.ladder.fanout = self.fanout
        self.links = LinkSigner(cipher.keys)
        self.failing_since: datetime | None = None
        self._stamped: datetime | None = None  # when this outage was last written down
        self._kept = False  # an outage is written down (by a process before this one)
        # The outage the admins were told of (its start), and when they were told of each
        # outage this past hour: a flapping Telegram must not flood their inboxes.
        self._told_outage: datetime | None = None
        self._outages_told: list[datetime] = []
        self._explained: dict[int, datetime] = {}  # who was told "reply 1 to acknowledge"
        self._sms_in_hand: set[str] = set()  # SMS ids being handled now (not yet written down)
        self.wake: Wake | None = None  # asks the scheduler for a sweep now (set by the bot)

    @property
    def live(self) -> frozenset[str]:
        return self.fanout.live

    async def contact_points(self, user_id: int) -> ContactPoints:
        async with self._db.read() as tx:
            return await self.fanout.points(tx, user_id)

    # --- what the providers report ---------------------------------------------------------

    async def provider_status(self, channel: str, provider_id: str, status: str) -> bool:
        """Record a provider's status for a message; a "not reached" one may move the ladder
        on now. False if we never sent a message by that id (the caller answers 403)."""
        now = self._clock.now()
        moved = False
        async with self._db.transaction() as tx:
            row = await deliveries.by_provider(tx, channel, provider_id)
            if row is None:
                return False
            changed = await deliveries.record_status(tx, row.id, status, now)
            if (changed and status in rules.NOT_REACHED and row.alert_id is not None
                    and row.step_index is not None):
                moved = await self._escalation.ladder.on_not_reached(
                    tx, row.alert_id, row.step_index, now)
        log.info("outbox %s (%s): provider status %s", row.id, channel, status)
        if moved and self.wake is not None:
            self.wake()
        return True

    async def knows(self, channel: str, provider_id: str) -> bool:
        """Whether we sent a message by that provider's id (else a callback is refused)."""
        async with self._db.read() as tx:
            return await deliveries.by_provider(tx, channel, provider_id) is not None

    async def reserve_call(self, user_id: int) -> bool:
        """Count one call to a person now, unless it would exceed max_calls_per_hour."""
        now = self._clock.now()
        async with self._db.transaction() as tx:
            placed = await deliveries.calls_since(tx, user_id, now - rules.CALL_WINDOW)
            if not rules.may_call(placed, now, self._policy.channels.max_calls_per_hour):
                log.info("call to user %s skipped: %s this hour already", user_id, len(placed))
                return False
            await deliveries.add_call(tx, user_id, now)
        return True

    # --- Telegram's outages ------------------------------------------------------------------

    async def telegram_failed(self) -> None:
        """A Bot API call failed (network, 5xx, timeout): Telegram may be going down. The
        first failure of this process continues the outage a previous one saw, if it saw
        Telegram fail within telegram_down_after: a restart in an outage must not put the
        other channels off by telegram_down_after again (nor, restarting in a loop, for ever)."""
        now = self._clock.now()
        if self.failing_since is None:
            self.failing_since = self._stamped = now  # other failures write nothing meanwhile
            earlier = await self._outage_seen_before(now)
            if self.failing_since == now:  # and not answered meanwhile
                self.failing_since, self._stamped = min(earlier or now, now), None
        since = self.failing_since
        if since is not None and (self._stamped is None
                                  or now - self._stamped >= OUTAGE_STAMP_EVERY):
            self._stamped = now
            await self._keep_outage({"since": ts(since), "last": ts(now)})
        await self.check_telegram()

    async def start(self) -> None:
        """At the start: is an outage written down by a process before this one? (Read once
        here, so that no check-in in the rush asks.)"""
        if not self._db.is_open:
            return
        try:
            async with self._db.read() as tx:
                self._kept = OUTAGE_KEY in await kv.load(tx, OUTAGE_KIND)
        except StorageUnavailable:
            self._kept = True  # not known: the first call that goes through clears it

    @property
    def telegram_suspect(self) -> bool:
        """Whether a call that goes through has anything to end (an outage this process saw,
        or one a process before it may have written down)."""
        return self.failing_since is not None or self.fanout.telegram_down or self._kept

    async def telegram_ok(self) -> None:
        """A Bot API call went through: Telegram is up, and no outage goes on (one written
        down before a restart ends too: a later failure starts a new one)."""
        if self.failing_since is not None or self._kept:
            self.failing_since = self._stamped = None
            self._kept = not await self._keep_outage(None)
        if self.fanout.telegram_down:
            self.fanout.telegram_down = False
            log.warning("Telegram is answering again")
            if self._told_outage is not None:  # "back" only after "failing" was said
                await self._tell_admins("admin_telegram_up", self._told_outage)
                self._told_outage = None

    async def check_telegram(self) -> None:
        """Has Telegram been failing for telegram_down_after? Then every waiting lead's
        message goes out on the other channels now, and so do new ones until it is back."""
        now = self._clock.now()
        if self.fanout.telegram_down or not rules.telegram_down(
                self.failing_since, now, self._policy.channels.telegram_down_after):
            return
        self.fanout.telegram_down = True
        async with self._db.transaction() as tx:
            pulled = await deliveries.pull_forward(tx, now)
        log.warning("Telegram failing since %s: %s waiting messages go out on other channels",
                    ts(self.failing_since) if self.failing_since else "?", pulled)
        self._outages_told = [t for t in self._outages_told if now - t < rules.CALL_WINDOW]
        if len(self._outages_told) < OUTAGES_TOLD_PER_HOUR:
            self._told_outage = self.failing_since or now
            self._outages_told.append(now)
            await self._tell_admins("admin_telegram_down", self._told_outage)
        if self.wake is not None:
            self.wake()

    async def _outage_seen_before(self, now: datetime) -> datetime | None:
        """When the outage began that another process saw going on until lately, if any."""
        if not self._db.is_open:
            return None
        try:
            async with self._db.read() as tx:
                kept = (await kv.load(tx, OUTAGE_KIND)).get(OUTAGE_KEY)
        except StorageUnavailable:
            log.warning("could not read whether Telegram was failing before the start")
            return None
        if not isinstance(kept, dict):
            return None
        try:
            since, last = parse_ts(kept["since"]), parse_ts(kept["last"])
        except (KeyError, TypeError, ValueError):
            return None
        if not rules.outage_goes_on(last, now, self._policy.channels.telegram_down_after):
            return None
        log.warning("Telegram was failing before this start, since %s: the outage goes on",
                    ts(since))
        return since

    async def _keep_outage(self, outage: dict[str, str] | None) -> bool:
        """Write down the outage going on (None: that Telegram answers again), for the process
        after this one; False if it could not be. Best effort: the storage failing must not
        hide Telegram failing."""
        if not self._db.is_open:
            return False
        try:
            async with self._db.transaction() as tx:
                if outage is None:
                    await kv.delete(tx, OUTAGE_KIND, OUTAGE_KEY)
                else:
                    await kv.put(tx, OUTAGE_KIND, OUTAGE_KEY, outage)
        except StorageUnavailable:
            log.warning("could not write down Telegram's outage")
            return False
        return True

    async def _tell_admins(self, kind: str, outage: datetime) -> None:
        """E-mail the admins (those with a confirmed address) about Telegram itself: that it
        is failing, and that it is back, once each per outage (`outage`: when it began)."""
        if rules.EMAIL not in self.live:
            return
        now = self._clock.now()
        async with self._db.transaction() as tx:
            for admin in await users.with_role(tx, [Role.ADMIN], cipher=self._cipher):
                if (await self.fanout.points(tx, admin.id)).reachable_email is None:
                    continue
                await outbox.enqueue(
                    tx, cipher=self._cipher, dedupe=f"{kind}:{ts(outage)}:to:{admin.id}",
                    recipient=admin.id, kind=kind, params={"since": ts(self.failing_since or now),
                                                           "at": ts(now)},
                    priority=int(Priority.NOTICE), now=now, channel=rules.EMAIL,
                )

    # --- acknowledging from outside Telegram ---------------------------------------------------

    async def ack_by_sms(self, phone: str, text: str, sid: str) -> RemoteAck | None:
        """An SMS reply "1", "ACK" or "ACK A-12"; None if the number is nobody's (ignored), for
        other text when its sender was told how to acknowledge this past hour, and for an SMS
        handled before. `sid`: the provider's id of the SMS, the only thing logged about a
        stranger's; the same id again is a retry or a replay (a bare "1" posted again an hour
        later would acknowledge whatever alert is newest then, an SOS perhaps)."""
        if not sid:
            log.info("an SMS without the provider's id: ignored")
            return None
        key = sid[:64]
        # Handled, then written down as handled: a crash between loses no "1" (Twilio's retry
        # is handled). A copy that comes while the first is being handled, before it is
        # written down, is the same SMS too: it must not acknowledge the next newest alert.
        if key in self._sms_in_hand:
            log.info("SMS %s is being handled: its copy ignored", sid[:40])
            return None
        self._sms_in_hand.add(key)
        try:
            async with self._db.read() as tx:
                seen = await deliveries.seen(tx, rules.SMS, key)
            if seen:
                log.info("SMS %s handled before: ignored", sid[:40])
                return None
            done = await self._sms_reply(phone, text, sid)
            async with self._db.transaction() as tx:
                await deliveries.handled(tx, rules.SMS, key, self._clock.now())
            return done
        finally:
            self._sms_in_hand.discard(key)

    async def _sms_reply(self, phone: str, text: str, sid: str) -> RemoteAck | None:
        async with self._db.read() as tx:
            user_id = await self._phone_owner(tx, phone)
        member = await self._enrolment.member(user_id) if user_id is not None else None
        if member is None:
            log.info("SMS %s from a number nobody confirmed: ignored", sid[:40] or "?")
            return None
        reply = rules.parse_ack_reply(text)
        if reply is None:
            log.info("an SMS from user %s that is not an acknowledgement", member.id)
            if not self._may_explain(member.id):  # a phone's auto-reply: no ping-pong
                return None
            return RemoteAck("not_understood", member.language)
        alert_id = reply.alert_id
        if alert_id is not None:
            # Only an alert that reached this person: whoever holds a rep's phone must not
            # learn, by texting numbers, that an alert about her exists (a duress one above all).
            async with self._db.read() as tx:
                alerted = member.id in await alerts.recipients(tx, alert_id)
            if not alerted:
                log.info("an SMS from user %s names an alert that did not reach them", member.id)
                return RemoteAck("unknown", member.language, f"A-{alert_id}")
        else:
            async with self._db.read() as tx:
                alert_id = await deliveries.newest_alert_to(tx, member.id,
                                                            (rules.SMS, rules.CALL))
        if alert_id is None:
            return RemoteAck("no_alert", member.language)
        return await self._acknowledge(alert_id, member, rules.SMS)

    def _may_explain(self, user_id: int) -> bool:
        """Whether to answer a text that is no acknowledgement: once an hour per person, so
        that an auto-reply ("I'm driving") and the bot never text each other all night."""
        now = self._clock.now()
        if len(self._explained) > EXPLAINED_KEPT:
            self._explained = {k: at for k, at in self._explained.items()
                               if now - at < EXPLAIN_EVERY}
        last = self._explained.get(user_id)
        if last is not None and now - last < EXPLAIN_EVERY:
            return False
        self._explained[user_id] = now
        return True

    async def ack_by_call(self, call_sid: str, digits: str) -> RemoteAck | None:
        """Keys pressed on a call we placed; None if we placed no such call."""
        async with self._db.read() as tx:
            row = await deliveries.by_provider(tx, rules.CALL, call_sid)
        member = await self._enrolment.member(row.recipient) if row is not None else None
        if row is None or row.alert_id is None:
            return None
        if member is None:
            return RemoteAck("invalid")
        if digits.strip() != "1":
            return RemoteAck("not_understood", member.language)
        return await self._acknowledge(row.alert_id, member, rules.CALL)

    async def link(self, token: str) -> tuple[RemoteAck, int | None]:
        """What an e-mailed link stands for now (GET shows this): "ready" with the alert,
        or why it cannot be used; and the message it was sent with."""
        now = self._clock.now()
        claim = self.links.verify(token)
        async with self._db.read() as tx:
            row = await deliveries.get(tx, claim.outbox_id) if claim is not None else None
            if claim is None or row is None or row.alert_id is None \
                    or row.channel != rules.EMAIL:
                return RemoteAck("invalid"), None
            member = await users.get(tx, row.recipient, cipher=self._cipher)
            a = await alerts.alert(tx, row.alert_id)
            used = await deliveries.link_used(tx, row.id)
            subject = await users.get(tx, a.user_id, cipher=self._cipher) if a else None
        if member is None or member.unreachable == users.ERASED or a is None:
            return RemoteAck("invalid"), None  # an erased person's link is nobody's now
        language = member.language
        view = RemoteAck("ready", language, a.label, "", subject.name if subject else "?")
        if used:
            return RemoteAck("used", language, a.label), row.id
        if claim.expires_at <= now:
            return RemoteAck("expired", language, a.label), row.id
        if not a.state.is_live:  # resolved, or closed by itself: over, nobody holds it
            return RemoteAck("closed", language, a.label), row.id
        if a.acked_by is not None:
            by = await self._enrolment.member(a.acked_by)
            if by is None:  # acknowledged by someone since erased
                return RemoteAck("closed", language, a.label), row.id
            return RemoteAck("already", language, a.label, by.name), row.id
        return view, row.id

    async def ack_by_link(self, token: str) -> RemoteAck:
        """POST on an e-mailed link: spend it (single use), then acknowledge."""
        view, outbox_id = await self.link(token)
        if view.outcome != "ready" or outbox_id is None:
            return view
        now = self._clock.now()
        async with self._db.transaction() as tx:
            row = await deliveries.get(tx, outbox_id)
            if row is None or row.alert_id is None or not await deliveries.use_link(
                    tx, outbox_id, now):
                return RemoteAck("used", view.language, view.alert)
            await audit.record(tx, row.recipient, "link_used", None, f"outbox={outbox_id}",
                               now)
        member = await self._enrolment.member(row.recipient)
        if member is None:
            return RemoteAck("invalid")
        return await self._acknowledge(row.alert_id, member, rules.EMAIL)

    async def _acknowledge(self, alert_id: int, member: Member, via: str) -> RemoteAck:
        try:
            done = await self._escalation.acknowledge(alert_id, member, via)
        except AlertActionError as exc:
            holder = await self._enrolment.member(exc.by) if exc.by else None
            log.info("acknowledgement of alert %s by %s via %s refused: %s", alert_id,
                     member.id, via, exc.reason)
            outcome = str(exc.reason)
            if outcome == "already" and holder is None:
                outcome = "closed"  # acknowledged by someone since erased: nothing to take
            return RemoteAck(outcome, member.language, f"A-{alert_id}",
                             holder.name if holder else "")
        if self.wake is not None:
            self.wake()  # the others are told now, not at the next tick
        return RemoteAck("acknowledged", member.language, done.label)
