"""The monthly chart (PNG), drawn in the reader's language.

The words come from the caller (the Telegram layer owns the catalogs); Chinese labels are drawn
with Noto Sans CJK SC, which the `mplfonts` package carries, so a chart never shows empty boxes
(matplotlib would warn of each missing glyph). Each unit has its own panel and axis, and no
legend lies over a panel's data.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import itertools
import math
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from fieldbot.domain import report, trend
from fieldbot.domain.report import Month, MonthReport
from fieldbot.domain.trend import ChartData, MonthTrend

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.axis import Axis
    from matplotlib.figure import Figure

_CJK_FONT = ("fonts", "NotoSansCJKsc-Regular.otf")
# More teams than this would write their names over each other: the teams with the most
# missed nights keep their own bar, the rest share one.
MAX_TEAM_BARS = 24
_GREEN, _GREY, _RED, _ORANGE, _BLUE = "#2e7d32", "#9e9e9e", "#c62828", "#ef6c00", "#1565c0"


@dataclass(frozen=True, slots=True)
class ChartWords:
    """Every word the chart shows; English unless the caller gives another language's."""

    language: str = "en"
    rate_title: str = "Check-in rate, last 12 months"
    rate_axis: str = "check-in rate"
    alerts_title: str = "Alerts per month, last 12 months (drills not counted)"
    alerts_axis: str = "alerts"
    nights_title: str = "Nights by team"
    nights_axis: str = "nights"
    checked_in: str = "checked in"
    skipped: str = "skipped"
    missed: str = "missed"
    no_team: str = "(no team)"
    other_teams: str = "{n} other teams"
    ack_title: str = "Time to acknowledge ({n} acknowledged)"
    ack_axis: str = "minutes"
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
    hours: str = "{n} h"  # from two hours: "129600 min" is three months nobody reads
    days: str = "{n} days"  # from two days
    month: str = "{year}-{month:02d}"  # a month on the axes and in the title ("2027年3月")


@functools.cache
def _cjk_font() -> Path:
    spec = importlib.util.find_spec("mplfonts")  # its files only; its code is never run
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the mplfonts package (a CJK font for Chinese charts) is missing")
    return Path(next(iter(spec.submodule_search_locations))).joinpath(*_CJK_FONT)


@functools.cache
def _font_family(language: str) -> list[str]:
    """The fonts to draw with, the reader's first: DejaVu Sans and the bundled CJK font, each
    the other's fallback (an English chart still shows a team named 销售一部)."""
    from matplotlib import font_manager

    font = _cjk_font()
    font_manager.fontManager.addfont(str(font))
    name = font_manager.FontProperties(fname=str(font)).get_name()
    return [name, "DejaVu Sans"] if language == "zh" else ["DejaVu Sans", name]


@functools.cache
def _glyphs() -> frozenset[int]:
    """The characters our two fonts draw."""
    from matplotlib import font_manager
    from matplotlib.ft2font import FT2Font

    dejavu = font_manager.findfont("DejaVu Sans", fallback_to_default=False)
    return frozenset(code for path in (dejavu, str(_cjk_font()))
                     for code in FT2Font(path).get_charmap())


def write_chart(data: ChartData, out: Path | BinaryIO, words: ChartWords | None = None) -> None:
    """Draw the month's chart (PNG): the twelve months' check-in rate and alerts, nights by
    outcome per team, the times to acknowledge, and the month's counts."""
    with chart_figure(data, words or ChartWords()) as fig:
        fig.savefig(out, format="png", dpi=100)


@contextlib.contextmanager
def chart_figure(data: ChartData, w: ChartWords) -> Iterator[Figure]:
    """The chart as a matplotlib figure, to be saved (or measured) inside this context: its
    tick labels are laid out at each draw, in the reader's fonts."""
    # The object API with the Agg canvas: no pyplot global state, no display needed.
    from matplotlib import rc_context
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    # Team names are free text ("$\\frac$" would be TeX to matplotlib, and stop the drawing).
    with rc_context({"font.family": _font_family(w.language), "axes.titlesize": 11,
                     "text.parse_math": False}):
        fig = Figure(figsize=(13, 10), layout="constrained")
        FigureCanvasAgg(fig)
        # Each unit has its own panel, and the nights' legend its own row under the bars,
        # so no legend can cover a bar. The trend and the month are laid out apart: long
        # team names do not push the months' panels aside.
        top, bottom = fig.subfigures(2, 1, squeeze=False, height_ratios=(1, 1.05))[:, 0]
        rate, alerts = top.subplots(2, 1)
        ax = bottom.subplot_mosaic([["teams", "ack", "counts"], ["legend", ".", "."]],
                                   height_ratios=(1, 0.07), width_ratios=(1.2, 1, 1.2))
        _rate_panel(rate, data.trend, w)
        _alerts_panel(alerts, data.trend, w)
        _teams_panel(ax["teams"], ax["legend"], data.rows[:-1], w)
        _ack_panel(ax["ack"], data.ack_bins, w)
        _counts_panel(ax["counts"], data.total, w)
        total = data.total
        fig.suptitle(w.title.format(month=_month(total.month, w),
                                    rate=_share(total.checkin_rate, w),
                                    median=_minutes(total.median_ack, w))
                     + _drill_title(total, w))
        yield fig


def _months_axis(ax: Axes, series: list[MonthTrend], w: ChartWords) -> None:
    """Label the months, and shade the reported one (the last)."""
    ax.set_xticks(range(len(series)), [_month(t.month, w) for t in series])
    ax.set_xlim(-0.5, len(series) - 0.5)
    ax.axvspan(len(series) - 1.5, len(series) - 0.5, color="#eeeeee", zorder=0)


def _rate_panel(ax: Axes, series: list[MonthTrend], w: ChartWords) -> None:
    from matplotlib.ticker import PercentFormatter

    rates = [t.checkin_rate for t in series]
    ax.plot(range(len(series)), [math.nan if r is None else r * 100 for r in rates],
            marker="o", color=_GREEN)
    for i, rate in enumerate(rates):  # a month with no nights is "n/a", not 0 %
        ax.annotate(_share(rate, w), (i, 0 if rate is None else rate * 100),
                    xytext=(0, 6), textcoords="offset points", ha="center", fontsize=8,
                    color=_GREY if rate is None else "black")
    _months_axis(ax, series, w)
    ax.set_ylim(0, 115)  # room for the labels above 100 %
    ax.set_yticks([0, 25, 50, 75, 100])
    ax.yaxis.set_major_formatter(PercentFormatter())
    ax.grid(axis="y", alpha=0.3)
    ax.set_ylabel(w.rate_axis)
    ax.set_title(w.rate_title)


def _alerts_panel(ax: Axes, series: list[MonthTrend], w: ChartWords) -> None:
    counts = [t.alerts for t in series]
    ax.bar_label(ax.bar(range(len(series)), counts, color=_ORANGE), fontsize=8)
    _months_axis(ax, series, w)
    _counts_axis(ax.yaxis, ax.set_ylim, max(counts))
    ax.set_ylabel(w.alerts_axis)
    ax.set_title(w.alerts_title)


@dataclass(frozen=True, slots=True)
class _TeamBar:
    label: str
    checked: int
    skipped: int
    missed: int

    @property
    def rate(self) -> float | None:
        expected = self.checked + self.missed
        return self.checked / expected if expected else None


def _team_bars(teams: list[MonthReport], w: ChartWords) -> list[_TeamBar]:
    """A bar per team, at most MAX_TEAM_BARS: past that, the teams with the most missed
    nights (then the most nights) keep their bar, in their order, and the others share one."""
    bars = [_TeamBar(_team_label(r.team, w), r.checked_in, r.skipped, r.missed) for r in teams]
    if len(bars) <= MAX_TEAM_BARS:
        return bars
    ranked = sorted(range(len(teams)), key=lambda i: (-teams[i].missed, -teams[i].nights, i))
    kept = sorted(ranked[:MAX_TEAM_BARS - 1])
    rest = [bars[i] for i in ranked[MAX_TEAM_BARS - 1:]]
    return [bars[i] for i in kept] + [_TeamBar(
        w.other_teams.format(n=len(rest)), sum(b.checked for b in rest),
        sum(b.skipped for b in rest), sum(b.missed for b in rest))]


def _teams_panel(ax: Axes, legend: Axes, teams: list[MonthReport], w: ChartWords) -> None:
    bars = _team_bars(teams, w)
    labels = [b.label for b in bars] or ["—"]
    checked = [b.checked for b in bars] or [0]
    skipped = [b.skipped for b in bars] or [0]
    missed = [b.missed for b in bars] or [0]
    before_missed = [c + s for c, s in zip(checked, skipped, strict=True)]
    rows = range(len(labels))  # by position: two names cut alike stay two bars
    ax.barh(rows, checked, height=0.6, label=w.checked_in, color=_GREEN)
    ax.barh(rows, skipped, height=0.6, left=checked, label=w.skipped, color=_GREY)
    ax.barh(rows, missed, height=0.6, left=before_missed, label=w.missed, color=_RED)
    ax.set_yticks(rows, labels, fontsize=8 if len(labels) > 12 else None)
    ax.set_ylim(max(len(labels), 4) - 0.5, -0.5)  # top down; one team is not one fat bar
    ends = [b + m for b, m in zip(before_missed, missed, strict=True)]
    for i, bar in enumerate(bars):  # each team's check-in rate at the end of its bar
        ax.annotate(_share(bar.rate, w), (ends[i], i), xytext=(4, 0),
                    textcoords="offset points", va="center", fontsize=8)
    _counts_axis(ax.xaxis, ax.set_xlim, max(ends))
    ax.set_xlabel(w.nights_axis)
    ax.set_title(w.nights_title)
    handles, names = ax.get_legend_handles_labels()
    legend.axis("off")
    legend.legend(handles, names, loc="center", ncols=3, frameon=False)


def _ack_panel(ax: Axes, bins: tuple[int, ...], w: ChartWords) -> None:
    bounds = [str(b) for b in trend.ACK_BOUNDS]
    labels = [f"< {bounds[0]}", *(f"{a}–{b}" for a, b in itertools.pairwise(bounds)),
              f"≥ {bounds[-1]}"]
    ax.bar_label(ax.bar(labels, bins, color=_BLUE), fontsize=8)
    _counts_axis(ax.yaxis, ax.set_ylim, max(bins))
    ax.set_xlabel(w.ack_axis)
    ax.set_ylabel(w.alerts_axis)
    ax.set_title(w.ack_title.format(n=sum(bins)))


def _counts_panel(ax: Axes, total: MonthReport, w: ChartWords) -> None:
    names = [w.alerts, w.false_alarms, w.sos, w.acknowledged]
    values = [total.alerts, total.false_alarms, total.sos, total.acknowledged]
    colours = [_ORANGE, "#757575", "#b71c1c", _BLUE]
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
    ax.bar_label(ax.barh(names, values, color=colours), padding=3, fontsize=8)
    ax.invert_yaxis()
    _counts_axis(ax.xaxis, ax.set_xlim, max(values))
    ax.set_title(w.counts_all if total.team is None
                 else w.counts_team.format(team=_team_label(total.team, w)))


def _counts_axis(axis: Axis, set_limits: Callable[..., object], tallest: int) -> None:
    """Whole numbers, from zero, with room for the labels past the longest bar."""
    from matplotlib.ticker import MaxNLocator

    axis.set_major_locator(MaxNLocator(integer=True))
    set_limits(0, max(1, tallest) * 1.2)


def _team_label(team: str | None, w: ChartWords) -> str:
    """A team's name as the chart draws it: "(no team)" for none, "?" for a name of which
    nothing can be drawn (only emoji)."""
    return (_short(team) or "?") if team else w.no_team


def _short(name: str | None, columns: int = 20) -> str:
    """A team's name cut to about `columns` (a Chinese character is two), so that a long one
    cannot squeeze the panels away; without what our fonts lack (an emoji would be an empty
    box) nor format controls (a right-to-left override would draw the name backwards)."""
    used, kept = 0, ""
    for char in " ".join(_drawable(name or "").split()):
        used += 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
        if used > columns:
            return kept + "…"
        kept += char
    return kept


def _drawable(text: str) -> str:
    """The text without the characters our fonts lack, the marks over them (an emoji's
    variation selector) and format controls."""
    glyphs, kept, dropped = _glyphs(), [], False
    for char in text:
        category = unicodedata.category(char)
        if category.startswith("M") and dropped:
            continue
        dropped = ord(char) not in glyphs or category in ("Cf", "Cc")
        if not dropped:
            kept.append(char)
    return "".join(kept)


def _month(month: Month, w: ChartWords) -> str:
    return w.month.format(year=month.year, month=month.month)


def _share(value: float | None, w: ChartWords) -> str:
    return w.none if value is None else f"{value:.0%}"


def _minutes(value: timedelta | None, w: ChartWords) -> str:
    """A time in minutes, or in hours or days from two of them."""
    if value is None:
        return w.none
    minutes = value.total_seconds() / 60
    if minutes >= 2 * 24 * 60:
        return w.days.format(n=f"{minutes / (24 * 60):.0f}")
    if minutes >= 2 * 60:
        return w.hours.format(n=f"{minutes / 60:.0f}")
    return w.minutes.format(n=f"{minutes:.0f}")


def _drill_title(total: MonthReport, w: ChartWords) -> str:
    """The drills' KPIs for the chart's title: participation, median and worst answer."""
    drills = total.drills
    if drills is None or not drills.held:
        return ""
    return "\n" + w.drill_title.format(held=drills.held, share=_share(drills.participation, w),
                                       median=_minutes(drills.median, w),
                                       worst=_minutes(drills.worst, w))
