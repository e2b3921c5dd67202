"""How /trip asks: each step's question (its text, its buttons, the pages of days), the summary
with each destination's risk and Confirm / Edit / Cancel, what Confirm answers (saved, waiting
for the manager, or refused), and the draft flow that resumes at the question asked last. What
each answer does is `trip.py`."""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardMarkup, ReplyKeyboardMarkup, Update

from conversations.context import BotContext
from conversations.flows import common
from conversations.flows.drafts import DraftFlow
from conversations.flows.trip_draft import Step, TripDraft
from conversations.i18n import Texts
from conversations.render import crisis, keyboards
from conversations.render.formatting import button_day, day, local_time, place_label, places_label
from conversations.render.trip import risk_text, trip_summary
from fieldbot.domain import schedule
from fieldbot.domain.places import Place
from fieldbot.domain.trips import TripStatus, needs_approval
from fieldbot.services.trips import Submitted, TripRefused

_buttons = keyboards.rows
DAY_BUTTONS = 7
DAY_PAGES = 9  # "Later ›" pages through about two months of dates
MAX_MESSAGE = 4000


# --- keyboards --------------------------------------------------------------------------------


def _days(t: Texts, earliest: date, step: str, page: int = 0) -> InlineKeyboardMarkup:
    """A page of day buttons from `earliest`, with "‹ Earlier" / "Later ›" to turn pages; the
    data names the step, so an old keyboard cannot answer a later question (a start-date
    button pressed when the end date is asked)."""
    first = earliest + timedelta(days=page * DAY_BUTTONS)
    days = [first + timedelta(days=n) for n in range(DAY_BUTTONS)]
    buttons = [(button_day(d, t.language), f"trip:{step}:{d.isoformat()}") for d in days]
    turn = []
    if page > 0:
        turn.append((t("trip.button.earlier"), f"trip:{step}:page:{page - 1}"))
    if page + 1 < DAY_PAGES:
        turn.append((t("trip.button.later"), f"trip:{step}:page:{page + 1}"))
    return _buttons(*(buttons[i:i + 3] for i in range(0, len(buttons), 3)), turn)


async def page_turned(update: Update, context: BotContext) -> None:
    """Show the day buttons of another page, for the question being asked now."""
    query = update.callback_query
    assert query and query.data
    draft = _load(context)
    step, _, page = query.data.removeprefix("trip:").split(":")
    asked = {Step.START: "start", Step.END: "end"}.get(draft.step)
    if asked != step or not draft.legs or not int(page) < DAY_PAGES:
        await TRIP.stale_button(update, context)
        return
    earliest = (earliest_start(context, draft) if step == "start"
                else draft.legs[-1].start or earliest_start(context, draft))
    await query.answer()
    await query.edit_message_reply_markup(_days(context.t, earliest, step, int(page)))


def _summary_buttons(t: Texts, draft: TripDraft) -> InlineKeyboardMarkup:
    return _buttons([(t("trip.button.confirm"), f"trip:confirm:{draft.draft_key}")],
                    [(t("trip.button.edit"), "trip:edit"),
                     (t("trip.button.cancel"), "trip:cancel")])


# --- asking -----------------------------------------------------------------------------------

Question = tuple[str, InlineKeyboardMarkup | ReplyKeyboardMarkup | None]


def local_today(context: BotContext, place: Place) -> date:
    return context.services.clock.now().astimezone(ZoneInfo(place.tz_name)).date()


def earliest_start(context: BotContext, draft: TripDraft) -> date:
    """Return the first date the current leg may start: today there, or the last leg's end."""
    today = local_today(context, draft.legs[-1].place.place())
    previous = [leg.end for leg in draft.legs[:-1] if leg.end is not None]
    return max([today, *previous])


def _question(context: BotContext, draft: TripDraft, step: Step) -> Question:
    t = context.t
    if step is Step.DESTINATION:
        key = "trip.ask.next_destination" if draft.legs else "trip.ask.destination"
        return t(key), common.location_keyboard(t)
    if step is Step.START:
        return (t("trip.ask.start", place=place_label(draft.legs[-1].place.place(),
                                                             t.language)),
                _days(t, earliest_start(context, draft), "start"))
    if step is Step.END:
        start = draft.legs[-1].start
        assert start is not None
        return t("trip.ask.end", start=day(start, t.language)), _days(t, start, "end")
    if step is Step.MORE:
        return t("trip.ask.more"), _buttons([(t("trip.button.more_yes"), "trip:more:yes"),
                                             (t("trip.button.more_no"), "trip:more:no")])
    if step is Step.LODGING:
        return t("trip.ask.lodging"), _buttons([(t("trip.button.lodging_unknown"),
                                                 "trip:lodging:unknown")])
    if step is Step.CONTACT:
        return t("trip.ask.contact"), None
    if step is Step.NIGHTS:
        return t("trip.ask.nights"), _buttons([(t("trip.button.yes"), "trip:nights:yes"),
                                               (t("trip.button.no"), "trip:nights:no")])
    if step is Step.COMPANION:
        return t("trip.ask.companion"), _buttons([(t("trip.button.alone"),
                                                   "trip:companion:alone")])
    return t("trip.ask.edit"), _buttons(
        [(t("trip.button.edit_legs"), "trip:edit:legs")],
        [(t("trip.button.edit_lodging"), "trip:edit:lodging"),
         (t("trip.button.edit_contact"), "trip:edit:contact")],
        [(t("trip.button.edit_nights"), "trip:edit:nights"),
         (t("trip.button.edit_back"), "trip:edit:back")],
    )


async def ask(update: Update, context: BotContext, draft: TripDraft, step: Step) -> Step:
    """Store the step the draft is at and ask its question (the summary for CONFIRM)."""
    if step is Step.CONFIRM:
        return await show_summary(update, context, draft)
    if step in (Step.START, Step.END, Step.MORE) and not draft.legs:
        step = Step.DESTINATION  # the draft was erased under an open conversation
    draft.step = step
    _save(context, draft)
    text, markup = _question(context, draft, step)
    assert update.effective_message
    await update.effective_message.reply_html(text, reply_markup=markup)
    return step


async def after_section(
    update: Update, context: BotContext, draft: TripDraft, step: Step
) -> Step:
    """Go on to `step`, or back to the summary when the rep came here from Edit."""
    if draft.editing:
        return await show_summary(update, context, draft)
    return await ask(update, context, draft, step)


async def show_summary(update: Update, context: BotContext, draft: TripDraft) -> Step:
    """Render the plan with each destination's risk and ask for Confirm / Edit / Cancel."""
    t, risk = context.t, context.services.risk
    legs = draft.legs_tuple()
    if not legs:  # the draft was erased under an open conversation: start it again
        return await ask(update, context, draft, Step.DESTINATION)
    level = await context.services.trips.risk_level(legs)
    now = context.services.clock.now()
    places = list({leg.place: None for leg in legs})
    blocks = [risk_text(t, p, await risk.assess_place(p), now) for p in places]
    core = [t("trip.summary.head"), trip_summary(t, draft.as_trip(int(level)), risk=False)]
    for p in places:  # one short line per destination with lessons learned near it
        if lessons := await context.services.lessons.near(p):
            blocks.append(crisis.lessons_near(t, len(lessons), p.name))
    if needs_approval(level, draft.night_visits, draft.companion):
        core.append(t("trip.summary.needs_approval"))
    draft.step, draft.editing = Step.CONFIRM, False
    _save(context, draft)
    assert update.effective_message
    full = "\n\n".join([*core[:2], *blocks, *core[2:]])
    if len(full) > MAX_MESSAGE:  # Telegram takes 4096 characters: the risk goes separately
        for block in blocks:
            await update.effective_message.reply_html(block)
        full = "\n\n".join(core)
    await update.effective_message.reply_html(full, reply_markup=_summary_buttons(t, draft))
    return Step.CONFIRM


# --- what Confirm answers ---------------------------------------------------------------------


def refusal(t: Texts, outcome: Submitted) -> str:
    """Why Confirm saved nothing (the summary and its buttons stay)."""
    if outcome.refused is TripRefused.OVERLAP and outcome.clash is not None:
        clash = outcome.clash
        return t("trip.refused.overlap", places=places_label(clash.legs, t.language),
                 start=day(clash.start, t.language), end=day(clash.end, t.language))
    if outcome.refused is TripRefused.INVALID:
        return t("trip.refused.invalid")
    return t("trip.refused.no_manager")


def saved(context: BotContext, outcome: Submitted) -> str:
    """What Confirm answers once the plan is saved: waiting for the manager, or the first
    night's reminder and deadline."""
    t, trip = context.t, outcome.trip
    assert trip is not None
    if outcome.duplicate:
        return t("trip.already_saved")
    if trip.status is TripStatus.AWAITING_APPROVAL:
        return t("trip.awaiting")
    night = schedule.next_night(trip, context.services.policy, context.services.clock.now())
    if night is None:
        return t("trip.saved_no_nights")
    return t("trip.saved", reminder=local_time(night.reminder_at, night.tz_name, t.language),
             deadline=local_time(night.deadline, night.tz_name, t.language))


# --- the draft and what every draft flow shares: /trip, Continue / Start over, /cancel ---------

TRIP = DraftFlow("trip", TripDraft, Step.DESTINATION, ask)
_load, _save = TRIP.load, TRIP.save

