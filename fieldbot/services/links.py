"""Signed, expiring acknowledgement links for e-mails: a token names one outbox message and
when it expires, with an HMAC under a key derived from the Fernet key (rotated with it).

What the link may do is read from the message it names (whose alert, which person), never
from the token: a token carries no personal data, and single use is kept in the database.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

LINK_TTL = timedelta(hours=24)
_PURPOSE = b"fieldbot acknowledgement links v1"


@dataclass(frozen=True, slots=True)
class LinkClaim:
    outbox_id: int
    expires_at: datetime


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class LinkSigner:
    """Sign with the newest key; accept any current key (a rotation keeps links working)."""

    def __init__(self, keys: Callable[[], list[str]]) -> None:
        self._keys = keys  # the Fernet keys, newest first (read when needed: loaded at start)

    def _derived(self) -> list[bytes]:
        return [hmac.new(key.encode("ascii"), _PURPOSE, hashlib.sha256).digest()
                for key in self._keys()]

    def sign(self, outbox_id: int, now: datetime, ttl: timedelta = LINK_TTL) -> str:
        expires = int((now + ttl).timestamp())
        payload = f"{outbox_id}.{expires}".encode("ascii")
        mac = hmac.new(self._derived()[0], payload, hashlib.sha256).digest()
        return f"{_b64(payload)}.{_b64(mac)}"

    def verify(self, token: str) -> LinkClaim | None:
        """Return what a genuine token names (expired or not), None for anything else."""
        if len(token) > 200 or token.count(".") != 1:
            return None
        body, _, tag = token.partition(".")
        try:
            payload, mac = _unb64(body), _unb64(tag)
            text = payload.decode("ascii")
        except (ValueError, UnicodeDecodeError):
            return None
        if not any(hmac.compare_digest(hmac.new(key, payload, hashlib.sha256).digest(), mac)
                   for key in self._derived()):
            return None
        outbox_id, _, expires = text.partition(".")
        if not (outbox_id.isdigit() and expires.isdigit()):
            return None
        return LinkClaim(int(outbox_id), datetime.fromtimestamp(int(expires), UTC))
