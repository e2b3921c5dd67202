"""The escalation ladder: who is told what, and when, until a person acknowledges.

An alert's ladder is a deterministic, infinite sequence of steps computed from its kind, the
policy and its anchor (the missed deadline, or the moment of the SOS). Step `index` is the
stable name of a step: the database stores the index of the next step, and every function
here can recompute any step from it, so nothing depends on what happened to be in memory.

Each step has exactly one tier, and a tier always means the same recipients:

- REP: the rep herself (urgent reminders to check in);
- MANAGER: the rep's manager;
- OFFICERS: the safety officers and all managers of the rep's team;
- EMERGENCY: the OFFICERS recipients plus the emergency contact, if they enrolled.

The ladders (delays from the anchor; r = the policy's repeat interval):

- MISSED: REP at each rep reminder, MANAGER at manager_after (repeated every r while before
  officers_after), OFFICERS at officers_after, then OFFICERS every r.
- EMERGENCY (the Nth consecutive missed night): REP at +0, EMERGENCY at +0, then EMERGENCY
  every r. "Both at once" is two steps due at the same instant rather than a step with two
  tiers, so that the tier -> recipients rule above has no exceptions.
- VISIT: the MISSED ladder, with the delays of the policy's [visit] section counted from
  the visit's expected end (the caller passes that section's ladder as `esc`).
- DRILL (a practice alert, `/drill`): the MISSED ladder of the base policy, anchored when the
  officer starts it; never the EMERGENCY tier, so no emergency contact ever hears of a drill.
- SOS and DURESS: OFFICERS at +0, then OFFICERS every sos.repeat_every. No step of these
  ladders is REP; a DURESS alert must never be visible to the rep.

Tiers never decrease along a ladder and due times never go backwards.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import IntEnum, StrEnum

from fieldbot.domain.policy import EscalationPolicy, SosPolicy

_ZERO = timedelta(0)


class Tier(IntEnum):
    REP = 1
    MANAGER = 2
    OFFICERS = 3  # safety officers + all managers of the team
    EMERGENCY = 4  # OFFICERS + the enrolled emergency contact


class AlertKind(StrEnum):
    MISSED = "missed"
    EMERGENCY = "emergency"  # the Nth consecutive missed night
    SOS = "sos"
    DURESS = "duress"  # an SOS the rep must not see
    VISIT = "visit"  # a client visit's expected end passed without "I'm done" (policy [visit])
    DRILL = "drill"  # a practice alert (/drill): the real ladder, labelled DRILL, never counted

    @property
    def rep_may_see(self) -> bool:
        return self is not AlertKind.DURESS


class NightOutcome(StrEnum):
    CHECKED_IN = "checked_in"  # on time or late: a late check-in is a sign of life too
    SKIPPED = "skipped"  # "Skip tonight" with a reason
    MISSED = "missed"


@dataclass(frozen=True, slots=True)
class Step:
    index: int  # position in the alert's ladder, from 0
    tier: Tier
    due_at: datetime
    attempt: int  # the how-many-th message to this tier for this alert, from 1


@dataclass(frozen=True, slots=True)
class _Run:
    """`count` steps to one tier (None: for ever), due at start, start + every, ..."""

    tier: Tier
    start: timedelta
    every: timedelta
    count: int | None
    first_attempt: int = 1


def _runs(kind: AlertKind, esc: EscalationPolicy, sos: SosPolicy) -> list[_Run]:
    if kind in (AlertKind.SOS, AlertKind.DURESS):
        return [_Run(Tier.OFFICERS, _ZERO, sos.repeat_every, None)]
    every = esc.repeat_every
    if kind is AlertKind.EMERGENCY:
        return [_Run(Tier.REP, _ZERO, every, 1), _Run(Tier.EMERGENCY, _ZERO, every, None)]
    runs = [
        _Run(Tier.REP, delay, every, 1, first_attempt=i + 1)
        for i, delay in enumerate(esc.rep_steps)
    ]
    # The manager is re-notified every r until the officers' turn (strictly before it, so
    # the manager is not messaged twice at once: the officers' step includes the manager).
    manager_count = -((esc.manager_after - esc.officers_after) // every)  # ceiling division
    if manager_count:
        runs.append(_Run(Tier.MANAGER, esc.manager_after, every, manager_count))
    runs.append(_Run(Tier.OFFICERS, esc.officers_after, every, None))
    return runs


def _require_aware(name: str, value: datetime) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime")


def step_at(
    kind: AlertKind, esc: EscalationPolicy, sos: SosPolicy, anchor: datetime, index: int
) -> Step:
    """Return step `index` of the ladder of an alert of `kind` anchored at `anchor`."""
    _require_aware("anchor", anchor)
    if index < 0:
        raise ValueError(f"step index must not be negative, not {index}")
    first = 0
    for run in _runs(kind, esc, sos):
        if run.count is None or index < first + run.count:
            k = index - first
            return Step(index, run.tier, anchor + run.start + k * run.every, run.first_attempt + k)
        first += run.count
    raise AssertionError("every ladder ends in an endless run")  # pragma: no cover


def first_step(kind: AlertKind, esc: EscalationPolicy, sos: SosPolicy, anchor: datetime) -> Step:
    """Return the step an alert starts with."""
    return step_at(kind, esc, sos, anchor, 0)


def next_step(
    kind: AlertKind, esc: EscalationPolicy, sos: SosPolicy, anchor: datetime, current: Step
) -> Step:
    """Return the step after `current`, due at its own time."""
    return step_at(kind, esc, sos, anchor, current.index + 1)


def _last_due_index(
    kind: AlertKind, esc: EscalationPolicy, sos: SosPolicy, anchor: datetime, now: datetime
) -> int | None:
    """Return the highest index whose step is due at `now` (due_at <= now), if any."""
    _require_aware("anchor", anchor)
    _require_aware("now", now)
    elapsed = now - anchor
    first = 0
    last: int | None = None
    for run in _runs(kind, esc, sos):
        if elapsed < run.start:
            break  # due times never go backwards: no later run has a due step either
        due = (elapsed - run.start) // run.every + 1
        if run.count is not None:
            due = min(due, run.count)
        last = first + due - 1
        if run.count is None:
            break
        first += run.count
    return last


def skip_tier(
    kind: AlertKind,
    esc: EscalationPolicy,
    sos: SosPolicy,
    anchor: datetime,
    current: Step,
    now: datetime,
) -> Step:
    """Return the step to run now because no recipient of `current`'s tier can be reached.

    That is the first step of a strictly higher tier, due now; if a later step is already due
    by its own time, that one (never go back). At the top tier of the ladder there is nothing
    higher: the tier's next repeat is returned, due at its own time.
    """
    _require_aware("now", now)
    first = 0
    for run in _runs(kind, esc, sos):
        if run.tier > current.tier:
            latest = _last_due_index(kind, esc, sos, anchor, now)
            index = first if latest is None else max(first, latest)
            return replace(step_at(kind, esc, sos, anchor, index), due_at=now)
        if run.count is None:
            break
        first += run.count
    return next_step(kind, esc, sos, anchor, current)


def steps_until(
    kind: AlertKind, esc: EscalationPolicy, sos: SosPolicy, anchor: datetime, until: datetime
) -> list[Step]:
    """Return every step due by `until` (due_at <= until), in order.

    The list grows with (until - anchor) / repeat interval; callers catching up after
    downtime want `catch_up`, which returns the one step worth sending.
    """
    last = _last_due_index(kind, esc, sos, anchor, until)
    if last is None:
        return []
    return [step_at(kind, esc, sos, anchor, i) for i in range(last + 1)]


def catch_up(
    kind: AlertKind,
    esc: EscalationPolicy,
    sos: SosPolicy,
    anchor: datetime,
    last_done: Step | None,
    now: datetime,
) -> Step | None:
    """Return the single step to run now, or None if nothing new is due.

    That is the highest-index step due by `now`, if it comes after `last_done`: after six
    hours of downtime the sweep sends one message to the top tier (marked late), not twelve
    repeats, and the steps it passes over are never sent.
    """
    last = _last_due_index(kind, esc, sos, anchor, now)
    if last is None or (last_done is not None and last <= last_done.index):
        return None
    return step_at(kind, esc, sos, anchor, last)


def is_emergency(consecutive_missed: int, esc: EscalationPolicy) -> bool:
    """Return whether this many consecutive missed nights call for the EMERGENCY ladder."""
    return consecutive_missed >= esc.emergency_after_missed_nights


def consecutive_missed(outcomes: Sequence[NightOutcome]) -> int:
    """Return how many nights at the end of `outcomes` (one trip, date order) were missed.

    A skip with a reason breaks the streak just as a check-in does: the rep pressed a button
    and gave a reason, which is a sign of life; the manager is told about every skip.
    """
    count = 0
    for outcome in reversed(outcomes):
        if outcome is not NightOutcome.MISSED:
            break
        count += 1
    return count
