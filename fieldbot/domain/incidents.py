"""An incident's lifecycle, its deadlines and its review (DESIGN.md §12). Pure rules.

    OPEN --first report filed--> REPORTED --review finished--> CLOSED (its measures: a lesson)
    OPEN --review finished (report and review at once)--> CLOSED

Each incident has two deadlines, counted from when it was opened, per grade
(`crisis_policy.IncidentPolicy`): the first report and the review. Each deadline climbs a ladder
computed by the same engine as a missed night's (`ladder.step_at` / `catch_up`): the owner is
reminded `remind_before` the deadline and again when it passes (tier REP), then the officers are
told (tier OFFICERS, the owner with them), repeated until the deadline is met. A deadline is a
row with its next due time; the sweep recomputes every step from (policy, deadline, index).

The review follows the policy's four steps: what happened and the loss (the first report),
the root cause (asking "Why?" up to five times, each question quoting the answer before),
who was responsible (management or execution), and the measures, which become a lesson.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from fieldbot.domain import ladder
from fieldbot.domain.crisis_policy import Grade, IncidentPolicy
from fieldbot.domain.ladder import AlertKind, Step, Tier
from fieldbot.domain.members import Member
from fieldbot.domain.policy import EscalationPolicy, SosPolicy
from fieldbot.domain.roles import Role

MAX_PLACE = 120
MAX_PEOPLE = 300
MAX_DESCRIPTION = 500  # "a short description"
MAX_ANSWER = 1000  # one answer of the review
MAX_WHYS = 5
MAX_QUOTE = 200  # how much of the previous answer a "Why?" quotes


class IncidentState(StrEnum):
    OPEN = "open"
    REPORTED = "reported"  # the first report is in; the review is still due
    CLOSED = "closed"


class DeadlineKind(StrEnum):
    REPORT = "report"
    REVIEW = "review"


class Responsibility(StrEnum):
    MANAGEMENT = "management"
    EXECUTION = "execution"


class Refusal(StrEnum):
    UNKNOWN = "unknown"
    NOT_ALLOWED = "not_allowed"
    NOT_OWNER = "not_owner"
    NOT_OFFICER = "not_officer"  # an incident is handed only to a safety officer
    CLOSED = "closed"
    EMPTY = "empty"
    TOO_LONG = "too_long"


def grade_from_alert(kind: AlertKind) -> Grade:
    """Return the grade an incident from an alert starts with; the lead may change it."""
    if kind in (AlertKind.SOS, AlertKind.DURESS, AlertKind.EMERGENCY):
        return Grade.ORANGE
    return Grade.YELLOW


def clean(text: str, limit: int) -> tuple[str, Refusal | None]:
    """Return the text trimmed, and why it cannot be taken (empty, too long), if so."""
    text = text.strip()
    if not text:
        return text, Refusal.EMPTY
    if len(text) > limit:
        return text, Refusal.TOO_LONG
    return text, None


def deadlines(policy: IncidentPolicy, grade: Grade, opened_at: datetime
              ) -> dict[DeadlineKind, datetime]:
    """Return when the first report and the review of an incident of `grade` are due."""
    due = policy.for_grade(grade)
    return {DeadlineKind.REPORT: opened_at + due.first_report,
            DeadlineKind.REVIEW: opened_at + due.review}


# --- who may do what -----------------------------------------------------------------------------


def may_see(viewer: Member, owner_id: int, opened_by: int) -> bool:
    """Officers and admins see every incident; a manager those they opened or own."""
    if viewer.role in (Role.OFFICER, Role.ADMIN):
        return True
    return viewer.role is Role.MANAGER and viewer.id in (owner_id, opened_by)


def refuse_review(by: Member, owner_id: int, state: IncidentState) -> Refusal | None:
    """The owner writes the review (an officer who wants to takes the incident over first)."""
    if state is IncidentState.CLOSED:
        return Refusal.CLOSED
    if by.id != owner_id:
        return Refusal.NOT_OWNER
    return None


def refuse_handover(by: Member, state: IncidentState) -> Refusal | None:
    """Only a safety officer hands an incident over, and only while it is open."""
    if by.role is not Role.OFFICER:
        return Refusal.NOT_ALLOWED
    if state is IncidentState.CLOSED:
        return Refusal.CLOSED
    return None


def refuse_reassign(by: Member, to: Member | None, state: IncidentState) -> Refusal | None:
    """Only a safety officer hands an open incident over, and only to a safety officer."""
    refused = refuse_handover(by, state)
    if refused is not None:
        return refused
    if to is None or to.role is not Role.OFFICER or to.unreachable == "erased":
        return Refusal.NOT_OFFICER
    return None


# --- the deadline ladder ---------------------------------------------------------------------


def _escalation(policy: IncidentPolicy) -> EscalationPolicy:
    """A deadline's ladder in the shape every ladder has, anchored `remind_before` it."""
    before = policy.remind_before
    reminders = (timedelta(0), before) if before > timedelta(0) else (timedelta(0),)
    officers = before + policy.officers_after
    return EscalationPolicy(rep_reminders=reminders, manager_after=officers,
                            officers_after=officers, repeat_every=policy.repeat_every,
                            emergency_after_missed_nights=1)


def anchor_of(policy: IncidentPolicy, due_at: datetime) -> datetime:
    return due_at - policy.remind_before


@dataclass(frozen=True, slots=True)
class DeadlineRun:
    """What a deadline's ladder does now: tell the owner and/or the officers; where it stands
    after (`step_index`, `next_due_at`); `late` after downtime."""

    steps: tuple[Step, ...]
    step_index: int
    next_due_at: datetime
    late: bool


def first_due(policy: IncidentPolicy, due_at: datetime) -> datetime:
    """Return when a new deadline's ladder first acts."""
    esc = _escalation(policy)
    return ladder.first_step(AlertKind.MISSED, esc, _SOS, anchor_of(policy, due_at)).due_at


_SOS = SosPolicy(repeat_every=timedelta(hours=1))  # unused by these ladders; step_at asks


def run_deadline(policy: IncidentPolicy, due_at: datetime, step_index: int,
                 next_due_at: datetime, now: datetime) -> DeadlineRun | None:
    """Return the step(s) of a deadline's ladder to carry out now (one after downtime, with
    any step due at the very same instant), or None if nothing is due."""
    esc, anchor = _escalation(policy), anchor_of(policy, due_at)
    done = ladder.step_at(AlertKind.MISSED, esc, _SOS, anchor, step_index) \
        if step_index >= 0 else None
    step = ladder.catch_up(AlertKind.MISSED, esc, _SOS, anchor, done, now)
    if step is None:
        return None
    start = done.index + 1 if done is not None else 0
    twins = [ladder.step_at(AlertKind.MISSED, esc, _SOS, anchor, i) for i in range(start,
                                                                             step.index)]
    steps = tuple(s for s in twins if s.due_at == step.due_at and s.tier != step.tier)
    following = ladder.next_step(AlertKind.MISSED, esc, _SOS, anchor, step)
    return DeadlineRun((*steps, step), step.index, following.due_at,
                       now - next_due_at > timedelta(minutes=1))


def audience(tier: Tier, owner_id: int | None, officers: Iterable[int]) -> tuple[int, ...]:
    """Return who hears a deadline step: the owner; from the officers' tier on, the officers
    with the owner. An owner who can no longer be told (erased): the officers at once."""
    if owner_id is None:
        return tuple(sorted(set(officers)))
    if tier is Tier.REP:
        return (owner_id,)
    return tuple(sorted({owner_id, *officers}))


# --- the review --------------------------------------------------------------------------------


def quote(previous: str) -> str:
    """Return the part of the previous answer a "Why?" quotes."""
    flat = " ".join(previous.split())
    return flat if len(flat) <= MAX_QUOTE else flat[: MAX_QUOTE - 1].rstrip() + "…"


def may_ask_why(whys: Sequence[str]) -> bool:
    return len(whys) < MAX_WHYS


_SEPARATORS = re.compile(r"[,;，、；\n]+| and | und | 和 ")
# Invisible marks (bidi overrides, zero-width characters): "\u202eTom" must still read "Tom".
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")
_WORD = re.compile(r"[^\W_][\w'’-]*")


def names_in(people: str, more: Iterable[str] = ()) -> list[str]:
    """Return the names a lesson must not show: the people involved (as typed, split at
    commas) and `more` (everyone enrolled), and each word of three letters or more of them
    ("Rita" of "Rita Lee", of "<b>Rita</b>"); longest first."""
    typed = _INVISIBLE.sub("", people)
    found = {p.strip() for p in _SEPARATORS.split(typed)} | {
        _INVISIBLE.sub("", m).strip() for m in more}
    found |= {part for name in list(found) for part in _WORD.findall(name) if len(part) >= 3}
    return sorted((n for n in found if len(n) >= 2), key=len, reverse=True)


_SPACED = r"[^\W\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff]"  # a letter of a script with spaces


def _name_pattern(name: str) -> str:
    """A name as a whole word where its script has words ("Ann" never in "planning"); a
    Chinese name anywhere (Chinese runs its words together)."""
    left = f"(?<!{_SPACED})" if re.match(_SPACED, name[0]) else ""
    right = f"(?!{_SPACED})" if re.match(_SPACED, name[-1]) else ""
    return left + re.escape(name) + right


def anonymise(text: str, names: Iterable[str]) -> str:
    """Return `text` with every given name replaced by "…" (any case); invisible marks that
    could hide a name ("T\u200bom") are dropped first."""
    text = _INVISIBLE.sub("", text)
    for name in names:
        text = re.sub(_name_pattern(name), "…", text, flags=re.IGNORECASE)
    return text


@dataclass(frozen=True, slots=True)
class Review:
    what: str
    loss: str
    whys: tuple[str, ...]
    responsibility: Responsibility
    measures: str

    def lesson(self, names: Iterable[str]) -> tuple[str, str]:
        """Return the lesson (root cause: the last "why"; measures), anonymised."""
        cause = self.whys[-1] if self.whys else ""
        kept = list(names)
        return anonymise(cause, kept), anonymise(self.measures, kept)
