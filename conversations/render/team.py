"""How the team board, the open alerts and the monthly summary read, in the viewer's language."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from conversations.i18n import Texts
from conversations.render import crisis
from conversations.render.formatting import (
    bounded,
    day,
    duration,
    local_time,
    map_link,
    month,
    percent,
    place_label,
    place_name,
)
from fieldbot.domain import board
from fieldbot.domain.board import Entry
from fieldbot.domain.report import SEVERITIES, SEVERITY_NAMES, Month
from fieldbot.services.board import AlertView, TeamBoard

MAX_ALERTS_SHOWN = 25


def team_key(team: str) -> str:
    """Return a short stable key for a team name: callback data holds at most 64 bytes."""
    return hashlib.sha256(team.encode("utf-8")).hexdigest()[:12]


def team_name(t: Texts, team: str) -> str:
    return team or t("team.no_team")


# --- /team ------------------------------------------------------------------------------------


def entry_text(t: Texts, e: Entry, now: datetime) -> str:
    lang = t.language
    lines = [t("team.entry.head", state=t(f"team.state.{e.state.value}"), name=e.name)]
    if e.trip is not None and e.leg is not None:
        lines.append(t("team.entry.where", place=place_label(e.leg.place, lang),
                       local=local_time(now, e.leg.place.tz_name, lang)))
        lines.append(t("team.entry.dates", start=day(e.trip.start, lang),
                       end=day(e.trip.end, lang)))
    else:
        lines.append(t("team.entry.no_trip"))
    if e.last_checkin is not None:
        lines.append(t("team.entry.checkin",
                       at=local_time(e.last_checkin.at, e.last_checkin.tz_name, lang),
                       place=place_name(e.last_checkin.place, lang) if e.last_checkin.place
                       else "—"))
    else:
        lines.append(t("team.entry.no_checkin"))
    if e.last_location is not None:
        lat, lon, at = e.last_location
        tz = e.leg.place.tz_name if e.leg is not None else "UTC"
        lines.append(t("team.entry.location", link=map_link(lat, lon),
                       at=local_time(at, tz, lang)))
    if e.visit is not None:
        who = (t("team.visit.with", companion=e.visit.companion) if e.visit.companion
               else t("team.visit.alone"))
        lines.append(t("team.visit", ends=local_time(e.visit.ends_at, e.visit.tz_name, lang),
                       who=who))
    if e.next_deadline is not None and e.next_deadline_tz is not None:
        lines.append(t("team.entry.deadline",
                       deadline=local_time(e.next_deadline, e.next_deadline_tz, lang)))
    else:
        lines.append(t("team.entry.no_deadline"))
    return "\n".join(lines)


def board_text(t: Texts, b: TeamBoard, number: int, now: datetime) -> str:
    """Return one page of a team's board."""
    name = team_name(t, b.team)
    if not b.entries:
        return t("team.empty", team=name)
    page = board.paginate(b.entries, number)
    head = t("team.head", team=name, count=len(b.entries), page=page.number + 1,
             pages=page.count)
    items = "\n\n".join(entry_text(t, e, now) for e in page.items)
    return f"{head}\n\n{items}"


def board_markup(t: Texts, b: TeamBoard, number: int) -> InlineKeyboardMarkup:
    """Previous / Refresh / Next for a board; data 'team:p:<team key>:<page>'."""
    page = board.paginate(b.entries, number)
    key = team_key(b.team)
    row = []
    if page.number > 0:
        row.append(InlineKeyboardButton(t("team.button.prev"),
                                        callback_data=f"team:p:{key}:{page.number - 1}"))
    row.append(InlineKeyboardButton(t("team.button.refresh"),
                                    callback_data=f"team:p:{key}:{page.number}"))
    if page.number + 1 < page.count:
        row.append(InlineKeyboardButton(t("team.button.next"),
                                        callback_data=f"team:p:{key}:{page.number + 1}"))
    return InlineKeyboardMarkup([row])


# --- /alerts ----------------------------------------------------------------------------------


def alert_text(t: Texts, v: AlertView, now: datetime) -> str:
    lang = t.language
    lines = [t("alerts.entry.head", alert=v.label, kind=t(f"alerts.kind.{v.kind.value}"),
               name=v.subject_name, team=team_name(t, v.subject_team)),
             t("alerts.entry.since", at=local_time(v.anchor, v.tz_name, lang))]
    if v.tier is None:
        lines.append(t("alerts.entry.not_started"))
    else:
        ago = now - (v.told_at or now)
        tier = t(f"alerts.tier.{int(v.tier)}")
        lines.append(t("alerts.entry.step", tier=tier, ago=duration(ago, lang))
                     if ago >= timedelta(minutes=1) else t("alerts.entry.step_now", tier=tier))
    if v.next_tier is not None and v.next_at is not None:
        lines.append(t("alerts.entry.next", tier=t(f"alerts.tier.{int(v.next_tier)}"),
                       at=local_time(v.next_at, v.tz_name, lang)))
    if v.acked_at is not None:
        lines.append(t("alerts.entry.acked", name=v.acked_by_name or "?",
                       at=local_time(v.acked_at, v.tz_name, lang)))
    else:
        lines.append(t("alerts.entry.not_acked"))
    return "\n".join(lines)


def alerts_text(t: Texts, views: list[AlertView], now: datetime) -> str:
    if not views:
        return t("alerts.none")
    # SOS first, then the oldest (the service's order): what is cut is the least urgent
    shown = bounded([alert_text(t, v, now) for v in views],
                    lambda more: t("alerts.more", count=more),
                    most=MAX_ALERTS_SHOWN, sep="\n\n")
    return "\n\n".join([t("alerts.head", count=len(views)), *shown])


# --- the monthly summary ----------------------------------------------------------------------


def report_text(t: Texts, p: dict[str, Any]) -> str:
    """Render a summary from `fieldbot.domain.report.as_params` (also what the outbox holds)."""
    lang = t.language
    scope = (t("report.scope.all") if p["team"] is None
             else t("report.scope.team", team=team_name(t, p["team"])))
    when = month(Month.parse(p["month"]).first_day, lang)
    lines = [t("report.head", month=when, scope=scope)]
    if not p["complete"]:
        lines.append(t("report.so_far"))
    lines.append(t("report.trips", trips=p["trips"], nights=p["nights"]))
    lines.append(t("report.checkins", checked_in=p["checked_in"], skipped=p["skipped"],
                   missed=p["missed"]))
    rate = p["rate"]
    lines.append(t("report.rate", rate="—" if rate is None else percent(rate, lang)))
    lines.append(t("report.alerts", alerts=p["alerts"], false_alarms=p["false_alarms"],
                   sos=p["sos"]))
    if p["acknowledged"]:
        lines.append(t("report.ack", count=p["acknowledged"],
                       median=duration(timedelta(seconds=p["median_ack"]), lang),
                       worst=duration(timedelta(seconds=p["worst_ack"]), lang)))
    else:
        lines.append(t("report.ack_none"))
    if p.get("visits"):
        lines.append(t("report.visits", visits=p["visits"],
                       alone=p.get("visits_alone_after_dark", 0),
                       alerts=p.get("visit_alerts", 0)))
    hazards = p.get("hazards")
    if hazards is not None:
        counts = {SEVERITY_NAMES[s]: hazards.get(str(s), 0) for s in SEVERITIES}
        lines.append(t("report.hazards", **counts))
    drills = crisis.report_drills(t, p)
    if drills is not None:
        lines.append(drills)
    return "\n".join(lines)


Rendered = tuple[str, InlineKeyboardMarkup | None, bool]

RENDERERS: dict[str, Callable[[Texts, dict[str, Any]], Rendered]] = {
    "monthly_report": lambda t, p: (report_text(t, p), None, False),
}
