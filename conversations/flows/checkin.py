"""Tonight's check-in: /checkin, the reminder's buttons, "Skip tonight" with a reason, /sos,
and shared locations (kept as the last known location)."""

from __future__ import annotations

import logging
from enum import IntEnum

from telegram import ReplyKeyboardMarkup, ReplyKeyboardRemove, Update
from telegram.error import BadRequest, NetworkError, RetryAfter
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from conversations.context import BotContext
from conversations.flows import common, drafts, rollcall_actions, start, visit_actions
from conversations.flows.base import Command, Flow
from conversations.i18n import Texts
from conversations.render import keyboards
from conversations.render import rollcall as rollcall_render
from conversations.render.formatting import local_time, sos_receipt
from conversations.runtime.ratelimit import FOLLOWUP_PRIORITY
from fieldbot.domain.rollcall import Answer
from fieldbot.services.checkins import CheckinResult, CheckinStatus, Refusal
from fieldbot.services.outgoing import PRIORITY_SOS

MAX_REASON = 500
SKIP = "skip"  # user_data: {"night_id": the night the open "why skip?" question is about}
SOS_OFFER = "sos_offer"  # user_data: the message id of the newest "pressed by mistake?" offer
NEW_TEXT = filters.UpdateType.MESSAGE & filters.TEXT & ~filters.COMMAND


log = logging.getLogger(__name__)


class Skip(IntEnum):
    REASON = 1


def _result_text(t: Texts, result: CheckinResult) -> str:
    text = t(f"checkin.done.{result.status.value}")
    if result.next_night is not None:
        upcoming = result.next_night
        text += "\n" + t("checkin.next_deadline",
                         deadline=local_time(upcoming.deadline, upcoming.tz_name, t.language))
    return text


async def checkin_command(update: Update, context: BotContext) -> None:
    """Check in now (any text after /checkin is kept, e.g. for the duress word)."""
    assert update.effective_message
    text = " ".join(context.args or [])
    result = await context.services.checkins.check_in(context.member.id, text=text)
    visit_over = bool(await visit_actions.visit_due(context))
    if not (visit_over and result.status is CheckinStatus.NOTHING_DUE):
        await update.effective_message.reply_html(
            _result_text(context.t, result), reply_markup=_location_keyboard(context.t))
    if visit_over:  # a visit over its end is alerting: /checkin says she is safe, it ends
        await visit_actions.done_command(update, context)
    if result.queued or visit_over:  # an all-clear, a duress SOS: out now
        await context.services.deliver()


async def safe_pressed(update: Update, context: BotContext) -> None:
    """The reminder's "I'm safe": check in, say so at once in a toast, and the reminder itself
    becomes the receipt.

    The toast (answerCallbackQuery) is not counted in Telegram's ~30 messages/s, so it comes
    at once even when everybody checks in at five to nine. The edit is counted: it follows at
    low priority, handed off so that no worker waits for it (and the next person's toast with
    it). Editing instead of replying spends one message of the budget instead of two. Every
    button check-in is answered this same way (a duress word cannot come with a button).
    """
    query = update.callback_query
    assert query and update.effective_chat
    result = await context.services.checkins.check_in(context.member.id)
    recorded = result.status is not CheckinStatus.NOTHING_DUE
    await query.answer(context.t.toast("checkin.toast" if recorded
                                       else "checkin.done.nothing_due"))
    message_id = query.message.message_id if query.message else None
    context.bot_data.followups.start(
        _show_receipt(context, update.effective_chat.id, message_id,
                      _result_text(context.t, result)),
        name=f"receipt of update {update.update_id}")
    if result.queued:
        await context.services.deliver()


async def _show_receipt(context: BotContext, chat_id: int, message_id: int | None,
                        text: str) -> None:
    if message_id is not None:
        try:
            await context.bot.edit_message_text(text, chat_id=chat_id, message_id=message_id,
                                                parse_mode="HTML",
                                                rate_limit_args=FOLLOWUP_PRIORITY)
            return
        except BadRequest:  # too old to edit, or deleted: say it in a new message
            pass
    await context.bot.send_message(chat_id, text, parse_mode="HTML",
                                   rate_limit_args=FOLLOWUP_PRIORITY)


async def snooze_pressed(update: Update, context: BotContext) -> None:
    """"+30 min": move tonight's deadline, or say why not (a reminder's button names its
    night: yesterday's reminder moves nothing tonight)."""
    query = update.callback_query
    assert query and query.data and update.effective_chat
    named = query.data.split(":")[2] if query.data.count(":") == 2 else None
    change = await context.services.checkins.snooze(
        context.member.id, int(named) if named else None)
    await query.answer()
    if change.refused is not None:
        text = context.t(f"checkin.refused.{change.refused.value}")
    else:
        assert change.new_deadline and change.night
        text = context.t("checkin.snoozed", deadline=local_time(
            change.new_deadline, change.night.tz_name, context.t.language))
    await context.bot.send_message(update.effective_chat.id, text, parse_mode="HTML")


async def help_pressed(update: Update, context: BotContext) -> None:
    """"Need help": the same as /sos."""
    query = update.callback_query
    assert query
    await query.answer()
    await _raise_sos(update, context)


async def sos_command(update: Update, context: BotContext) -> None:
    """Alert the manager and the safety desk at once, and ask for a live location."""
    await _raise_sos(update, context)


async def _raise_sos(update: Update, context: BotContext) -> None:
    assert update.effective_chat
    alert_id, created = await context.services.escalation.raise_sos(context.member.id)
    await context.services.deliver(urgent=True)  # the receipt next, not after a bulk drain
    alerted = await context.services.escalation.alerted(alert_id)
    key = sos_receipt(created, alerted)
    try:
        await context.bot.send_message(update.effective_chat.id, context.t(key),
                                       parse_mode="HTML",
                                       reply_markup=_location_keyboard(context.t),
                                       rate_limit_args=PRIORITY_SOS)
    except (NetworkError, RetryAfter) as failed:  # timeouts, 5xx, 429; not a bad request
        if isinstance(failed, BadRequest):
            raise
        # The alert is out (or in the outbox); the rep must still learn that it went out:
        # the receipt waits in the outbox, retried like the alert, until Telegram takes it.
        log.warning("SOS receipt to user %s deferred: %s", context.member.id,
                    type(failed).__name__)
        await context.services.escalation.receipt_later(context.member.id, alert_id, created,
                                                        alerted)
        return
    try:  # a way back for a mis-tap; best effort, the SOS itself is out
        # As urgent as the receipt: the sooner it is there, the sooner a false alarm stops;
        # and the rep's next update (her live location) waits until this handler returns,
        # which at follow-up priority was behind the whole evening's receipts (31 s, rush.py).
        offer = await context.bot.send_message(
            update.effective_chat.id, context.t("sos.mistake_offer"), parse_mode="HTML",
            reply_markup=keyboards.rows([(context.t("sos.button.mistake"), "sos:mistake")]),
            rate_limit_args=PRIORITY_SOS)
        # The button names no alert (a number would show that a silent one came before);
        # only the newest offer counts, so an old one never closes a later SOS.
        drafts.store(context)[SOS_OFFER] = offer.message_id
    except (NetworkError, RetryAfter) as failed:
        if isinstance(failed, BadRequest):
            raise
        log.info("SOS mistake offer to user %s not sent", context.member.id)


async def mistake_pressed(update: Update, context: BotContext) -> None:
    """"I pressed it by mistake": close the rep's own SOS as a false alarm, everyone told."""
    query = update.callback_query
    assert query and query.message
    newest = drafts.store(context).get(SOS_OFFER) == query.message.message_id
    if not newest or not await context.services.escalation.withdraw_mistaken_sos(
            context.member.id):
        await query.answer(context.t.toast("sos.mistake_too_late"), show_alert=True)
        return
    await context.services.deliver(urgent=True)  # the notices, not a bulk before the answer
    await query.answer()
    await query.edit_message_text(context.t("sos.mistake_done"), parse_mode="HTML")


async def skip_pressed(update: Update, context: BotContext) -> int:
    """"Skip tonight": ask for the reason (required), about this night and no other.

    The reminder's button names its night; the question keeps the night it is about, so a
    reason typed after that night is over can never skip the next one.
    """
    query = update.callback_query
    assert query and query.data and update.effective_chat
    await query.answer()
    named = query.data.split(":")[2] if query.data.count(":") == 2 else None
    check = await context.services.checkins.may_skip(
        context.member.id, int(named) if named else None)
    if check.refused is not None or check.night is None:
        refused = check.refused or Refusal.NOTHING_DUE
        await context.bot.send_message(update.effective_chat.id,
                                       context.t(f"checkin.refused.{refused.value}"),
                                       parse_mode="HTML")
        return ConversationHandler.END
    drafts.store(context)[SKIP] = {"night_id": check.night.id}
    await context.bot.send_message(update.effective_chat.id, context.t("checkin.skip_ask"),
                                   parse_mode="HTML")
    return Skip.REASON


async def skip_reason(update: Update, context: BotContext) -> int:
    """Store the reason, skip the night asked about, tell the manager (informed, not alarmed).

    The reason is a check-in text too: a duress word in it is heard (and the rep sees the
    usual answer).
    """
    assert update.effective_message and update.effective_message.text is not None
    reason = update.effective_message.text.strip()
    if not reason or len(reason) > MAX_REASON:
        await context.services.checkins.heed(context.member.id, reason)
        await update.effective_message.reply_html(context.t("checkin.skip_reason_bad",
                                                            max=MAX_REASON))
        return Skip.REASON
    asked = drafts.store(context).pop(SKIP, None) or {}
    # A question from before questions named their night (no night id) is about no night.
    night_id = int(asked.get("night_id", 0))
    change = await context.services.checkins.skip(context.member.id, reason, night_id)
    if change.refused is not None:
        await update.effective_message.reply_html(
            context.t(f"checkin.refused.{change.refused.value}"))
    else:
        await update.effective_message.reply_html(context.t("checkin.skipped"))
        await context.services.deliver()
    return ConversationHandler.END


async def skip_cancelled(update: Update, context: BotContext) -> int:
    """Leave "Skip tonight" without skipping."""
    assert update.effective_message
    drafts.store(context).pop(SKIP, None)
    await update.effective_message.reply_html(context.t("cancel.done"))
    return ConversationHandler.END


async def location_shared(update: Update, context: BotContext) -> None:
    """Keep a shared pin or live location as the last known location."""
    message = update.effective_message
    assert message and message.location
    live = message.location.live_period is not None
    lat, lon = message.location.latitude, message.location.longitude
    if common.forwarded(update):  # where someone else is (or was): not hers to keep
        await message.reply_html(context.t("location.forwarded"))
        return
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        await message.reply_html(context.t("location.invalid"))
        return
    await context.services.checkins.record_location(context.member.id, lat, lon, live=live)
    if update.edited_message is None:  # live updates arrive as edits: store them silently
        await message.reply_html(context.t("location.saved"), reply_markup=ReplyKeyboardRemove())


def _location_keyboard(t: Texts) -> ReplyKeyboardMarkup:
    return common.location_keyboard(t, "button.share_location")


async def text_reply(update: Update, context: BotContext) -> None:
    """Text that no open question took: an answer typed instead of pressed, to whichever
    question waits for one.

    - A call for help ("救命", "SOS", "need help"; "help" too while a question waits) raises
      the SOS the 🆘 button raises, and answers a waiting roll-call with it.
    - "I'm safe" / "平安" answers a waiting roll-call, ends a visit whose end has passed (the
      visit button's own words end any visit under way), and checks her in: tonight's
      reminder, or a missed check-in still open, or before the reminder when it answered
      nothing else.
    - Anything else while tonight's reminder waits is a check-in (with its text, so a duress
      word in a reply is heard like one after /checkin).
    Forwarded words are someone else's: none of this."""
    message = update.effective_message
    assert message and message.text is not None
    text, me = message.text, context.member.id
    awaited = await context.services.checkins.awaits_reply(me)
    if common.forwarded(update):
        acting = (awaited or common.says_safe(text) or common.says_help(text, loosely=True)
                  or visit_actions.says_done(text))
        if acting:
            await message.reply_html(context.t("checkin.forwarded"))  # someone else's words
        else:
            await start.outside_any_flow(update, context)
        return
    waiting = await context.services.rollcall.waiting_for(me)
    visit_due = await visit_actions.visit_due(context)
    if common.says_help(text, loosely=awaited or bool(waiting) or bool(visit_due)):
        # What the 🆘 button does, never "checked in" (nobody would have been told).
        await _raise_sos(update, context)
        await _answer_rollcalls(update, context, waiting, Answer.HELP)
        return
    safe = common.says_safe(text)
    ends_visit = visit_due is not None and (visit_actions.says_done(text)
                                            or (safe and visit_due))
    answered = await _answer_rollcalls(update, context, waiting, Answer.SAFE) if safe else False
    if awaited:
        checks_in = safe or not ends_visit  # the visit button's words: the visit, not tonight
    else:
        checks_in = safe and ((not answered and not ends_visit)
                              or await context.services.checkins.missed_open(me))
    if checks_in:
        result = await context.services.checkins.check_in(me, text=text)
        await message.reply_html(_result_text(context.t, result),
                                 reply_markup=_location_keyboard(context.t))
    if ends_visit:
        await visit_actions.done_command(update, context)
    if not (checks_in or ends_visit or answered):
        await start.outside_any_flow(update, context)  # no question open: what they can do
        return
    await context.services.deliver()


async def _answer_rollcalls(update: Update, context: BotContext, waiting: list[int],
                            choice: Answer) -> bool:
    """Answer each waiting roll-call as its button would ("平安" typed to "Are you safe?",
    or a call for help); return whether one was waiting."""
    assert update.effective_message
    for rollcall_id in waiting:
        answered = await context.services.rollcall.answer(context.member.id, rollcall_id, choice)
        await update.effective_message.reply_html(context.t(
            f"rollcall.receipt.{choice.value}", rollcall=rollcall_render.label(rollcall_id)))
        await rollcall_actions.wake_for_tally(context, answered)
    return bool(waiting)


async def _forget_skip(context: BotContext) -> None:
    drafts.store(context).pop(SKIP, None)


def register(app: Application) -> None:
    skip_button = CallbackQueryHandler(skip_pressed, pattern=r"^checkin:skip(:\d{1,18})?$")
    app.add_handler(Flow(
        entry_points=[skip_button],
        states={Skip.REASON: [MessageHandler(NEW_TEXT, skip_reason)]},
        fallbacks=[Command("cancel", skip_cancelled)],
        name="skip", cleanup=_forget_skip,
        allow_reentry=True,  # Skip pressed again asks again, about the night its button names
    ))
    app.add_handler(Command("checkin", checkin_command))
    app.add_handler(Command("sos", sos_command))
    app.add_handler(CallbackQueryHandler(safe_pressed, pattern=r"^checkin:safe$"))
    app.add_handler(CallbackQueryHandler(snooze_pressed, pattern=r"^checkin:snooze(:\d{1,18})?$"))
    app.add_handler(CallbackQueryHandler(help_pressed, pattern=r"^checkin:help$"))
    app.add_handler(CallbackQueryHandler(mistake_pressed, pattern=r"^sos:mistake$"))
    app.add_handler(MessageHandler(filters.LOCATION, location_shared))
    # After every flow: text that answers an open question belongs to that question.
    app.add_handler(MessageHandler(NEW_TEXT, text_reply))
