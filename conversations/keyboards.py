"""Inline keyboards. Callback data starts with the permission it needs (see the guard)."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from conversations.i18n import Texts

RESOLVE_REASONS = ("phone", "false_alarm", "incident")


def checkin(t: Texts) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([
        [InlineKeyboardButton(t("button.safe"), callback_data="checkin:safe"),
         InlineKeyboardButton(t("button.help"), callback_data="checkin:help")],
        [InlineKeyboardButton(t("button.snooze"), callback_data="checkin:snooze"),
         InlineKeyboardButton(t("button.skip"), callback_data="checkin:skip")],
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
