"""The monthly chart's words in the reader's language, from the catalogs."""

from __future__ import annotations

from conversations.i18n import Texts
from fieldbot.services.charts import ChartWords

_SEVERITIES = ("blue", "yellow", "orange", "red")


def chart_words(t: Texts) -> ChartWords:
    """Every label of the chart (`fieldbot.services.charts.write_chart`) in `t`'s language."""
    def plain(key: str) -> str:
        return t.toast(key)  # plain text, no HTML: matplotlib draws it as it is

    return ChartWords(
        language=t.language,
        rate_title=plain("chart.rate_title"),
        rate_axis=plain("chart.rate_axis"),
        alerts_title=plain("chart.alerts_title"),
        alerts_axis=plain("chart.alerts_axis"),
        nights_title=plain("chart.nights_title"),
        nights_axis=plain("chart.nights_axis"),
        checked_in=plain("chart.checked_in"),
        skipped=plain("chart.skipped"),
        missed=plain("chart.missed"),
        no_team=plain("chart.no_team"),
        other_teams=t.template("chart.other_teams"),
        ack_title=t.template("chart.ack_title"),
        ack_axis=plain("chart.ack_axis"),
        alerts=plain("chart.alerts"),
        false_alarms=plain("chart.false_alarms"),
        sos=plain("chart.sos"),
        acknowledged=plain("chart.acknowledged"),
        hazards={s: plain(f"chart.hazards.{s}") for s in _SEVERITIES},
        drills=plain("chart.drills"),
        counts_all=plain("chart.counts_all"),
        counts_team=t.template("chart.counts_team"),
        title=t.template("chart.title"),
        drill_title=t.template("chart.drill_title"),
        none=plain("chart.none"),
        minutes=t.template("chart.minutes"),
        hours=t.template("chart.hours"),
        days=t.template("chart.days"),
        month=t.template("chart.month"),
    )
