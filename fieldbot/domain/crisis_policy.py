"""The policy's numbers for incidents and drills (DESIGN.md §12): validated, no I/O.

The operator's policy file sets them in `[incident]` (and `[incident.red]` ... `[incident.blue]`)
and `[drill]`; `fieldbot.policy_file` reads them, `fieldbot/defaults/policy.example.toml`
documents them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from types import MappingProxyType

_ZERO = timedelta(0)


class Grade(StrEnum):
    """The policy's event levels, most severe last (红 / 橙 / 黄 / 蓝, levels one to four)."""

    BLUE = "blue"
    YELLOW = "yellow"
    ORANGE = "orange"
    RED = "red"

    @property
    def level(self) -> int:
        """Return 1 (blue) to 4 (red), the scale risk levels and hazard severities use."""
        return list(Grade).index(self) + 1


@dataclass(frozen=True, slots=True)
class GradeDeadlines:
    """How long after an incident is opened its first report and its review are due."""

    first_report: timedelta
    review: timedelta

    def __post_init__(self) -> None:
        if self.first_report <= _ZERO:
            raise ValueError("first_report must be positive")
        if self.review < self.first_report:
            raise ValueError("review must not be due before first_report")


DEFAULT_GRADE_DEADLINES: Mapping[Grade, GradeDeadlines] = MappingProxyType({
    # The policy's own: red 24 h / 7 days, orange 48 h / 14 days; yellow and blue are ours.
    Grade.RED: GradeDeadlines(timedelta(hours=24), timedelta(days=7)),
    Grade.ORANGE: GradeDeadlines(timedelta(hours=48), timedelta(days=14)),
    Grade.YELLOW: GradeDeadlines(timedelta(hours=72), timedelta(days=21)),
    Grade.BLUE: GradeDeadlines(timedelta(days=7), timedelta(days=30)),
})


@dataclass(frozen=True, slots=True)
class IncidentPolicy:
    """Deadlines per grade, and the ladder each deadline runs: the owner is reminded
    `remind_before` the deadline and when it passes, the officers `officers_after` it passed,
    then every `repeat_every` until it is met."""

    deadlines: Mapping[Grade, GradeDeadlines] = field(
        default_factory=lambda: DEFAULT_GRADE_DEADLINES, hash=False)
    remind_before: timedelta = timedelta(hours=4)
    officers_after: timedelta = timedelta(hours=2)
    repeat_every: timedelta = timedelta(hours=12)

    def __post_init__(self) -> None:
        merged = {**DEFAULT_GRADE_DEADLINES, **self.deadlines}
        object.__setattr__(self, "deadlines", MappingProxyType(merged))
        if self.remind_before < _ZERO or self.officers_after < _ZERO:
            raise ValueError("remind_before and officers_after must not be negative")
        if self.repeat_every <= _ZERO:
            raise ValueError("repeat_every must be positive")
        shortest = min(d.first_report for d in merged.values())
        if self.remind_before >= shortest:
            raise ValueError("remind_before must be shorter than every grade's first_report")

    def for_grade(self, grade: Grade) -> GradeDeadlines:
        return self.deadlines[grade]


@dataclass(frozen=True, slots=True)
class DrillPolicy:
    """A drill runs the base ladder for at most `ends_after`; then whoever has not answered
    "never did", and the officer gets the result."""

    ends_after: timedelta = timedelta(hours=2)
    max_people: int = 200  # one drill asks at most this many people

    def __post_init__(self) -> None:
        if self.ends_after <= _ZERO:
            raise ValueError("ends_after must be positive")
        if isinstance(self.max_people, bool) or not 1 <= self.max_people <= 1000:
            raise ValueError("max_people must be a whole number from 1 to 1000")
