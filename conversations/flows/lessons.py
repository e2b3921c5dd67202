"""/lessons [place|keyword]: the lessons learned from closed incidents, anonymised, in pages."""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import CommandHandler

from conversations.context import BotContext
from conversations.flows import drafts
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
    """◀ / ▶: another page of the same search."""
    query = update.callback_query
    assert query and query.data
    await query.answer()
    words = str(drafts.store(context).get(QUERY, ""))
    text, markup = await _page(context, words, int(query.data.split(":")[2]))
    await query.edit_message_text(text, parse_mode="HTML", reply_markup=markup)


async def _page(context: BotContext, query: str, page: int) -> tuple[str, Any]:
    near = None
    if query.strip():
        places = await context.services.risk.find(query, 1)
        near = places[0] if places else None
    found = await context.services.lessons.search(query, page, near)
    return crisis.lessons_page(context.t, found, query)


def register(app: Any) -> None:
    app.add_handler(CommandHandler("lessons", lessons_command))
    app.add_handler(pressed(page_pressed, r"^lessons:page:\d{1,4}$"))
