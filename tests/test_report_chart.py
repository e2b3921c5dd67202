"""The monthly chart: twelve months of trend, nights by team, the times to acknowledge — the
figures computed from a year built through the services, on both engines, and a legible PNG
in English and Chinese (every glyph drawn, no legend over a panel's data)."""

from __future__ import annotations

import warnings
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from conversations.i18n import Texts
from conversations.render.chart import chart_words
from fieldbot.domain.ladder import AlertKind
from fieldbot.domain.places import Place
from fieldbot.domain.report import AlertRecord, Month, NightRecord, by_team
from fieldbot.domain.trend import ChartData, MonthTrend, NightCounts, ack_bins, trend
from fieldbot.services.charts import chart_figure, write_chart
from tests.builders import BERLIN, at, enrol_south, plan_for
from tests.harness import OTHER_REP_ID, World
from tests.pg import BACKENDS
from tests.test_report import latest_alert, member

NEW_YORK = Place("New York", "US", "United States", "New York", 40.71, -74.01, "America/New_York")
REPORTED = Month(2027, 12)
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def utc(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


async def miss_in_berlin(world: World, day: date, then_ack_after: int) -> None:
    """Rita misses the night of `day` in Berlin (winter: the deadline is 20:00 UTC); Mia is
    told 30 minutes later and acknowledges `then_ack_after` minutes after that."""
    deadline = datetime(day.year, day.month, day.day, 20, tzinfo=UTC)
    for minutes in (0, 15, 30):
        await at(world, deadline + timedelta(minutes=minutes))
    await at(world, deadline + timedelta(minutes=30 + then_ack_after))
    mia = await member(world, world.manager.id)
    alert = await latest_alert(world)
    await world.services.escalation.acknowledge(alert, mia)
    await world.services.escalation.resolve(alert, mia, "false_alarm")


async def build_year(world: World) -> None:
    """Rita (north, Berlin) from December 2026 to December 2027, Sven (south, New York) and a
    drill in December 2027. Berlin is UTC+1 in every month used here."""
    _, sven = await enrol_south(world)
    rita = world.rep.id
    # December 2026, a month before the twelve: a night checked in, a night missed.
    await plan_for(world, world.rep, BERLIN, date(2026, 12, 1), date(2026, 12, 2))
    await at(world, utc(2026, 12, 1, 19))
    await world.services.checkins.check_in(rita)
    await miss_in_berlin(world, date(2026, 12, 2), then_ack_after=2)
    # January 2027: checked in, then missed (acknowledged after 3 minutes: not December's).
    await plan_for(world, world.rep, BERLIN, date(2027, 1, 4), date(2027, 1, 5))
    await at(world, utc(2027, 1, 4, 19))
    await world.services.checkins.check_in(rita)
    await miss_in_berlin(world, date(2027, 1, 5), then_ack_after=3)
    # March 2027: one night, skipped with a reason (a rate that does not exist).
    await plan_for(world, world.rep, BERLIN, date(2027, 3, 2), date(2027, 3, 2))
    await at(world, utc(2027, 3, 2, 19))
    assert (await world.services.checkins.skip(rita, "client dinner")).refused is None

    # December 2027. A drill first: Mia acknowledges it after 62 minutes — a practice alert,
    # never among the alerts nor their times.
    await at(world, utc(2027, 12, 1, 9))
    await world.officer.send("/drill")
    await world.officer.press("north (1)")
    await world.officer.press("🧪 Start the drill")
    drill = await latest_alert(world)
    for minutes in (30, 62):
        await at(world, utc(2027, 12, 1, 9) + timedelta(minutes=minutes))
    await world.services.escalation.acknowledge(drill, await member(world, world.manager.id))
    # Rita: Dec 6 checked in, Dec 7 missed (acknowledged after 20 minutes), Dec 8 checked in;
    # her SOS on Dec 10, acknowledged after 4 minutes.
    await plan_for(world, world.rep, BERLIN, date(2027, 12, 6), date(2027, 12, 8))
    await at(world, utc(2027, 12, 6, 19))
    await world.services.checkins.check_in(rita)
    await miss_in_berlin(world, date(2027, 12, 7), then_ack_after=20)
    await at(world, utc(2027, 12, 8, 19))
    await world.services.checkins.check_in(rita)
    await at(world, utc(2027, 12, 10, 12))
    sos, _ = await world.services.escalation.raise_sos(rita)
    await at(world, utc(2027, 12, 10, 12, 4))
    await world.services.escalation.acknowledge(sos, await member(world, world.manager.id))
    # Sven misses Dec 15 in New York (deadline 02:00 UTC): Sol is told at +30, the officers
    # at +60, Olu acknowledges at +70 (40 minutes after the first lead was told).
    await plan_for(world, sven, NEW_YORK, date(2027, 12, 15), date(2027, 12, 15))
    for minutes in (0, 15, 30, 60, 70):
        await at(world, utc(2027, 12, 16, 2) + timedelta(minutes=minutes))
    await world.services.escalation.acknowledge(await latest_alert(world),
                                                await member(world, world.officer.id))
    assert sven.id == OTHER_REP_ID


def months(*numbers: int) -> list[str]:
    return [f"2027-{n:02d}" for n in numbers]


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
async def test_twelve_months_per_team_and_times_to_acknowledge_from_a_year(team: World) -> None:
    await build_year(team)

    officer = await member(team, team.officer.id)
    everyone = await team.services.reports.chart_data(officer, REPORTED)

    # Worked out by hand from build_year: January 2 nights (1 checked in) and 1 alert; March
    # 1 night skipped (no rate); December 4 nights (Rita 2 of 3, Sven 0 of 1) and 3 alerts —
    # Rita's missed night, her SOS, Sven's missed night; the drill is not one of them.
    assert [str(t.month) for t in everyone.trend] == months(*range(1, 13))
    assert [(t.nights, t.checked_in, t.skipped, t.alerts) for t in everyone.trend] == [
        (2, 1, 0, 1), (0, 0, 0, 0), (1, 0, 1, 0), *[(0, 0, 0, 0)] * 8, (4, 2, 0, 3)]
    assert [t.checkin_rate for t in everyone.trend] == [0.5, *[None] * 10, 0.5]
    # Acknowledged after 4 (SOS), 20 (Rita's night) and 40 minutes (Sven's), binned under 5,
    # 5-15, 15-30, 30-60, 60 or more; the drill's 62 minutes are not among them.
    assert everyone.ack_bins == (1, 0, 1, 1, 0)
    assert [(r.team, r.nights, r.missed) for r in everyone.rows] == [
        ("north", 3, 1), ("south", 1, 1), (None, 4, 2)]
    assert everyone.trend[-1].alerts == everyone.total.alerts  # the trend agrees with the table

    # Mia manages north: her chart is her team's, all through.
    mia = await member(team, team.manager.id)
    north = await team.services.reports.chart_data(mia, REPORTED)
    assert [(t.nights, t.checked_in, t.alerts) for t in north.trend][-1] == (3, 2, 2)
    assert north.trend[0].alerts == 1 and north.ack_bins == (1, 0, 1, 0, 0)
    assert [r.team for r in north.rows] == ["north", "north"]

    # The PNG in both languages, every glyph drawn (a missing one is a warning: an error here).
    for language in ("en", "zh"):
        png = await team.services.reports.chart(officer, REPORTED, chart_words(Texts(language)))
        assert png.startswith(PNG_MAGIC)


async def test_a_rep_sees_no_chart(team: World) -> None:
    with pytest.raises(PermissionError):
        await team.services.reports.chart_data(await member(team, team.rep.id), REPORTED)


def test_times_on_a_bound_belong_to_the_bin_above() -> None:
    waits = [timedelta(minutes=m) for m in (0, 4.99, 5, 14.99, 15, 30, 59.99, 60, 600)]
    assert ack_bins(waits) == (2, 2, 1, 2, 2)
    assert ack_bins([]) == (0, 0, 0, 0, 0)


def test_the_trend_is_twelve_months_across_the_new_year_with_empty_ones_as_zeros() -> None:
    series = trend(Month(2027, 3), {Month(2026, 4): NightCounts(3, 2, 1)},
                   {Month(2027, 3): 2, Month(2026, 3): 9})
    assert [str(t.month) for t in series][:2] == ["2026-04", "2026-05"]
    assert str(series[-1].month) == "2027-03" and len(series) == 12
    assert (series[0].checkin_rate, series[1].checkin_rate, series[-1].alerts) == (1.0, None, 2)
    assert [str(t.month) for t in trend(Month(1, 2), {}, {})] == ["0001-01", "0001-02"]


# --- legible in both languages ----------------------------------------------------------------


def busy_month() -> ChartData:
    """Many teams with long and Chinese names, tall bars: where a legend would get in the way."""
    names = ["north", "south", "销售一部", "east coast accounts", "华南区域营销", "west", "b2b"]
    nights = [NightRecord(team, i, date(2027, 12, d), ("checked_in", "missed", "skipped")[d % 3])
              for i, team in enumerate(names) for d in range(1, 29)]
    told = utc(2027, 12, 3, 20)
    alerts = [AlertRecord("north", AlertKind.MISSED, told, told, told + timedelta(minutes=m), "")
              for m in (1, 7, 7, 22, 45, 80)]
    rows = by_team(REPORTED, nights, alerts, [], [], [])
    series = [MonthTrend(m.month, 90, 80 - i, 5, i % 7) for i, m in
              enumerate(trend(REPORTED, {}, {}))]
    return ChartData(rows, series, (1, 2, 1, 1, 1))


def many_teams() -> ChartData:
    """Team names are free text up to 64 characters: TeX-like, very wide, Chinese; and many."""
    names = ["$\\frac$", "cost $5 $6", "W" * 64, "华" * 64, *(f"team {i}" for i in range(22))]
    nights = [NightRecord(team, 1, date(2027, 12, 1), "checked_in") for team in names]
    return ChartData(by_team(REPORTED, nights, [], []), trend(REPORTED, {}, {}), ack_bins([]))


def empty_month() -> ChartData:
    return ChartData(by_team(REPORTED, [], [], None), trend(REPORTED, {}, {}), ack_bins([]))


@pytest.mark.parametrize("language", ["en", "zh"])
@pytest.mark.parametrize("data", [busy_month(), many_teams(), empty_month()],
                         ids=["busy", "many-teams", "empty"])
def test_the_chart_is_legible_in_both_languages(language: str, data: ChartData,
                                                tmp_path: Path) -> None:
    """No legend over any panel's data area, no two tick labels over each other, and every
    glyph drawn: matplotlib warns of each glyph its fonts lack ("Glyph 25253 missing from
    font(s) DejaVu Sans"), and warnings are errors here, so empty boxes fail the test."""
    words = chart_words(Texts(language))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with chart_figure(data, words) as fig:
            fig.canvas.draw()
            renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
            panels = [ax for ax in fig.axes if ax.axison]
            legends = [*fig.legends, *(ax.get_legend() for ax in fig.axes if ax.get_legend())]
            assert legends, "the nights' outcomes have a legend"
            for legend in legends:
                box = legend.get_window_extent(renderer)
                for ax in panels:
                    assert not box.overlaps(ax.get_window_extent(renderer)), ax.get_title()
            for ax in panels:
                for axis in (ax.xaxis, ax.yaxis):
                    labels = [t.get_window_extent(renderer) for t in axis.get_ticklabels()
                              if t.get_visible() and t.get_text()]
                    for a, b in zip(labels, labels[1:], strict=False):
                        assert not a.overlaps(b), (ax.get_title(), axis.axis_name)
        out = tmp_path / "chart.png"
        write_chart(data, out, words)
    assert out.read_bytes().startswith(PNG_MAGIC)
    if language == "zh":  # the catalog's words, not the English defaults
        assert (words.rate_title, words.checked_in) == ("近12个月报平安率", "已报平安")
