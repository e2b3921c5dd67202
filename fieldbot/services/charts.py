"""The monthly chart (PNG), drawn in the reader's language.

The words come from the caller (the Telegram layer owns the catalogs); Chinese labels are drawn
with Noto Sans CJK SC, which the `mplfonts` package carries, so a Chinese chart never shows
empty boxes (matplotlib would warn of each missing glyph).
"""

from __future__ import annotations

import functools
import importlib.util
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import BinaryIO

from fieldbot.domain import report
from fieldbot.domain.report import MonthReport

_CJK_FONT = ("fonts", "NotoSansCJKsc-Regular.otf")


@dataclass(frozen=True, slots=True)
class ChartWords:
    """Every word the chart shows; English unless the caller gives another language's."""

    language: str = "en"
    nights_title: str = "Nights by team"
    nights_axis: str = "nights"
    checked_in: str = "checked in"
    skipped: str = "skipped"
    missed: str = "missed"
    no_team: str = "(no team)"
    alerts: str = "alerts"
    false_alarms: str = "false alarms"
    sos: str = "SOS"
    acknowledged: str = "acknowledged"
    hazards: dict[str, str] = field(default_factory=lambda: {
        "blue": "hazards blue", "yellow": "hazards yellow", "orange": "hazards orange",
        "red": "hazards red"})
    drills: str = "drills"
    counts_all: str = "Alerts and hazard reports (all teams)"
    counts_team: str = "Alerts and hazard reports (team {team})"
    title: str = ("fieldbot safety summary {month}: check-in rate {rate}, median time to"
                  " acknowledge {median}")
    drill_title: str = ("drills {held}: participation {share}, time to acknowledge median"
                        " {median}, worst {worst}")
    none: str = "n/a"
    minutes: str = "{n} min"


@functools.cache
def _font_family(language: str) -> list[str]:
    """The fonts to draw with: DejaVu Sans, then (for Chinese) the bundled CJK font."""
    if language != "zh":
        return ["DejaVu Sans"]
    from matplotlib import font_manager

    spec = importlib.util.find_spec("mplfonts")  # its files only; its code is never run
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the mplfonts package (a CJK font for Chinese charts) is missing")
    font = Path(next(iter(spec.submodule_search_locations))).joinpath(*_CJK_FONT)
    font_manager.fontManager.addfont(str(font))
    name = font_manager.FontProperties(fname=str(font)).get_name()
    return [name, "DejaVu Sans"]


def write_chart(rows: list[MonthReport], out: Path | BinaryIO,
                words: ChartWords | None = None) -> None:
    """Draw nights by outcome per team, and the alerts and hazards (PNG)."""
    # The object API with the Agg canvas: no pyplot global state, no display needed.
    from matplotlib import rc_context
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    w = words or ChartWords()
    with rc_context({"font.family": _font_family(w.language)}):
        teams, total = rows[:-1], rows[-1]
        fig = Figure(figsize=(11, 4.8), layout="constrained")
        FigureCanvasAgg(fig)
        left, right = fig.subplots(1, 2, width_ratios=(3, 2))

        labels = [r.team or w.no_team for r in teams] or ["—"]
        checked = [r.checked_in for r in teams] or [0]
        skipped = [r.skipped for r in teams] or [0]
        missed = [r.missed for r in teams] or [0]
        left.bar(labels, checked, label=w.checked_in, color="#2e7d32")
        left.bar(labels, skipped, bottom=checked, label=w.skipped, color="#9e9e9e")
        left.bar(labels, missed, bottom=[c + s for c, s in zip(checked, skipped, strict=True)],
                 label=w.missed, color="#c62828")
        left.set_title(w.nights_title)
        left.set_ylabel(w.nights_axis)
        tallest = max(1, *(c + s + m for c, s, m in zip(checked, skipped, missed, strict=True)))
        left.set_ylim(0, tallest * 1.25)  # room above the bars: the legend covers none
        left.yaxis.set_major_locator(MaxNLocator(integer=True))
        left.legend(loc="upper right", framealpha=0.9, ncols=3)

        names = [w.alerts, w.false_alarms, w.sos, w.acknowledged]
        values = [total.alerts, total.false_alarms, total.sos, total.acknowledged]
        colours = ["#ef6c00", "#757575", "#b71c1c", "#1565c0"]
        if total.hazards is not None:
            for severity in report.SEVERITIES:
                name = report.SEVERITY_NAMES[severity]
                names.append(w.hazards[name])
                values.append(total.hazards.get(severity, 0))
                colours.append({"blue": "#1e88e5", "yellow": "#fdd835", "orange": "#fb8c00",
                                "red": "#e53935"}[name])
        if total.drills is not None:  # practice alerts, never among the alerts above
            names.append(w.drills)
            values.append(total.drills.held)
            colours.append("#6a1b9a")
        right.barh(names, values, color=colours)
        right.invert_yaxis()
        right.set_xlim(0, max(1, *values))
        right.xaxis.set_major_locator(MaxNLocator(integer=True))
        right.set_title(w.counts_all if total.team is None
                        else w.counts_team.format(team=total.team))
        fig.suptitle(w.title.format(month=total.month, rate=_share(total.checkin_rate, w),
                                    median=_minutes(total.median_ack, w))
                     + _drill_title(total, w))
        fig.savefig(out, format="png", dpi=100)


def _share(value: float | None, w: ChartWords) -> str:
    return w.none if value is None else f"{value:.0%}"


def _minutes(value: timedelta | None, w: ChartWords) -> str:
    if value is None:
        return w.none
    return w.minutes.format(n=f"{value.total_seconds() / 60:.0f}")


def _drill_title(total: MonthReport, w: ChartWords) -> str:
    """The drills' KPIs for the chart's title: participation, median and worst answer."""
    drills = total.drills
    if drills is None or not drills.held:
        return ""
    return "\n" + w.drill_title.format(held=drills.held, share=_share(drills.participation, w),
                                       median=_minutes(drills.median, w),
                                       worst=_minutes(drills.worst, w))
