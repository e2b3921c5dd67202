"""What every flow needs: the filters and button handlers, the location keyboard, the place
search (a typed name → the one meant, or the matches as buttons; or a shared pin) and leaving a
flow with /cancel."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from typing import Any
from uuid import uuid4

from telegram import KeyboardButton, ReplyKeyboardMarkup, ReplyKeyboardRemove, Update
from telegram.ext import CallbackQueryHandler, ConversationHandler, filters

from conversations.context import BotContext
from conversations.i18n import Texts
from conversations.render import keyboards
from conversations.render.formatting import place_choices
from conversations.render.trip import obvious_match
from fieldbot.domain.places import Place

NEW_MESSAGE = filters.UpdateType.MESSAGE & ~filters.COMMAND
NEW_TEXT = NEW_MESSAGE & filters.TEXT
NEW_PIN = NEW_MESSAGE & filters.LOCATION
MATCHES = 5  # places offered as buttons at most


async def stale_button(update: Update, context: BotContext) -> None:
    """Answer a press that no longer means anything (a question no longer open, a button of an
    older version of the bot, forged data) in an alert, rather than leave the button spinning
    until Telegram gives up."""
    assert update.callback_query
    await update.callback_query.answer(context.t.toast("guard.stale_button"), show_alert=True)


def pressed(callback: Any, pattern: str) -> CallbackQueryHandler[BotContext, Any]:
    """Handle a press of a button whose data matches `pattern`."""
    return CallbackQueryHandler(callback, pattern=pattern)


# What people type instead of pressing Yes / No, in both languages (the buttons' own labels too).
_YES = {"yes", "y", "yeah", "yep", "是", "是的", "对", "有", "要", "还要"}
_NO = {"no", "n", "nope", "否", "不", "不是", "没有", "没", "无", "不要", "不用"}


# "Alone" typed instead of pressed, as a companion's name it would pass for company.
_ALONE = {"alone", "by myself", "myself", "just me", "only me", "me", "nobody", "no one",
          "none", "独自", "独自一人", "独自前往", "一个人", "我一个人", "自己", "我自己", "没有",
          "没人", "无", "无人", "单独"}


def means_alone(text: str, t: Texts, button_key: str) -> bool:
    """Return whether a typed companion means nobody ("Alone", "一个人", the button's label)."""
    typed = unicodedata.normalize("NFKC", text).strip().strip("。.!！").casefold()
    return typed in _ALONE or typed == unicodedata.normalize("NFKC", t(button_key)).casefold()


_NOT_WORDS = re.compile(r"[^\w']+")


def typed_words(text: str) -> str:
    """A typed answer as its words alone, to compare with the words we accept: full-width
    forms as ASCII, case, punctuation, emoji and spacing ignored ("ＩＭ ＳＡＦＥ!" and "✅ I’m
    safe" read "im safe" and "i'm safe"; "平安。" reads "平安")."""
    words = _NOT_WORDS.sub(" ", unicodedata.normalize("NFKC", text).replace("’", "'"))
    return " ".join(words.casefold().split())


# What people type to say they are safe, in either language, however punctuated ("I'm safe!",
# "平安。", the button's own label copied): a check-in, reminder or not.
_SAFE_WORDS = frozenset({"i'm safe", "im safe", "i am safe", "safe", "i'm ok", "i am ok",
                         "平安", "报平安", "我平安", "我很安全", "安全", "已报平安"})


def says_safe(text: str) -> bool:
    return typed_words(text) in _SAFE_WORDS


# What people type to ask for help instead of pressing 🆘: an SOS, as the button gives, never
# a check-in. At any time the unmistakable ones (the buttons' own words, the policy's 紧急求助,
# 救命, SOS); the rest ("help me", "求助") may ask how the bot works, and are an SOS only as
# the answer to a question that waits (`loosely`: tonight's reminder, a roll-call, a visit
# over its end).
_HELP_WORDS = frozenset({"need help", "i need help", "sos", "mayday", "紧急求助", "救命",
                         "求救"})
_HELP_WORDS_LOOSELY = frozenset({"help", "help me", "求助", "需要帮助", "我需要帮助", "帮帮我",
                                 "帮我", "帮助"})


def says_help(text: str, *, loosely: bool = False) -> bool:
    words = typed_words(text)
    return words in _HELP_WORDS or (loosely and words in _HELP_WORDS_LOOSELY)


def forwarded(update: Update) -> bool:
    """Whether the message was forwarded: someone else's words (a colleague's "/sos" or "I'm
    safe", a pin of where someone else is), never hers to act on as her own."""
    message = update.effective_message
    return message is not None and message.forward_origin is not None


def typed_yes_no(update: Update, t: Texts, yes_key: str, no_key: str) -> bool | None:
    """Return the yes or no that a typed answer means ("是", "没有了", "No"), or None."""
    message = update.effective_message
    typed = typed_words(message.text or "") if message else ""
    if typed in _YES or typed == typed_words(t(yes_key)):
        return True
    if typed in _NO or typed == typed_words(t(no_key)):
        return False
    return None


def location_keyboard(t: Texts, label: str = "trip.button.my_location",
                      *more: str) -> ReplyKeyboardMarkup:
    """A keyboard whose first button shares the person's location; `more` buttons below it."""
    if not more:
        return _sharing_only(t.language, label)
    rows = [[KeyboardButton(t(label), request_location=True)]]
    rows += [[KeyboardButton(text)] for text in more]
    return ReplyKeyboardMarkup(rows, resize_keyboard=True, one_time_keyboard=True)


@cache
def _sharing_only(language: str, label: str) -> ReplyKeyboardMarkup:
    """The one-button keyboard, built once per language and label (it comes with every
    check-in's receipt; a keyboard, like every Telegram object, never changes once made)."""
    return ReplyKeyboardMarkup([[KeyboardButton(Texts(language)(label), request_location=True)]],
                               resize_keyboard=True, one_time_keyboard=True)


# --- the place search -------------------------------------------------------------------------


_LISTED = "places_listed:"  # user_data: the nonce of the newest matches offered, per question


@dataclass(frozen=True, slots=True)
class PlaceQuestion:
    """One flow's "where?": its catalog keys, its button data and the longest name taken."""

    empty: str  # nothing typed ({max})
    too_long: str  # ({max})
    not_found: str  # ({query})
    pick: str  # "which one?" above the matches
    button: str  # callback data of a match, its index appended (e.g. "trip:place:")
    longest: int


async def search_place(
    update: Update, context: BotContext, text: str, question: PlaceQuestion
) -> Place | list[Place] | None:
    """Return the one place the typed name surely means; or offer the matches as buttons and
    return them (the caller keeps them for the press); or None after saying why not."""
    message = update.effective_message
    assert message
    text, t = text.strip(), context.t
    if not text or len(text) > question.longest:
        key = question.too_long if text else question.empty
        await message.reply_html(t(key, max=question.longest))
        return None
    places = await context.services.risk.find(text, MATCHES)
    place = obvious_match(text, places)
    if place is not None:
        return place
    if not places:
        await message.reply_html(t(question.not_found, query=text))
        return None
    labels = place_choices(places, t.language)
    # The buttons carry the list's nonce: an older list's button would name by its place a
    # match of the newest list (Springfield pressed, Paris, Texas taken).
    listed = uuid4().hex[:6]
    assert context.user_data is not None
    context.user_data[_LISTED + question.button] = listed
    # Only begun like the typed name ("Korea": Koreatown): a suggestion, not "which one".
    pick = "place.did_you_mean" if all(p.guessed for p in places) else question.pick
    await message.reply_html(t(pick), reply_markup=keyboards.rows(
        *([(label, f"{question.button}{i}:{listed}")] for i, label in enumerate(labels))))
    return places


def picked_place(update: Update, context: BotContext, question: PlaceQuestion,
                 offered: int) -> int | None:
    """Return the index of the match pressed among the `offered` the newest list of
    `question` showed; None for a button of an older list, or not one of them."""
    query = update.callback_query
    assert query and query.data
    index, _, listed = query.data.removeprefix(question.button).partition(":")
    newest = (context.user_data or {}).get(_LISTED + question.button)
    if not index.isdigit() or not listed or listed != newest:
        return None
    return int(index) if int(index) < offered else None


def picked_index(update: Update, offered: int) -> int | None:
    """Return the index of the match pressed; None if the press is not one of `offered`."""
    index = int(keyboards.chosen(update))
    return index if index < offered else None


async def pinned_place(update: Update, context: BotContext) -> Place | None:
    """Resolve the shared pin of this message; None (after a clear reply) if it is invalid."""
    message = update.effective_message
    assert message
    assert message.location
    try:
        return await context.services.risk.place_at(message.location.latitude,
                                                    message.location.longitude)
    except ValueError:
        await message.reply_html(context.t("trip.destination.bad_pin"))
        return None


# --- leaving ----------------------------------------------------------------------------------


async def cancelled(update: Update, context: BotContext) -> int:
    """/cancel (or a Cancel button): say so, take the reply keyboard away, end the flow."""
    if update.callback_query is not None:
        await keyboards.take_buttons_off(update)
    assert update.effective_message
    await update.effective_message.reply_html(context.t("cancel.done"),
                                              reply_markup=ReplyKeyboardRemove())
    return ConversationHandler.END
