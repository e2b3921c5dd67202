"""Reaching people beyond Telegram: which channels a ladder message uses and when, whether a
person was reached, how many calls a person may get, and when Telegram counts as down.

All pure. The ladder decides *whom* a step reaches (`domain.alerts`); this module decides *how*:
Telegram at once, the tier's other channels `fallback_after` later (withdrawn if someone
acknowledges first), or all at once for an SOS, an EMERGENCY, or while Telegram is down.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from fieldbot.domain.ladder import AlertKind, Tier
from fieldbot.domain.policy import ChannelPolicy, fold_text

TELEGRAM, SMS, CALL, EMAIL, WEBHOOK = "telegram", "sms", "call", "email", "webhook"
PHONE_CHANNELS = frozenset({SMS, CALL})  # reach a confirmed phone number
PERSONAL = frozenset({SMS, CALL, EMAIL})  # reach one person beyond Telegram
NEEDS_PUBLIC_URL = frozenset({SMS, CALL, EMAIL})  # status callbacks, Gather, e-mailed links
CALL_WINDOW = timedelta(hours=1)

# The providers' final answers that mean the person was not reached (Twilio's message and
# call statuses; an SMTP refusal is a failed send). ANSWERED_BY_MACHINE: a call that voicemail
# or a fax took, which Twilio reports "completed" (see `answered_by_machine`).
ANSWERED_BY_MACHINE = "machine"
NOT_REACHED = frozenset({"failed", "undelivered", "no-answer", "busy", "canceled",
                         ANSWERED_BY_MACHINE})
REACHED = frozenset({"delivered", "read", "completed", "answered"})


def answered_by_machine(answered_by: str) -> bool:
    """Whether Twilio's answering-machine detection says voicemail, an answering machine or
    a fax took the call ("machine_start", "machine_end_beep", "fax", ...): no person reached,
    though the call "completes". "human" and "unknown" count as a person, who may still
    press 1: the step waits for them as usual."""
    return answered_by.startswith(("machine", "fax"))


# What a machine's verdict may replace: the call's "completed", which it explains.
REPLACED_BY_MACHINE = frozenset({"completed"})


def tier_channels(policy: ChannelPolicy, kind: AlertKind, tier: Tier) -> tuple[str, ...]:
    """Return the channels the policy names for a step of `tier` of an alert of `kind`."""
    if tier is Tier.REP:
        return policy.rep
    if kind in (AlertKind.SOS, AlertKind.DURESS):
        return policy.sos
    if kind is AlertKind.EMERGENCY or tier is Tier.EMERGENCY:
        return policy.emergency
    return policy.manager if tier is Tier.MANAGER else policy.officers


def at_once(kind: AlertKind, tier: Tier, telegram_down: bool) -> bool:
    """Return whether a step's other channels go out with its Telegram message rather than
    `fallback_after` later: an SOS, an EMERGENCY, and every lead's step while Telegram is
    down. The rep's own reminders always wait (she may just tap I'm safe)."""
    if tier is Tier.REP:
        return False
    if kind in (AlertKind.SOS, AlertKind.DURESS) or tier is Tier.EMERGENCY:
        return True
    return kind is AlertKind.EMERGENCY or telegram_down


@dataclass(frozen=True, slots=True)
class Planned:
    channel: str
    due_at: datetime


def plan(
    policy: ChannelPolicy, kind: AlertKind, tier: Tier, usable: Iterable[str], now: datetime,
    *, telegram_down: bool = False,
) -> tuple[Planned, ...]:
    """Return the messages one recipient of a step gets: Telegram now, then each of the
    tier's channels that is `usable` for them (configured, and a confirmed contact point),
    at once or at `fallback_after`, in the policy's order."""
    usable = frozenset(usable)
    later = now if at_once(kind, tier, telegram_down) else now + policy.fallback_after
    planned = [Planned(TELEGRAM, now)]
    planned += [Planned(channel, later) for channel in tier_channels(policy, kind, tier)
                if channel != TELEGRAM and channel in usable]
    return tuple(planned)


# A notice that is not an alert (a roll-call's "has not answered", its question asked again)
# has nothing to acknowledge and may list names: it goes on the policy's text channels only.
TEXT_CHANNELS = (SMS, EMAIL)


def notice_channels(listed: Iterable[str], usable: Iterable[str]) -> tuple[str, ...]:
    """Return the channels beyond Telegram a notice goes out on, at once, with its Telegram
    message: those of the policy's list (`listed`) that carry text and that are `usable` for
    the person. No call (no "press 1": nothing to acknowledge), no webhook (not an alert)."""
    usable = frozenset(usable)
    return tuple(c for c in listed if c in TEXT_CHANNELS and c in usable)


def may_call(placed: Sequence[datetime], now: datetime, per_hour: int) -> bool:
    """Return whether one more call may be placed to a person who was called at `placed`:
    never more than `per_hour` in any hour."""
    recent = sum(1 for at in placed if now - CALL_WINDOW < at <= now)
    return recent < per_hour


def telegram_down(failing_since: datetime | None, now: datetime, after: timedelta) -> bool:
    """Return whether Telegram counts as down: its calls have failed, with no success since,
    for at least `after`."""
    return failing_since is not None and now - failing_since >= after


def outage_goes_on(last_failure: datetime, now: datetime, after: timedelta) -> bool:
    """Return whether a failure now continues an outage whose last failure another process (one
    that died, or the leader before) saw at `last_failure`: only when that was within `after`.
    A process that died yesterday in an outage says nothing about today's first failed call."""
    return timedelta(0) <= now - last_failure <= after


# --- was a person reached ----------------------------------------------------------------------


class Reach(StrEnum):
    REACHED = "reached"
    NOT_REACHED = "not_reached"
    UNDECIDED = "undecided"  # a message is still waiting, or the provider has not answered


@dataclass(frozen=True, slots=True)
class Attempt:
    """One message of a step to one person, as stored."""

    recipient: int
    channel: str
    state: str  # the outbox state: pending, sending, sent, failed
    delivery: str = ""  # the provider's last status ("delivered", "no-answer", ...)


def _failed(attempt: Attempt) -> bool:
    if attempt.delivery in REACHED:  # the provider said it arrived: whatever else we noted
        return False
    return attempt.state == "failed" or attempt.delivery in NOT_REACHED


def person_reach(attempts: Sequence[Attempt]) -> Reach:
    """Return whether one person was reached by a step.

    Once the other channels have gone out, they decide: they went because the Telegram
    message was not acknowledged in time, or because Telegram is down, so a failed SMS and an
    unanswered call mean "not reached" whether Telegram accepted its message or still retries
    it (an outage: it may wait for hours). While one of them is waiting, undecided. With
    Telegram alone, only its failure for good is "not reached".
    """
    if any(a.delivery == "delivered" for a in attempts):
        return Reach.REACHED  # a delivery receipt on any channel settles it
    others = [a for a in attempts if a.channel != TELEGRAM]
    decisive = others or list(attempts)
    if not decisive or any(a.state in ("pending", "sending") for a in decisive):
        return Reach.UNDECIDED
    if all(_failed(a) for a in decisive):
        return Reach.NOT_REACHED
    return Reach.REACHED


def step_not_reached(attempts: Sequence[Attempt]) -> bool:
    """Return whether nobody a step went to was reached: the ladder moves on at once."""
    people: dict[int, list[Attempt]] = {}
    for attempt in attempts:
        people.setdefault(attempt.recipient, []).append(attempt)
    return bool(people) and all(person_reach(mine) is Reach.NOT_REACHED
                                for mine in people.values())


# --- acknowledging by SMS ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AckReply:
    alert_id: int | None  # None: the newest alert sent to that number


# Then any punctuation, spaces or emoji typed in a hurry ("ACK!!", "收到！", "ok 👍"), but not
# a question: "ok?" asks, it does not take the alert.
# 确认收到 is the policy's own word for "acknowledge" (GLOSSARY), and what the SMS asks for.
_ACK = re.compile(r"(?:1|ack|ok|确认收到了?|确认|收到了?|已收到)"
                  r"(?:\s*a-?\s*(\d{1,9})|\s+(\d{1,9}))?[^\w?]*")


def parse_ack_reply(text: str) -> AckReply | None:
    """Read an SMS reply: "1", "ACK", "ack a-12", "确认收到", "确认", "收到了" (full-width, any
    case, trailing punctuation or emoji too); anything else, a question included, is not an
    acknowledgement."""
    match = _ACK.fullmatch(fold_text(text))
    if match is None:
        return None
    number = match[1] or match[2]
    return AckReply(int(number) if number else None)
