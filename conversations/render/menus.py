"""The command menu Telegram shows next to the text box: everyone's, and the leads' own."""

from __future__ import annotations

from telegram import Bot, BotCommand, BotCommandScopeChat

from conversations.i18n import Texts
from fieldbot.domain.members import Member

EVERYONE = ("start", "help", "trip", "trips", "endtrip", "checkin", "sos", "risk", "hazard",
            "language", "cancel")
LEADS = ("team", "alerts", "dashboard", "hazards", "report", "invite")


def commands(t: Texts, names: tuple[str, ...]) -> list[BotCommand]:
    return [BotCommand(name, t(f"menu.{name}")) for name in names]


async def set_personal_menu(bot: Bot, member: Member) -> None:
    """Give a manager, officer or admin a menu with their commands, in their language."""
    if not member.is_lead:
        return
    await bot.set_my_commands(commands(Texts(member.language), EVERYONE + LEADS),
                              scope=BotCommandScopeChat(member.id))
