"""The typed context every handler receives: services and the sender as a Member."""

from __future__ import annotations

from typing import Any

from telegram.ext import Application, CallbackContext, ExtBot

from conversations.i18n import Texts
from conversations.runtime.followups import Followups
from conversations.runtime.pollwatch import PollWatch
from fieldbot.domain.members import Member
from fieldbot.scheduler import Scheduler
from fieldbot.services.container import Services


class BotData:
    """Application-wide, not persisted: the services wired by the composition root."""

    services: Services
    scheduler: Scheduler
    followups: Followups  # work handed off by handlers (the receipt's edit)
    poll_watch: PollWatch  # whether Telegram has answered this bot's long poll yet


class BotContext(CallbackContext[ExtBot[Any], dict[Any, Any], dict[Any, Any], BotData]):
    """Adds `services`, `member` (set by the guard) and `t` (texts in the member's language)."""

    def __init__(
        self,
        application: Application[Any, Any, Any, Any, Any, Any],
        chat_id: int | None = None,
        user_id: int | None = None,
    ) -> None:
        super().__init__(application=application, chat_id=chat_id, user_id=user_id)
        self._member: Member | None = None
        # Something was already said in answer to this update (a question that lapsed): the
        # "what I can do" fallback then stays quiet rather than adding a second reply.
        self.answered = False

    @property
    def services(self) -> Services:
        return self.bot_data.services

    @property
    def member(self) -> Member:
        if self._member is None:
            raise RuntimeError("handler ran without the guard identifying the sender")
        return self._member

    @member.setter
    def member(self, value: Member) -> None:
        self._member = value

    @property
    def has_member(self) -> bool:
        return self._member is not None

    @property
    def t(self) -> Texts:
        return Texts(self._member.language if self._member else "en")
