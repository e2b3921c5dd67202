"""/risk <place>: a place's risk, with colleagues' client safety notes and the lessons learned
near it; without a place, asked for (a name or a pin), matches offered as buttons."""

from __future__ import annotations

from dataclasses import asdict
from enum import IntEnum
from typing import Any

from telegram import ReplyKeyboardRemove, Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    ConversationHandler,
    MessageHandler,
)

from conversations.context import BotContext
from conversations.flows import common, drafts
from conversations.flows.base import Command, Flow
from conversations.flows.common import NEW_MESSAGE, NEW_PIN, NEW_TEXT
from conversations.render import crisis
from conversations.render import visit as visit_render
from conversations.render.formatting import place_name
from conversations.render.trip import risk_text
from fieldbot.domain.places import Place

MAX_PLACE = 200
RISK_CHOICES = "risk_choices"


class RiskAsk(IntEnum):
    PLACE = 1


_user_data = drafts.store


PLACE = common.PlaceQuestion(
    empty="risk.bad_query", too_long="risk.bad_query", not_found="risk.not_found",
    pick="risk.pick", button="risk:pick:", longest=MAX_PLACE)


async def _render_risk(context: BotContext, place: Place,
                       pin: tuple[float, float] | None = None) -> str:
    """The place's risk, and colleagues' client safety notes within 300 m of it (or the pin)."""
    assessment = await context.services.risk.assess_place(place)
    text = risk_text(context.t, place, assessment, context.services.clock.now())
    notes = await context.services.visits.notes_for("", pin or (place.lat, place.lon))
    if notes:
        text += "\n\n" + visit_render.notes_block(context.t, notes, "risk.notes_head")
    lessons = await context.services.lessons.near(place)  # anonymised, DESIGN.md §12
    if lessons:
        text += "\n\n" + crisis.lessons_near(context.t, len(lessons),
                                            place_name(place, context.t.language))
    return text


async def risk_command(update: Update, context: BotContext) -> int:
    """Answer /risk <place>; without a place, ask for one (a name or a pin)."""
    assert update.effective_message
    query = " ".join(context.args or [])
    if query.strip():
        return await _risk_for(update, context, query)
    await update.effective_message.reply_html(context.t("risk.ask"),
                                              reply_markup=common.location_keyboard(context.t))
    return RiskAsk.PLACE


async def risk_typed(update: Update, context: BotContext) -> int:
    """Answer for the typed place."""
    assert update.effective_message
    assert update.effective_message.text is not None
    return await _risk_for(update, context, update.effective_message.text)


async def _risk_for(update: Update, context: BotContext, text: str) -> int:
    """Reply with the risk of the place meant, or matches to pick from, or why not."""
    assert update.effective_message
    country = await context.services.risk.country(text)
    if country is not None:
        # "Germany", "德国", "Jordan", "Lebanon": the country's own advisories, never a town
        # or district of that name elsewhere (Jordan, Hong Kong; Lebanon, Ohio), nor one that
        # only begins like it (Koreatown). A city-state's advisories are its city's.
        assessment = await context.services.risk.assess_country(country)
        await update.effective_message.reply_html(
            risk_text(context.t, country, assessment, context.services.clock.now(),
                      country=True), reply_markup=ReplyKeyboardRemove())
        return ConversationHandler.END
    found = await common.search_place(update, context, text, PLACE)
    if found is None:
        return RiskAsk.PLACE
    if isinstance(found, Place):
        await update.effective_message.reply_html(await _render_risk(context, found),
                                                  reply_markup=ReplyKeyboardRemove())
    else:  # the matches are buttons now: the press is answered outside the conversation
        _user_data(context)[RISK_CHOICES] = [asdict(p) for p in found]
    return ConversationHandler.END


async def risk_pin(update: Update, context: BotContext) -> int:
    """Answer for a shared pin."""
    message = update.effective_message
    assert message
    place = await common.pinned_place(update, context)
    if place is None or message.location is None:
        return RiskAsk.PLACE
    pin = (message.location.latitude, message.location.longitude)
    await message.reply_html(await _render_risk(context, place, pin),
                             reply_markup=ReplyKeyboardRemove())
    return ConversationHandler.END


async def risk_other(update: Update, context: BotContext) -> int:
    """Neither a name nor a pin: ask again."""
    assert update.effective_message
    await update.effective_message.reply_html(context.t("risk.ask"))
    return RiskAsk.PLACE


async def risk_picked(update: Update, context: BotContext) -> None:
    """Replace the list of matches with the risk of the one picked."""
    query = update.callback_query
    assert query
    assert query.data
    choices = _user_data(context).get(RISK_CHOICES) or []
    index = common.picked_place(update, context, PLACE, len(choices))
    if index is None:
        await query.answer(context.t.toast("guard.stale_button"), show_alert=True)
        return
    await query.answer()
    place = Place(**choices[index])
    await query.edit_message_text(await _render_risk(context, place), parse_mode="HTML")


def build_risk() -> Flow:
    return Flow(
        entry_points=[Command("risk", risk_command)],
        states={RiskAsk.PLACE: [MessageHandler(NEW_TEXT, risk_typed),
                                MessageHandler(NEW_PIN, risk_pin),
                                MessageHandler(NEW_MESSAGE, risk_other)]},
        fallbacks=[Command("cancel", common.cancelled)],
        name="risk",
    )


def register(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Register /risk and its match buttons (pressed after the conversation ended)."""
    app.add_handler(build_risk())
    app.add_handler(CallbackQueryHandler(risk_picked, pattern=r"^risk:pick:\d{1,18}:[0-9a-f]{6}$"))
