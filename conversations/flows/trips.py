"""/trips, /endtrip with its post-trip safety report, and the manager's Approve / Reject (with
a reason) buttons on a trip that waits for approval. /risk <place> is `risk.py`."""

from __future__ import annotations

import logging
from enum import IntEnum
from typing import Any

from telegram import ForceReply, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    ConversationHandler,
    MessageHandler,
)

from conversations.context import BotContext
from conversations.flows import drafts, risk
from conversations.flows.base import Command, Flow
from conversations.flows.common import NEW_TEXT
from conversations.i18n import Raw, Texts
from conversations.render import keyboards
from conversations.render.formatting import bounded, cut, day, place_label, places_label
from conversations.render.trip import trip_summary
from fieldbot.domain.trips import Trip, earliest_today
from fieldbot.services.trips import DecisionError

log = logging.getLogger(__name__)

MAX_REPORT = 1500
MAX_REASON = 500
MAX_TRIPS_LISTED = 20  # /trips: the soonest trips, then "… and K more"
MAX_WITHDRAW_BUTTONS = 5  # /endtrip with none under way: the soonest trips still to come
ENDTRIP = "endtrip"
REJECT = "reject"


class EndTrip(IntEnum):
    WHAT = 1
    WARN = 2
    CONFIRM = 3


class Reject(IntEnum):
    REASON = 1


_user_data = drafts.store


# --- /trips -----------------------------------------------------------------------------------


def _trip_item(t: Texts, trip: Trip) -> str:
    legs = "\n".join(
        t("trip.summary.leg", place=place_label(leg.place, t.language),
          start=day(leg.start, t.language),
          end=day(leg.end, t.language))
        for leg in trip.legs
    )
    return t("trips.item", id=trip.id, status=t(f"trips.status.{trip.status.value}"),
             legs=Raw(legs))


async def list_trips(update: Update, context: BotContext) -> None:
    """List my current and upcoming trips with their status."""
    assert update.effective_message
    today = earliest_today(context.services.clock.now())
    trips = await context.services.trips.current_and_upcoming(context.member.id, today)
    t = context.t
    if not trips:
        await update.effective_message.reply_html(t("trips.none"))
        return
    # The soonest first, as many as one message holds (a year of weekly trips filed ahead
    # would not fit), then "… and K more".
    items = bounded([_trip_item(t, trip) for trip in trips],
                    lambda more: t("list.more", count=more), most=MAX_TRIPS_LISTED, sep="\n\n")
    await update.effective_message.reply_html(t("trips.list", items=Raw("\n\n".join(items))))


# --- /endtrip and the post-trip safety report -------------------------------------------------


def _one_button(text: str, data: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(text, callback_data=data)]])


async def end_trip(update: Update, context: BotContext) -> int:
    """Ask to confirm ending the trip under way (never a later one); the trips still to come
    may be withdrawn from the same message (a trip filed with the wrong dates, a visit called
    off), soonest first, a button each: on the road too, never by ending the one she is on."""
    assert update.effective_message
    t = context.t
    trip = await context.services.trips.in_progress(context.member.id)
    to_come = await context.services.trips.to_come(context.member.id)
    if trip is None and not to_come:
        await update.effective_message.reply_html(t("endtrip.none"))
        return ConversationHandler.END
    if trip is None:
        text = t("endtrip.to_come")
        rows: list[list[tuple[str, str]]] = []
        keep = [(t("endtrip.button.keep_all"), "endtrip:keep:all")]
    else:
        text = t("endtrip.confirm", places=places_label(trip.legs, t.language),
                 start=day(trip.start, t.language), end=day(trip.end, t.language))
        rows = [[(t("endtrip.button.end"), f"endtrip:end:{trip.id}"),
                 (t("endtrip.button.keep"), "endtrip:keep")]]
        keep = []
        if to_come:
            text += "\n\n" + t("endtrip.or_withdraw")
    shown = to_come[:MAX_WITHDRAW_BUTTONS]
    rows += [[(t("endtrip.button.withdraw", places=cut(places_label(c.legs, t.language), 40),
                 start=day(c.start, t.language)), f"endtrip:withdraw:{c.id}")] for c in shown]
    if len(to_come) > len(shown):
        text += "\n" + t("list.more", count=len(to_come) - len(shown))
    await update.effective_message.reply_html(
        text, reply_markup=keyboards.rows(*rows, *([keep] if keep else [])))
    return EndTrip.CONFIRM


async def withdraw_pressed(update: Update, context: BotContext) -> int:
    """Withdraw the trip the button names, if it is still to come."""
    assert update.effective_chat
    await keyboards.take_buttons_off(update)
    t = context.t
    trip = await context.services.trips.withdraw(int(keyboards.chosen(update)), context.member)
    if trip is None:
        text = t("endtrip.withdraw_refused")
    else:
        await context.services.deliver()  # her managers hear of it now
        text = t("endtrip.withdrawn", places=places_label(trip.legs, t.language),
                 start=day(trip.start, t.language), end=day(trip.end, t.language))
    await context.bot.send_message(update.effective_chat.id, text, parse_mode="HTML")
    return ConversationHandler.END


async def end_confirmed(update: Update, context: BotContext) -> int:
    """End the trip the button names if it is still under way; ask "Are you safe?" if a
    missed check-in is still open, then for the post-trip safety report."""
    query = update.callback_query
    assert query and query.data and update.effective_chat
    t = context.t
    await keyboards.take_buttons_off(update)
    ended = await context.services.trips.end(int(keyboards.chosen(update)), context.member.id)
    chat = update.effective_chat.id
    if ended is None:
        await context.bot.send_message(chat, t("endtrip.not_now"), parse_mode="HTML")
        return ConversationHandler.END
    _user_data(context)[ENDTRIP] = {"trip_id": ended.trip.id, "what": ""}
    places = places_label(ended.trip.legs, t.language)
    await context.bot.send_message(chat, t("endtrip.ended", places=places), parse_mode="HTML")
    if ended.open_alerts:
        await context.bot.send_message(
            chat, t("endtrip.are_you_safe", alerts=", ".join(f"A-{a}" for a in ended.open_alerts)),
            parse_mode="HTML", reply_markup=keyboards.checkin(t))
    await context.bot.send_message(
        chat, t("endtrip.ask_what"), parse_mode="HTML",
        reply_markup=_one_button(t("endtrip.button.nothing"), "endtrip:nothing"))
    return EndTrip.WHAT


async def end_kept(update: Update, context: BotContext) -> int:
    """"Keep it": the trip goes on ("Keep them all": nothing is withdrawn)."""
    assert update.effective_chat
    await keyboards.take_buttons_off(update)
    kept = "endtrip.kept_all" if keyboards.chosen(update) == "all" else "endtrip.kept"
    await context.bot.send_message(update.effective_chat.id, context.t(kept),
                                   parse_mode="HTML")
    return ConversationHandler.END


async def report_what(update: Update, context: BotContext) -> int:
    """Store what happened on the trip and ask what colleagues should be warned about."""
    text = await _report_text(update, context)
    if text is None:
        return EndTrip.WHAT
    report = _user_data(context).setdefault(ENDTRIP, {})
    report["what"] = text
    assert update.effective_message
    t = context.t
    await update.effective_message.reply_html(
        t("endtrip.ask_warn"), reply_markup=_one_button(t("endtrip.button.no_warning"),
                                                        "endtrip:nowarn"))
    return EndTrip.WARN


async def report_warn(update: Update, context: BotContext) -> int:
    """Store the warning for colleagues, save the report and thank the rep."""
    text = await _report_text(update, context)
    if text is None:
        return EndTrip.WARN
    report = _user_data(context).pop(ENDTRIP, {})
    if "trip_id" in report:
        await context.services.trips.file_report(
            int(report["trip_id"]), context.member, str(report.get("what") or ""), text)
    assert update.effective_message
    t = context.t
    await update.effective_message.reply_html(
        t("endtrip.thanks") + ("\n" + t("endtrip.hazard_hint") if text else ""))
    await context.services.deliver()
    return ConversationHandler.END


async def _report_text(update: Update, context: BotContext) -> str | None:
    """Return the typed answer, "" for the "nothing" button, None (after saying so) if too long."""
    if update.callback_query is not None:
        await update.callback_query.answer()
        await update.callback_query.edit_message_reply_markup(None)
        return ""
    assert update.effective_message
    assert update.effective_message.text is not None
    text = update.effective_message.text.strip()
    if len(text) > MAX_REPORT:
        await update.effective_message.reply_html(context.t("endtrip.too_long", max=MAX_REPORT))
        return None
    return text


async def report_cancelled(update: Update, context: BotContext) -> int:
    """/cancel during the report: the trip stays ended, no report is kept (the managers
    hear that it ended without one); /cancel before confirming: nothing was ended."""
    report = _user_data(context).pop(ENDTRIP, None)
    assert update.effective_message
    if not report or "trip_id" not in report:
        await update.effective_message.reply_html(context.t("endtrip.kept"))
        return ConversationHandler.END
    await context.services.trips.file_report(int(report["trip_id"]), context.member, None, None)
    await update.effective_message.reply_html(context.t("endtrip.no_report"))
    await context.services.deliver()
    return ConversationHandler.END


async def _forget_report(context: BotContext) -> None:
    _user_data(context).pop(ENDTRIP, None)


def build_endtrip() -> Flow:
    return Flow(
        entry_points=[Command("endtrip", end_trip),
                      CallbackQueryHandler(end_confirmed, pattern=r"^endtrip:end:\d{1,18}$"),
                      CallbackQueryHandler(withdraw_pressed,
                                           pattern=r"^endtrip:withdraw:\d{1,18}$"),
                      CallbackQueryHandler(end_kept, pattern=r"^endtrip:keep(:all)?$")],
        states={
            EndTrip.CONFIRM: [
                CallbackQueryHandler(end_confirmed, pattern=r"^endtrip:end:\d{1,18}$"),
                CallbackQueryHandler(withdraw_pressed, pattern=r"^endtrip:withdraw:\d{1,18}$"),
                CallbackQueryHandler(end_kept, pattern=r"^endtrip:keep(:all)?$")],
            EndTrip.WHAT: [MessageHandler(NEW_TEXT, report_what),
                           CallbackQueryHandler(report_what, pattern=r"^endtrip:nothing$")],
            EndTrip.WARN: [MessageHandler(NEW_TEXT, report_warn),
                           CallbackQueryHandler(report_warn, pattern=r"^endtrip:nowarn$")],
        },
        fallbacks=[Command("cancel", report_cancelled)],
        name="endtrip", cleanup=_forget_report,
    )


# --- approval ---------------------------------------------------------------------------------


async def _decided_text(context: BotContext, trip: Trip, approved: bool, reason: str) -> str:
    """Return the manager's approval request rewritten to show the outcome."""
    t = context.t
    rep = await context.services.enrolment.member(trip.user_id)
    key = "approval.outcome.approved" if approved else "approval.outcome.rejected"
    return t(key, name=rep.name if rep else "?", by_name=context.member.name,
             reason=reason or "—", summary=Raw(trip_summary(t, trip)))


async def approve(update: Update, context: BotContext) -> None:
    """Approve the trip (its check-ins are scheduled) and show the outcome on the request."""
    query = update.callback_query
    assert query
    assert query.data
    trip_id = int(query.data.rsplit(":", 1)[-1])
    try:
        trip = await context.services.trips.decide(trip_id, context.member, True)
    except DecisionError as refused:
        await _decision_refused(update, context, refused.reason)
        return
    await query.answer(context.t.toast("approval.done.approved"))
    await _show_outcome(update, context, await _decided_text(context, trip, True, ""))
    await context.services.deliver()


async def _show_outcome(update: Update, context: BotContext, text: str) -> None:
    """Rewrite the request with the outcome; a request deleted meanwhile gets a new message.

    The decision is already stored: a failed edit must not turn it into "something went wrong".
    """
    query = update.callback_query
    assert query
    try:
        await query.edit_message_text(text, parse_mode="HTML")
    except BadRequest as exc:
        log.info("approval request of user %s not editable (%s): sent anew",
                 context.member.id, exc)
        await context.bot.send_message(context.member.id, text, parse_mode="HTML")


async def _decision_refused(update: Update, context: BotContext, reason: str) -> None:
    """Tell the manager why not; an already decided request loses its buttons."""
    query = update.callback_query
    assert query
    await query.answer(context.t.toast(f"approval.err.{reason}"), show_alert=True)
    if reason in ("already", "unknown") and query.message is not None and getattr(
            query.message, "reply_markup", None):
        await query.edit_message_reply_markup(None)


async def reject_pressed(update: Update, context: BotContext) -> int:
    """Keep which request is being rejected and ask for the reason (the rep will read it)."""
    query = update.callback_query
    assert query
    assert query.data
    assert query.message
    trip_id = int(query.data.rsplit(":", 1)[-1])
    try:
        await context.services.trips.may_decide(trip_id, context.member)
    except DecisionError as refused:
        await _decision_refused(update, context, refused.reason)
        return ConversationHandler.END
    _user_data(context)[REJECT] = {"trip_id": trip_id, "chat_id": query.message.chat.id,
                                   "message_id": query.message.message_id}
    await query.answer()
    assert update.effective_message
    await update.effective_message.reply_html(context.t("approval.ask_reason"),
                                              reply_markup=ForceReply(selective=True))
    return Reject.REASON


async def reject_reason(update: Update, context: BotContext) -> int:
    """Reject with the typed reason; the rep is told, the request shows the outcome."""
    message = update.effective_message
    assert message
    assert message.text is not None
    reason, t = message.text.strip(), context.t
    if not reason or len(reason) > MAX_REASON:
        await message.reply_html(t("approval.reason_bad", max=MAX_REASON))
        return Reject.REASON
    pending = _user_data(context).pop(REJECT, {})
    try:
        trip = await context.services.trips.decide(int(pending["trip_id"]), context.member,
                                                   False, reason)
    except (DecisionError, KeyError) as refused:
        why = refused.reason if isinstance(refused, DecisionError) else "unknown"
        await message.reply_html(t(f"approval.err.{why}"))
        return ConversationHandler.END
    outcome = await _decided_text(context, trip, False, reason)
    try:
        await context.bot.edit_message_text(outcome, chat_id=pending["chat_id"],
                                            message_id=pending["message_id"], parse_mode="HTML")
    except BadRequest:  # the request was deleted meanwhile: the rejection stands
        await message.reply_html(outcome)
    await message.reply_html(t("approval.done.rejected"))
    await context.services.deliver()
    return ConversationHandler.END


async def reject_cancelled(update: Update, context: BotContext) -> int:
    """/cancel instead of a reason: the trip still waits for a decision."""
    _user_data(context).pop(REJECT, None)
    assert update.effective_message
    await update.effective_message.reply_html(context.t("approval.reject_cancelled"))
    return ConversationHandler.END


async def _forget_reject(context: BotContext) -> None:
    _user_data(context).pop(REJECT, None)


def build_reject() -> Flow:
    return Flow(
        entry_points=[CallbackQueryHandler(reject_pressed, pattern=r"^approve:no:\d{1,18}$")],
        states={Reject.REASON: [MessageHandler(NEW_TEXT, reject_reason)]},
        fallbacks=[Command("cancel", reject_cancelled),
                   CallbackQueryHandler(reject_pressed, pattern=r"^approve:no:\d{1,18}$")],
        name="reject", cleanup=_forget_reject,
    )


def register(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    app.add_handler(build_endtrip())
    risk.register(app)  # after /endtrip, before /reject: the gate closes questions in order
    app.add_handler(build_reject())
    app.add_handler(Command("trips", list_trips))
    app.add_handler(CallbackQueryHandler(approve, pattern=r"^approve:yes:\d{1,18}$"))
