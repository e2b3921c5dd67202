"""What the desk page shows, as JSON: the same data and wording as /team, /alerts, /hazards and
the /rollcall tally.

Texts are rendered here from the catalogs, in the viewer's language, as plain text (the page
puts them in with textContent, never as markup).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from conversations.i18n import LANGUAGES, Raw, Texts, catalog, plain
from conversations.render import rollcall
from conversations.render.formatting import kept_label, local_time
from conversations.render.keyboards import RESOLVE_REASONS
from conversations.render.team import alert_text, entry_text, team_name
from fieldbot.domain import board
from fieldbot.domain.board import Entry, urgent_key
from fieldbot.domain.members import Member
from fieldbot.domain.roles import Role
from fieldbot.services.board import AlertView
from fieldbot.services.container import Services
from fieldbot.services.desk import Tally

MAX_TEXT = 4000
MAX_PEOPLE = 500  # a page, not a database dump; the most urgent first
MAX_ALERTS = 200

# Catalog texts the page itself needs (its own and the chat's buttons), by prefix or key.
_PAGE_PREFIXES = ("desk.", "team.state.", "resolve.")
_PAGE_KEYS = ("button.ack", "button.resolve", "hazard.button.verify", "hazard.button.dismiss")


def page_texts(language: str) -> dict[str, str]:
    """Return the texts the page's script uses, plain, in `language`."""
    lang = language if language in LANGUAGES else "en"
    return {key: plain(value, MAX_TEXT) for key, value in catalog(lang).items()
            if key.startswith(_PAGE_PREFIXES) or key in _PAGE_KEYS}


def desk_time(t: Texts, instant: datetime, tz_name: str) -> str:
    """Return an instant in the organisation's own zone (settings.default_tz), named as the
    chat names it: the roll-call's tally reads the same on the page and in Telegram."""
    return plain(local_time(instant, tz_name, t.language))


def _lines(html_text: str) -> list[str]:
    return [plain(line, MAX_TEXT) for line in html_text.splitlines() if line.strip()]


@dataclass(frozen=True, slots=True)
class Shown:
    """The page's data and who it shows (for the audit)."""

    data: dict[str, Any]
    people: list[tuple[int, str]]
    alerts: list[tuple[int, str]]

    @property
    def digest(self) -> str:
        ids = f"{sorted(self.people)}|{sorted(self.alerts)}"
        return hashlib.sha256(ids.encode()).hexdigest()


def _person(t: Texts, e: Entry, team: str, now: datetime) -> dict[str, Any]:
    where = board.position(e)
    return {
        "id": e.member_id,
        "name": e.name,
        "team": team_name(t, team),
        "state": e.state.value,
        "state_label": plain(t(f"team.state.{e.state.value}")),
        "lat": where[0] if where else None,
        "lon": where[1] if where else None,
        "placed": plain(t(f"desk.placed.{where[2].value}")) if where else "",
        "details": _lines(entry_text(t, e, now))[1:],  # the first line is name and state
    }


def _alert(t: Texts, v: AlertView, viewer: Member, now: datetime) -> dict[str, Any]:
    return {
        "id": v.id,
        "label": v.label,
        "kind": v.kind.value,
        "state": v.state,
        "name": v.subject_name,
        "lines": _lines(alert_text(t, v, now)),
        "own": v.subject_id == viewer.id,  # nobody acknowledges an alert about themselves
    }


async def snapshot(services: Services, viewer: Member, team: str | None) -> Shown:
    """Return what the page shows `viewer` now (officers may pick one team)."""
    t, now = Texts(viewer.language), services.clock.now()
    tz = services.settings.default_tz
    teams = await services.board.teams(viewer)
    if viewer.role is Role.MANAGER or team not in teams:
        team = None  # a manager's board is their team's anyway; an unknown filter is no filter
    boards = ([await services.board.board(viewer, team, audited=False)] if team is not None
              else await services.board.boards(viewer, audited=False))
    # The most urgent first across every team shown (an SOS in one team, a missed check-in in
    # another, before anyone who is fine), then cut, saying how many were left out.
    entries = sorted(((e, b.team) for b in boards for e in b.entries),
                     key=lambda pair: urgent_key(pair[0]))
    people = [_person(t, e, tm, now) for e, tm in entries[:MAX_PEOPLE]]
    all_views = [v for v in await services.board.open_alerts(viewer, audited=False)
                 if team is None or v.subject_team == team]
    views = all_views[:MAX_ALERTS]
    hazards, hazards_total = await services.hazards.open_for(viewer, team)
    tallies = await services.desk.roll_calls.tallies(viewer)
    data = {
        "me": {"name": viewer.name, "role": viewer.role.value, "language": t.language},
        # The officers' own empty team is no team to pick: "All teams" shows them.
        "teams": [{"key": tm, "name": team_name(t, tm)} for tm in teams if tm]
        if viewer.role is not Role.MANAGER else [],
        "team": team,
        "people": people,
        "people_more": len(entries) - len(people),
        "alerts": [_alert(t, v, viewer, now) for v in views],
        "alerts_more": len(all_views) - len(views),
        "reasons": [{"key": r, "label": plain(t(f"resolve.{r}"))} for r in RESOLVE_REASONS],
        "hazards": [_hazard(t, h.id, h.severity, h.category.value,
                            kept_label(h.place, h.place_zh, t.language), h.description,
                            reporter, h.created_at, tz) for h, reporter in hazards],
        "hazards_more": max(0, hazards_total - len(hazards)),
        "rollcalls": [_tally(t, r, tz) for r in tallies
                      if team is None or r.team in (None, team)],
        "month": str(services.reports.current_month()),
        "tiles": services.settings.desk_tiles,
        "updated": desk_time(t, now, tz),
    }
    return Shown(data, [(p["id"], f"desk entries={len(people)}") for p in people],
                 [(v.subject_id, f"desk alert={v.id}") for v in views])


def _tally(t: Texts, r: Tally, tz: str) -> dict[str, Any]:
    """An open roll-call in the chat's own words (its tally message)."""
    return {
        "id": r.rollcall_id,
        "asked": r.asked, "safe": r.safe, "need_help": r.need_help, "no_answer": r.no_answer,
        "lines": [plain(line, MAX_TEXT) for line in (
            t("rollcall.tally.head", rollcall=rollcall.label(r.rollcall_id),
              scope=Raw(rollcall.scope_text(t, r.scope))),
            t("rollcall.tally.counts", asked=r.asked, safe=r.safe, help=r.need_help,
              silent=r.no_answer),
            t("rollcall.tally.started", by_name=r.by_name,
              at=desk_time(t, r.started_at, tz)))],
    }


def _hazard(t: Texts, hazard_id: int, severity: int, category: str, place: str,
            description: str, reporter: str, at: datetime, tz: str) -> dict[str, Any]:
    return {
        "id": hazard_id,
        "severity": int(severity),
        "head": plain(t("desk.hazard.head", severity=plain(t(f"hazard.severity.{int(severity)}")),
                        category=plain(t(f"hazard.category.{category}")), place=place),
                      MAX_TEXT),
        "description": description[:MAX_TEXT],
        "by": plain(t("desk.hazard.by", name=reporter, at=desk_time(t, at, tz)), MAX_TEXT),
    }
