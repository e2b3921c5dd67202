"""The outbox's way out on every channel: Telegram rows through the TelegramMessenger, the
others rendered as plain text (`render.plain`) and handed to their adapter.

It also watches Telegram: a failed Bot API call (network, 5xx, timeout) starts the clock of
"Telegram is down", a call that goes through stops it (`ReachService`).
"""

from __future__ import annotations

import logging
from typing import Any

from conversations.i18n import Texts
from conversations.render import plain
from conversations.runtime.messenger import TelegramMessenger
from fieldbot.channels.base import Sent
from fieldbot.domain.contacts import ContactPoints
from fieldbot.domain.roles import Role
from fieldbot.services.container import Services
from fieldbot.services.outbox import Delivery, Outcome
from fieldbot.services.outgoing import OutboxMessage

log = logging.getLogger(__name__)
_PERSONAL = ("sms", "call", "email")  # the channels that reach one person

STATUS_PATH = "/twilio/status"
GATHER_PATH = "/twilio/gather"
SMS_PATH = "/twilio/sms"
ACK_PATH = "/ack"


def _delivery(sent: Sent) -> Delivery:
    if sent.accepted:
        return Delivery(Outcome.SENT, provider_id=sent.provider_id)
    if sent.permanent:
        return Delivery(Outcome.PERMANENT, error=sent.error or "refused")
    return Delivery(Outcome.TRANSIENT, error=sent.error or "failed")


class ChannelRouter:
    def __init__(self, telegram: TelegramMessenger, services: Services) -> None:
        self._telegram = telegram
        self._services = services
        self._public = services.settings.public_url  # None: no callbacks, no links

    def url(self, path: str) -> str | None:
        return f"{self._public}{path}" if self._public else None

    async def deliver(self, message: OutboxMessage) -> Delivery:
        if message.channel == "telegram":
            delivery = await self._telegram.deliver(message)
            await self._watch(delivery)
            return delivery
        return await self._beyond(message)

    async def _watch(self, delivery: Delivery) -> None:
        reach = self._services.reach
        if delivery.outcome is Outcome.TRANSIENT and delivery.error != "429":
            await reach.telegram_failed()
        elif delivery.outcome is not Outcome.TRANSIENT:
            await reach.telegram_ok()  # Telegram answered, even if with a refusal

    async def _beyond(self, message: OutboxMessage) -> Delivery:
        services = self._services
        adapters = services.channels
        member = await services.enrolment.member(message.recipient)
        if member is None:
            return Delivery(Outcome.PERMANENT, error="not enrolled")
        t = Texts(member.language)
        status = self.url(STATUS_PATH)
        channel = message.channel
        if message.kind == "family":
            return await self._family(message, member.language, status)
        points = await services.reach.contact_points(message.recipient)
        if message.kind == "alert" and member.role is Role.STAFF and channel in _PERSONAL:
            return await self._enrolled_family(message, t, points, status)
        if channel in ("sms", "call"):
            phone = points.reachable_phone
            if phone is None:
                return Delivery(Outcome.PERMANENT, error="no confirmed phone")
            if channel == "sms" and adapters.sms is not None:
                return _delivery(await adapters.sms.send_sms(
                    phone, plain.sms(t, message), status_callback=status))
            if channel == "call" and adapters.call is not None:
                if not await services.reach.reserve_call(message.recipient):
                    return Delivery(Outcome.WITHDRAWN, error="calls per hour reached")
                return _delivery(await adapters.call.place_call(
                    phone, plain.twiml(t, message, self.url(GATHER_PATH)),
                    status_callback=status))
        elif channel == "email" and adapters.email is not None:
            address = points.reachable_email
            if address is None:
                return Delivery(Outcome.PERMANENT, error="no confirmed e-mail")
            link = None
            if message.kind == "alert" and self._public:
                token = services.reach.links.sign(message.id, services.clock.now())
                link = self.url(f"{ACK_PATH}/{token}")
            mail = plain.mail(t, message, link)
            return _delivery(await adapters.email.send_mail(address, mail.subject, mail.text))
        elif channel == "webhook" and adapters.webhook is not None:
            return _delivery(await adapters.webhook.post(_event(message)))
        log.warning("outbox %s: channel %s is not configured", message.id, channel)
        return Delivery(Outcome.PERMANENT, error=f"{channel} not configured")


    async def _enrolled_family(self, message: OutboxMessage, t: Texts, points: ContactPoints,
                               status: str | None) -> Delivery:
        """An emergency contact who enrolled (as staff) and confirmed a phone or an address:
        the words Telegram gives them (`plain.family_alert`), never the leads' "reply 1" or
        "press 1", which they could not do (they would be refused), nor a link."""
        adapters = self._services.channels
        text = plain.plain_text(plain.family_alert(t, message.params))
        channel = message.channel
        phone = points.reachable_phone
        if channel == "sms" and adapters.sms is not None and phone is not None:
            return _delivery(await adapters.sms.send_sms(phone, plain.cut_sms(text),
                                                         status_callback=status))
        if channel == "call" and adapters.call is not None and phone is not None:
            if not await self._services.reach.reserve_call(message.recipient):
                return Delivery(Outcome.WITHDRAWN, error="calls per hour reached")
            return _delivery(await adapters.call.place_call(
                phone, plain.spoken_twiml(t.language, text), status_callback=status))
        address = points.reachable_email
        if channel == "email" and adapters.email is not None and address is not None:
            subject = text.split("\n", 1)[0]
            body = f"{text}\n\n{plain.plain_text(t('channel.mail.footer'))}"
            return _delivery(await adapters.email.send_mail(address, subject, body))
        return Delivery(Outcome.PERMANENT, error=f"no confirmed point for {channel}")

    async def _family(self, message: OutboxMessage, language: str,
                      status: str | None) -> Delivery:
        """The emergency contact: the organisation's own words, by SMS or a spoken call."""
        adapters = self._services.channels
        text = plain.family(self._services.policy.emergency_contact, language, message.params)
        phone = str(message.params["phone"])
        if message.channel == "sms" and adapters.sms is not None:
            return _delivery(await adapters.sms.send_sms(phone, text, status_callback=status))
        if message.channel == "call" and adapters.call is not None:
            return _delivery(await adapters.call.place_call(
                phone, plain.spoken_twiml(language, text), status_callback=status))
        return Delivery(Outcome.PERMANENT, error=f"{message.channel} not configured")


def _event(message: OutboxMessage) -> dict[str, Any]:
    """The outgoing webhook's JSON: ids and the alert's kind only, never personal data (the
    company's tool asks the desk, or opens Telegram, for the rest); a drill says so."""
    p = message.params
    return {"type": message.kind, "alert": p.get("alert"), "alert_kind": p.get("kind"),
            "tier": p.get("tier"), "attempt": p.get("attempt"), "late": bool(p.get("late")),
            "drill": bool(p.get("drill"))}
