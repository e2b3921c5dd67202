"""A roll-call's buttons: the person's ✅ I'm safe / 🆘 I need help, and the initiator's Names
and Close on the tally. Old buttons (a closed or unknown roll-call) get a friendly toast."""

from __future__ import annotations

import re

from telegram import InlineKeyboardMarkup, Update
from telegram.error import BadRequest
from telegram.ext import Application, CallbackQueryHandler

from conversations.context import BotContext
from conversations.flows import checkin, common
from conversations.i18n import Texts
from conversations.render import rollcall as render
from fieldbot.domain.rollcall import Answer, AnswerStatus
from fieldbot.services.rollcall import Answered, RollcallRefused, RollcallView

_ANSWER = re.compile(r"^rc:(\d{1,18}):(ok|help)$")
_NAMES = re.compile(r"^rollcall:names:(\d{1,18}):(help|silent|safe|-):(\d{1,5})$")
_CLOSE = re.compile(r"^rollcall:(close|closeyes|keep):(\d{1,18})$")


def tally_view(t: Texts, view: RollcallView) -> tuple[str, InlineKeyboardMarkup]:
    """The tally as the initiator reads it, with Names (and Close while it is open)."""
    params = view.params()
    return render.tally_text(t, params), render.tally_buttons(t, view.id, view.open)


async def answer_pressed(update: Update, context: BotContext) -> None:
    """Record ✅ / 🆘 (🆘 raises an SOS first, whatever the roll-call's state); the question
    becomes the receipt."""
    query = update.callback_query
    assert query and query.data
    match = await _matched(update, context, _ANSWER)
    if match is None:
        return
    rollcall_id, choice = int(match.group(1)), Answer.HELP if match.group(2) == "help" \
        else Answer.SAFE
    if choice is Answer.HELP:
        await query.answer()
        await checkin.sos_command(update, context)  # help is never refused or delayed
    answered = await context.services.rollcall.answer(context.member.id, rollcall_id, choice)
    t, status = context.t, answered.status
    if choice is Answer.SAFE:
        await query.answer(t.toast(f"rollcall.answered.{status.value}"),
                           show_alert=status is AnswerStatus.NOT_ASKED)
    if status is not AnswerStatus.NOT_ASKED:
        await _receipt(update, context, rollcall_id, choice, status)
    if answered.check_in_missing and update.effective_chat is not None:
        await context.bot.send_message(update.effective_chat.id,
                                       t("rollcall.checkin_still_missing"), parse_mode="HTML")
    await wake_for_tally(context, answered)
    await context.services.deliver()


async def wake_for_tally(context: BotContext, answered: Answered) -> None:
    """The throttled tally edit is due in a few seconds: wake the sweep for whatever comes
    first (never later than a step already waiting: wake_at replaces the one-shot)."""
    if answered.tally_due is not None and hasattr(context.bot_data, "scheduler"):
        due = await context.services.sweeper.next_due()
        if due is not None:
            context.bot_data.scheduler.wake_at(due)


async def _receipt(update: Update, context: BotContext, rollcall_id: int, choice: Answer,
                   status: AnswerStatus) -> None:
    query = update.callback_query
    assert query and query.message
    key = f"rollcall.receipt.{choice.value}"
    text = context.t(key, rollcall=render.label(rollcall_id))
    if status is AnswerStatus.LATE:
        text += "\n" + context.t("rollcall.receipt.late")
    try:
        await query.edit_message_text(text, parse_mode="HTML")
    except BadRequest:  # deleted or too old to edit: the toast said it already
        return


async def names_pressed(update: Update, context: BotContext) -> None:
    """Show (or page) who answered what; from the tally, a new protected message."""
    query = update.callback_query
    assert query and query.data
    match = await _matched(update, context, _NAMES)
    if match is None:
        return
    rollcall_id, state, page = int(match.group(1)), match.group(2), int(match.group(3))
    service, t = context.services.rollcall, context.t
    try:
        view = await service.view(context.member, rollcall_id)
        counts = {"help": view.tally.help, "silent": view.tally.silent, "safe": view.tally.safe}
        fresh = state == "-"
        if fresh:
            state = next((s for s in render.STATES if counts[s]), "silent")
        found = await service.names(context.member, rollcall_id, state, page)
    except RollcallRefused as refused:
        await _refused(update, t, refused, rollcall_id)
        return
    await query.answer()
    text = render.names_text(t, rollcall_id, state, found.names, found.total, found.page,
                             found.pages)
    markup = render.names_buttons(t, rollcall_id, state, found.page, found.pages, counts)
    if fresh:
        assert update.effective_chat
        await context.bot.send_message(update.effective_chat.id, text, parse_mode="HTML",
                                       reply_markup=markup, protect_content=True)
        return
    await _edit(update, text, markup)


async def close_pressed(update: Update, context: BotContext) -> None:
    """Close asks first (Yes, close / Keep it open); Yes ends the roll-call."""
    query = update.callback_query
    assert query and query.data
    match = await _matched(update, context, _CLOSE)
    if match is None:
        return
    action, rollcall_id, t = match.group(1), int(match.group(2)), context.t
    service = context.services.rollcall
    try:
        if action == "closeyes":
            view = await service.close(context.member, rollcall_id)
        else:
            view = await service.view(context.member, rollcall_id)
    except RollcallRefused as refused:
        await _refused(update, t, refused, rollcall_id)
        return
    if action == "close" and view.open:
        await query.answer()
        await query.edit_message_reply_markup(render.close_confirm_buttons(t, rollcall_id))
        return
    await query.answer(t.toast("rollcall.closed_toast") if action == "closeyes" else None)
    text, markup = tally_view(t, view)
    pressed_on = query.message.message_id if query.message else None
    in_tally = query.message is not None and query.message.chat.id == view.initiator_id \
        and pressed_on == view.tally_message_id  # ids are per chat: another officer's copy
    if action == "closeyes" and in_tally:
        await context.services.deliver()  # the outbox edits the tally to its final state
        return
    await _edit(update, text, markup)
    await context.services.deliver()


async def _matched(
    update: Update, context: BotContext, pattern: re.Pattern[str]
) -> re.Match[str] | None:
    """The pressed button's data read by `pattern`; a button it cannot read gets the friendly
    toast of an old button, and None."""
    query = update.callback_query
    assert query and query.data
    match = pattern.match(query.data)
    if match is None:
        await query.answer(context.t.toast("guard.stale_button"), show_alert=True)
    return match


async def _refused(update: Update, t: Texts, refused: RollcallRefused, rollcall_id: int) -> None:
    assert update.callback_query
    await update.callback_query.answer(
        t.toast(f"rollcall.refused.{refused.reason}", rollcall=render.label(rollcall_id)),
        show_alert=True)


async def _edit(update: Update, text: str, markup: InlineKeyboardMarkup) -> None:
    """Edit the pressed message; the same text again (a double press) is not a fault."""
    assert update.callback_query
    try:
        await update.callback_query.edit_message_text(text, parse_mode="HTML",
                                                      reply_markup=markup)
    except BadRequest as exc:
        if "not modified" not in str(exc).lower():
            raise


def register(app: Application) -> None:
    app.add_handler(CallbackQueryHandler(answer_pressed, pattern=r"^rc:"))
    app.add_handler(CallbackQueryHandler(names_pressed, pattern=r"^rollcall:names:"))
    app.add_handler(CallbackQueryHandler(close_pressed,
                                         pattern=r"^rollcall:(close|closeyes|keep):"))
    # A button of a roll-call question no longer open (yesterday's "A place").
    app.add_handler(CallbackQueryHandler(common.stale_button, pattern=r"^rollcall:"))
