"""Trips and destination risk as a person reads them: the plan, the level, why, what to do."""

from __future__ import annotations

from datetime import datetime

from conversations.i18n import Raw, Texts
from conversations.render.formatting import (
    bounded,
    cut,
    day,
    kept_label,
    local_time,
    place_label,
)
from fieldbot.domain.places import Place
from fieldbot.domain.risk import Assessment, Reason, RiskLevel
from fieldbot.domain.trips import Trip
from fieldbot.geo.advisories import CANADA_SOURCE, US_SOURCE
from fieldbot.geo.names import fold

# A place near many verified hazards has many reasons: the most severe are shown, then "and K
# more", so /risk and the /trip summary stay within one message (4096 characters) each.
MAX_REASONS = 10
REASONS_BUDGET = 2800
MAX_REASON_DETAIL = 200

# The official feeds by name in the reader's language (their titles are English).
_FEEDS = {US_SOURCE: "risk.source.us", CANADA_SOURCE: "risk.source.canada"}

# Unknown is a question mark, never a colour that could pass for "safe".
_MARKERS = {
    RiskLevel.UNKNOWN: "❔",
    RiskLevel.BLUE: "🔵",
    RiskLevel.YELLOW: "🟡",
    RiskLevel.ORANGE: "🟠",
    RiskLevel.RED: "🔴",
}


def obvious_match(query: str, places: list[Place]) -> Place | None:
    """Return the one place the rep surely means: the only match, or the only exact name.

    "Berlin" also matches towns that GeoNames lists with "Berlin" as an alternate name; the
    one named exactly Berlin is the one meant. Five Springfields need buttons, and so do
    "St. Petersburg" (Russia, Florida) and "San José" (California, Costa Rica...): names
    are compared by the gazetteer's own key, so spelling never decides which is meant.
    """
    if len(places) == 1:  # unless only the beginning of its name matched: "Korea", Koreatown
        return None if places[0].guessed else places[0]
    wanted = fold(query.split(",")[0])
    exact = [p for p in places if fold(p.name) == wanted]
    return exact[0] if len(exact) == 1 else None


def level_badge(t: Texts, level: int) -> str:
    """Return e.g. '🟠 <b>Orange: reconsider travel</b>'."""
    risk = RiskLevel(level)
    return t("risk.badge", marker=_MARKERS[risk], level=Raw(t(f"risk.level.{int(risk)}")))


def trip_summary(t: Texts, trip: Trip, *, risk: bool = True) -> str:
    """Return the plan: legs with dates, lodging, contact, night visits, risk level (without
    it where each destination's risk follows in full, so the level is read once)."""
    lines = [
        t("trip.summary.leg", place=place_label(leg.place, t.language),
          start=day(leg.start, t.language),
          end=day(leg.end, t.language))
        for leg in trip.legs
    ]
    lines.append(t("trip.summary.lodging", lodging=trip.lodging or t("trip.lodging_unknown")))
    lines.append(t("trip.summary.contact", name=trip.contact_name, phone=trip.contact_phone))
    if not trip.night_visits:
        lines.append(t("trip.summary.nights_none"))
    elif trip.companion.strip():
        lines.append(t("trip.summary.nights_with", companion=trip.companion))
    else:
        lines.append(t("trip.summary.nights_alone"))
    if risk:
        lines.append(t("trip.summary.risk", badge=Raw(level_badge(t, trip.risk_level))))
    return "\n".join(lines)


def reason_line(t: Texts, reason: Reason) -> str:
    """Return one reason: its source (and date, when the source has one) and what it says."""
    source = t(f"risk.source.{reason.kind}") if reason.kind != "advisory" else (
        t(_FEEDS[reason.source]) if reason.source in _FEEDS else reason.source)
    detail = kept_label(reason.detail, reason.detail_zh, t.language)
    if reason.kind == "advisory" and t.language != "en" and reason.level > RiskLevel.UNKNOWN:
        # the feed's English title ("Level 4: Do Not Travel") beside 红色（一级）: its advice
        detail = t(f"risk.advice.{int(reason.level)}")
    source, detail = cut(source, MAX_REASON_DETAIL), cut(detail, MAX_REASON_DETAIL)
    marker = _MARKERS[reason.level]
    if reason.as_of is not None:
        return t("risk.reason_dated", marker=marker, source=source, detail=detail,
                 date=day(reason.as_of.date(), t.language))
    return t("risk.reason", marker=marker, source=source, detail=detail)


def risk_text(t: Texts, place: Place, assessment: Assessment, now: datetime, *,
              country: bool = False) -> str:
    """Return the level of a place, why, the local time there and the guidance for the level
    (of a `country` as a whole: no local time, and a word that its cities may differ)."""
    lines = [t("risk.head", place=place_label(place, t.language),
               badge=Raw(level_badge(t, assessment.level)))]
    lines.append(t("risk.country_note") if country
                 else t("risk.local_time", time=local_time(now, place.tz_name, t.language)))
    if assessment.reasons:
        lines.append(t("risk.why"))
        # reasons come most severe first (fieldbot.domain.risk sorts them)
        lines.extend(bounded([reason_line(t, reason) for reason in assessment.reasons],
                             lambda more: t("list.more", count=more),
                             most=MAX_REASONS, budget=REASONS_BUDGET))
    else:
        lines.append(t("risk.no_data"))
    lines.append(t(f"risk.guidance.{int(assessment.level)}"))
    return "\n".join(lines)
