"""The post-incident review as a chat form, the policy's four steps: what happened and the
loss (saved as the first report at once), the root cause ("Why?" up to five times, each
question quoting the answer before), responsibility (management / execution), measures; then
Close, which turns the measures into a lesson. Only the incident's owner writes it."""

from __future__ import annotations

from enum import IntEnum
from typing import Any

from pydantic import BaseModel, Field
from telegram import Update
from telegram.ext import BaseHandler, ConversationHandler, MessageHandler

from conversations.context import BotContext
from conversations.flows import common, drafts
from conversations.flows.base import DRAFT_LIFETIME, Command, Flow
from conversations.flows.common import NEW_MESSAGE, NEW_TEXT, pressed
from conversations.render import crisis, keyboards
from fieldbot.domain import incidents as rules
from fieldbot.domain.incidents import IncidentState, Responsibility, Review
from fieldbot.services.incidents import IncidentError

KEY = "review_draft"


class Step(IntEnum):
    WHAT = 0
    LOSS = 1
    WHY = 2
    RESPONSIBILITY = 3
    MEASURES = 4
    CONFIRM = 5


class ReviewDraft(BaseModel):
    incident_id: int = 0
    label: str = ""
    step: Step = Step.WHAT
    what: str = ""
    loss: str = ""
    whys: list[str] = Field(default_factory=list)
    responsibility: Responsibility | None = None
    measures: str = ""

    def review(self) -> Review:
        assert self.responsibility is not None
        return Review(self.what, self.loss, tuple(self.whys), self.responsibility,
                      self.measures)


def _load(context: BotContext) -> ReviewDraft:
    return drafts.load(context, KEY, ReviewDraft)


async def _ask(update: Update, context: BotContext, draft: ReviewDraft, step: Step) -> Step:
    """Store the step and ask its question; each "Why?" quotes the answer before it."""
    draft.step = step
    drafts.save(context, KEY, draft)
    t = context.t
    assert update.effective_message
    if step is Step.WHY:
        previous = draft.whys[-1] if draft.whys else draft.what
        text = t("review.ask.why", n=len(draft.whys) + 1, most=rules.MAX_WHYS,
                 quote=rules.quote(previous))
        markup = keyboards.rows([(t("review.button.root_cause"), "review:cause")]) \
            if draft.whys else None
    elif step is Step.RESPONSIBILITY:
        text = t("review.ask.responsibility")
        markup = keyboards.rows(*([(t(f"review.responsibility.{r.value}"),
                                    f"review:resp:{r.value}")] for r in Responsibility))
    elif step is Step.CONFIRM:
        text = crisis.review_summary(t, draft.label, draft.what, draft.loss, draft.whys,
                                     draft.responsibility, draft.measures)
        markup = keyboards.rows([(t("review.button.close"), f"review:close:{draft.incident_id}")],
                                [(t("crisis.button.cancel"), "review:cancel")])
    else:
        text, markup = t(f"review.ask.{step.name.lower()}", incident=draft.label), None
    await update.effective_message.reply_html(text, reply_markup=markup)
    return step


async def start(update: Update, context: BotContext) -> Step | int:
    """The owner's "Write the review": from what happened, or from the root cause if the
    first report is in."""
    query = update.callback_query
    assert query and query.data
    try:
        incident = await context.services.incidents.review_of(int(query.data.split(":")[2]),
                                                              context.member)
    except IncidentError as error:
        await query.answer(context.t.toast(f"incident.err.{error.reason.value}"),
                           show_alert=True)
        return ConversationHandler.END
    await keyboards.take_buttons_off(update)
    draft = ReviewDraft(incident_id=incident.id, label=incident.label)
    if incident.state is IncidentState.REPORTED:
        draft.what = str(incident.review.get("what", ""))
        draft.loss = str(incident.review.get("loss", ""))
        return await _ask(update, context, draft, Step.WHY)
    return await _ask(update, context, draft, Step.WHAT)


async def _answer(update: Update, context: BotContext) -> str | None:
    """The typed answer, or None after saying why it cannot be taken (nothing is lost)."""
    message = update.effective_message
    assert message and message.text is not None
    text, refused = rules.clean(message.text, rules.MAX_ANSWER)
    if refused is not None:
        await message.reply_html(context.t(f"incident.text.{refused.value}",
                                           max=rules.MAX_ANSWER, length=len(text)))
        return None
    return text


async def what_typed(update: Update, context: BotContext) -> Step:
    """Store what happened; ask about the loss."""
    text = await _answer(update, context)
    if text is None:
        return Step.WHAT
    draft = _load(context)
    draft.what = text
    return await _ask(update, context, draft, Step.LOSS)


async def loss_typed(update: Update, context: BotContext) -> Step | int:
    """Store the loss and file the first report (its deadline is met); ask the first "Why?"."""
    text = await _answer(update, context)
    if text is None:
        return Step.LOSS
    draft = _load(context)
    draft.loss = text
    try:
        await context.services.incidents.file_report(draft.incident_id, context.member,
                                                     draft.what, draft.loss)
    except IncidentError as error:
        return await _gone(update, context, error)
    assert update.effective_message
    await update.effective_message.reply_html(context.t("review.reported", incident=draft.label))
    await context.services.deliver()
    return await _ask(update, context, draft, Step.WHY)


async def why_typed(update: Update, context: BotContext) -> Step:
    """Store one "why"; ask the next, quoting it, or after the fifth go on."""
    text = await _answer(update, context)
    if text is None:
        return Step.WHY
    draft = _load(context)
    draft.whys.append(text)
    step = Step.WHY if rules.may_ask_why(draft.whys) else Step.RESPONSIBILITY
    return await _ask(update, context, draft, step)


async def root_cause(update: Update, context: BotContext) -> Step | None:
    """"That's the root cause": stop asking why."""
    draft = _load(context)
    if draft.step is not Step.WHY or not draft.whys:
        await common.stale_button(update, context)
        return None
    await keyboards.take_buttons_off(update)
    return await _ask(update, context, draft, Step.RESPONSIBILITY)


async def responsibility_chosen(update: Update, context: BotContext) -> Step | None:
    draft = _load(context)
    if draft.step is not Step.RESPONSIBILITY:
        await common.stale_button(update, context)
        return None
    await keyboards.take_buttons_off(update)
    draft.responsibility = Responsibility(keyboards.chosen(update))
    return await _ask(update, context, draft, Step.MEASURES)


async def measures_typed(update: Update, context: BotContext) -> Step:
    text = await _answer(update, context)
    if text is None:
        return Step.MEASURES
    draft = _load(context)
    draft.measures = text
    return await _ask(update, context, draft, Step.CONFIRM)


async def close(update: Update, context: BotContext) -> int | None:
    """Close the incident; its root cause and measures become a lesson (no names)."""
    draft = _load(context)
    query = update.callback_query
    assert query
    if draft.step is not Step.CONFIRM or query.data != f"review:close:{draft.incident_id}":
        await common.stale_button(update, context)
        return None
    try:
        await context.services.incidents.close(draft.incident_id, context.member,
                                               draft.review())
    except IncidentError as error:
        return await _gone(update, context, error)
    drafts.forget(context, KEY)
    await keyboards.take_buttons_off(update)
    assert update.effective_message
    await update.effective_message.reply_html(context.t("review.closed", incident=draft.label))
    await context.services.deliver()
    return ConversationHandler.END


async def _gone(update: Update, context: BotContext, error: IncidentError) -> int:
    """The incident was closed or handed over meanwhile: say so, end the form."""
    drafts.forget(context, KEY)
    assert update.effective_message
    await update.effective_message.reply_html(context.t(f"incident.err.{error.reason.value}"))
    return ConversationHandler.END


async def unexpected(update: Update, context: BotContext) -> Step:
    assert update.effective_message
    await update.effective_message.reply_html(context.t("review.unexpected"))
    draft = _load(context)
    return await _ask(update, context, draft, draft.step)


async def cancel(update: Update, context: BotContext) -> int:
    """Leave the review; what was saved (the first report) stays."""
    drafts.forget(context, KEY)
    return await common.cancelled(update, context)


async def _cleanup(context: BotContext) -> None:
    drafts.forget(context, KEY)


def build_review() -> Flow:
    anything = MessageHandler(NEW_MESSAGE, unexpected)
    states: dict[object, list[BaseHandler[Update, BotContext, Any]]] = {
        Step.WHAT: [MessageHandler(NEW_TEXT, what_typed), anything],
        Step.LOSS: [MessageHandler(NEW_TEXT, loss_typed), anything],
        Step.WHY: [MessageHandler(NEW_TEXT, why_typed), pressed(root_cause, r"^review:cause$"),
                   anything],
        Step.RESPONSIBILITY: [pressed(responsibility_chosen,
                                      r"^review:resp:(management|execution)$"), anything],
        Step.MEASURES: [MessageHandler(NEW_TEXT, measures_typed), anything],
        Step.CONFIRM: [pressed(close, r"^review:close:\d{1,18}$"), anything],
    }
    return Flow(entry_points=[pressed(start, r"^review:start:\d{1,18}$")], states=states,
                fallbacks=[Command("cancel", cancel), pressed(cancel, r"^review:cancel$"),
                           pressed(common.stale_button, r"^review:")],
                name="review", lifetime=DRAFT_LIFETIME, cleanup=_cleanup)


def register(app: Any) -> None:
    app.add_handler(build_review())
    app.add_handler(pressed(common.stale_button, r"^review:"))
