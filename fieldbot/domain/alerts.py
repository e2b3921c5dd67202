"""An alert's lifecycle: open (its ladder runs) -> acknowledged -> resolved, or closed.

`ladder.py` says *when* each step is due; this module says what a run of the ladder does at
an instant: which steps go out, to whom (tier -> recipients, a rule over roles), what happens
when nobody of a tier can be reached, which messages are late, how urgent each is, and who
may act on an alert. Everything is pure; the services load, call this, store and enqueue.

    OPEN --acknowledge (a lead)--> ACKNOWLEDGED --resolve--> RESOLVED
    OPEN --resolve--> RESOLVED
    OPEN / ACKNOWLEDGED --the rep checks in (missed-night alerts)--> CLOSED (all-clear)
    OPEN / ACKNOWLEDGED --a duress alert takes it over--> CLOSED (silently)
    ACKNOWLEDGED --the acknowledger can no longer act--> OPEN, at the next tier, due now
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import IntEnum, StrEnum
from types import MappingProxyType

from fieldbot.domain import ladder
from fieldbot.domain.ladder import AlertKind, Step, Tier
from fieldbot.domain.members import Member
from fieldbot.domain.policy import EscalationPolicy, Policy
from fieldbot.domain.roles import Role

LATE_AFTER = timedelta(seconds=60)  # a ladder message sent later than this says it is late
STEP_RETRY = timedelta(minutes=1)  # a step that raised is tried again this much later
NOTICE_EVERY = timedelta(hours=1)  # at most one admin notice per topic this often


class AlertState(StrEnum):
    """An alert's state; the values are the strings stored in the database."""

    OPEN = "open"  # the ladder runs
    ACKNOWLEDGED = "acknowledged"  # a person has it; the ladder stopped
    RESOLVED = "resolved"  # a person closed it with a reason
    CLOSED = "closed"  # it ended by itself (the rep checked in, or duress took it over)

    @property
    def is_live(self) -> bool:
        return self in (AlertState.OPEN, AlertState.ACKNOWLEDGED)


class Priority(IntEnum):
    """Outbox priority, higher first: SOS and escalations never wait behind bulk sends."""

    REMINDER = 10
    NOTICE = 30
    ALERT = 50
    EMERGENCY = 70  # an EMERGENCY (several missed nights) before a single missed night
    SOS = 100


def priority(kind: AlertKind) -> Priority:
    """Return how urgent a ladder message of an alert of `kind` is."""
    if kind in (AlertKind.SOS, AlertKind.DURESS):
        return Priority.SOS
    if kind is AlertKind.EMERGENCY:
        return Priority.EMERGENCY
    return Priority.ALERT


def swept_first() -> tuple[AlertKind, ...]:
    """Return the kinds whose due steps the sweep takes before any other: someone asking for
    help goes before a missed check-in, whatever is due first."""
    return tuple(kind for kind in AlertKind if priority(kind) is Priority.SOS)


def message_priority(kind: AlertKind, attempt: int) -> int:
    """Return how urgent one ladder message is: its alert's priority, and a first message a
    little above repeats of the same priority. With hundreds of SOS open at once (more than
    Telegram's 30 messages a second can carry), a new SOS must not wait behind the repeats of
    the older ones; a repeat never overtakes a more urgent kind."""
    return int(priority(kind)) + (1 if attempt == 1 else 0)


def escalation(policy: Policy, kind: AlertKind, risk_level: int) -> EscalationPolicy:
    """Return the ladder an alert of `kind` climbs: a visit's is the policy's [visit] section,
    a night's depends on the trip's risk level."""
    if kind is AlertKind.VISIT:
        return policy.visit.escalation
    return policy.escalation_for(risk_level)


def is_late(was_due: datetime, now: datetime) -> bool:
    """Return whether a step carried out at `now` must say it is late (downtime)."""
    return now - was_due > LATE_AFTER


def retry_at(now: datetime) -> datetime:
    """Return when a step that raised is tried again: pushed forward, never a crash loop."""
    return now + STEP_RETRY


# --- tier -> recipients -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Audience:
    """Who one tier reaches, as a rule over roles. Nobody is ever alerted about themselves."""

    subject: bool = False  # the rep herself, only for kinds she may see (never DURESS)
    team_roles: frozenset[Role] = frozenset()  # these roles in the rep's team
    all_roles: frozenset[Role] = frozenset()  # these roles, whatever their team
    contact: bool = False  # the trip's emergency contact, if they enrolled


_MANAGERS = frozenset({Role.MANAGER})
_OFFICERS = frozenset({Role.OFFICER})

AUDIENCES: Mapping[Tier, Audience] = MappingProxyType({
    Tier.REP: Audience(subject=True),
    Tier.MANAGER: Audience(team_roles=_MANAGERS),
    Tier.OFFICERS: Audience(team_roles=_MANAGERS, all_roles=_OFFICERS),
    Tier.EMERGENCY: Audience(team_roles=_MANAGERS, all_roles=_OFFICERS, contact=True),
})


@dataclass(frozen=True, slots=True)
class People:
    """Everyone an alert could reach, as loaded for its rep (ids only)."""

    subject_id: int
    team: Mapping[Role, tuple[int, ...]] = field(default_factory=dict)  # the rep's team
    everyone: Mapping[Role, tuple[int, ...]] = field(default_factory=dict)  # any team
    contact_id: int | None = None  # the enrolled emergency contact of the alert's trip


def audience_roles() -> tuple[frozenset[Role], frozenset[Role]]:
    """Return the roles to load (in the rep's team, in any team) to fill `People`."""
    team: frozenset[Role] = frozenset().union(*(a.team_roles for a in AUDIENCES.values()))
    anyone: frozenset[Role] = frozenset().union(*(a.all_roles for a in AUDIENCES.values()))
    return team, anyone


def recipients(kind: AlertKind, tier: Tier, people: People) -> tuple[int, ...]:
    """Return who a step of `tier` of an alert of `kind` goes to, sorted."""
    audience = AUDIENCES[tier]
    if audience.subject:
        return (people.subject_id,) if kind.rep_may_see else ()
    ids = {uid for role in audience.team_roles for uid in people.team.get(role, ())}
    ids |= {uid for role in audience.all_roles for uid in people.everyone.get(role, ())}
    ids.discard(people.subject_id)
    if audience.contact and people.contact_id is not None:
        ids.add(people.contact_id)
    return tuple(sorted(ids))


class Alerted(StrEnum):
    """Who an SOS is reaching, for the rep's receipt to say the truth."""

    LEADS = "leads"  # her manager and the safety officers
    MANAGER = "manager"  # no safety officer could be reached
    OFFICERS = "officers"  # no manager of her team could be reached
    CONTACT = "contact"  # nobody in the organisation: only her trip's emergency contact
    NOBODY = "nobody"  # nobody at all: she must call someone herself


def alerted(roles: Iterable[Role]) -> Alerted:
    """Return who an SOS is reaching from the roles of those it reaches (`recipients`)."""
    held = set(roles)
    if Role.MANAGER in held and Role.OFFICER in held:
        return Alerted.LEADS
    if Role.MANAGER in held:
        return Alerted.MANAGER
    if Role.OFFICER in held:
        return Alerted.OFFICERS
    return Alerted.CONTACT if held else Alerted.NOBODY


def message_kind(tier: Tier) -> str:
    """Return the outbox kind of a ladder message ("alert_rep" asks the rep to check in)."""
    return "alert_rep" if tier is Tier.REP else "alert"


# --- running the ladder -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Ladder:
    """Where an alert's ladder stands, as read."""

    kind: AlertKind
    risk_level: int
    anchor: datetime
    step_index: int  # the last step carried out, -1 before the first
    skip_tier: bool  # nobody of the last step's tier could be reached: go higher now
    next_due_at: datetime


@dataclass(frozen=True, slots=True)
class Send:
    """Carry out `step`: message each recipient (none: only recorded)."""

    step: Step
    to: tuple[int, ...]
    twin: bool = False  # due at the same instant as the step after it (EMERGENCY: rep + all)


@dataclass(frozen=True, slots=True)
class EmptyTier:
    """Nobody of `step`'s tier can be reached: recorded, the admins told, next tier at once."""

    step: Step


@dataclass(frozen=True, slots=True)
class LadderRun:
    """What one run of the ladder does now, in order, and where the ladder stands after it.

    `changed` False: nothing to store. Otherwise the alert's step index, next due time and
    skip flag become `step_index`, `next_due_at` and `skip_tier`."""

    effects: tuple[Send | EmptyTier, ...]
    step_index: int
    next_due_at: datetime
    skip_tier: bool
    changed: bool
    late: bool

    @property
    def steps(self) -> int:
        """Return how many steps reached somebody (twins not counted)."""
        return sum(1 for e in self.effects if isinstance(e, Send) and not e.twin and e.to)


def run(policy: Policy, state: Ladder, people: People, now: datetime) -> LadderRun:
    """Return what the ladder of an open alert does at `now`.

    One step at most reaches somebody: the single step `catch_up` picks after downtime, with
    any step due at the very same instant (its twin) beside it. A step whose tier reaches
    nobody is recorded and the next tier is taken at once; at the top there is nobody higher,
    and the tier's next repeat is waited for.
    """
    esc, sos = escalation(policy, state.kind, state.risk_level), policy.sos
    kind, anchor = state.kind, state.anchor
    done = ladder.step_at(kind, esc, sos, anchor, state.step_index) if state.step_index >= 0 \
        else None
    if done is not None and (done.due_at > now or (
            not state.skip_tier and state.next_due_at is not None
            and done.due_at >= state.next_due_at)):
        # The step carried out is not before the one waiting: the policy changed while the
        # alert was open (a restart with another file). Only the step's index is stored, and
        # it names another, later step now; taken as it is, the ladder waited past it (the
        # officers' step was skipped) with its due time in the past. Go on from what is due.
        done = None
    effects: list[Send | EmptyTier] = []
    index, due, skip, changed = state.step_index, state.next_due_at, state.skip_tier, False
    while True:
        if skip and done is not None:
            step: Step | None = ladder.skip_tier(kind, esc, sos, anchor, done, now)
        else:
            step = ladder.catch_up(kind, esc, sos, anchor, done, now)
        if step is None or step.due_at > now:
            if skip:  # nobody higher to go to: wait for the tier's next repeat
                due = step.due_at if step else now + esc.repeat_every
                skip, changed = False, True
            break
        # Steps due at the very same instant (an EMERGENCY night messages the rep and the
        # officers at once) are all carried out; catch_up alone would keep only the last.
        for i in range(done.index + 1 if done is not None else 0, step.index):
            twin = ladder.step_at(kind, esc, sos, anchor, i)
            if twin.due_at == step.due_at and twin.tier != step.tier:
                effects.append(Send(twin, recipients(kind, twin.tier, people), twin=True))
        to = recipients(kind, step.tier, people)
        following = ladder.next_step(kind, esc, sos, anchor, step)
        index, due, skip, changed, done = step.index, following.due_at, False, True, step
        if to:
            effects.append(Send(step, to))
            break
        effects.append(EmptyTier(step))
        due, skip = now, True
    return LadderRun(tuple(effects), index, due, skip, changed, is_late(state.next_due_at, now))


# --- people acting on an alert ------------------------------------------------------------------


class ActionRefusal(StrEnum):
    UNKNOWN = "unknown"
    OWN = "own"  # nobody acknowledges or resolves an alert about themselves
    NOT_ALLOWED = "not_allowed"
    ALREADY = "already"  # someone acknowledged it: they are on it
    CLOSED = "closed"  # it is over: resolved, or ended by itself (the rep checked in)


def refuse_action(
    state: AlertState, subject_id: int, subject_team: str | None, by: Member, was_alerted: bool
) -> ActionRefusal | None:
    """Return why `by` may not acknowledge or resolve an alert now (None: they may).

    Staff never; a manager of another team only if the ladder reached them."""
    if subject_id == by.id:
        return ActionRefusal.OWN
    if by.role is Role.STAFF or (
        by.role is Role.MANAGER
        and subject_team is not None
        and subject_team != by.team
        and not was_alerted
    ):
        return ActionRefusal.NOT_ALLOWED
    if not state.is_live:
        return ActionRefusal.CLOSED
    return None


# --- the bot's own troubles ---------------------------------------------------------------------

NOTICE_ROLES = (Role.ADMIN, Role.OFFICER)  # in this order: officers only if no admin


def notice_recipients(people: Iterable[Member]) -> list[Member]:
    """Return who hears of the bot's own troubles (an unreachable person, a failed step): the
    reachable admins, or the reachable officers if there is no such admin. Never anyone known
    to be unreachable or erased: a notice to them fails and helps no one."""
    reachable = [m for m in people if m.unreachable is None]
    for role in NOTICE_ROLES:
        chosen = [m for m in reachable if m.role is role]
        if chosen:
            return chosen
    return []
