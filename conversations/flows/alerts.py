"""Acknowledge and Resolve on escalation messages."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler

from conversations.context import BotContext
from conversations.render import keyboards
from fieldbot.services.escalation import AlertActionError


def _alert_id(data: str) -> int:
    return int(data.split(":")[2])


async def _refused(update: Update, context: BotContext, error: AlertActionError) -> None:
    query = update.callback_query
    assert query
    name = "?"
    if error.by is not None:
        by = await context.services.enrolment.member(error.by)
        name = by.name if by else "?"
    await query.answer(context.t.toast(f"alert.err.{error.reason}", name=name), show_alert=True)


refused = _refused  # the incident flow answers a refused "Resolve → incident" the same way


async def acknowledge(update: Update, context: BotContext) -> None:
    """First acknowledgement wins; the ladder stops and the others are told who has it."""
    query = update.callback_query
    assert query and query.data
    try:
        a = await context.services.escalation.acknowledge(_alert_id(query.data), context.member)
    except (AlertActionError, ValueError, IndexError) as exc:
        error = exc if isinstance(exc, AlertActionError) else AlertActionError("unknown")
        await _refused(update, context, error)
        return
    await query.answer(context.t.toast("alert.acked_you", alert=a.label))
    await query.edit_message_reply_markup(keyboards.resolve_reasons(context.t, a.id))
    await context.services.drills.settle_alert(a.id)  # a drill's last answer ends it now
    await context.services.deliver()


async def resolve_menu(update: Update, context: BotContext) -> None:
    """Show the resolve reasons."""
    query = update.callback_query
    assert query and query.data
    await query.answer()
    await query.edit_message_reply_markup(
        keyboards.resolve_reasons(context.t, _alert_id(query.data)))


async def resolve(update: Update, context: BotContext) -> None:
    """Close the alert with the chosen reason; everyone alerted is told."""
    query = update.callback_query
    assert query and query.data
    parts = query.data.split(":")
    if len(parts) != 4 or parts[3] not in keyboards.RESOLVE_REASONS:
        await query.answer(context.t.toast("guard.stale_button"), show_alert=True)
        return
    try:
        a = await context.services.escalation.resolve(int(parts[2]), context.member, parts[3])
    except (AlertActionError, ValueError) as exc:
        error = exc if isinstance(exc, AlertActionError) else AlertActionError("unknown")
        await _refused(update, context, error)
        return
    await query.answer(context.t.toast("alert.resolved_you", alert=a.label))
    await query.edit_message_reply_markup(None)
    await context.services.drills.settle_alert(a.id)
    await context.services.deliver()


def register(app: Application) -> None:
    # Callback data can be forged: only well-formed ids reach the handlers (a longer number
    # overflows SQLite's INTEGER and used to end in the error handler).
    app.add_handler(CallbackQueryHandler(acknowledge, pattern=r"^escalation:ack:\d{1,18}$"))
    app.add_handler(CallbackQueryHandler(resolve_menu, pattern=r"^escalation:resolve:\d{1,18}$"))
    app.add_handler(CallbackQueryHandler(resolve, pattern=r"^escalation:res:\d{1,18}:"))
