"""The monthly safety summary: pure aggregation of one month's nights, alerts and hazards.

What counts, so that the figures mean the same to everyone who reads them:

- a night belongs to the month of its local date at the destination; only settled nights
  count (checked in, on time or late; skipped with a reason; missed);
- the check-in rate is checked-in nights / (nights - skipped nights): a skip with a reason
  excuses a night, it is not a failure and not a check-in;
- a trip counts if at least one of its counted nights falls in the month;
- alerts and hazard reports belong to the month (UTC) in which they were raised;
- time to acknowledge runs from the first message to a manager or officer to the first
  acknowledgement (a resolve without an acknowledgement counts as one); alerts closed by the
  rep's own late check-in before anyone acknowledged have no such time;
- SOS counts SOS and duress alerts; false alarms are alerts resolved as "false alarm";
- client visits belong to the month (UTC) in which they started; "alone after dark" is a
  visit without a companion any part of which fell in the policy's dark hours, local time;
  visit alerts are the alerts raised because a visit's expected end passed.
- drills (DESIGN.md §12) are never alerts here: they are counted apart — drills held, the
  share of people asked who answered, and the median and worst time from the drill's start
  to the answer (the person's "I'm safe" or a lead's acknowledgement).
"""

from __future__ import annotations

import re
import statistics
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from fieldbot.domain.drills import DrillRecord, MonthDrills, month_drills
from fieldbot.domain.ladder import AlertKind

SEVERITIES = (1, 2, 3, 4)  # blue, yellow, orange, red
SEVERITY_NAMES = {1: "blue", 2: "yellow", 3: "orange", 4: "red"}

# "2026-11", or "2026年11月" as the report's own heading reads in Chinese.
_MONTH = re.compile(r"^(\d{4})(?:-(\d{2})|年(\d{1,2})月?)$", re.ASCII)


@dataclass(frozen=True, slots=True, order=True)
class Month:
    year: int
    month: int

    def __post_init__(self) -> None:
        if not 1 <= self.month <= 12 or not 1 <= self.year <= 9999:
            raise ValueError(f"not a month: {self.year}-{self.month}")

    @classmethod
    def parse(cls, text: str) -> Month:
        """Parse 'YYYY-MM' or 'YYYY年M月', full-width digits too (a Chinese keyboard's)."""
        match = _MONTH.match(unicodedata.normalize("NFKC", text).replace(" ", ""))
        if match is None or not 1 <= int(match.group(1)) <= 9998:  # 9998-12 still ends
            raise ValueError(f"not a month (YYYY-MM): {text!r}")
        return cls(int(match.group(1)), int(match.group(2) or match.group(3)))

    @classmethod
    def of(cls, when: date) -> Month:
        return cls(when.year, when.month)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    def next(self) -> Month:
        return Month(self.year + self.month // 12, self.month % 12 + 1)

    def previous(self) -> Month:
        return Month(self.year - (self.month == 1), (self.month - 2) % 12 + 1)

    @property
    def start(self) -> datetime:
        """The first instant of the month, UTC."""
        return datetime(self.year, self.month, 1, tzinfo=UTC)

    @property
    def end(self) -> datetime:
        """The first instant after the month, UTC."""
        return self.next().start

    def contains_day(self, day: date) -> bool:
        return (day.year, day.month) == (self.year, self.month)


@dataclass(frozen=True, slots=True)
class NightRecord:
    team: str
    trip_id: int
    day: date
    state: str  # checked_in | skipped | missed (others are not counted)


@dataclass(frozen=True, slots=True)
class AlertRecord:
    team: str
    kind: AlertKind
    created_at: datetime
    leads_told_at: datetime | None  # the first message to a manager or officer
    acked_at: datetime | None
    resolution: str


@dataclass(frozen=True, slots=True)
class HazardRecord:
    team: str
    severity: int
    created_at: datetime


@dataclass(frozen=True, slots=True)
class VisitRecord:
    team: str
    started_at: datetime
    alone_after_dark: bool


@dataclass(frozen=True, slots=True)
class MonthReport:
    month: Month
    team: str | None  # None: the whole organisation
    trips: int
    nights: int
    checked_in: int
    skipped: int
    missed: int
    alerts: int
    false_alarms: int
    sos: int
    acknowledged: int
    median_ack: timedelta | None
    worst_ack: timedelta | None
    hazards: dict[int, int] | None  # by severity; None: hazard reports are not recorded
    visits: int = 0
    visits_alone_after_dark: int = 0
    visit_alerts: int = 0
    drills: MonthDrills | None = None  # None: not counted (no drill records given)

    @property
    def checkin_rate(self) -> float | None:
        expected = self.nights - self.skipped
        return self.checked_in / expected if expected else None


def _ack_time(a: AlertRecord) -> timedelta | None:
    if a.acked_at is None:
        return None
    told = a.leads_told_at or a.created_at
    return max(a.acked_at - told, timedelta(0))


def month_alerts(month: Month, team: str | None,
                 alerts: Iterable[AlertRecord]) -> list[AlertRecord]:
    """The alerts raised in the month (of `team` if not None); drills are never alerts."""
    return [a for a in alerts if a.kind is not AlertKind.DRILL
            and (team is None or a.team == team) and month.start <= a.created_at < month.end]


def ack_times(month: Month, team: str | None,
              alerts: Iterable[AlertRecord]) -> list[timedelta]:
    """How long each acknowledged alert of the month waited, shortest first."""
    return sorted(w for a in month_alerts(month, team, alerts)
                  if (w := _ack_time(a)) is not None)


def summarise(
    month: Month,
    team: str | None,
    nights: Iterable[NightRecord],
    alerts: Iterable[AlertRecord],
    hazards: Iterable[HazardRecord] | None,
    visits: Iterable[VisitRecord] = (),
    drills: Iterable[DrillRecord] | None = None,
) -> MonthReport:
    """Aggregate the records of one month (of one team if `team` is not None)."""

    def ours(record_team: str) -> bool:
        return team is None or record_team == team

    counted = [n for n in nights if ours(n.team) and month.contains_day(n.day)
               and n.state in ("checked_in", "skipped", "missed")]
    raised = month_alerts(month, team, alerts)
    waits = ack_times(month, team, raised)
    by_severity: dict[int, int] | None = None
    if hazards is not None:
        by_severity = dict.fromkeys(SEVERITIES, 0)
        for h in hazards:
            if ours(h.team) and month.start <= h.created_at < month.end:
                by_severity[h.severity] = by_severity.get(h.severity, 0) + 1
    started = [v for v in visits if ours(v.team) and month.start <= v.started_at < month.end]
    return MonthReport(
        month=month,
        team=team,
        trips=len({n.trip_id for n in counted}),
        nights=len(counted),
        checked_in=sum(n.state == "checked_in" for n in counted),
        skipped=sum(n.state == "skipped" for n in counted),
        missed=sum(n.state == "missed" for n in counted),
        alerts=len(raised),
        false_alarms=sum(a.resolution == "false_alarm" for a in raised),
        sos=sum(a.kind in (AlertKind.SOS, AlertKind.DURESS) for a in raised),
        acknowledged=len(waits),
        median_ack=_median(waits),
        worst_ack=waits[-1] if waits else None,
        hazards=by_severity,
        visits=len(started),
        visits_alone_after_dark=sum(v.alone_after_dark for v in started),
        visit_alerts=sum(a.kind is AlertKind.VISIT for a in raised),
        drills=None if drills is None else month_drills(drills, month.start, month.end, team),
    )


def _median(waits: Sequence[timedelta]) -> timedelta | None:
    if not waits:
        return None
    return timedelta(seconds=statistics.median(w.total_seconds() for w in waits))


def by_team(
    month: Month,
    nights: Sequence[NightRecord],
    alerts: Sequence[AlertRecord],
    hazards: Sequence[HazardRecord] | None,
    visits: Sequence[VisitRecord] = (),
    drills: Sequence[DrillRecord] | None = None,
) -> list[MonthReport]:
    """Return one report per team that has anything this month, then the organisation's."""
    teams = {n.team for n in nights if month.contains_day(n.day)}
    teams |= {a.team for a in alerts if month.start <= a.created_at < month.end
              and a.kind is not AlertKind.DRILL}
    teams |= {d.team for d in drills or () if d.team and month.start <= d.started < month.end}
    teams |= {h.team for h in hazards or () if month.start <= h.created_at < month.end}
    teams |= {v.team for v in visits if month.start <= v.started_at < month.end}
    rows = [summarise(month, team, nights, alerts, hazards, visits, drills)
            for team in sorted(teams)]
    rows.append(summarise(month, None, nights, alerts, hazards, visits, drills))
    return rows


# --- as a table (CSV) and as message parameters ---------------------------------------------

CSV_FIELDS = (
    "month", "team", "trips", "nights", "checked_in", "skipped", "missed", "checkin_rate",
    "alerts", "false_alarms", "sos", "acknowledged", "median_ack_seconds", "worst_ack_seconds",
    *(f"hazards_{SEVERITY_NAMES[s]}" for s in SEVERITIES),
    "visits", "visits_alone_after_dark", "visit_alerts",
    "drills", "drill_participation", "drill_median_ack_seconds", "drill_worst_ack_seconds",
)
ALL_LABEL = "ALL"


def _seconds(value: timedelta | None) -> str:
    return "" if value is None else str(round(value.total_seconds()))


def csv_row(report: MonthReport) -> dict[str, str]:
    """Return the report as one CSV row (empty cells where a figure does not exist)."""
    rate = report.checkin_rate
    row = {
        "month": str(report.month),
        "team": ALL_LABEL if report.team is None else report.team,
        "trips": str(report.trips),
        "nights": str(report.nights),
        "checked_in": str(report.checked_in),
        "skipped": str(report.skipped),
        "missed": str(report.missed),
        "checkin_rate": "" if rate is None else f"{rate:.3f}",
        "alerts": str(report.alerts),
        "false_alarms": str(report.false_alarms),
        "sos": str(report.sos),
        "acknowledged": str(report.acknowledged),
        "median_ack_seconds": _seconds(report.median_ack),
        "worst_ack_seconds": _seconds(report.worst_ack),
    }
    for s in SEVERITIES:
        row[f"hazards_{SEVERITY_NAMES[s]}"] = (
            "" if report.hazards is None else str(report.hazards.get(s, 0))
        )
    row["visits"] = str(report.visits)
    row["visits_alone_after_dark"] = str(report.visits_alone_after_dark)
    row["visit_alerts"] = str(report.visit_alerts)
    drills = report.drills
    share = drills.participation if drills else None
    row.update({
        "drills": "" if drills is None else str(drills.held),
        "drill_participation": "" if share is None else f"{share:.3f}",
        "drill_median_ack_seconds": _seconds(drills.median if drills else None),
        "drill_worst_ack_seconds": _seconds(drills.worst if drills else None),
    })
    return row


def as_params(report: MonthReport, complete: bool) -> dict[str, Any]:
    """Return the report as JSON-friendly parameters for a message renderer."""
    return {
        "month": str(report.month),
        "team": report.team,
        "complete": complete,
        "trips": report.trips,
        "nights": report.nights,
        "checked_in": report.checked_in,
        "skipped": report.skipped,
        "missed": report.missed,
        "rate": report.checkin_rate,
        "alerts": report.alerts,
        "false_alarms": report.false_alarms,
        "sos": report.sos,
        "acknowledged": report.acknowledged,
        "median_ack": None if report.median_ack is None else report.median_ack.total_seconds(),
        "worst_ack": None if report.worst_ack is None else report.worst_ack.total_seconds(),
        "hazards": None if report.hazards is None
        else {str(s): n for s, n in sorted(report.hazards.items())},
        "visits": report.visits,
        "visits_alone_after_dark": report.visits_alone_after_dark,
        "visit_alerts": report.visit_alerts,
        "drills": None if report.drills is None else {
            "held": report.drills.held, "asked": report.drills.asked,
            "answered": report.drills.answered,
            "median": None if report.drills.median is None
            else report.drills.median.total_seconds(),
            "worst": None if report.drills.worst is None
            else report.drills.worst.total_seconds(),
        },
    }
