"""What the monthly chart draws beyond the month's table: the twelve months' trend and how
long the month's alerts waited for an acknowledgement.

The trend counts as the monthly summary does (fieldbot/domain/report.py): settled nights by
their local date, the check-in rate with skipped nights excused, alerts by the UTC month they
were raised in, drills never among them. A month with nothing in it is a month of zeros (its
rate does not exist), never a gap in the series.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta

from fieldbot.domain.report import Month, MonthReport

TREND_MONTHS = 12
ACK_BOUNDS = (5, 15, 30, 60)  # minutes: under 5, 5 to 15, 15 to 30, 30 to 60, 60 or more


@dataclass(frozen=True, slots=True)
class MonthTrend:
    month: Month
    nights: int = 0  # settled nights: checked in, skipped with a reason, missed
    checked_in: int = 0
    skipped: int = 0
    alerts: int = 0  # raised in the month, drills not counted

    @property
    def checkin_rate(self) -> float | None:
        expected = self.nights - self.skipped
        return self.checked_in / expected if expected else None


@dataclass(frozen=True, slots=True)
class NightCounts:
    nights: int
    checked_in: int
    skipped: int


@dataclass(frozen=True, slots=True)
class ChartData:
    """Everything the monthly chart shows, for one reader's scope (a team, or all teams)."""

    rows: list[MonthReport]  # one per team shown, then the scope's own (last)
    trend: list[MonthTrend]  # the twelve months ending with the reported one, oldest first
    ack_bins: tuple[int, ...]  # acknowledged alerts of the month, binned by ACK_BOUNDS

    @property
    def total(self) -> MonthReport:
        return self.rows[-1]


def trend_months(last: Month) -> list[Month]:
    """The twelve months ending with `last`, oldest first (fewer before the year 1)."""
    months = [last]
    while len(months) < TREND_MONTHS and months[-1] > Month(1, 1):
        months.append(months[-1].previous())
    return months[::-1]


def trend(last: Month, nights: Mapping[Month, NightCounts],
          alerts: Mapping[Month, int]) -> list[MonthTrend]:
    """The twelve months ending with `last`, each with its counts (zeros where none)."""
    series = []
    for month in trend_months(last):
        counted = nights.get(month, NightCounts(0, 0, 0))
        series.append(MonthTrend(month, counted.nights, counted.checked_in, counted.skipped,
                                 alerts.get(month, 0)))
    return series


def ack_bins(waits: Iterable[timedelta]) -> tuple[int, ...]:
    """Count the waits per bin of ACK_BOUNDS; a wait on a bound belongs to the bin above it
    (exactly 5 minutes is "5 to 15")."""
    counts = [0] * (len(ACK_BOUNDS) + 1)
    for wait in waits:
        counts[bisect.bisect_right(ACK_BOUNDS, wait.total_seconds() / 60)] += 1
    return tuple(counts)
