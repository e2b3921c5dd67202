"""/invite <role>: a single-use deep link."""

from __future__ import annotations

import re
import unicodedata

from telegram import Update
from telegram.ext import Application

from conversations.context import BotContext
from conversations.flows.base import Command
from conversations.flows.start import role_name
from fieldbot.domain.roles import Role
from fieldbot.services.enrolment import EnrolmentError

# The words people use for each role, in both languages (the policy's own Chinese terms first).
_ROLE_WORDS = {
    "staff": Role.STAFF, "rep": Role.STAFF, "销售代表": Role.STAFF, "销售": Role.STAFF,
    "代表": Role.STAFF, "员工": Role.STAFF,
    "manager": Role.MANAGER, "部门负责人": Role.MANAGER, "负责人": Role.MANAGER,
    "经理": Role.MANAGER, "区域营销经理": Role.MANAGER,
    "officer": Role.OFFICER, "安全专员": Role.OFFICER, "专员": Role.OFFICER,
    "安全员": Role.OFFICER,
    "admin": Role.ADMIN, "管理员": Role.ADMIN,
}


_SEPARATOR = re.compile(r"[\s,，、:：;；]+")


def role_from_word(word: str) -> Role | None:
    """The role a typed word names ("Manager", "部门负责人", "ｓｔａｆｆ"), or None."""
    return _ROLE_WORDS.get(unicodedata.normalize("NFKC", word).strip().casefold())


def deep_link(bot_username: str, code: str) -> str:
    return f"https://t.me/{bot_username}?start={code}"


async def invite(update: Update, context: BotContext) -> None:
    """Create an invite for the role (and team, for admins) given as arguments."""
    assert update.effective_message
    # "/invite 销售代表，north": a Chinese keyboard puts a comma or colon after the role word
    word, _, team = _SEPARATOR.sub(" ", " ".join(context.args or []), count=1).partition(" ")
    role = role_from_word(word) if word else None
    if role is None:
        await update.effective_message.reply_html(context.t("invite.usage"))
        return
    team = team.strip()[:64]
    try:
        created = await context.services.enrolment.create_invite(context.member, role, team)
    except EnrolmentError as refused:
        await update.effective_message.reply_html(
            context.t(f"invite.refused.{refused.reason.value}")
        )
        return
    hours = int(created.expires_in.total_seconds() // 3600)
    await update.effective_message.reply_html(
        context.t("invite.created", role=role_name(context.t, created.role),
                  team=created.team or "—", hours=hours,
                  link=deep_link(context.bot.username, created.code)),
        protect_content=True,
    )


def register(app: Application) -> None:
    app.add_handler(Command("invite", invite))
