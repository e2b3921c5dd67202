"""A visit under way and after it: /done and "I'm done, safe", "+30 min", "Need help" (an
SOS), and the client safety note afterwards ("Anything colleagues should know?"), which a
manager may remove."""

from __future__ import annotations

from enum import IntEnum
from typing import Any

from telegram import Update
from telegram.ext import (
    Application,
    ConversationHandler,
    MessageHandler,
)

from conversations.context import BotContext
from conversations.flows import checkin, common, drafts
from conversations.flows.base import Command, Flow
from conversations.flows.common import NEW_TEXT, pressed
from conversations.i18n import LANGUAGES, Texts
from conversations.render import keyboards
from conversations.render import visit as render
from conversations.render.formatting import local_time
from fieldbot.domain.roles import Role
from fieldbot.domain.visits import MAX_NOTE, ExtendRefusal, FinishStatus, NoteCategory
from fieldbot.services.visits import Finished, Started, Told

NOTE = "visit_note"  # user_data: {"visit_id", "category"} of the note being written
_CATEGORIES = "|".join(c.value for c in NoteCategory)


class Note(IntEnum):
    TEXT = 1


def pairs_rule(context: BotContext, told: Told = Told.MANAGER) -> str:
    """The pairs rule, saying who was told: a rep's manager, or for a lead the next tier; the
    officers when no manager could be reached; nobody, when nobody could."""
    if told is Told.NOBODY:
        return context.t("visit.pairs_rule.nobody")
    if context.member.role is not Role.STAFF:
        return context.t("visit.pairs_rule.lead")
    return context.t("visit.pairs_rule.officers" if told is Told.OFFICERS else "visit.pairs_rule")


async def tell_started(update: Update, context: BotContext, started: Started) -> None:
    """The visit runs: until when, when the bot asks, the pairs rule if alone after dark, and
    a button to share the location (live location for the visit's length, if they will)."""
    visit, t = started.visit, context.t
    assert visit is not None and update.effective_message
    remind = visit.ends_at - context.services.visits.policy.visit.remind_before
    lines = [t("visit.started", ends=local_time(visit.ends_at, visit.tz_name, t.language),
               remind=local_time(max(remind, visit.started_at), visit.tz_name, t.language))]
    if started.alone_after_dark:
        lines.append(pairs_rule(context, started.told))
    lines.append(t("visit.live_location"))
    await update.effective_message.reply_html(
        "\n\n".join(lines), reply_markup=common.location_keyboard(t, "visit.button.live"))
    await context.services.deliver()


async def _ended(update: Update, context: BotContext, finished: Finished) -> None:
    """Say how the visit ended; then ask for a note about the client or place."""
    assert update.effective_chat
    t = context.t
    text = t(f"visit.done.{finished.status.value}")
    if finished.visit is not None and await context.services.checkins.awaits_reply(
            context.member.id):  # "I'm done, safe" is not tonight's check-in
        text += "\n\n" + t("visit.done.checkin_still_open")
    await context.bot.send_message(update.effective_chat.id, text, parse_mode="HTML")
    if finished.visit is not None:
        await context.bot.send_message(update.effective_chat.id, t("visit.note.question"),
                                       parse_mode="HTML",
                                       reply_markup=render.note_categories(t, finished.visit.id))
    await context.services.deliver()


_DONE_WORDS = frozenset({"done", "i'm done", "im done", "i am done", "已结束", "结束了", "结束"})


def says_done(text: str) -> bool:
    """The visit button's own words typed ("✅ I'm done, safe", "✅ 已结束，我很安全"), or
    "done": what ends the visit under way, as the button would."""
    words = common.typed_words(text)
    return words in _DONE_WORDS or words in {
        common.typed_words(Texts(language)("visit.button.done")) for language in LANGUAGES}


async def visit_due(context: BotContext) -> bool | None:
    """None without a visit under way; else whether its end has passed (it is alerting, and
    "I'm safe" answers it: "tap I'm done, safe")."""
    return await context.services.visits.overdue(context.member.id)


async def done_command(update: Update, context: BotContext) -> None:
    """/done: end the visit under way (a late one sends the all-clear)."""
    await _ended(update, context, await context.services.visits.finish(context.member.id))


async def done_pressed(update: Update, context: BotContext) -> None:
    """"I'm done, safe" (or "End it now"): end the visit this button names."""
    query = update.callback_query
    assert query and query.data
    finished = await context.services.visits.finish(context.member.id,
                                                    int(query.data.rsplit(":", 1)[1]))
    await keyboards.take_buttons_off(update)
    if finished.status is FinishStatus.NONE_OPEN and await context.services.visits.current(
            context.member.id) is not None:  # an earlier visit's button: this one goes on
        assert update.effective_message
        await update.effective_message.reply_html(context.t("visit.done.other"))
        return
    await _ended(update, context, finished)


async def extend_pressed(update: Update, context: BotContext) -> None:
    """"+30 min": a later end, or why not (too many, beyond the longest visit, over)."""
    query = update.callback_query
    assert query and query.data and update.effective_chat
    moved, visit, told = await context.services.visits.extend(
        context.member.id, int(query.data.rsplit(":", 1)[1]))
    await query.answer()
    t = context.t
    if moved is ExtendRefusal.NONE_OPEN and await context.services.visits.current(
            context.member.id) is not None:  # an earlier visit's button: this one goes on
        await context.bot.send_message(update.effective_chat.id, t("visit.done.other"),
                                       parse_mode="HTML")
        return
    if isinstance(moved, ExtendRefusal):
        policy = context.services.visits.policy.visit
        text = t(f"visit.extend.{moved.value}", max=policy.max_extensions,
                 hours=int(policy.max_length.total_seconds() // 3600))
    else:
        assert visit is not None
        text = t("visit.extended", ends=local_time(moved.ends_at, visit.tz_name, t.language),
                 left=context.services.visits.policy.visit.max_extensions - moved.extensions)
        if told is not None:  # the later end took a lone visit into the dark
            text += "\n\n" + pairs_rule(context, told)
    await context.bot.send_message(update.effective_chat.id, text, parse_mode="HTML")
    await context.services.deliver()


async def keep_pressed(update: Update, context: BotContext) -> None:
    """"Keep it": the visit under way goes on; nothing changes."""
    await keyboards.take_buttons_off(update)
    assert update.effective_message
    going_on = await context.services.visits.current(context.member.id) is not None
    await update.effective_message.reply_html(
        context.t("visit.kept" if going_on else "visit.done.none_open"))


# --- the note afterwards ------------------------------------------------------------------------


async def note_category(update: Update, context: BotContext) -> int:
    """A category pressed: ask for the note's text (short; it is about another person)."""
    query = update.callback_query
    assert query and query.data
    _, _, visit_id, category = query.data.split(":")
    await keyboards.take_buttons_off(update)
    drafts.store(context)[NOTE] = {"visit_id": int(visit_id), "category": category}
    assert update.effective_message
    await update.effective_message.reply_html(context.t(
        "visit.note.ask", category=context.t(f"visit.note.category.{category}"), max=MAX_NOTE))
    return Note.TEXT


async def note_text(update: Update, context: BotContext) -> int:
    """Keep the note (encrypted); the manager is told and may remove it."""
    message = update.effective_message
    assert message and message.text is not None
    text = message.text.strip()
    if not text or len(text) > MAX_NOTE:
        await message.reply_html(context.t("visit.note.bad", max=MAX_NOTE, length=len(text)))
        return Note.TEXT
    asked = drafts.store(context).pop(NOTE, None) or {}
    note = await context.services.visits.add_note(
        context.member, int(asked.get("visit_id", 0)),
        NoteCategory(asked.get("category", NoteCategory.OTHER.value)), text)
    await message.reply_html(context.t("visit.note.saved" if note else "visit.note.already"))
    await context.services.deliver()
    return ConversationHandler.END


async def note_cancelled(update: Update, context: BotContext) -> int:
    drafts.store(context).pop(NOTE, None)
    return await common.cancelled(update, context)


async def no_note(update: Update, context: BotContext) -> None:
    """"Nothing to note": thank them; nothing is kept."""
    await keyboards.take_buttons_off(update)
    assert update.effective_message
    await update.effective_message.reply_html(context.t("visit.note.none"))


async def remove_pressed(update: Update, context: BotContext) -> None:
    """A manager's "Remove note": the note's text goes at once; colleagues no longer see it."""
    query = update.callback_query
    assert query and query.data
    removed = await context.services.visits.remove_note(context.member,
                                                        int(query.data.rsplit(":", 1)[1]))
    if removed:
        await keyboards.take_buttons_off(update)
        assert update.effective_message
        await update.effective_message.reply_html(context.t("visit.note.removed"))
    else:
        await query.answer(context.t.toast("visit.note.not_removed"), show_alert=True)


async def _forget_note(context: BotContext) -> None:
    drafts.store(context).pop(NOTE, None)


def register(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    app.add_handler(Flow(
        entry_points=[pressed(note_category, rf"^visit:note:\d{{1,18}}:({_CATEGORIES})$")],
        states={Note.TEXT: [MessageHandler(NEW_TEXT, note_text)]},
        fallbacks=[Command("cancel", note_cancelled)],
        name="visitnote", cleanup=_forget_note, allow_reentry=True,
    ))
    app.add_handler(Command("done", done_command))
    app.add_handler(pressed(done_pressed, r"^visit:done:\d{1,18}$"))
    app.add_handler(pressed(extend_pressed, r"^visit:extend:\d{1,18}$"))
    app.add_handler(pressed(checkin.help_pressed, r"^visit:help:\d{1,18}$"))
    app.add_handler(pressed(keep_pressed, r"^visit:keep$"))
    app.add_handler(pressed(no_note, r"^visit:nonote:\d{1,18}$"))
    app.add_handler(pressed(remove_pressed, r"^visit:rmnote:\d{1,18}$"))
