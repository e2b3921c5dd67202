"""A night's lifecycle: pending -> reminded -> checked in, skipped or missed.

Every function here is pure: given a night as it was read, the policy and the moment, it
returns what the night becomes and what that causes (a reminder, an alert). The services
store the change as a compare-and-set and write its messages in the same transaction.

    PENDING --due at the reminder--> REMINDED --due at the deadline--> MISSED (opens an alert)
    PENDING / REMINDED --check-in--> CHECKED_IN       (a late one from MISSED too)
    PENDING / REMINDED --skip with a reason--> SKIPPED (before the deadline only)
    PENDING / REMINDED --snooze--> the same state, the deadline policy.snooze later
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from fieldbot.domain.ladder import AlertKind, NightOutcome, consecutive_missed, is_emergency
from fieldbot.domain.policy import CheckinPolicy, EscalationPolicy


class NightState(StrEnum):
    """A night's state; the values are the strings stored in the database."""

    PENDING = "pending"
    REMINDED = "reminded"
    CHECKED_IN = "checked_in"
    SKIPPED = "skipped"
    MISSED = "missed"
    CANCELLED = "cancelled"  # the trip ended or was cancelled before this night

    @property
    def is_open(self) -> bool:
        """Whether the night still waits for the rep (a check-in, a skip or a snooze)."""
        return self in (NightState.PENDING, NightState.REMINDED)

    @property
    def awaits_reply(self) -> bool:
        """Whether the reminder went out and is unanswered (any reply then checks in)."""
        return self in (NightState.REMINDED, NightState.MISSED)

    @property
    def outcome(self) -> NightOutcome:
        """How the night counts towards an EMERGENCY (consecutive missed nights).

        Only MISSED and SKIPPED are themselves; anything else, even a night still open, does
        not extend a streak of missed nights."""
        if self is NightState.MISSED:
            return NightOutcome.MISSED
        if self is NightState.SKIPPED:
            return NightOutcome.SKIPPED
        return NightOutcome.CHECKED_IN


class Night(Protocol):
    """What the lifecycle reads of a night (a storage row has these and more)."""

    @property
    def id(self) -> int: ...
    @property
    def state(self) -> NightState: ...
    @property
    def deadline(self) -> datetime: ...
    @property
    def due_at(self) -> datetime | None: ...
    @property
    def snoozes(self) -> int: ...
    @property
    def closes_at(self) -> datetime: ...


class NightEffect(StrEnum):
    NONE = "none"
    REMIND = "remind"  # send the rep tonight's reminder
    OPEN_ALERT = "open_alert"  # the deadline passed: open a MISSED (or EMERGENCY) alert


@dataclass(frozen=True, slots=True)
class NightMove:
    """A night's new state and sweep time, and what the change causes."""

    state: NightState
    due_at: datetime | None
    effect: NightEffect = NightEffect.NONE


def on_due(night: Night, now: datetime) -> NightMove | None:
    """Return what a night due for the sweep becomes at `now`; None if it is not due (another
    worker got there first)."""
    if night.due_at is None or night.due_at > now:
        return None
    if not night.state.is_open:  # defensive: a settled night is never due again
        return NightMove(night.state, None)
    if now < night.deadline:
        if night.state is NightState.REMINDED:  # woken early after a snooze: wait
            return NightMove(NightState.REMINDED, night.deadline)
        return NightMove(NightState.REMINDED, night.deadline, NightEffect.REMIND)
    return NightMove(NightState.MISSED, None, NightEffect.OPEN_ALERT)


def missed_alert_kind(esc: EscalationPolicy, recent: Sequence[NightState]) -> AlertKind:
    """Return the kind of alert a missed night opens, given the trip's latest nights (oldest
    first, the missed one last): the Nth consecutive missed night is an EMERGENCY."""
    streak = consecutive_missed([state.outcome for state in recent])
    return AlertKind.EMERGENCY if is_emergency(streak, esc) else AlertKind.MISSED


class CheckinStatus(StrEnum):
    ON_TIME = "on_time"
    LATE = "late"  # after the deadline: an all-clear went to everyone alerted
    ALREADY = "already"
    NOTHING_DUE = "nothing_due"  # no trip night now; the location (if any) was still kept


def check_in(night: Night | None, *, closes_alert: bool) -> CheckinStatus:
    """Return how a check-in counts; `closes_alert`: it ends an open missed-night alert.

    Any state but CHECKED_IN becomes CHECKED_IN (a skipped night too: the rep is safe)."""
    if night is None:
        return CheckinStatus.NOTHING_DUE
    if night.state is NightState.CHECKED_IN and not closes_alert:
        return CheckinStatus.ALREADY
    if night.state is NightState.MISSED or closes_alert:
        return CheckinStatus.LATE
    return CheckinStatus.ON_TIME


class Refusal(StrEnum):
    NOTHING_DUE = "nothing_due"
    PAST_DEADLINE = "past_deadline"
    TOO_MANY = "too_many"
    SETTLED = "settled"
    OTHER_NIGHT = "other_night"  # the question was about a night that is no longer tonight
    WINDOW_ENDS = "window_ends"  # a later deadline would fall after tonight's window closes


def refuse_change(
    night: Night | None, now: datetime, night_id: int | None = None
) -> Refusal | None:
    """Return why tonight may not be skipped or snoozed now (None: it may)."""
    if night_id is not None and (night is None or night.id != night_id):
        return Refusal.OTHER_NIGHT
    if night is None:
        return Refusal.NOTHING_DUE
    if not night.state.is_open:
        return Refusal.SETTLED
    if now >= night.deadline:
        return Refusal.PAST_DEADLINE
    return None


@dataclass(frozen=True, slots=True)
class Snooze:
    deadline: datetime
    due_at: datetime | None
    snoozes: int


def snooze(policy: CheckinPolicy, night: Night | None, now: datetime) -> Snooze | Refusal:
    """Return tonight's later deadline, or why it may not move (policy.max_snoozes times at
    most, only before the deadline)."""
    refused = refuse_change(night, now)
    if refused is not None or night is None:
        return refused or Refusal.NOTHING_DUE
    if night.snoozes >= policy.max_snoozes:
        return Refusal.TOO_MANY
    deadline = night.deadline + policy.snooze
    if deadline >= night.closes_at:
        # A check-in after the window closes counts for the next night: tonight's would go
        # missed although she checked in before the deadline she was given.
        return Refusal.WINDOW_ENDS
    # Reminded already: the next wake-up is the deadline. Pending: still the reminder.
    due = deadline if night.state is NightState.REMINDED else night.due_at
    return Snooze(deadline, due, night.snoozes + 1)
