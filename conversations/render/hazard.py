"""Hazard reports as people read them: the lead's card (photo, place, Verify / Dismiss), the
reporter's outcome and the heads-up to colleagues travelling there. Built from outbox params."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from conversations.i18n import Raw, Texts
from conversations.render.formatting import cut, kept_label, map_link

# Telegram allows 1024 characters in a caption: the description is cut to fit beside the rest.
CAPTION_DESCRIPTION = 400

MARKERS = {1: "🔵", 2: "🟡", 3: "🟠", 4: "🔴"}

WithPhoto = tuple[str, InlineKeyboardMarkup | None, bool, Path | None]


def severity_text(t: Texts, severity: int) -> str:
    return f"{MARKERS[severity]} {t(f'hazard.severity.{severity}')}"


def place_of(t: Texts, p: dict[str, Any]) -> str:
    """The report's place in the reader's language (outbox params from before carry only the
    English label)."""
    return kept_label(p["place"], p.get("place_zh", ""), t.language)


def lead_buttons(t: Texts, hazard_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[
        InlineKeyboardButton(t("hazard.button.verify"),
                             callback_data=f"hazards:verify:{hazard_id}"),
        InlineKeyboardButton(t("hazard.button.dismiss"),
                             callback_data=f"hazards:dismiss:{hazard_id}"),
    ]])


def hazard_card(t: Texts, p: dict[str, Any], head_key: str) -> str:
    """Return what a report says: grade, category, place with a map link, reporter, text."""
    photo = p.get("photo")
    description = cut(p["description"], CAPTION_DESCRIPTION) if photo else p["description"]
    lines = [
        t(head_key, id=p["hazard_id"], severity=Raw(severity_text(t, p["severity"]))),
        t("hazard.card.category", category=t(f"hazard.category.{p['category']}")),
        t("hazard.card.place", place=place_of(t, p), link=map_link(p["lat"], p["lon"])),
        t("hazard.card.reporter", name=p["reporter"]),
    ]
    if description:
        lines.append(t("hazard.card.description", description=description))
    if p.get("photos", 0) > 1:
        lines.append(t("hazard.card.photos", count=p["photos"]))
    return "\n".join(lines)


def alert(t: Texts, p: dict[str, Any]) -> WithPhoto:
    """A red or orange report, at once to the managers and officers."""
    text = hazard_card(t, p, "hazard.card.head_alert")
    photo = Path(p["photo"]) if p.get("photo") else None
    return text, lead_buttons(t, int(p["hazard_id"])), True, photo


def verified(t: Texts, p: dict[str, Any]) -> WithPhoto:
    text = t("hazard.verified_notice", id=p["hazard_id"], place=place_of(t, p),
             by_name=p["by_name"], points=p["points"], total=p["total"])
    return text, None, False, None


def dismissed(t: Texts, p: dict[str, Any]) -> WithPhoto:
    text = t("hazard.dismissed_notice", id=p["hazard_id"], place=place_of(t, p),
             by_name=p["by_name"])
    return text, None, False, None


def nearby(t: Texts, p: dict[str, Any]) -> WithPhoto:
    """A verified report within reach of a colleague's trip."""
    head = t("hazard.nearby", radius=f"{p['radius_km']:g}")
    return head + "\n" + hazard_card(t, p, "hazard.card.head_verified"), None, False, None


RENDERERS: dict[str, Callable[[Texts, dict[str, Any]], WithPhoto]] = {
    "hazard_alert": alert,
    "hazard_verified": verified,
    "hazard_dismissed": dismissed,
    "hazard_nearby": nearby,
}
