"""/start (enrol or greet), /help and /language."""

from __future__ import annotations

from dataclasses import replace
from functools import partial

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import Application, CallbackQueryHandler, MessageHandler, filters

from conversations.context import BotContext
from conversations.flows import common, drafts
from conversations.flows.base import Command
from conversations.i18n import LANGUAGES, Raw, Texts, for_newcomer
from conversations.render.menus import set_personal_menu
from fieldbot.domain.members import Member, language_from_telegram
from fieldbot.domain.roles import Role
from fieldbot.services.enrolment import EnrolmentError, InviteRefused


def role_name(t: Texts, role: Role) -> str:
    return t(f"role.{role.value}")


def what_you_can_do(t: Texts, member: Member) -> str:
    """Return the role-aware list of commands."""
    parts = [t("help.staff") + "\n" + t("help.lessons")]
    if member.role in (Role.MANAGER, Role.OFFICER, Role.ADMIN):
        parts.append(t("help.leads"))
    if member.role in (Role.MANAGER, Role.OFFICER):
        parts.append(t("help.incident"))
    if member.role is Role.OFFICER:
        parts.append(t("help.drill"))
    if member.role is Role.ADMIN:
        parts.append(t("help.invite"))
    elif member.role is Role.MANAGER:  # a manager invites field reps to their own team only
        parts.append(t("help.invite_team"))
    parts.append(t("help.common"))
    return "\n\n".join(parts)


async def start(update: Update, context: BotContext) -> None:
    """Enrol with an invite code, or greet an enrolled member with what they can do."""
    assert update.effective_user and update.effective_message
    user, message = update.effective_user, update.effective_message
    code = context.args[0] if context.args else ""
    if code:
        language = language_from_telegram(user.language_code)
        try:
            member = await context.services.enrolment.redeem(
                code, user.id, user.full_name, language
            )
        except EnrolmentError as refused:
            why = partial(_refusal, refused=refused)
            await message.reply_html(why(context.t) if context.has_member
                                     else for_newcomer(language, why))
            return
        context.member = member
        await set_personal_menu(context.bot, member)
        # Telegram has no Chinese interface, so a Chinese user's language_code often says
        # English: the choice is offered at once, on the welcome itself.
        t = Texts(member.language)
        await message.reply_html(
            _welcome(t, member) + "\n\n" + t("enrol.choose_language"),
            reply_markup=_language_buttons(FIRST_START_LANGUAGES, suffix=":start"),
        )
    t = context.t
    await message.reply_html(
        t("start.greeting", name=context.member.name,
          role=role_name(t, context.member.role),
          commands=Raw(what_you_can_do(t, context.member)))
    )


# The first /start offers Chinese first: the company's own language.
FIRST_START_LANGUAGES = ("zh", "en")


def _welcome(t: Texts, member: Member) -> str:
    return t("enrol.welcome", name=member.name, role=role_name(t, member.role),
             team=member.team or "—")


def _language_buttons(languages: tuple[str, ...], suffix: str = "") -> InlineKeyboardMarkup:
    """One button per language, each labelled in its own language."""
    return InlineKeyboardMarkup([[
        InlineKeyboardButton(Texts(lang)("language.name"),
                             callback_data=f"language:{lang}{suffix}")
        for lang in languages
    ]])


def _refusal(t: Texts, refused: EnrolmentError) -> str:
    """Say why the invite did not work; someone enrolled is told who can change roles."""
    key = f"enrol.refused.{refused.reason.value}"
    if refused.reason is not InviteRefused.ALREADY_ENROLLED or refused.member is None:
        return t(key)
    return t(key, role=role_name(t, refused.member.role), team=refused.member.team or "—",
             admins=", ".join(refused.admins) or t("enrol.admins_operator"))


async def help_command(update: Update, context: BotContext) -> None:
    """Show the commands this member may use."""
    assert update.effective_message
    await update.effective_message.reply_html(what_you_can_do(context.t, context.member))


# A language named in words (the buttons' own labels too): "/language 中文", or typed after it.
_LANGUAGE_WORDS = {"中文": "zh", "汉语": "zh", "简体中文": "zh", "chinese": "zh",
                   "english": "en", "英文": "en", "英语": "en"}


def _named_language(words: str) -> str | None:
    return _LANGUAGE_WORDS.get(common.typed_words(words))


async def language(update: Update, context: BotContext) -> None:
    """Switch to the language named (/language 中文), or offer the languages as buttons."""
    assert update.effective_message
    named = _named_language(" ".join(context.args or []))
    if named is not None:
        await _switch_language(update, context, named)
        return
    await update.effective_message.reply_html(
        context.t("language.choose"), reply_markup=_language_buttons(LANGUAGES)
    )


async def _switch_language(update: Update, context: BotContext, chosen: str) -> None:
    member = replace(context.member, language=chosen)
    await context.services.enrolment.set_language(member.id, chosen)
    await set_personal_menu(context.bot, member)
    context.member = member
    assert update.effective_message
    await update.effective_message.reply_html(Texts(chosen)("language.set"))


async def language_chosen(update: Update, context: BotContext) -> None:
    """Store the chosen language and confirm in it.

    On the welcome of a first /start, the welcome is shown again in the chosen language and,
    if that differs from the one guessed from Telegram, so is the list of commands.
    """
    query = update.callback_query
    assert query and query.data
    _, chosen, *rest = query.data.split(":")
    if chosen not in LANGUAGES or rest not in ([], ["start"]):
        await common.stale_button(update, context)
        return
    before = context.member
    member = replace(before, language=chosen)
    await context.services.enrolment.set_language(member.id, chosen)
    await set_personal_menu(context.bot, member)
    context.member = member
    await query.answer()
    t = Texts(chosen)
    if not rest:
        await query.edit_message_text(t("language.set"))
        return
    await query.edit_message_text(_welcome(t, member), parse_mode="HTML")
    if chosen != before.language:
        assert update.effective_chat
        await context.bot.send_message(
            update.effective_chat.id,
            t("start.greeting", name=member.name, role=role_name(t, member.role),
              commands=Raw(what_you_can_do(t, member))),
            parse_mode="HTML",
        )


async def nothing_to_cancel(update: Update, context: BotContext) -> None:
    """/cancel outside any conversation: the draft put aside, if any, else nothing."""
    assert update.effective_message
    if await drafts.cancel_put_aside(update, context):
        return
    await update.effective_message.reply_html(context.t("cancel.nothing"))


async def not_available(update: Update, context: BotContext) -> None:
    """A command of the interface contract that this version does not offer yet."""
    assert update.effective_message
    await update.effective_message.reply_html(context.t("guard.not_available"))


async def outside_any_flow(update: Update, context: BotContext) -> None:
    """A message no flow took (free text, a sticker): say briefly what they can do."""
    assert update.effective_message
    if context.answered:
        return
    named = _named_language(update.effective_message.text or "")
    if named is not None:  # "中文" typed instead of pressed under /language
        await _switch_language(update, context, named)
        return
    if await drafts.offer_put_aside(update, context):
        return
    lead = context.member.role in (Role.MANAGER, Role.OFFICER, Role.ADMIN)
    await update.effective_message.reply_html(
        context.t("fallback.leads" if lead else "fallback.staff"))


def register_fallbacks(app: Application) -> None:
    app.add_handler(Command("cancel", nothing_to_cancel))
    app.add_handler(MessageHandler(filters.COMMAND, not_available))
    app.add_handler(MessageHandler(filters.UpdateType.MESSAGE, outside_any_flow))
    app.add_handler(CallbackQueryHandler(common.stale_button))  # a press nothing else took


def register(app: Application) -> None:
    app.add_handler(Command("start", start))
    app.add_handler(Command("help", help_command))
    app.add_handler(Command("language", language))
    app.add_handler(CallbackQueryHandler(language_chosen, pattern=r"^language:"))
