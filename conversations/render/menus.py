"""The command menu Telegram shows next to the text box: everyone's, and the leads' own."""

from __future__ import annotations

from telegram import Bot, BotCommand, BotCommandScopeChat

from conversations.i18n import Texts
from fieldbot.domain.members import Member
from fieldbot.domain.roles import Role

EVERYONE = ("start", "help", "trip", "trips", "endtrip", "checkin", "visit", "done", "sos",
            "risk", "hazard", "lessons", "contacts", "language", "cancel")
LEADS = ("team", "alerts", "dashboard", "hazards", "report", "rollcall", "invite")
INCIDENTS = ("incident",)  # managers and officers
OFFICERS = ("drill",)


def commands(t: Texts, names: tuple[str, ...]) -> list[BotCommand]:
    return [BotCommand(name, t(f"menu.{name}")) for name in names]


async def set_personal_menu(bot: Bot, member: Member) -> None:
    """Give a manager, officer or admin a menu with their commands, in their language."""
    if not member.is_lead:
        return
    names: tuple[str, ...] = EVERYONE + LEADS
    if member.role in (Role.MANAGER, Role.OFFICER):
        names += INCIDENTS
    if member.role is Role.OFFICER:
        names += OFFICERS
    await bot.set_my_commands(commands(Texts(member.language), names),
                              scope=BotCommandScopeChat(member.id))
