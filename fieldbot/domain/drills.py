"""Drills (DESIGN.md §12): a practice alert per person through the real ladder, measured.

A drill opens one DRILL alert (`ladder.AlertKind.DRILL`) for each person asked. Each ends when
the person answers "I'm safe" on the drill's own button, or when a manager or officer
acknowledges it (or resolves it); whoever has not answered by the drill's end (`[drill]
ends_after`) never did. Drills are counted apart from real alerts: never in a report's alerts,
never the EMERGENCY tier (no emergency contact), labelled DRILL in every message.

    OPEN --every alert settled, or ends_after passed--> DONE (the result goes to the officer)
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from fieldbot.domain.ladder import AlertKind


class DrillState(StrEnum):
    OPEN = "open"
    DONE = "done"


class Outcome(StrEnum):
    SAFE = "safe"  # the person pressed the drill's "I'm safe"
    ACKED = "acked"  # a manager or officer acknowledged (or resolved) it
    NONE = "none"  # nobody answered before the drill ended
    STOOD_DOWN = "stood_down"  # a real alert about them opened: the drill stopped for them


SAFE_RESOLUTION = "drill_safe"  # how a drill alert the person answered is closed
ENDED_RESOLUTION = "drill_ended"  # how an unanswered drill alert is closed at the end
STOOD_DOWN_RESOLUTION = "drill_stood_down"  # closed because a real alert about them opened


@dataclass(frozen=True, slots=True)
class TargetResult:
    user_id: int
    outcome: Outcome
    by: int | None  # who ended it (the person, or a lead)
    after: timedelta | None  # from the drill's start


def outcome_of(user_id: int, started: datetime, resolution: str, acked_by: int | None,
               acked_at: datetime | None) -> TargetResult:
    """Return how one person's drill alert ended (as stored)."""
    if resolution == STOOD_DOWN_RESOLUTION:
        return TargetResult(user_id, Outcome.STOOD_DOWN, None, None)
    if resolution == SAFE_RESOLUTION and acked_at is not None:
        return TargetResult(user_id, Outcome.SAFE, user_id, acked_at - started)
    if acked_by is not None and acked_at is not None and resolution != ENDED_RESOLUTION:
        return TargetResult(user_id, Outcome.ACKED, acked_by, acked_at - started)
    return TargetResult(user_id, Outcome.NONE, None, None)


# A person with one of these alerts live (open or acknowledged) is in a real situation: a
# drill would sit beside it in every chat, and an "I'm safe (drill)" could read as an answer to
# it. They are left out of a drill started meanwhile.
REAL_KINDS = tuple(k for k in AlertKind if k is not AlertKind.DRILL)
# The real alerts a person's "I'm safe" check-in ends: answering the drill does not.
CHECK_IN_ENDS = (AlertKind.MISSED, AlertKind.EMERGENCY)


def is_over(live: int, ends_at: datetime, now: datetime) -> bool:
    """A drill is over when no alert of it is live any more, or at its end."""
    return live == 0 or now >= ends_at


@dataclass(frozen=True, slots=True)
class Summary:
    asked: int
    answered: int
    median: timedelta | None
    worst: timedelta | None

    @property
    def participation(self) -> float | None:
        return self.answered / self.asked if self.asked else None


def _median(times: Sequence[timedelta]) -> timedelta | None:
    if not times:
        return None
    return timedelta(seconds=statistics.median(t.total_seconds() for t in times))


def summarise(results: Iterable[TargetResult]) -> Summary:
    """Return participation and the median and worst time to answer (a person the drill
    stood down for, in a real alert, is not counted as asked)."""
    results = [r for r in results if r.outcome is not Outcome.STOOD_DOWN]
    times = sorted(r.after for r in results if r.after is not None)
    return Summary(len(results), len(times), _median(times), times[-1] if times else None)


def ordered(results: Iterable[TargetResult]) -> list[TargetResult]:
    """Return the results for reading: those who never answered first, then slowest first."""
    return sorted(results, key=lambda r: (r.after is not None, -(r.after or timedelta(0))
                                          .total_seconds()))


@dataclass(frozen=True, slots=True)
class DrillRecord:
    """One drill as a monthly report counts it (the month of its start, UTC)."""

    team: str  # the team drilled ("" for one person or several teams)
    started: datetime
    results: tuple[TargetResult, ...]


@dataclass(frozen=True, slots=True)
class MonthDrills:
    held: int
    asked: int
    answered: int
    median: timedelta | None
    worst: timedelta | None

    @property
    def participation(self) -> float | None:
        return self.answered / self.asked if self.asked else None


def month_drills(records: Iterable[DrillRecord], start: datetime, end: datetime,
                 team: str | None) -> MonthDrills:
    """Aggregate the drills started in [start, end) (of one team's people if `team`)."""
    held = [r for r in records if start <= r.started < end and (team is None or r.team == team)]
    summary = summarise(t for r in held for t in r.results)
    return MonthDrills(len(held), summary.asked, summary.answered, summary.median,
                       summary.worst)
