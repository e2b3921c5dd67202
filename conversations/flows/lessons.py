"""/lessons [place|keyword]: the lessons learned from closed incidents, anonymised, in pages."""

from __future__ import annotations

import hashlib
from typing import Any

from telegram import Update

from conversations.context import BotContext
from conversations.flows import drafts
from conversations.flows.base import Command
from conversations.flows.common import pressed
from conversations.render import crisis
from fieldbot.services.lessons import MAX_QUERY

QUERY = "lessons_query"  # user_data: the query the pages belong to


async def lessons_command(update: Update, context: BotContext) -> None:
    """Show the first page of the lessons matching the words after /lessons (all if none)."""
    assert update.effective_message
    query = " ".join(context.args or [])[:MAX_QUERY]
    drafts.store(context)[QUERY] = query
    text, markup = await _page(context, query, 0)
    await update.effective_message.reply_html(text, reply_markup=markup)


async def page_pressed(update: Update, context: BotContext) -> None:
    """◀ / ▶: another page of the same search (an older search's buttons are stale)."""
    query = update.callback_query
    assert query and query.data
    _, _, number, tag = query.data.split(":")
    words = str(drafts.store(context).get(QUERY, ""))
    if tag != _tag(words):
        await stale(update, context)
        return
    await query.answer()
    text, markup = await _page(context, words, int(number))
    await query.edit_message_text(text, parse_mode="HTML", reply_markup=markup)


def _tag(query: str) -> str:
    """A short mark of the search a page's buttons belong to."""
    return hashlib.blake2s(query.encode(), digest_size=4).hexdigest()


async def _page(context: BotContext, query: str, page: int) -> tuple[str, Any]:
    near = None
    if query.strip():
        places = await context.services.risk.find(query, 1)
        near = places[0] if places else None
    found = await context.services.lessons.search(query, page, near)
    return crisis.lessons_page(context.t, found, query, _tag(query))


def register(app: Any) -> None:
    app.add_handler(Command("lessons", lessons_command))
    app.add_handler(pressed(page_pressed, r"^lessons:page:\d{1,4}:[0-9a-f]{8}$"))
    app.add_handler(pressed(stale, r"^lessons:"))  # a page button from before its search tag


async def stale(update: Update, context: BotContext) -> None:
    assert update.callback_query
    await update.callback_query.answer(context.t.toast("lessons.stale"), show_alert=True)
