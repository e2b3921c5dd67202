"""Who can be reached: Telegram tells the bot when a person blocks or unblocks it.

A person blocking the bot is unreachable at once (a manager who blocked it no longer counts
for their team's trips); any update from a person, an unblock included, makes them reachable
again (the guard does that, before any handler).
"""

from __future__ import annotations

from telegram import ChatMember, Update
from telegram.ext import Application, ChatMemberHandler

from conversations.context import BotContext

_GONE = (ChatMember.BANNED, ChatMember.LEFT)  # "kicked": they blocked the bot


def blocks_us(update: Update) -> bool:
    """Whether this update is Telegram saying the person has just blocked the bot."""
    change = update.my_chat_member
    return change is not None and change.new_chat_member.status in _GONE


async def chat_member_changed(update: Update, context: BotContext) -> None:
    """Mark a person who blocked the bot unreachable; an unblock was handled by the guard."""
    if blocks_us(update) and context.has_member:
        await context.services.enrolment.mark_unreachable(context.member.id, "blocked the bot")


def register(app: Application) -> None:
    app.add_handler(ChatMemberHandler(chat_member_changed, ChatMemberHandler.MY_CHAT_MEMBER))
