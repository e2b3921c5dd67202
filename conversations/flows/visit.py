"""/visit: a timer for one client visit, answered in a few taps — client or place (text and/or
a pin), who is with me (Alone, a colleague's button, or a typed name), expected end (+1 h /
+2 h / +3 h or a typed local time), then a summary with the place's risk and colleagues'
client safety notes, and Start.

The draft lives in `user_data` as a `VisitDraft` (JSON), so a restart mid-/visit resumes it;
its `draft_key` makes a second Start harmless. Ending, extending and the note afterwards are
`visit_actions.py`.
"""

from __future__ import annotations

from datetime import datetime
from enum import IntEnum
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import Field
from telegram import InlineKeyboardMarkup, ReplyKeyboardMarkup, ReplyKeyboardRemove, Update
from telegram.ext import (
    Application,
    BaseHandler,
    ConversationHandler,
    MessageHandler,
)

from conversations.context import BotContext
from conversations.flows import common, visit_actions
from conversations.flows.base import Command, Flow
from conversations.flows.common import NEW_MESSAGE, NEW_PIN, NEW_TEXT, pressed
from conversations.flows.drafts import DraftFlow, DraftModel
from conversations.flows.trip_draft import PlaceData
from conversations.render import keyboards
from conversations.render import visit as render
from conversations.render.formatting import local_time, place_label, zone_name
from conversations.render.trip import risk_text
from fieldbot.domain.visits import END_BUTTONS, MAX_CLIENT, MAX_COMPANION, EndProblem
from fieldbot.services.visits import StartRefusal, VisitPlan

MAX_MESSAGE = 4000
_QUESTION_BUTTONS = r"^visit:(confirm|with|end|noclient|cancel)"


class Step(IntEnum):
    PLACE = 1
    COMPANION = 2
    END = 3
    CONFIRM = 4


class VisitDraft(DraftModel):
    step: Step = Step.PLACE
    client: str = ""
    pinned: PlaceData | None = None  # the shared pin, as a place (its zone, its risk)
    lat: float | None = None
    lon: float | None = None
    companion: str = ""  # '' alone
    companion_id: int | None = None
    companion_chosen: bool = False
    typed_companion: str = ""  # a name no colleague has, waiting for "take it anyway"
    colleagues: dict[str, str] = Field(default_factory=dict)  # button id -> name
    tz_name: str = ""
    ends_at: datetime | None = None

    @property
    def point(self) -> tuple[float, float] | None:
        return (self.lat, self.lon) if self.lat is not None and self.lon is not None else None


Question = tuple[str, InlineKeyboardMarkup | ReplyKeyboardMarkup | None]


async def _question(context: BotContext, draft: VisitDraft, step: Step) -> Question:
    t = context.t
    if step is Step.PLACE and draft.pinned is not None and draft.point is not None:
        return t("visit.ask.client_after_pin", place=_place_label(draft, t.language)), \
            keyboards.rows([(t("visit.button.no_client"), "visit:noclient")])
    if step is Step.PLACE:
        return t("visit.ask.place"), common.location_keyboard(t, "visit.button.pin")
    if step is Step.COMPANION:
        mates = await context.services.visits.colleagues(context.member)
        draft.colleagues = {str(m.id): m.name for m in mates}
        named = [(m.name, f"visit:with:{m.id}") for m in mates]
        return t("visit.ask.companion"), keyboards.rows(
            [(t("visit.button.alone"), "visit:with:alone")],
            *(named[i:i + 2] for i in range(0, len(named), 2)))
    # the zone is named once: "(Berlin time; it is now 10:00)", not the zone again in brackets
    now = context.services.clock.now().astimezone(ZoneInfo(draft.tz_name))
    return (t("visit.ask.end", zone=zone_name(draft.tz_name, t.language),
              now=now.strftime("%H:%M")),
            keyboards.rows([(t(f"visit.button.plus.{m}"), f"visit:end:{m}")
                            for m in END_BUTTONS]))


async def _ask(update: Update, context: BotContext, draft: VisitDraft, step: Step) -> Step:
    """Store the step the draft is at and ask its question (the summary for CONFIRM)."""
    if step is Step.END and not draft.tz_name:
        draft.tz_name, place = await context.services.visits.where(context.member.id)
        if place is not None and draft.pinned is None:
            draft.pinned = PlaceData.of(place)  # its risk applies; it is not a pin
    if step is Step.CONFIRM:
        return await _summary(update, context, draft)
    draft.step = step
    text, markup = await _question(context, draft, step)
    VISIT.save(context, draft)
    assert update.effective_message
    await update.effective_message.reply_html(text, reply_markup=markup)
    return step


VISIT = DraftFlow("visit", VisitDraft, Step.PLACE, _ask)


async def _summary(update: Update, context: BotContext, draft: VisitDraft) -> Step:
    """Show the visit with the place's risk and colleagues' notes; Start / Cancel."""
    t, services = context.t, context.services
    if draft.ends_at is None or not draft.tz_name:
        return await _ask(update, context, draft, Step.END)
    lines = [t("visit.summary.head"),
             render.where(t, draft.client, _place_label(draft, t.language)),
             render.with_whom(t, draft.companion),
             t("visit.summary.until", ends=local_time(draft.ends_at, draft.tz_name, t.language))]
    blocks = ["\n".join(lines)]
    if draft.pinned is not None:
        place = draft.pinned.place()
        blocks.append(risk_text(t, place, await services.risk.assess_place(place),
                                services.clock.now()))
    else:
        blocks.append(t("visit.summary.risk_unknown"))
    if services.visits.after_dark(draft.ends_at, draft.tz_name) and not draft.companion:
        blocks.append(t("visit.summary.alone_after_dark"))
    notes = await services.visits.notes_for(draft.client, draft.point)
    if notes:
        blocks.append(render.notes_block(t, notes))
    draft.step = Step.CONFIRM
    VISIT.save(context, draft)
    assert update.effective_message
    markup = keyboards.rows([(t("visit.button.start"), f"visit:confirm:{draft.draft_key}")],
                            [(t("visit.button.cancel"), "visit:cancel")])
    text = "\n\n".join(blocks)
    if len(text) > MAX_MESSAGE:  # the risk and the notes are bounded; this is belt and braces
        text = "\n\n".join([blocks[0], blocks[-1]])[:MAX_MESSAGE]
    await update.effective_message.reply_html(text, reply_markup=markup)
    return Step.CONFIRM


def _place_label(draft: VisitDraft, language: str) -> str:
    """The pinned place in `language` ("" without a pin)."""
    if draft.pinned is None or not draft.point:
        return ""
    return place_label(draft.pinned.place(), language)


# --- /visit -------------------------------------------------------------------------------------


async def visit_command(update: Update, context: BotContext) -> Any:
    """Start a visit; with one under way already, offer to end it first (one at a time)."""
    under_way = await context.services.visits.current(context.member.id)
    if under_way is None:
        return await VISIT.start(update, context)
    assert update.effective_message
    t = context.t
    await update.effective_message.reply_html(
        t("visit.already_open", where=render.where(t, under_way.client, under_way.place,
                                                     under_way.place_zh),
          ends=local_time(under_way.ends_at, under_way.tz_name, t.language)),
        reply_markup=keyboards.rows(
            [(t("visit.button.end_open"), f"visit:done:{under_way.id}")],
            [(t("visit.button.keep_open"), "visit:keep")]))
    return ConversationHandler.END


# --- client or place ----------------------------------------------------------------------------


async def place_text(update: Update, context: BotContext) -> Step:
    """Store the client's name (or an address) and ask who is with the rep."""
    assert update.effective_message and update.effective_message.text is not None
    text = update.effective_message.text.strip()
    if not text or len(text) > MAX_CLIENT:
        await update.effective_message.reply_html(context.t("visit.client.bad", max=MAX_CLIENT))
        return Step.PLACE
    draft = VISIT.load(context)
    draft.client = text
    await update.effective_message.reply_html(context.t("visit.client.set", client=text),
                                              reply_markup=ReplyKeyboardRemove())
    return await _ask(update, context, draft, Step.COMPANION)


async def place_pin(update: Update, context: BotContext) -> Step:
    """Take a shared pin as the visit's place (its zone and risk); ask on where we were."""
    assert update.effective_message and update.effective_message.location
    place = await common.pinned_place(update, context)
    draft = VISIT.load(context)
    if place is None:
        return draft.step
    draft.pinned, draft.tz_name = PlaceData.of(place), place.tz_name
    draft.lat = update.effective_message.location.latitude
    draft.lon = update.effective_message.location.longitude
    await update.effective_message.reply_html(
        context.t("visit.pin_set", place=place_label(place, context.t.language)),
        reply_markup=ReplyKeyboardRemove())
    if draft.step is Step.PLACE and draft.client:
        return await _ask(update, context, draft, Step.COMPANION)
    return await _ask(update, context, draft, draft.step)


async def no_client(update: Update, context: BotContext) -> Step:
    """Only the pin: no client name; ask who is with the rep."""
    await keyboards.take_buttons_off(update)
    return await _ask(update, context, VISIT.load(context), Step.COMPANION)


# --- who is with me -----------------------------------------------------------------------------


async def companion_pressed(update: Update, context: BotContext) -> Step:
    """Alone, a colleague's button, or "take the typed name anyway"; ask for the end."""
    await keyboards.take_buttons_off(update)
    draft, choice = VISIT.load(context), keyboards.chosen(update)
    if choice == "alone":
        draft.companion, draft.companion_id = "", None
    elif choice == "typed" and draft.typed_companion:
        draft.companion, draft.companion_id = draft.typed_companion, None
    elif choice in draft.colleagues:
        draft.companion, draft.companion_id = draft.colleagues[choice], int(choice)
    else:
        return await VISIT.ask_again(update, context)
    return await _ask(update, context, draft, Step.END)


async def companion_typed(update: Update, context: BotContext) -> Step:
    """A typed name: an enrolled colleague is taken; anyone else is asked about first."""
    assert update.effective_message and update.effective_message.text is not None
    t, text = context.t, update.effective_message.text.strip()
    if not text or len(text) > MAX_COMPANION:
        await update.effective_message.reply_html(t("visit.companion.bad", max=MAX_COMPANION))
        return Step.COMPANION
    draft = VISIT.load(context)
    if common.means_alone(text, t, "visit.button.alone"):  # the button's word, typed
        draft.companion, draft.companion_id = "", None
        return await _ask(update, context, draft, Step.END)
    mate = await context.services.visits.colleague(context.member, text)
    if mate is not None:
        draft.companion, draft.companion_id = mate.name, mate.id
        return await _ask(update, context, draft, Step.END)
    if context.services.visits.names_self(context.member, text):  # alone, by another name
        await update.effective_message.reply_html(
            t("visit.companion.self"),
            reply_markup=keyboards.rows([(t("visit.button.alone"), "visit:with:alone")]))
        return Step.COMPANION
    draft.typed_companion = text
    VISIT.save(context, draft)
    await update.effective_message.reply_html(
        t("visit.companion.unknown", name=text), reply_markup=keyboards.rows(
            [(t("visit.button.take_anyway"), "visit:with:typed")],
            [(t("visit.button.alone"), "visit:with:alone")]))
    return Step.COMPANION


# --- expected end -------------------------------------------------------------------------------


async def end_pressed(update: Update, context: BotContext) -> Step:
    """+1 h / +2 h / +3 h: store the end and show the summary."""
    await keyboards.take_buttons_off(update)
    minutes = int(keyboards.chosen(update))
    if minutes not in END_BUTTONS:
        return await VISIT.ask_again(update, context)
    return await _take_end(update, context, context.services.visits.end_after(minutes))


async def end_typed(update: Update, context: BotContext) -> Step:
    """A typed local time (22:30 or 22:30:15) at the visit place: store it, show the summary."""
    assert update.effective_message and update.effective_message.text is not None
    draft = VISIT.load(context)
    if not draft.tz_name:
        return await _ask(update, context, draft, Step.END)
    ends = context.services.visits.parse_end(update.effective_message.text[:40], draft.tz_name)
    return await _take_end(update, context, ends)


async def _take_end(update: Update, context: BotContext, ends: datetime | EndProblem) -> Step:
    draft = VISIT.load(context)
    if isinstance(ends, EndProblem):
        assert update.effective_message
        limit = context.services.visits.policy.visit.max_length
        await update.effective_message.reply_html(context.t(
            f"visit.end.{ends.value}", hours=int(limit.total_seconds() // 3600)))
        return await VISIT.ask_again(update, context)
    draft.ends_at = ends
    return await _summary(update, context, draft)


# --- Start --------------------------------------------------------------------------------------


async def confirm(update: Update, context: BotContext) -> int | None:
    """Start the timer; say until when, when the bot will ask, and offer live location."""
    query = update.callback_query
    assert query and update.effective_message
    draft = VISIT.load(context)
    if query.data != f"visit:confirm:{draft.draft_key}" or draft.ends_at is None:
        await VISIT.stale_button(update, context)
        return None
    await query.answer()
    started = await context.services.visits.start(context.member, VisitPlan(
        client=draft.client, place=_place_label(draft, "en"),
        place_zh=_place_label(draft, "zh"), point=draft.point,
        tz_name=draft.tz_name, companion=draft.companion, companion_id=draft.companion_id,
        ends_at=draft.ends_at, draft_key=draft.draft_key))
    t = context.t
    if started.duplicate:  # a double tap: the first tap's "Visit started" says it all
        return ConversationHandler.END
    if started.refused is StartRefusal.OPEN:
        await update.effective_message.reply_html(t("visit.refused.open"))
        return None
    if started.refused is not None:  # the end passed while the summary waited: ask again
        hours = int(context.services.visits.policy.visit.max_length.total_seconds() // 3600)
        await update.effective_message.reply_html(t(f"visit.end.{started.refused.value}",
                                                    hours=hours))
        return await _ask(update, context, draft, Step.END)
    await query.edit_message_reply_markup(None)
    VISIT.mark_saved(context, draft.draft_key)
    await visit_actions.tell_started(update, context, started)
    return ConversationHandler.END


# --- wiring -------------------------------------------------------------------------------------


def build_visit() -> Flow:
    """The /visit conversation: one state per question, persisted across restarts."""
    anything = MessageHandler(NEW_MESSAGE, VISIT.unexpected)
    pin = MessageHandler(NEW_PIN, place_pin)
    states: dict[object, list[BaseHandler[Update, BotContext, Any]]] = {
        Step.PLACE: [MessageHandler(NEW_TEXT, place_text), pin,
                     pressed(no_client, r"^visit:noclient$"), anything],
        Step.COMPANION: [MessageHandler(NEW_TEXT, companion_typed), pin,
                         pressed(companion_pressed, r"^visit:with:(alone|typed|\d{1,18})$"),
                         anything],
        Step.END: [MessageHandler(NEW_TEXT, end_typed), pin,
                   pressed(end_pressed, r"^visit:end:\d{1,4}$"), anything],
        Step.CONFIRM: [pressed(confirm, r"^visit:confirm:"), anything],
    }
    entry: list[BaseHandler[Update, BotContext, Any]] = [
        Command("visit", visit_command),
        pressed(VISIT.resume, r"^visit:resume$"), pressed(VISIT.restart, r"^visit:restart$")]
    # Only the draft's own old buttons are stale here: "I'm done" or "Remove note" pressed
    # while a draft is open are not the draft's, and the gate lets them act.
    fallbacks = [*VISIT.fallbacks()[:-1],
                 pressed(VISIT.stale_button, _QUESTION_BUTTONS)]
    return Flow(entry_points=entry, states=states, fallbacks=fallbacks, name="visit",
                command="/visit")


def register(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Register /visit, then /done, the visit's buttons and the note afterwards."""
    app.add_handler(build_visit())
    visit_actions.register(app)
    # Any other visit button still answers: a question's outside the questions (put aside, or
    # the visit started), a forged or out-of-range one.
    app.add_handler(pressed(VISIT.stale_button, r"^visit:"))
