"""A real SMTP server for tests (aiosmtpd), collecting what it is sent.

It runs in its own thread (aiosmtpd's Controller); `start()` returns once it answers. Plain,
STARTTLS (with login, refused before the upgrade) or TLS from the first byte, with a
self-signed certificate made per run; `client_tls` is the context that trusts it.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import ssl
import tempfile
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

USER, PASSWORD = "fieldbot", "smtp-fixture-password"


@dataclass
class Received:
    sender: str
    recipients: list[str]
    message: Message
    tls: bool
    logged_in: bool


@dataclass
class Collector:
    """The handler: keeps every message; refuses the recipients it is told to."""

    received: list[Received] = field(default_factory=list)
    refuse: dict[str, str] = field(default_factory=dict)  # address -> SMTP reply

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received.append(Received(
            envelope.mail_from, list(envelope.rcpt_tos), message_from_bytes(envelope.content),
            session.ssl is not None
            or server.transport.get_extra_info("ssl_object") is not None,
            bool(session.authenticated)))
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _certificate(folder: Path) -> tuple[Path, Path, bytes]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([
            x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    pem = cert.public_bytes(serialization.Encoding.PEM)
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(pem)
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path, pem


class SmtpServer:
    """One test SMTP server: mode "plain", "starttls" or "tls"."""

    def __init__(self, mode: str = "plain") -> None:
        self.mode = mode
        self.handler = Collector()
        self.port = _free_port()
        self._dir = tempfile.TemporaryDirectory()
        cert, key, pem = _certificate(Path(self._dir.name))
        server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        server_tls.load_cert_chain(cert, key)
        self.client_tls = ssl.create_default_context(cadata=pem.decode("ascii"))
        kwargs: dict[str, Any] = {}
        if mode == "starttls":
            kwargs = {"tls_context": server_tls, "require_starttls": True,
                      "authenticator": self._login, "auth_required": True}
        elif mode == "tls":
            # Already encrypted from the first byte: aiosmtpd would wait for a STARTTLS.
            kwargs = {"ssl_context": server_tls, "authenticator": self._login,
                      "auth_require_tls": False}
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port,
                                     server_hostname="localhost", **kwargs)

    @staticmethod
    def _login(server: Any, session: Any, envelope: Any, mechanism: str,
               auth_data: Any) -> AuthResult:
        ok = (isinstance(auth_data, LoginPassword) and auth_data.login == USER.encode()
              and auth_data.password == PASSWORD.encode())
        return AuthResult(success=ok, handled=False)

    @property
    def received(self) -> list[Received]:
        return self.handler.received

    @property
    def url(self) -> str:
        scheme = "smtps" if self.mode == "tls" else "smtp"
        login = f"{USER}:{PASSWORD}@" if self.mode != "plain" else ""
        return f"{scheme}://{login}127.0.0.1:{self.port}"

    def start(self) -> None:
        self.controller.start()

    def stop(self) -> None:
        if self.controller._thread is not None:  # noqa: SLF001 - stopped already by a test
            self.controller.stop()
        self._dir.cleanup()
