"""The ports every channel adapter implements, and what a send returns.

Adapters take text already rendered in the recipient's language; they know nothing of alerts,
ladders or Telegram. They never log an address, a number or a text: ids and error codes only.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol


class Channel(StrEnum):
    TELEGRAM = "telegram"
    SMS = "sms"
    CALL = "call"
    EMAIL = "email"
    WEBHOOK = "webhook"


@dataclass(frozen=True, slots=True)
class Sent:
    """What the provider said when handed one message (not yet whether it was delivered)."""

    accepted: bool
    provider_id: str = ""  # Twilio's SID, the SMTP Message-ID: matches later status callbacks
    permanent: bool = False  # refused for good (invalid number, bad address): do not retry
    error: str = ""  # a provider code or exception name, never personal data


class SmsSender(Protocol):
    async def send_sms(self, to: str, body: str, *, status_callback: str | None = None) -> Sent:
        ...


class CallPlacer(Protocol):
    async def place_call(
        self, to: str, twiml: str, *, status_callback: str | None = None
    ) -> Sent: ...


class MailSender(Protocol):
    async def send_mail(self, to: str, subject: str, text: str) -> Sent: ...


class HookPoster(Protocol):
    async def post(self, event: dict[str, Any]) -> Sent: ...


@dataclass(frozen=True, slots=True)
class Channels:
    """The channels configured in this deployment; an absent one is None."""

    sms: SmsSender | None = None
    call: CallPlacer | None = None
    email: MailSender | None = None
    webhook: HookPoster | None = None

    def live(self) -> list[Channel]:
        found = [Channel.TELEGRAM]
        for channel, adapter in ((Channel.SMS, self.sms), (Channel.CALL, self.call),
                                 (Channel.EMAIL, self.email), (Channel.WEBHOOK, self.webhook)):
            if adapter is not None:
                found.append(channel)
        return found

    async def aclose(self) -> None:
        """Close the adapters' connections (each once: SMS and calls share one client)."""
        seen: set[int] = set()
        for adapter in (self.sms, self.call, self.email, self.webhook):
            close = getattr(adapter, "aclose", None)
            if close is not None and id(adapter) not in seen:
                seen.add(id(adapter))
                await close()
