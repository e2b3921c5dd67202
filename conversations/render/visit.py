"""How client visits read in a chat: the visit's buttons, its summary, client safety notes, and
the outbox messages about visits (the rep's "I'm done?", the manager's notices)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from telegram import InlineKeyboardMarkup

from conversations.i18n import Raw, Texts
from conversations.render import keyboards
from conversations.render.formatting import bounded, cut, day, kept_label, local_time, map_link
from fieldbot.domain.visits import NoteCategory

Rendered = tuple[str, InlineKeyboardMarkup | None, bool]
NOTE_PREVIEW = 300  # characters of a note shown in a list of notes
NOTES_BUDGET = 1600


def buttons(t: Texts, visit_id: int) -> InlineKeyboardMarkup:
    """I'm done, safe / +30 min / Need help; each names its visit (an old one ends nothing)."""
    return keyboards.rows(
        [(t("visit.button.done"), f"visit:done:{visit_id}")],
        [(t("visit.button.extend"), f"visit:extend:{visit_id}"),
         (t("visit.button.help"), f"visit:help:{visit_id}")])


def note_categories(t: Texts, visit_id: int) -> InlineKeyboardMarkup:
    cats = [(t(f"visit.note.category.{c.value}"), f"visit:note:{visit_id}:{c.value}")
            for c in NoteCategory]
    return keyboards.rows(cats[:2], cats[2:], [(t("visit.button.no_note"),
                                                f"visit:nonote:{visit_id}")])


def until(t: Texts, ends_at: str, tz: str) -> str:
    return local_time(ends_at, tz, t.language)


# where(), with_whom() and note_line() are catalog texts with their user text escaped once
# already: as parameters of another text they are Raw, or "Smith & Sons" reads "&amp;".


def with_whom(t: Texts, companion: str) -> str:
    return Raw(t("visit.with", companion=companion) if companion else t("visit.alone"))


def where(t: Texts, client: str, place: str, place_zh: str = "") -> str:
    """The client and the pinned place (in the reader's language), whichever the rep gave."""
    place = kept_label(place, place_zh, t.language)
    if client and place:
        return Raw(t("visit.where_both", client=client, place=place))
    return Raw(t("visit.where", where=client or place))


def note_line(t: Texts, category: str, body: str, created: str | None = None) -> str:
    line = t("visit.note.line", category=t(f"visit.note.category.{category}"),
             body=cut(body, NOTE_PREVIEW))
    if created:
        line += " " + t("visit.note.when", day=day(created[:10], t.language))
    return Raw(line)


def notes_block(t: Texts, notes: Sequence[Any], head: str = "visit.notes.head") -> str:
    """Colleagues' client safety notes, newest first, bounded."""
    lines = bounded([note_line(t, n.category.value, n.body, n.created_at.date().isoformat())
                     for n in notes], lambda more: t("list.more", count=more), most=5,
                    budget=NOTES_BUDGET)
    return "\n".join([t(head), *lines])


# --- outbox renderers ---------------------------------------------------------------------------


def _reminder(t: Texts, p: dict[str, Any]) -> Rendered:
    text = t("visit.reminder", client=p["client"] or "—", ends=until(t, p["ends_at"], p["tz"]))
    return text, buttons(t, int(p["visit_id"])), False


def _alone(t: Texts, p: dict[str, Any]) -> Rendered:
    lines = [t("visit.alone_notice", name=p["subject_name"],
               where=where(t, p["client"], p["place"], p.get("place_zh", "")),
               ends=until(t, p["ends_at"], p["tz"]))]
    if "lat" in p:
        lines.append(t("visit.pin", link=map_link(p["lat"], p["lon"])))
    return "\n".join(lines), None, True


def _rerouted(t: Texts, p: dict[str, Any]) -> Rendered:
    """The rep's lone visit after dark reached no manager: who was told instead."""
    told = "nobody" if p.get("told") == "nobody" else "officers"
    return t(f"visit.alone_rerouted.{told}"), None, False


def _note(t: Texts, p: dict[str, Any]) -> Rendered:
    text = t("visit.note.notice", name=p["subject_name"],
             where=where(t, p["client"], p["place"], p.get("place_zh", "")),
             note=note_line(t, p["category"], p["body"]))
    markup = keyboards.rows([(t("visit.button.remove_note"),
                              f"visit:rmnote:{int(p['note_id'])}")])
    return text, markup, True


def alert_rep(t: Texts, p: dict[str, Any]) -> Rendered:
    """The rep's own urgent question after a missed visit end: the visit's buttons."""
    visit = p["visit"]
    text = t("visit.urgent", alert=p["alert"], attempt=p["attempt"],
             ends=until(t, visit["ends_at"], visit["tz"]))
    return text, buttons(t, int(visit["id"])), False


def alert_lines(t: Texts, visit: dict[str, Any]) -> list[str]:
    """What a lead's alert shows of the visit: where, client, with whom, until when."""
    lines = [t("visit.alert.where", where=where(t, visit["client"], visit["place"],
                                                visit.get("place_zh", ""))),
             t("visit.alert.with", who=with_whom(t, visit["companion"])),
             t("visit.alert.until", ends=until(t, visit["ends_at"], visit["tz"]))]
    if "lat" in visit:
        lines.append(t("visit.pin", link=map_link(visit["lat"], visit["lon"])))
    return lines


RENDERERS: dict[str, Callable[[Texts, dict[str, Any]], Rendered]] = {
    "visit_reminder": _reminder,
    "visit_alone": _alone,
    "visit_alone_rerouted": _rerouted,
    "visit_note": _note,
}
