"""/dashboard: the safety desk page, as a Mini App button and a one-time link for a computer."""

from __future__ import annotations

import html

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Update,
    WebAppInfo,
)
from telegram.ext import Application

from conversations.context import BotContext
from conversations.flows.base import Command
from conversations.i18n import Raw

DESK_PATH = "/desk/"


def desk_url(public_url: str) -> str:
    return f"{public_url}{DESK_PATH}"


async def dashboard(update: Update, context: BotContext) -> None:
    """Send the Mini App button and a single-use, 10-minute login link bound to the sender."""
    assert update.effective_message
    public_url = context.services.settings.public_url
    if public_url is None:
        await update.effective_message.reply_html(context.t("dashboard.no_url"))
        return
    token = await context.services.desk.issue_link(context.member)
    # In the fragment: a browser never sends it to a server, so it stays out of every log.
    link = f"{desk_url(public_url)}#login={token}"
    shown = html.escape(desk_url(public_url))
    text = context.t("dashboard.intro", link=Raw(f'<a href="{html.escape(link)}">{shown}</a>'))
    markup = None
    if public_url.startswith("https://"):  # Telegram opens Mini Apps over https only
        markup = InlineKeyboardMarkup([[InlineKeyboardButton(
            context.t("dashboard.button"), web_app=WebAppInfo(url=desk_url(public_url)))]])
    else:
        text = f"{text}\n\n{context.t('dashboard.no_https')}"
    await update.effective_message.reply_html(
        text, reply_markup=markup, protect_content=True,
        link_preview_options=LinkPreviewOptions(is_disabled=True))


def register(app: Application) -> None:
    app.add_handler(Command("dashboard", dashboard))
