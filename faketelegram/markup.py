"""Validate and read reply markup: inline keyboards, reply keyboards, removals."""

from __future__ import annotations

import json
from typing import Any

from faketelegram.errors import bad_request

_INLINE_ACTIONS = {
    "callback_data",
    "url",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
}
_UNPARSABLE = "can't parse reply keyboard markup JSON object"


def parse_markup(raw: Any) -> dict[str, Any] | None:
    """Return reply_markup as a validated dict, or None when absent."""
    if raw is None or raw == "":
        return None
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            raise bad_request(_UNPARSABLE) from None
    if not isinstance(raw, dict):
        raise bad_request(_UNPARSABLE)
    if "inline_keyboard" in raw:
        _check_inline(raw["inline_keyboard"])
    elif "keyboard" in raw:
        raw = {**raw, "keyboard": _normalise_keyboard(raw["keyboard"])}
    elif not raw.get("remove_keyboard") and not raw.get("force_reply"):
        raise bad_request(_UNPARSABLE)
    return raw


def _rows(rows: Any) -> list[list[Any]]:
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad_request(_UNPARSABLE)
    return rows


def _check_inline(rows: Any) -> None:
    for row in _rows(rows):
        for button in row:
            if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                raise bad_request(_UNPARSABLE)
            if not _INLINE_ACTIONS & button.keys():
                raise bad_request("text buttons are unallowed in the inline keyboard")
            data = button.get("callback_data")
            if data is not None and not 1 <= len(str(data).encode()) <= 64:
                raise bad_request("BUTTON_DATA_INVALID")


def _normalise_keyboard(rows: Any) -> list[list[dict[str, Any]]]:
    keyboard = []
    for row in _rows(rows):
        buttons = []
        for button in row:
            if isinstance(button, str):
                button = {"text": button}
            if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                raise bad_request(_UNPARSABLE)
            buttons.append(button)
        keyboard.append(buttons)
    return keyboard


def inline_rows(markup: dict[str, Any] | None) -> list[list[dict[str, Any]]]:
    """Return the inline keyboard rows of markup, or [] when it has none."""
    if markup is None:
        return []
    rows: list[list[dict[str, Any]]] = markup.get("inline_keyboard", [])
    return rows


def keyboard_rows(markup: dict[str, Any] | None) -> list[list[dict[str, Any]]]:
    """Return the reply keyboard rows of markup, or [] when it has none."""
    if markup is None:
        return []
    rows: list[list[dict[str, Any]]] = markup.get("keyboard", [])
    return rows
