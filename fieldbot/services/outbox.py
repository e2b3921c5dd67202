"""Delivering the outbox at-least-once, with Telegram's failures sorted into kinds."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

from fieldbot.clock import Clock
from fieldbot.crypto import Cipher
from fieldbot.domain.alerts import LATE_AFTER
from fieldbot.domain.channels import TELEGRAM
from fieldbot.storage import outbox, users
from fieldbot.storage.codec import parse_ts, ts
from fieldbot.storage.db import Database, StorageUnavailable, Tx
from fieldbot.storage.outbox import OutboxMessage

log = logging.getLogger(__name__)

BATCH = 30  # about one second of Telegram's global limit: new SOS rows jump in between batches
CLAIM_TIMEOUT = timedelta(minutes=2)
MAX_BACKOFF = timedelta(minutes=5)
# One drain sends at most this much, then returns so the sweep can decide the next steps: no
# backlog or flood of any kind keeps the ladder waiting (about 20 s of Telegram's limit).
OTHER_CHANNEL_WAIT = 5.0  # seconds an e-mail, SMS, call or webhook send may take, then retried
DRAIN_BATCHES = 20
DRAIN_SECONDS = 20.0


class Outcome(StrEnum):
    SENT = "sent"
    PERMANENT = "permanent"  # blocked, never started, chat not found: try the next tier
    TRANSIENT = "transient"  # timeouts, 5xx, 429: retry with backoff
    MIGRATED = "migrated"  # the chat has a new id: follow it
    WITHDRAWN = "withdrawn"  # not sent on purpose (a call over the hourly cap): no failure


@dataclass(frozen=True, slots=True)
class Delivery:
    outcome: Outcome
    message_id: int | None = None
    retry_after: timedelta | None = None
    new_chat_id: int | None = None
    error: str = ""
    provider_id: str = ""  # a channel provider's id for the message (Twilio's SID)


class Messenger(Protocol):
    """The port the Telegram layer implements: render a message for its recipient and send."""

    async def deliver(self, message: OutboxMessage) -> Delivery: ...


FailureHook = Callable[[Tx, OutboxMessage], Awaitable[None]]


def _say_if_late(message: OutboxMessage, now: datetime) -> OutboxMessage:
    """An alert message leaving well after its step was decided (Telegram was down) says
    since when it was due, as one the sweep itself decided late does."""
    decided = message.created_at
    if message.params.get("planned"):  # a fallback channel waits on purpose until then
        decided = parse_ts(message.params["planned"])
    if (message.kind != "alert" or decided is None or message.params.get("late")
            or now - decided <= LATE_AFTER):
        return message
    params = {**message.params, "late": True, "due_at": ts(decided)}
    return replace(message, params=params)


def backoff(attempts: int, retry_after: timedelta | None) -> timedelta:
    """Exponential backoff from 2 s, capped at 5 minutes, never sooner than Telegram asks."""
    delay = min(timedelta(seconds=2 ** min(attempts, 10)), MAX_BACKOFF)
    return max(delay, retry_after or timedelta(0))


class OutboxSender:
    def __init__(self, db: Database, clock: Clock, messenger: Messenger, cipher: Cipher) -> None:
        self._db = db
        self._clock = clock
        self._messenger = messenger
        self._cipher = cipher
        self._lock = asyncio.Lock()
        self._urgent_lock = asyncio.Lock()
        self.on_permanent_failure: list[FailureHook] = []  # Telegram: the person is unreachable
        self.on_not_reached: list[FailureHook] = []  # another channel: this message only
        self.other_channel_wait = OTHER_CHANNEL_WAIT

    @property
    def busy(self) -> bool:
        return self._lock.locked()

    async def send_unrecorded(self, recipient: int, kind: str, params: dict[str, Any]) -> bool:
        """Send one notice straight away, with no outbox row: for when the database cannot
        take one (disk full). Best effort: never retried, not deduplicated."""
        message = OutboxMessage(0, recipient, kind, params, outbox.PRIORITY_NOTICE, 0, None,
                                None, self._clock.now())
        try:
            delivery = await self._messenger.deliver(message)
        except Exception:  # noqa: BLE001 - the caller is already handling a failure
            log.warning("could not send %s to %s directly", kind, recipient, exc_info=True)
            return False
        return delivery.outcome is Outcome.SENT

    async def drain(self) -> int:
        """Send what is due, most urgent first, up to one drain's share (DRAIN_BATCHES,
        DRAIN_SECONDS); return how many were sent. What is left is due at once."""
        async with self._lock:
            return await self._drain(0)

    async def drain_urgent(self) -> int:
        """Send due SOS and escalation messages now, beside any bulk drain under way.

        A bulk drain may be waiting on Telegram's rate limit with a batch of reminders; an
        SOS must not wait for that batch. Claims are compare-and-set, so the two drains never
        take the same row.
        """
        async with self._urgent_lock:
            return await self._drain(outbox.PRIORITY_ALERT)

    async def _drain(self, min_priority: int) -> int:
        sent = 0
        give_up_at = time.monotonic() + DRAIN_SECONDS  # a work budget, not a wall-clock time
        for _ in range(DRAIN_BATCHES):
            if time.monotonic() > give_up_at:
                break
            now = self._clock.now()
            async with self._db.glance() as conn:  # after every handler: no trip for nothing
                if not await outbox.any_waiting(conn, min_priority):
                    break  # nothing to send: no write transaction (one per check-in otherwise)
            async with self._db.transaction() as conn:
                await outbox.withdraw_superseded(conn, now)
                claimed = await outbox.claim(conn, now, BATCH, now - CLAIM_TIMEOUT,
                                             cipher=self._cipher, min_priority=min_priority)
                batch = [m for m in claimed if not await self._withdraw_if_past(conn, m, now)]
            if not claimed:
                break
            batch = [_say_if_late(m, now) for m in batch]
            deliveries = await asyncio.gather(*(self._deliver(m) for m in batch))
            # One transaction (one fsync) records the whole batch. A crash before it commits
            # re-sends the batch: at-least-once, duplicates bounded by crashes.
            try:
                async with self._db.transaction() as conn:
                    for message, delivery in zip(batch, deliveries, strict=True):
                        sent += await self._record(conn, message, delivery)
            except StorageUnavailable:
                # The disk is full: the batch stays claimed and is sent again once its claim
                # times out (at-least-once). Stop here rather than send more we cannot note.
                log.critical("could not record %s sent messages; they will be sent again",
                             len(batch), exc_info=True)
                break
        return sent

    async def _withdraw_if_past(
        self, conn: Tx, message: OutboxMessage, now: datetime
    ) -> bool:
        """Withdraw a message whose moment has passed: a reminder to check in "before 21:00"
        after 21:00 (the missed night's alert says what matters then)."""
        deadline = message.params.get("deadline")
        if message.kind == "reminder" and deadline and parse_ts(deadline) <= now:
            await outbox.withdraw(conn, message.id, "deadline passed")
            log.info("outbox %s: reminder withdrawn, its deadline has passed", message.id)
            return True
        return False

    async def _deliver(self, message: OutboxMessage) -> Delivery:
        try:
            if message.channel == TELEGRAM:
                return await self._messenger.deliver(message)
            # A mail server or provider that hangs must not hold up its batch (an SOS's
            # Telegram messages are recorded with it, and the next SOS waits for the lane).
            return await asyncio.wait_for(self._messenger.deliver(message),
                                          self.other_channel_wait)
        except TimeoutError:
            log.warning("outbox %s (%s): no answer within %ss, will retry", message.id,
                        message.channel, self.other_channel_wait)
            return Delivery(Outcome.TRANSIENT, error="timeout")
        except Exception as exc:  # noqa: BLE001 - a renderer bug must not stop the others
            log.exception("rendering outbox message %s failed", message.id)
            return Delivery(Outcome.TRANSIENT, error=type(exc).__name__)

    async def _record(
        self, conn: Tx, message: OutboxMessage, delivery: Delivery
    ) -> bool:
        """Write down what happened to one message; True if it was sent."""
        now = self._clock.now()
        if delivery.outcome is Outcome.SENT:
            await outbox.mark_sent(conn, message.id, now, delivery.message_id,
                                   delivery.provider_id)
            return True
        if delivery.outcome is Outcome.WITHDRAWN:
            await outbox.withdraw(conn, message.id, delivery.error)
            log.info("outbox %s (%s): withdrawn, %s", message.id, message.channel,
                     delivery.error)
            for hook in self.on_not_reached:
                await hook(conn, message)
            return False
        if delivery.outcome is Outcome.MIGRATED and delivery.new_chat_id is not None:
            await outbox.redirect(conn, message.id, delivery.new_chat_id)
            return False
        if delivery.outcome is Outcome.TRANSIENT:
            due = now + backoff(message.attempts, delivery.retry_after)
            await outbox.retry_at(conn, message.id, due, delivery.error)
            log.info("outbox %s: transient failure, retry at %s", message.id, due)
            return False
        log.warning("outbox %s (%s) to user %s failed permanently: %s",
                    message.id, message.channel, message.recipient, delivery.error)
        await outbox.mark_failed(conn, message.id, delivery.error)
        if message.channel != "telegram":
            # A refused number or address: this message did not reach them; their Telegram
            # chat may be fine, so they are not marked unreachable.
            for hook in self.on_not_reached:
                await hook(conn, message)
            return False
        await users.set_unreachable(conn, message.recipient, delivery.error or "unreachable")
        for hook in self.on_permanent_failure:
            await hook(conn, message)
        return False
