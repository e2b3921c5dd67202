"""Build the channels this deployment has configured: an adapter only when fully set up."""

from __future__ import annotations

import ssl

import httpx

from fieldbot.channels.base import Channels
from fieldbot.channels.email import SmtpMailer, parse_smtp_url
from fieldbot.channels.twilio import TwilioClient
from fieldbot.channels.webhook import WebhookPoster
from fieldbot.clock import Clock, SystemClock
from fieldbot.config import Settings


def build_channels(
    settings: Settings,
    *,
    clock: Clock | None = None,
    twilio_transport: httpx.AsyncBaseTransport | None = None,
    webhook_transport: httpx.AsyncBaseTransport | None = None,
    smtp_tls: ssl.SSLContext | None = None,
) -> Channels:
    """Return the live channels; the transports and TLS context are for tests and the demo
    (a fake Twilio in-process, a test SMTP server's certificate)."""
    twilio = None
    if (settings.twilio_account_sid and settings.twilio_auth_token is not None
            and settings.twilio_from):
        twilio = TwilioClient(
            settings.twilio_account_sid, settings.twilio_auth_token.get_secret_value(),
            settings.twilio_from, api_url=settings.twilio_api_url, transport=twilio_transport,
        )
    mailer = None
    if settings.smtp_url is not None and settings.mail_from:
        mailer = SmtpMailer(parse_smtp_url(settings.smtp_url.get_secret_value()),
                            settings.mail_from, tls_context=smtp_tls)
    hook = None
    if settings.webhook_out_url and settings.webhook_out_secret is not None:
        hook = WebhookPoster(settings.webhook_out_url,
                             settings.webhook_out_secret.get_secret_value(),
                             clock or SystemClock(), transport=webhook_transport)
    return Channels(sms=twilio, call=twilio, email=mailer, webhook=hook)
