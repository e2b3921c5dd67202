"""Inline keyboards. Callback data starts with the permission it needs (see the guard)."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from conversations.i18n import Texts, without_bidi

RESOLVE_REASONS = ("phone", "false_alarm", "incident")


def checkin(t: Texts, night_id: int | None = None) -> InlineKeyboardMarkup:
    """The check-in buttons; a reminder's Skip and +30 min name its night, so they change no
    other. I'm safe and Need help are rows apart, so a thumb aiming at one never hits the
    other."""
    night = "" if night_id is None else f":{night_id}"
    skip, snooze = f"checkin:skip{night}", f"checkin:snooze{night}"
    return InlineKeyboardMarkup([
        [InlineKeyboardButton(t("button.safe"), callback_data="checkin:safe")],
        [InlineKeyboardButton(t("button.snooze"), callback_data=snooze),
         InlineKeyboardButton(t("button.skip"), callback_data=skip)],
        [InlineKeyboardButton(t("button.help"), callback_data="checkin:help")],
    ])


def alert(t: Texts, alert_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[
        InlineKeyboardButton(t("button.ack"), callback_data=f"escalation:ack:{alert_id}"),
        InlineKeyboardButton(t("button.resolve"), callback_data=f"escalation:resolve:{alert_id}"),
    ]])


def resolve_reasons(t: Texts, alert_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([
        [InlineKeyboardButton(t(f"resolve.{reason}"),
                              callback_data=f"escalation:res:{alert_id}:{reason}")]
        for reason in RESOLVE_REASONS
    ])


def approval(t: Texts, trip_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[
        InlineKeyboardButton(t("button.approve"), callback_data=f"approve:yes:{trip_id}"),
        InlineKeyboardButton(t("button.reject"), callback_data=f"approve:no:{trip_id}"),
    ]])


def rows(*button_rows: list[tuple[str, str]]) -> InlineKeyboardMarkup:
    """Build an inline keyboard from rows of (text, callback data). A label may carry a
    person's name: its bidi controls are dropped, as in every message."""
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(without_bidi(text), callback_data=data) for text, data in row]
         for row in button_rows]
    )


def chosen(update: Update) -> str:
    """Return the last segment of the pressed button's data."""
    assert update.callback_query
    assert update.callback_query.data
    return update.callback_query.data.rsplit(":", 1)[-1]


async def take_buttons_off(update: Update) -> None:
    """Answer a press and remove the buttons from its message, so it cannot be pressed twice."""
    query = update.callback_query
    assert query
    await query.answer()
    if query.message is not None and getattr(query.message, "reply_markup", None):
        await query.edit_message_reply_markup(None)
