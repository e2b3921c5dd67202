"""/hazard (安全隐患随手拍): photos → category → severity → location → description → summary →
Confirm. /hazards (leads: Verify / Dismiss) and /points are `hazards.py`.

A photo sent outside any conversation starts a draft with it (Cancel drops it). Each photo is
checked and cleaned as it arrives, so a bad file is refused at once and the rest of the report
is kept. The draft lives in `user_data` as a `HazardDraft` (JSON), so a restart resumes it.
"""

from __future__ import annotations

from typing import Any

from telegram import (
    InlineKeyboardMarkup,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.error import BadRequest
from telegram.ext import (
    Application,
    BaseHandler,
    CallbackQueryHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from conversations.context import BotContext
from conversations.flows import common, hazards
from conversations.flows.base import DRAFT_LIFETIME, Flow
from conversations.flows.common import NEW_MESSAGE, NEW_PIN, NEW_TEXT, pressed
from conversations.flows.drafts import DraftFlow
from conversations.flows.hazard_draft import HazardDraft, Spot, Step
from conversations.flows.trips import earliest_today
from conversations.i18n import Raw, Texts
from conversations.render import hazard as hazard_render
from conversations.render import keyboards
from conversations.render.formatting import place_label, place_name
from fieldbot.domain.hazards import (
    MAX_DESCRIPTION,
    MAX_PHOTOS,
    MAX_PLACE_LABEL,
    Category,
    Severity,
    valid_position,
)
from fieldbot.domain.places import Place
from fieldbot.services.hazards import Reported
from fieldbot.services.photos import PhotoProblem, PhotoRejected

_buttons = keyboards.rows
_chosen = keyboards.chosen
_take_buttons_off = keyboards.take_buttons_off

NEW_PICTURE = NEW_MESSAGE & (filters.PHOTO | filters.Document.ALL)
PICTURE_OFFER = NEW_MESSAGE & (filters.PHOTO | filters.Document.IMAGE)


def _spot(place: Place) -> Spot:
    return Spot(label=place.label()[:MAX_PLACE_LABEL], lat=place.lat, lon=place.lon,
                label_zh=place_label(place, "zh")[:MAX_PLACE_LABEL])


# --- asking -----------------------------------------------------------------------------------

Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove | None


def _severity_buttons(t: Texts, *, explained: bool) -> InlineKeyboardMarkup:
    levels = [[(hazard_render.severity_text(t, int(s)), f"hazard:sev:{int(s)}")]
              for s in reversed(Severity)]
    help_row = [] if explained else [[(t("hazard.button.severity_help"), "hazard:sevhelp")]]
    return _buttons(*levels, *help_row)


def _question(t: Texts, draft: HazardDraft, step: Step) -> tuple[str, Markup]:
    if step is Step.PHOTOS:
        if not draft.photos:
            return t("hazard.ask.photos", max=MAX_PHOTOS), _buttons(
                [(t("hazard.button.no_photo"), "hazard:photos:none")])
        return (t("hazard.ask.more_photos", count=len(draft.photos), max=MAX_PHOTOS),
                _buttons([(t("hazard.button.done"), "hazard:photos:done")]))
    if step is Step.CATEGORY:
        return t("hazard.ask.category"), _buttons(*(
            [(t(f"hazard.category.{c.value}"), f"hazard:cat:{c.value}")] for c in Category))
    if step is Step.SEVERITY:
        return t("hazard.ask.severity"), _severity_buttons(t, explained=False)
    if step is Step.LOCATION:
        trip = [draft.trip_button] if draft.trip_button else []
        return t("hazard.ask.location"), common.location_keyboard(t, "hazard.button.pin", *trip)
    return t("hazard.ask.description", max=MAX_DESCRIPTION), ReplyKeyboardRemove()


async def _ask(update: Update, context: BotContext, draft: HazardDraft, step: Step) -> Step:
    """Store the step the draft is at and ask its question (the summary for CONFIRM)."""
    if step is Step.CONFIRM:
        return await _show_summary(update, context, draft)
    if step is Step.LOCATION:
        await _offer_trip(context, draft)
    draft.step = step
    _save(context, draft)
    text, markup = _question(context.t, draft, step)
    assert update.effective_message
    await update.effective_message.reply_html(text, reply_markup=markup)
    return step


async def _discard_photos(context: BotContext, draft: HazardDraft) -> None:
    await context.services.hazards.discard_photos(draft.refs(), context.member.id)


HAZARD = DraftFlow("hazard", HazardDraft, Step.PHOTOS, _ask, discard=_discard_photos)
_load, _save = HAZARD.load, HAZARD.save


async def _offer_trip(context: BotContext, draft: HazardDraft) -> None:
    """Offer the destination of my trip under way (or the next one) as a location."""
    today = earliest_today(context.services.clock.now())
    trips = await context.services.trips.current_and_upcoming(context.member.id, today)
    legs = [leg for trip in trips for leg in trip.legs if leg.end >= today]
    if not legs:
        draft.trip_button, draft.trip_spot = "", None
        return
    draft.trip_spot = _spot(legs[0].place)
    draft.trip_button = context.t("hazard.button.trip",
                                   place=place_name(legs[0].place, context.t.language))


def _summary(t: Texts, draft: HazardDraft) -> str:
    assert draft.category and draft.severity and draft.spot
    return t("hazard.summary", category=t(f"hazard.category.{draft.category.value}"),
             severity=Raw(hazard_render.severity_text(t, int(draft.severity))),
             place=draft.spot.named(t.language), description=draft.description,
             photos=len(draft.photos))


async def _show_summary(update: Update, context: BotContext, draft: HazardDraft) -> Step:
    """Show the report as it will be sent and ask for Confirm / Cancel."""
    t = context.t
    draft.step = Step.CONFIRM
    _save(context, draft)
    route = "hazard.route.urgent" if draft.severity and draft.severity.urgent else \
        "hazard.route.queue"
    assert update.effective_message
    await update.effective_message.reply_html(
        _summary(t, draft) + "\n\n" + t(route),
        reply_markup=_buttons([(t("hazard.button.confirm"), f"hazard:confirm:{draft.draft_key}")],
                              [(t("hazard.button.cancel"), "hazard:cancel")]))
    return Step.CONFIRM


# --- photos -----------------------------------------------------------------------------------


async def _fetch(update: Update, context: BotContext) -> bytes:
    """Download the photo or file of the message; refuse it over 20 MB before downloading."""
    message = update.effective_message
    assert message
    media = message.photo[-1] if message.photo else message.document
    assert media is not None
    context.services.hazards.check_size(media.file_size)
    try:
        file = await context.bot.get_file(media.file_id)
    except BadRequest as exc:  # "file is too big" when the size was not announced
        too_big = "too big" in str(exc).lower()
        raise PhotoRejected(PhotoProblem.TOO_BIG if too_big else PhotoProblem.BROKEN) from exc
    context.services.hazards.check_size(file.file_size)
    return bytes(await file.download_as_bytearray())


async def _take_photo(update: Update, context: BotContext, draft: HazardDraft) -> bool:
    """Add the message's photo to the draft; say why not (the draft is kept) and return False."""
    assert update.effective_message and update.effective_user
    try:
        ref = await context.services.hazards.add_photo(await _fetch(update, context),
                                                        update.effective_user.id)
    except PhotoRejected as refused:
        await update.effective_message.reply_html(context.t(f"hazard.photo.{refused.problem}"))
        return False
    if (ref.sha256, ref.path) in draft.photos:
        await update.effective_message.reply_html(context.t("hazard.photo.duplicate"))
        return False
    draft.photos.append((ref.sha256, ref.path))
    return True


async def photo_offer(update: Update, context: BotContext) -> Step | None:
    """A photo outside any conversation: start a report with it (Cancel drops it). A report
    put aside is offered instead (Continue / Start over), never dropped without a word."""
    if HAZARD.has_draft(context):
        await HAZARD.again(update, context)
        return None
    draft = HazardDraft()
    if not await _take_photo(update, context, draft):
        return None
    draft.step = Step.PHOTOS
    _save(context, draft)
    assert update.effective_message
    t = context.t
    await update.effective_message.reply_html(
        t("hazard.offer", max=MAX_PHOTOS),
        reply_markup=_buttons([(t("hazard.button.done"), "hazard:photos:done")],
                              [(t("hazard.button.cancel"), "hazard:cancel")]))
    return Step.PHOTOS


async def photo_added(update: Update, context: BotContext) -> Step:
    """Add a photo; after the fifth, go on to the category."""
    draft = _load(context)
    if len(draft.photos) >= MAX_PHOTOS:
        return await _ask(update, context, draft, Step.CATEGORY)
    if not await _take_photo(update, context, draft):
        _save(context, draft)
        return Step.PHOTOS
    if len(draft.photos) >= MAX_PHOTOS:
        return await _ask(update, context, draft, Step.CATEGORY)
    return await _ask(update, context, draft, Step.PHOTOS)


async def photo_extra(update: Update, context: BotContext) -> Step | None:
    """A photo after the last one taken (an album of ten arrives as ten messages at once):
    said once that it was not kept, and the question asked stays where it was."""
    draft = _load(context)
    if draft.told_extra:
        return None
    draft.told_extra = True
    _save(context, draft)
    assert update.effective_message
    await update.effective_message.reply_html(context.t("hazard.photo.over_max",
                                                        max=MAX_PHOTOS))
    return None


async def photos_done(update: Update, context: BotContext) -> Step:
    """Done with photos (or none at all): ask what the hazard is about."""
    await _take_buttons_off(update)
    draft = _load(context)
    if _chosen(update) == "none":  # "No photo" after all: those sent go, as Cancel's do
        await _discard_photos(context, draft)
        draft.photos = []
    return await _ask(update, context, draft, Step.CATEGORY)


# --- category, severity -----------------------------------------------------------------------


async def category_chosen(update: Update, context: BotContext) -> Step:
    """Store the category and ask how serious it is."""
    await _take_buttons_off(update)
    draft = _load(context)
    draft.category = Category(_chosen(update))
    return await _ask(update, context, draft, Step.SEVERITY)


async def severity_explained(update: Update, context: BotContext) -> None:
    """"What do the levels mean?": the same question, with a line on each level."""
    query = update.callback_query
    assert query
    t = context.t
    lines = "\n".join(t(f"hazard.severity_help.{int(s)}", severity=Raw(
        hazard_render.severity_text(t, int(s)))) for s in reversed(Severity))
    await query.answer()
    await query.edit_message_text(t("hazard.ask.severity_explained", levels=Raw(lines)),
                                  parse_mode="HTML",
                                  reply_markup=_severity_buttons(t, explained=True))


async def severity_chosen(update: Update, context: BotContext) -> Step:
    """Store the severity and ask where it is."""
    await _take_buttons_off(update)
    draft = _load(context)
    draft.severity = Severity(int(_chosen(update)))
    return await _ask(update, context, draft, Step.LOCATION)


# --- location ---------------------------------------------------------------------------------


async def location_pin(update: Update, context: BotContext) -> Step:
    """Take a shared pin as the spot itself (named after the nearest place)."""
    message = update.effective_message
    assert message
    assert message.location
    lat, lon = message.location.latitude, message.location.longitude
    if not valid_position(lat, lon):
        await message.reply_html(context.t("hazard.location.bad_pin"))
        return Step.LOCATION
    try:
        near: Place | None = await context.services.risk.place_at(lat, lon)
    except ValueError:
        near = None
    if near is not None and not near.country_code:  # at sea: named by its numbers, given below
        near = None
    label = f"{near.label() if near else ''} ({lat:.5f}, {lon:.5f})".strip()
    label_zh = f"{place_label(near, 'zh') if near else ''}（{lat:.5f}, {lon:.5f}）"
    spot = Spot(label=label[-MAX_PLACE_LABEL:], lat=lat, lon=lon,
                label_zh=label_zh[-MAX_PLACE_LABEL:])
    return await _located(update, context, spot, by_name=False)


PLACE = common.PlaceQuestion(
    empty="hazard.location.bad", too_long="hazard.location.bad",
    not_found="hazard.location.not_found", pick="hazard.location.pick",
    button="hazard:place:", longest=MAX_PLACE_LABEL)


async def location_text(update: Update, context: BotContext) -> Step:
    """Take my trip's destination, the place typed, or offer the matches as buttons."""
    message = update.effective_message
    assert message
    assert message.text is not None
    draft = _load(context)
    if draft.trip_spot is not None and message.text.strip() == draft.trip_button:
        return await _located(update, context, draft.trip_spot, by_name=True)
    found = await common.search_place(update, context, message.text, PLACE)
    if isinstance(found, Place):
        return await _located(update, context, _spot(found), by_name=True)
    if found:
        draft.choices = [_spot(p) for p in found]
        _save(context, draft)
    return Step.LOCATION


async def place_picked(update: Update, context: BotContext) -> Step | None:
    """Take the place picked among the matches."""
    draft = _load(context)
    index = common.picked_place(update, context, PLACE, len(draft.choices))
    if draft.step is not Step.LOCATION or index is None:
        await HAZARD.stale_button(update, context)
        return None
    await _take_buttons_off(update)
    return await _located(update, context, draft.choices[index], by_name=True)


async def _located(
    update: Update, context: BotContext, spot: Spot, *, by_name: bool
) -> Step:
    draft = _load(context)
    draft.spot, draft.by_place_name, draft.choices = spot, by_name, []
    assert update.effective_message
    await update.effective_message.reply_html(context.t("hazard.location.set",
                                                        place=spot.named(context.t.language)),
                                              reply_markup=ReplyKeyboardRemove())
    return await _ask(update, context, draft, Step.DESCRIPTION)


# --- description, summary, confirm ------------------------------------------------------------


async def description_typed(update: Update, context: BotContext) -> Step:
    """Store the description and show the summary."""
    message = update.effective_message
    assert message
    assert message.text is not None
    text = message.text.strip()
    if not text or len(text) > MAX_DESCRIPTION:
        await message.reply_html(context.t("hazard.description.bad", max=MAX_DESCRIPTION))
        return Step.DESCRIPTION
    draft = _load(context)
    draft.description = text
    return await _show_summary(update, context, draft)


async def confirm(update: Update, context: BotContext) -> int | None:
    """Save the report; red and orange reach the managers and officers at once."""
    query = update.callback_query
    assert query
    assert query.data
    draft = _load(context)
    if draft.step is not Step.CONFIRM or query.data != f"hazard:confirm:{draft.draft_key}":
        await HAZARD.stale_button(update, context)
        return None
    await _take_buttons_off(update)
    outcome = await context.services.hazards.report(context.member, draft.report(),
                                                    draft.draft_key)
    await context.services.deliver()
    HAZARD.mark_saved(context, draft.draft_key)
    assert update.effective_message
    await update.effective_message.reply_html(_outcome(context.t, outcome))
    return ConversationHandler.END


def _outcome(t: Texts, outcome: Reported) -> str:
    if outcome.duplicate:
        return t("hazard.already_saved")
    if outcome.hazard.severity.urgent:  # who really has it, never a claim of leads not told
        key = ("hazard.saved.urgent_nobody" if not outcome.alerted
               else "hazard.saved.urgent_admins" if outcome.to_admins
               else "hazard.saved.urgent")
        return t(key, id=outcome.hazard.id, count=outcome.alerted)
    return t("hazard.saved.queue", id=outcome.hazard.id)




def build_hazard() -> Flow:
    """The /hazard conversation: one state per question, persisted across restarts."""
    anything = MessageHandler(NEW_MESSAGE, HAZARD.unexpected)
    categories = "|".join(c.value for c in Category)
    states: dict[object, list[BaseHandler[Update, BotContext, Any]]] = {
        Step.PHOTOS: [MessageHandler(NEW_PICTURE, photo_added),
                      pressed(photos_done, r"^hazard:photos:(done|none)$"), anything],
        Step.CATEGORY: [pressed(category_chosen, rf"^hazard:cat:({categories})$"),
                        MessageHandler(NEW_PICTURE, photo_extra), anything],
        Step.SEVERITY: [pressed(severity_chosen, r"^hazard:sev:[1-4]$"),
                        pressed(severity_explained, r"^hazard:sevhelp$"), anything],
        Step.LOCATION: [MessageHandler(NEW_PIN, location_pin),
                        MessageHandler(NEW_TEXT, location_text),
                        pressed(place_picked, r"^hazard:place:\d{1,18}:[0-9a-f]{6}$"), anything],
        Step.DESCRIPTION: [MessageHandler(NEW_TEXT, description_typed), anything],
        Step.CONFIRM: [pressed(confirm, r"^hazard:confirm:"), anything],
    }
    return Flow(entry_points=HAZARD.entry_points(MessageHandler(PICTURE_OFFER, photo_offer)),
                states=states, fallbacks=HAZARD.fallbacks(),
                name="hazard", lifetime=DRAFT_LIFETIME, command="/hazard")


def register(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Register /hazard, /hazards with its Verify / Dismiss buttons, and /points."""
    app.add_handler(build_hazard())
    hazards.register(app)
    app.add_handler(CallbackQueryHandler(HAZARD.stale_button, pattern=r"^hazard:"))
