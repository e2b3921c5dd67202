"""Deny by default: identify the sender and check the role before any handler runs."""

from __future__ import annotations

import logging
from dataclasses import replace

from telegram import Update
from telegram.ext import ApplicationHandlerStop

from conversations.context import BotContext
from conversations.flows import common, reachability
from conversations.flows.base import forget_in_memory
from conversations.i18n import for_newcomer, plain
from fieldbot.domain.members import language_from_telegram
from fieldbot.domain.roles import PERMISSIONS, may, officers_only

log = logging.getLogger(__name__)

# Only a new message or a button press may act. Everything else Telegram sends with
# allowed_updates=ALL_TYPES is refused here, before any handler: an edited message (editing an
# old "/sos" must not raise a new SOS), messages of a connected business account (they come
# from a private chat but are written to someone else), channel posts, inline queries. Two
# kinds carry no action and pass: the bot's own membership changes (blocked / unblocked), and
# a live location moving (Telegram sends each move as an edit; it is stored silently).
_ACTING = ("message", "callback_query")
_PASSING = ("my_chat_member",)


def may_act(update: Update) -> bool:
    """Return whether this kind of update may reach the handlers."""
    if any(getattr(update, kind) is not None for kind in (*_ACTING, *_PASSING)):
        return True
    edited = update.edited_message
    return edited is not None and edited.location is not None


def command_of(update: Update) -> str | None:
    """Return the command name of a message like '/trip@bot args', else None."""
    message = update.effective_message
    if message is None or not message.text or not message.text.startswith("/"):
        return None
    return message.text[1:].split(maxsplit=1)[0].split("@", 1)[0].lower()


def action_of(update: Update) -> str | None:
    """Return the permission a button press needs: the first segment of its callback data."""
    query = update.callback_query
    if query is None or not query.data:
        return None
    return query.data.split(":", 1)[0]


async def guard(update: Update, context: BotContext) -> None:
    """Stop the update unless the sender is enrolled and their role allows what they ask."""
    user = update.effective_user
    if user is None or (update.effective_chat and update.effective_chat.type != "private"):
        raise ApplicationHandlerStop
    if not may_act(update):
        log.info("ignored update %s of another kind from user %s", update.update_id, user.id)
        raise ApplicationHandlerStop
    language = language_from_telegram(user.language_code)
    member = await context.services.enrolment.member(user.id, user.full_name, language)
    command = command_of(update)
    if member is not None and member.unreachable and not reachability.blocks_us(update):
        # Whoever writes, presses or unblocks can be reached again (one write, only then).
        if await context.services.enrolment.mark_reachable(member.id):
            await context.services.rollcall.reachable_again(member.id)
        member = replace(member, unreachable=None)
    if member is None and update.my_chat_member is not None:
        raise ApplicationHandlerStop  # a stranger blocking or unblocking: nothing to say
    if member is None:
        forget_in_memory(context.application, user.id)  # erased while this process ran
        text = update.effective_message.text if update.effective_message else None
        if command == "start" and text and len(text.split()) > 1:
            return  # an invite code: the start handler enrols them
        if await context.services.enrolment.should_answer_stranger(user.id):
            # The one sentence, in Chinese too unless Telegram says Chinese already (Telegram
            # has no Chinese interface: a Chinese newcomer's language_code often says English).
            await _reply(update, for_newcomer(language, lambda t: t("guard.stranger")))
        raise ApplicationHandlerStop
    context.member = member
    if command is not None:
        if command not in PERMISSIONS:
            await _reply(update, context.t("guard.unknown_command"))
            raise ApplicationHandlerStop
        if common.forwarded(update):
            # Someone else's "/sos" or "/checkin", passed on to show it: not hers to act on.
            log.info("forwarded /%s from user %s not acted on", command, member.id)
            await _reply(update, context.t("guard.forwarded_command", command=command))
            raise ApplicationHandlerStop
        if not may(member.role, command):
            log.info("denied /%s to user %s (%s)", command, member.id, member.role)
            await _reply(update, context.t(
                "guard.officers_only" if officers_only(command) else "guard.leads_only"))
            raise ApplicationHandlerStop
    action = action_of(update)
    if update.callback_query is not None and (action is None or not may(member.role, action)):
        await common.stale_button(update, context)
        raise ApplicationHandlerStop


async def _reply(update: Update, text: str) -> None:
    if update.effective_message is not None:
        await update.effective_message.reply_html(text)
    elif update.callback_query is not None:
        await update.callback_query.answer(plain(text), show_alert=True)
