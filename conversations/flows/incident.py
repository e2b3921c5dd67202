"""/incident: record an incident (grade → place → people involved → description → confirm),
or open one by resolving an alert as "incident" (grade → description → confirm, the rest
known from the alert). /incident with incidents open lists them; a card offers the review
to the owner and the hand-over to officers."""

from __future__ import annotations

from enum import IntEnum
from typing import Any

from pydantic import BaseModel
from telegram import ReplyKeyboardRemove, Update
from telegram.ext import BaseHandler, ConversationHandler, MessageHandler

from conversations.context import BotContext
from conversations.flows import common, drafts
from conversations.flows.alerts import refused as alert_refused
from conversations.flows.base import DRAFT_LIFETIME, Command, Flow
from conversations.flows.common import NEW_MESSAGE, NEW_PIN, NEW_TEXT, pressed
from conversations.flows.drafts import DraftFlow, DraftModel
from conversations.render import crisis, keyboards
from conversations.render.formatting import place_label
from fieldbot.domain import incidents as rules
from fieldbot.domain.crisis_policy import Grade
from fieldbot.domain.places import Place
from fieldbot.domain.roles import may
from fieldbot.services.escalation import AlertActionError
from fieldbot.services.incidents import FromAlert, IncidentError
from fieldbot.services.incidents import IncidentDraft as Opening


class Step(IntEnum):
    GRADE = 0
    PLACE = 1
    PEOPLE = 2
    DESCRIPTION = 3
    CONFIRM = 4


class Spot(BaseModel):
    label: str
    label_zh: str = ""  # as a Chinese reader names it
    country: str = ""
    lat: float | None = None
    lon: float | None = None


class IncidentDraft(DraftModel):
    """What the lead has answered so far (an alert's incident starts with some of it)."""

    step: Step = Step.GRADE
    alert_id: int | None = None
    alert_label: str = ""
    grade: Grade | None = None
    spot: Spot | None = None
    choices: list[Spot] = []
    people: str | None = None
    description: str = ""

    def opening(self) -> Opening:
        assert self.grade is not None and self.spot is not None and self.people is not None
        return Opening(self.grade, self.spot.label, self.spot.country, self.spot.lat,
                       self.spot.lon, self.people, self.description, self.alert_id,
                       self.spot.label_zh)


def _next(draft: IncidentDraft, after: Step) -> Step:
    """The next question not yet answered (an alert's incident knows place and people)."""
    for step in Step:
        if step <= after:
            continue
        if step is Step.PLACE and draft.spot is not None:
            continue
        if step is Step.PEOPLE and draft.people is not None:
            continue
        return step
    return Step.CONFIRM


async def _ask(update: Update, context: BotContext, draft: IncidentDraft, step: Step) -> Step:
    """Store the step the draft is at and ask its question (the summary for CONFIRM)."""
    draft.step = step
    _save(context, draft)
    t = context.t
    assert update.effective_message
    if step is Step.CONFIRM:
        place = crisis.place_named(t, draft.spot.label, draft.spot.label_zh) if draft.spot \
            else ""
        text = crisis.incident_summary(t, draft.grade, place,
                                       draft.people or "", draft.description, draft.alert_label)
        markup = keyboards.rows([(t("incident.button.confirm"),
                                  f"incident:confirm:{draft.draft_key}")],
                                [(t("crisis.button.cancel"), "incident:cancel")])
        await update.effective_message.reply_html(text, reply_markup=markup)
        return step
    question, buttons = crisis.incident_question(t, step.name.lower(), draft.alert_label)
    if step is Step.PLACE:  # a name, or the phone's own location with one tap
        await update.effective_message.reply_html(
            question, reply_markup=common.location_keyboard(t))
        return step
    await update.effective_message.reply_html(question, reply_markup=buttons)
    return step


INCIDENT = DraftFlow("incident", IncidentDraft, Step.GRADE, _ask)
_load, _save = INCIDENT.load, INCIDENT.save


async def overview(update: Update, context: BotContext) -> Step | int:
    """/incident: the open incidents I may see (each a button) and "new"; none: a new one."""
    found, total = await context.services.incidents.visible(context.member)
    unrecorded = await context.services.incidents.unrecorded(context.member)
    if not found and not unrecorded:
        return await INCIDENT.start(update, context)
    assert update.effective_message
    await update.effective_message.reply_html(
        crisis.incident_list(context.t, found, total, unrecorded),
        reply_markup=crisis.incident_list_buttons(context.t, found, unrecorded))
    return ConversationHandler.END


async def from_alert(update: Update, context: BotContext) -> Step | int | None:
    """Resolve an alert as "incident" and open its incident's draft (a drill's opens none)."""
    query = update.callback_query
    assert query and query.data
    try:
        known = await context.services.incidents.resolve_alert(int(query.data.split(":")[2]),
                                                               context.member)
    except AlertActionError as error:
        await alert_refused(update, context, error)
        return ConversationHandler.END
    await query.answer(context.t.toast("alert.resolved_you", alert=known.alert.label))
    await query.edit_message_reply_markup(None)
    await context.services.deliver()
    if known.drill or not may(context.member.role, "incident"):
        await context.services.drills.settle_alert(known.alert.id)
        assert update.effective_message
        key = "incident.not_for_drill" if known.drill else "incident.not_for_you"
        await update.effective_message.reply_html(context.t(key))
        return ConversationHandler.END
    return await _alert_draft(update, context, known)


async def from_resolved(update: Update, context: BotContext) -> Step | int | None:
    """Record the incident of an alert I resolved as "incident" but never recorded."""
    query = update.callback_query
    assert query and query.data
    try:
        known = await context.services.incidents.known_alert(int(query.data.split(":")[2]),
                                                             context.member)
    except IncidentError as error:
        await _refused(update, context, error)
        return None
    await keyboards.take_buttons_off(update)
    return await _alert_draft(update, context, known)


async def _alert_draft(update: Update, context: BotContext, known: FromAlert) -> Step:
    """Open the draft of an alert's incident: grade first, place and people known."""
    if drafts.store(context).get(INCIDENT.key):  # the alert's incident comes first; say so
        assert update.effective_message
        await update.effective_message.reply_html(context.t("incident.replaced"))
    await INCIDENT.drop(context)
    draft = IncidentDraft(alert_id=known.alert.id, alert_label=known.alert.label,
                          grade=known.grade, people=known.people or None,
                          spot=_spot(known.spot) if known.spot else None)
    return await _ask(update, context, draft, Step.GRADE)


async def grades_help(update: Update, context: BotContext) -> None:
    """The policy's definitions of the four grades, on request."""
    await keyboards.take_buttons_off(update)
    assert update.effective_message
    await update.effective_message.reply_html(context.t("incident.grades_help"))
    await _ask(update, context, _load(context), Step.GRADE)


async def grade_chosen(update: Update, context: BotContext) -> Step:
    """Store the grade; ask where, unless known."""
    await keyboards.take_buttons_off(update)
    draft = _load(context)
    draft.grade = Grade(keyboards.chosen(update))
    return await _ask(update, context, draft, _next(draft, Step.GRADE))


PLACE = common.PlaceQuestion(
    empty="incident.place.bad", too_long="incident.place.bad", not_found="risk.not_found",
    pick="risk.pick", button="incident:place:", longest=rules.MAX_PLACE)


def _spot(place: Place) -> Spot:
    return Spot(label=place.label(), label_zh=place_label(place, "zh"),
                country=place.country_code, lat=place.lat, lon=place.lon)


async def place_typed(update: Update, context: BotContext) -> Step:
    """Take the place typed, or offer the matches as buttons."""
    assert update.effective_message and update.effective_message.text is not None
    found = await common.search_place(update, context, update.effective_message.text, PLACE)
    draft = _load(context)
    if isinstance(found, Place):
        return await _placed(update, context, draft, _spot(found))
    if found:
        draft.choices = [_spot(p) for p in found]
        _save(context, draft)
    return Step.PLACE


async def place_pin(update: Update, context: BotContext) -> Step:
    """Take a shared pin as the place."""
    place = await common.pinned_place(update, context)
    if place is None:
        return Step.PLACE
    return await _placed(update, context, _load(context), _spot(place))


async def place_picked(update: Update, context: BotContext) -> Step | None:
    """Take the place picked among the matches."""
    draft = _load(context)
    index = common.picked_place(update, context, PLACE, len(draft.choices))
    if draft.step is not Step.PLACE or index is None:
        await INCIDENT.stale_button(update, context)
        return None
    await keyboards.take_buttons_off(update)
    return await _placed(update, context, draft, draft.choices[index])


async def _placed(update: Update, context: BotContext, draft: IncidentDraft, spot: Spot
                  ) -> Step:
    draft.spot, draft.choices = spot, []
    assert update.effective_message
    await update.effective_message.reply_html(context.t(
        "incident.place.set", place=crisis.place_named(context.t, spot.label, spot.label_zh)),
                                              reply_markup=ReplyKeyboardRemove())
    return await _ask(update, context, draft, _next(draft, Step.PLACE))


async def people_typed(update: Update, context: BotContext) -> Step:
    """Store who was involved (as typed); ask for the description."""
    return await _text_answer(update, context, "people", rules.MAX_PEOPLE, Step.PEOPLE)


async def nobody_named(update: Update, context: BotContext) -> Step:
    """Nobody in particular was involved."""
    await keyboards.take_buttons_off(update)
    draft = _load(context)
    draft.people = ""
    return await _ask(update, context, draft, _next(draft, Step.PEOPLE))


async def description_typed(update: Update, context: BotContext) -> Step:
    """Store the short description; show the summary."""
    return await _text_answer(update, context, "description", rules.MAX_DESCRIPTION,
                              Step.DESCRIPTION)


async def _text_answer(update: Update, context: BotContext, field: str, limit: int,
                       step: Step) -> Step:
    message = update.effective_message
    assert message and message.text is not None
    text, refused = rules.clean(message.text, limit)
    if refused is not None:
        await message.reply_html(context.t(f"incident.text.{refused.value}", max=limit,
                                           length=len(text)))
        return step
    draft = _load(context)
    setattr(draft, field, text)
    return await _ask(update, context, draft, _next(draft, step))


async def confirm(update: Update, context: BotContext) -> int | None:
    """Open the incident: it is mine; its deadlines start; the officers are told."""
    query = update.callback_query
    assert query and query.data
    draft = _load(context)
    if draft.step is not Step.CONFIRM or query.data != f"incident:confirm:{draft.draft_key}":
        await INCIDENT.stale_button(update, context)
        return None
    try:
        incident = await context.services.incidents.open(context.member, draft.opening())
    except IncidentError as error:
        await query.answer(context.t.toast(f"incident.err.{error.reason.value}"),
                           show_alert=True)
        return None
    INCIDENT.mark_saved(context, draft.draft_key)
    await keyboards.take_buttons_off(update)
    deadlines = await context.services.incidents.deadlines(incident.id)
    assert update.effective_message
    await update.effective_message.reply_html(
        crisis.incident_opened(context.t, incident, deadlines,
                               context.services.settings.default_tz),
        reply_markup=crisis.card_buttons(context.t, incident, context.member))
    await context.services.deliver()
    return ConversationHandler.END


def build_incident() -> Flow:
    """The /incident conversation: one state per question, persisted across restarts."""
    anything = MessageHandler(NEW_MESSAGE, INCIDENT.unexpected)
    grades = "|".join(g.value for g in Grade)
    states: dict[object, list[BaseHandler[Update, BotContext, Any]]] = {
        Step.GRADE: [pressed(grade_chosen, rf"^incident:grade:({grades})$"),
                     pressed(grades_help, r"^incident:grades$"), anything],
        Step.PLACE: [MessageHandler(NEW_PIN, place_pin), MessageHandler(NEW_TEXT, place_typed),
                     pressed(place_picked, r"^incident:place:\d{1,3}:[0-9a-f]{6}$"), anything],
        Step.PEOPLE: [MessageHandler(NEW_TEXT, people_typed),
                      pressed(nobody_named, r"^incident:nobody$"), anything],
        Step.DESCRIPTION: [MessageHandler(NEW_TEXT, description_typed), anything],
        Step.CONFIRM: [pressed(confirm, r"^incident:confirm:"), anything],
    }
    entry = [Command("incident", overview), pressed(INCIDENT.start, r"^incident:new$"),
             pressed(from_alert, r"^escalation:res:\d{1,18}:incident$"),
             pressed(from_resolved, r"^incident:alert:\d{1,18}$"),
             pressed(INCIDENT.resume, r"^incident:resume$"),
             pressed(INCIDENT.restart, r"^incident:restart$")]
    return Flow(entry_points=entry, states=states, fallbacks=INCIDENT.fallbacks(),
                name="incident", lifetime=DRAFT_LIFETIME, command="/incident")


# --- the cards: see one, hand it over ----------------------------------------------------------


def _number(update: Update, index: int) -> int:
    assert update.callback_query and update.callback_query.data
    return int(update.callback_query.data.split(":")[index])


async def _refused(update: Update, context: BotContext, error: IncidentError) -> None:
    assert update.callback_query
    await update.callback_query.answer(context.t.toast(f"incident.err.{error.reason.value}"),
                                       show_alert=True)


async def show(update: Update, context: BotContext) -> None:
    """One incident's card: grade, place, owner, deadlines, and what I may do with it."""
    incidents = context.services.incidents
    try:
        incident = await incidents.get(context.member, _number(update, 2))
    except IncidentError as error:
        await _refused(update, context, error)
        return
    await keyboards.take_buttons_off(update)
    owner = await context.services.enrolment.member(incident.owner_id)
    # An erased owner is a nameless stand-in: the card says so (a safety officer hands it over).
    name = owner.name if owner is not None and owner.unreachable != "erased" else None
    assert update.effective_message
    await update.effective_message.reply_html(
        crisis.incident_card(context.t, incident, name,
                             await incidents.deadlines(incident.id),
                             context.services.settings.default_tz),
        reply_markup=crisis.card_buttons(context.t, incident, context.member))


async def handover_menu(update: Update, context: BotContext) -> None:
    """The officers this incident may be handed to, as buttons."""
    incident_id = _number(update, 2)
    try:
        officers = await context.services.incidents.officers(incident_id, context.member)
    except IncidentError as error:
        await _refused(update, context, error)
        return
    await keyboards.take_buttons_off(update)
    assert update.effective_message
    await update.effective_message.reply_html(
        context.t("incident.handover.ask"), reply_markup=keyboards.rows(
            *([(m.name, f"incidents:owner:{incident_id}:{m.id}")] for m in officers)))


async def handover(update: Update, context: BotContext) -> None:
    """Hand the incident to the officer pressed (refused for anyone else); they are told."""
    try:
        incident = await context.services.incidents.reassign(
            _number(update, 2), context.member, _number(update, 3))
    except IncidentError as error:
        await _refused(update, context, error)
        return
    await keyboards.take_buttons_off(update)
    owner = await context.services.enrolment.member(incident.owner_id)
    assert update.effective_message
    await update.effective_message.reply_html(context.t(
        "incident.handover.done", incident=incident.label, name=owner.name if owner else "?"))
    await context.services.deliver()


def register(app: Any) -> None:
    """Register /incident (before the alerts: Resolve → incident opens the draft) and the
    cards' buttons."""
    app.add_handler(build_incident())
    app.add_handler(pressed(show, r"^incidents:show:\d{1,18}$"))
    app.add_handler(pressed(handover_menu, r"^incidents:handover:\d{1,18}$"))
    app.add_handler(pressed(handover, r"^incidents:owner:\d{1,18}:\d{1,18}$"))
    app.add_handler(pressed(INCIDENT.stale_button, r"^incident:"))
