"""/trip: a trip plan step by step — destination, dates, more legs, lodging, emergency contact,
night visits — then the summary with the destination risk, and Confirm / Edit / Cancel.

The draft lives in `user_data` as a `TripDraft` (JSON), so a restart mid-/trip resumes it; its
`draft_key` makes a second Confirm harmless (the service saves a draft once).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from telegram import ReplyKeyboardRemove, Update
from telegram.ext import (
    Application,
    BaseHandler,
    CallbackQueryHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from conversations.context import BotContext
from conversations.flows import common
from conversations.flows import trips as trips_cmd
from conversations.flows.base import DRAFT_LIFETIME, Flow
from conversations.flows.common import NEW_MESSAGE, NEW_PIN, NEW_TEXT, pressed
from conversations.flows.trip_draft import LegData, PlaceData, Step, TripDraft
from conversations.flows.trip_questions import (
    TRIP,
    after_section,
    ask,
    earliest_start,
    local_today,
    page_turned,
    refusal,
    saved,
    show_summary,
)
from conversations.render import keyboards
from conversations.render.formatting import day, place_label, zone_name
from fieldbot.domain.places import Place
from fieldbot.domain.trips import (
    MAX_COMPANION,
    MAX_LEGS,
    MAX_LODGING,
    DateProblem,
    check_end,
    check_start,
    normalise_phone,
    parse_day,
    split_contact,
)

_chosen = keyboards.chosen
_take_buttons_off = keyboards.take_buttons_off
# The questions (trip_questions.py) under the names the handlers below have always used.
_ask, _after_section, _show_summary = ask, after_section, show_summary
_earliest, _local_today = earliest_start, local_today
_load, _save = TRIP.load, TRIP.save
MAX_DESTINATION = 200
MAX_CONTACT = 200


# --- destination ------------------------------------------------------------------------------


PLACE = common.PlaceQuestion(
    empty="trip.destination.empty", too_long="trip.destination.too_long",
    not_found="trip.destination.not_found", pick="trip.destination.pick",
    button="trip:place:", longest=MAX_DESTINATION)


async def destination_text(update: Update, context: BotContext) -> Step:
    """Look the typed place up: take the one meant, or offer the matches as buttons."""
    assert update.effective_message
    assert update.effective_message.text is not None
    found = await common.search_place(update, context, update.effective_message.text, PLACE)
    draft = _load(context)
    if isinstance(found, Place):
        return await _place_chosen(update, context, draft, found)
    if found:
        draft.choices = [PlaceData.of(p) for p in found]
        _save(context, draft)
    return Step.DESTINATION


async def destination_pin(update: Update, context: BotContext) -> Step:
    """Take a shared pin as the destination (its time zone from the coordinates)."""
    place = await common.pinned_place(update, context)
    if place is None:
        return Step.DESTINATION
    return await _place_chosen(update, context, _load(context), place)


async def destination_other(update: Update, context: BotContext) -> Step:
    """Neither a place name nor a pin: say what is expected."""
    assert update.effective_message
    await update.effective_message.reply_html(context.t("trip.destination.empty",
                                                        max=MAX_DESTINATION))
    return Step.DESTINATION


async def place_picked(update: Update, context: BotContext) -> Step | None:
    """Take the place picked from the matches and ask for the start date."""
    query = update.callback_query
    assert query
    draft = _load(context)
    index = common.picked_place(update, context, PLACE, len(draft.choices))
    if draft.step is not Step.DESTINATION or index is None:
        await TRIP.stale_button(update, context)
        return None
    place = draft.choices[index].place()
    await query.answer()
    await query.edit_message_text(context.t("trip.destination.picked",
                                            place=place_label(place, context.t.language)),
                                  parse_mode="HTML")
    return await _place_chosen(update, context, draft, place)


async def _place_chosen(
    update: Update, context: BotContext, draft: TripDraft, place: Place
) -> Step:
    draft.legs.append(LegData(place=PlaceData.of(place)))
    draft.choices = []
    assert update.effective_message
    await update.effective_message.reply_html(
        context.t("trip.destination.set", place=place_label(place, context.t.language),
                  tz=zone_name(place.tz_name, context.t.language)),
        reply_markup=ReplyKeyboardRemove(),
    )
    return await _ask(update, context, draft, Step.START)


# --- dates ------------------------------------------------------------------------------------


def _typed(update: Update) -> str:
    assert update.effective_message
    assert update.effective_message.text is not None
    return update.effective_message.text[:40]


async def start_typed(update: Update, context: BotContext) -> Step:
    """Store the typed start date of this leg and ask for its end date."""
    return await _take_start(update, context, _typed(update))


async def start_pressed(update: Update, context: BotContext) -> Step:
    """Store the pressed start date of this leg and ask for its end date."""
    await _take_buttons_off(update)
    return await _take_start(update, context, _chosen(update))


async def _take_start(update: Update, context: BotContext, answer: str) -> Step:
    draft = _load(context)
    if not draft.legs:  # the draft was erased under an open conversation: start it again
        return await _ask(update, context, draft, Step.DESTINATION)
    today = _local_today(context, draft.legs[-1].place.place())
    value, earliest = _parse_day(context, answer, today), _earliest(context, draft)
    if isinstance(value, DateProblem):
        return await _date_refused(update, context, f"trip.date.{value}", earliest)
    if (problem := check_start(value, today)) is not None:
        return await _date_refused(update, context, f"trip.date.{problem}", earliest)
    if value < earliest:
        return await _date_refused(update, context, "trip.date.before_previous", earliest)
    draft.legs[-1].start = value
    return await _ask(update, context, draft, Step.END)


async def end_typed(update: Update, context: BotContext) -> Step:
    """Store the typed end date and ask whether another destination follows."""
    return await _take_end(update, context, _typed(update))


async def end_pressed(update: Update, context: BotContext) -> Step:
    """Store the pressed end date and ask whether another destination follows."""
    await _take_buttons_off(update)
    return await _take_end(update, context, _chosen(update))


async def _take_end(update: Update, context: BotContext, answer: str) -> Step:
    draft = _load(context)
    start = draft.legs[-1].start if draft.legs else None
    if start is None:  # the draft was erased under an open conversation: start it again
        return await _ask(update, context, draft, Step.START)
    value = _parse_day(context, answer, _local_today(context, draft.legs[-1].place.place()))
    limit, first = context.services.settings.max_trip_days, draft.legs[0].start or start
    problem = value if isinstance(value, DateProblem) else (
        check_end(start, value, limit) or check_end(first, value, limit))
    if problem is not None or not isinstance(value, date):
        return await _date_refused(update, context, f"trip.date.{problem}", start)
    draft.legs[-1].end = value
    if len(draft.legs) >= MAX_LEGS:
        return await _after_section(update, context, draft, Step.LODGING)
    return await _ask(update, context, draft, Step.MORE)


def _parse_day(context: BotContext, answer: str, today: date) -> date | DateProblem:
    """Chinese users write the month first: 12/3 is 3 December."""
    return parse_day(answer, today, month_first=context.t.language == "zh")


async def _date_refused(update: Update, context: BotContext, key: str, near: date) -> Step:
    """Say why the date does not work and ask again (same step)."""
    assert update.effective_message
    t = context.t
    await update.effective_message.reply_html(t(
        key, date=day(near, t.language), max=context.services.settings.max_trip_days))
    return await TRIP.ask_again(update, context)


async def more_legs(update: Update, context: BotContext) -> Step:
    """Another destination: ask for it; otherwise go on to the lodging."""
    await _take_buttons_off(update)
    return await _take_more(update, context, _chosen(update) == "yes")


async def more_typed(update: Update, context: BotContext) -> Step:
    """A typed answer to "another destination?" ("没有了", "no"), as if its button was pressed."""
    more = common.typed_yes_no(update, context.t, "trip.button.more_yes", "trip.button.more_no")
    if more is None:
        return await TRIP.unexpected(update, context)
    return await _take_more(update, context, more)


async def _take_more(update: Update, context: BotContext, more: bool) -> Step:
    draft = _load(context)
    if more:
        return await _ask(update, context, draft, Step.DESTINATION)
    return await _after_section(update, context, draft, Step.LODGING)


# --- lodging, contact, night visits -----------------------------------------------------------


async def lodging_typed(update: Update, context: BotContext) -> Step:
    """Store the lodging address and ask for the emergency contact."""
    assert update.effective_message
    assert update.effective_message.text is not None
    text = update.effective_message.text.strip()
    if not text or len(text) > MAX_LODGING:
        await update.effective_message.reply_html(context.t("trip.lodging.bad", max=MAX_LODGING))
        return Step.LODGING
    draft = _load(context)
    draft.lodging = text
    return await _after_section(update, context, draft, Step.CONTACT)


async def lodging_unknown(update: Update, context: BotContext) -> Step:
    """Store "not yet known" as the lodging and ask for the emergency contact."""
    await _take_buttons_off(update)
    draft = _load(context)
    draft.lodging = ""
    return await _after_section(update, context, draft, Step.CONTACT)


async def contact_typed(update: Update, context: BotContext) -> Step:
    """Store a typed "Name +phone" as the emergency contact and ask about night visits."""
    assert update.effective_message
    assert update.effective_message.text is not None
    text = update.effective_message.text
    found = split_contact(text) if len(text) <= MAX_CONTACT else None
    if found is None:
        await update.effective_message.reply_html(context.t("trip.contact.invalid"))
        return Step.CONTACT
    return await _take_contact(update, context, found[0], found[1], None)


async def contact_shared(update: Update, context: BotContext) -> Step:
    """Store a shared contact card as the emergency contact and ask about night visits."""
    message = update.effective_message
    assert message
    assert message.contact
    card = message.contact
    phone = normalise_phone(card.phone_number or "")
    name = " ".join(filter(None, [card.first_name, card.last_name])).strip()[:100]
    if card.user_id is not None and card.user_id == context.member.id:
        await message.reply_html(context.t("trip.contact.own"))
        return Step.CONTACT
    if phone is None or not name:
        await message.reply_html(context.t("trip.contact.invalid"))
        return Step.CONTACT
    return await _take_contact(update, context, name, phone, card.user_id)


async def _take_contact(
    update: Update, context: BotContext, name: str, phone: str, user_id: int | None
) -> Step:
    draft = _load(context)
    draft.contact_name, draft.contact_phone, draft.contact_user_id = name, phone, user_id
    return await _after_section(update, context, draft, Step.NIGHTS)


async def nights_chosen(update: Update, context: BotContext) -> Step:
    """Store whether client visits after dark are planned; if so ask with whom."""
    await _take_buttons_off(update)
    return await _take_nights(update, context, _chosen(update) == "yes")


async def nights_typed(update: Update, context: BotContext) -> Step:
    """A typed answer to "client visits after dark?" ("是", "否", "yes"), as if pressed."""
    nights = common.typed_yes_no(update, context.t, "trip.button.yes", "trip.button.no")
    if nights is None:
        return await TRIP.unexpected(update, context)
    return await _take_nights(update, context, nights)


async def _take_nights(update: Update, context: BotContext, nights: bool) -> Step:
    draft = _load(context)
    draft.night_visits = nights
    if draft.night_visits:
        return await _ask(update, context, draft, Step.COMPANION)
    draft.companion = ""
    return await _show_summary(update, context, draft)


async def companion_typed(update: Update, context: BotContext) -> Step:
    """Store who goes along on night visits and show the summary."""
    assert update.effective_message
    assert update.effective_message.text is not None
    text = update.effective_message.text.strip()
    if not text or len(text) > MAX_COMPANION:
        await update.effective_message.reply_html(context.t("trip.companion.bad",
                                                            max=MAX_COMPANION))
        return Step.COMPANION
    draft = _load(context)
    # "Alone" typed must not pass for a companion's name: the trip would skip the approval
    draft.companion = "" if common.means_alone(text, context.t, "trip.button.alone") else text
    return await _show_summary(update, context, draft)


async def companion_alone(update: Update, context: BotContext) -> Step:
    """Store "alone" (the manager will have to approve) and show the summary."""
    await _take_buttons_off(update)
    draft = _load(context)
    draft.companion = ""
    return await _show_summary(update, context, draft)


# --- summary: confirm or edit -----------------------------------------------------------------


async def confirm(update: Update, context: BotContext) -> int | None:
    """Submit the plan; saved, waiting for the manager, or refused with the reason."""
    query = update.callback_query
    assert query
    assert update.effective_message
    draft = _load(context)
    if query.data != f"trip:confirm:{draft.draft_key}":
        await TRIP.stale_button(update, context)
        return None
    await query.answer()
    outcome = await context.services.trips.submit(context.member, draft.plan(), draft.draft_key)
    next_state: int = Step.CONFIRM  # refused, nothing saved: the summary and its buttons stay
    if outcome.refused is not None:
        text = refusal(context.t, outcome)
    else:
        assert outcome.trip is not None
        await query.edit_message_reply_markup(None)
        TRIP.mark_saved(context, draft.draft_key, trip_id=outcome.trip.id)
        text, next_state = saved(context, outcome), ConversationHandler.END
    await update.effective_message.reply_html(text)
    await context.services.deliver()  # after the reply, so the rep reads it first
    return next_state


async def edit_menu(update: Update, context: BotContext) -> Step:
    """Offer the parts of the plan to change."""
    await _take_buttons_off(update)
    return await _ask(update, context, _load(context), Step.EDIT)


async def edit_chosen(update: Update, context: BotContext) -> Step:
    """Ask the chosen part again (destinations start over); then back to the summary."""
    await _take_buttons_off(update)
    draft, part = _load(context), _chosen(update)
    if part == "back":
        return await _show_summary(update, context, draft)
    draft.editing = True
    if part == "legs":
        draft.legs = []
        return await _ask(update, context, draft, Step.DESTINATION)
    steps = {"lodging": Step.LODGING, "contact": Step.CONTACT, "nights": Step.NIGHTS}
    return await _ask(update, context, draft, steps[part])


# --- wiring -----------------------------------------------------------------------------------


def build_trip() -> Flow:
    """The /trip conversation: one state per question, persisted across restarts."""
    anything = MessageHandler(NEW_MESSAGE, TRIP.unexpected)
    on_day = r":\d{4}-\d{2}-\d{2}$"
    states: dict[object, list[BaseHandler[Update, BotContext, Any]]] = {
        Step.DESTINATION: [MessageHandler(NEW_TEXT, destination_text),
                           MessageHandler(NEW_PIN, destination_pin),
                           pressed(place_picked, r"^trip:place:\d+:[0-9a-f]{6}$"),
                           MessageHandler(NEW_MESSAGE, destination_other)],
        Step.START: [MessageHandler(NEW_TEXT, start_typed),
                     pressed(start_pressed, "^trip:start" + on_day),
                     pressed(page_turned, r"^trip:start:page:\d{1,2}$"), anything],
        Step.END: [MessageHandler(NEW_TEXT, end_typed),
                   pressed(end_pressed, "^trip:end" + on_day),
                   pressed(page_turned, r"^trip:end:page:\d{1,2}$"), anything],
        Step.MORE: [pressed(more_legs, r"^trip:more:(yes|no)$"),
                    MessageHandler(NEW_TEXT, more_typed), anything],
        Step.LODGING: [MessageHandler(NEW_TEXT, lodging_typed),
                       pressed(lodging_unknown, r"^trip:lodging:unknown$"), anything],
        Step.CONTACT: [MessageHandler(NEW_TEXT, contact_typed),
                       MessageHandler(NEW_MESSAGE & filters.CONTACT, contact_shared), anything],
        Step.NIGHTS: [pressed(nights_chosen, r"^trip:nights:(yes|no)$"),
                      MessageHandler(NEW_TEXT, nights_typed), anything],
        Step.COMPANION: [MessageHandler(NEW_TEXT, companion_typed),
                         pressed(companion_alone, r"^trip:companion:alone$"), anything],
        Step.CONFIRM: [pressed(confirm, r"^trip:confirm:"), pressed(edit_menu, r"^trip:edit$"),
                       anything],
        Step.EDIT: [pressed(edit_chosen, r"^trip:edit:(legs|lodging|contact|nights|back)$"),
                    anything],
    }
    return Flow(entry_points=TRIP.entry_points(), states=states, fallbacks=TRIP.fallbacks(),
                name="trip", lifetime=DRAFT_LIFETIME, command="/trip")


def register(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Register /trip and its companions: /trips, /endtrip, /risk and the approval buttons."""
    app.add_handler(build_trip())
    app.add_handler(CallbackQueryHandler(TRIP.stale_button, pattern=r"^trip:"))
    trips_cmd.register(app)
