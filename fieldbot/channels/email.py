"""E-mail through SMTP (aiosmtplib): one connection per message, STARTTLS when offered.

FIELDBOT_SMTP_URL is `smtp://user:pass@host:port` (plain, upgraded with STARTTLS whenever the
server offers it, as port 587 does; required when a user and password are given) or
`smtps://user:pass@host:port` (TLS from the first byte, port 465). A 5xx answer is permanent
(no such mailbox, refused); a 4xx answer or a network failure is worth retrying. Logs carry the
Message-ID and SMTP codes, never an address.
"""

from __future__ import annotations

import logging
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from urllib.parse import unquote, urlsplit

import aiosmtplib

from fieldbot.channels.base import Sent

log = logging.getLogger(__name__)

TIMEOUT = 20.0
SUBJECT_MAX = 200


@dataclass(frozen=True, slots=True)
class SmtpServer:
    host: str
    port: int
    implicit_tls: bool
    username: str | None
    password: str | None


def parse_smtp_url(url: str) -> SmtpServer:
    """Read `smtp[s]://[user[:pass]@]host[:port]`; raise ValueError naming what is wrong
    (never echoing the URL: it holds a password)."""
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps"):
        raise ValueError("must start with smtp:// (STARTTLS when offered) or smtps:// (TLS)")
    if not parts.hostname:
        raise ValueError("names no host: smtp://user:password@host:587")
    try:
        port = parts.port
    except ValueError:
        raise ValueError("has a port that is not a number from 1 to 65535") from None
    implicit = parts.scheme == "smtps"
    return SmtpServer(
        host=parts.hostname,
        port=port or (465 if implicit else 587),
        implicit_tls=implicit,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
    )


class SmtpMailer:
    """Send plain-text e-mail; implements the MailSender port."""

    def __init__(
        self, server: SmtpServer, mail_from: str, *, tls_context: ssl.SSLContext | None = None
    ) -> None:
        self._server = server
        self._from = mail_from
        self._tls = tls_context  # None: the system's trusted certificates

    async def send_mail(self, to: str, subject: str, text: str) -> Sent:
        message = EmailMessage()
        message["From"] = self._from
        message["To"] = to
        # A header cannot hold a line break (it would start a header of its own).
        message["Subject"] = " ".join(subject.split())[:SUBJECT_MAX]
        message["Date"] = formatdate(usegmt=True)
        message_id = make_msgid(domain=self._from.rpartition("@")[2] or None)
        message["Message-ID"] = message_id
        message.set_content(text)
        s = self._server
        try:
            await aiosmtplib.send(
                message, hostname=s.host, port=s.port, username=s.username, password=s.password,
                use_tls=s.implicit_tls, start_tls=_start_tls(s),
                tls_context=self._tls, timeout=TIMEOUT,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [r.code for r in exc.recipients]
            return _refused(message_id, codes[0] if codes else 550)
        except aiosmtplib.SMTPResponseException as exc:
            return _refused(message_id, exc.code)
        except (aiosmtplib.SMTPException, OSError) as exc:
            log.warning("mail %s not sent (%s), will retry", message_id, type(exc).__name__)
            return Sent(accepted=False, error=type(exc).__name__)
        log.info("mail %s accepted by the SMTP server", message_id)
        return Sent(accepted=True, provider_id=message_id)


def _start_tls(server: SmtpServer) -> bool | None:
    """STARTTLS on a plain connection: required when logging in (a password never crosses
    the network in clear), else used whenever the server offers it."""
    if server.implicit_tls:
        return False
    return True if server.username else None


def _refused(message_id: str, code: int) -> Sent:
    permanent = 500 <= code < 600
    log.warning("mail %s refused: SMTP %s (%s)", message_id, code,
                "permanent" if permanent else "will retry")
    return Sent(accepted=False, permanent=permanent, error=f"smtp {code}")
