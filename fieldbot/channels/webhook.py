"""A signed JSON webhook for a company's own paging or chat tools.

Each event is POSTed as JSON to FIELDBOT_WEBHOOK_OUT_URL with two headers:

    X-Fieldbot-Timestamp: <unix seconds when it was sent>
    X-Fieldbot-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>." + body, keyed with
                          FIELDBOT_WEBHOOK_OUT_SECRET>

The receiver recomputes the HMAC over the timestamp and the raw body, compares in constant
time, and refuses a timestamp older than a few minutes: the timestamp is inside what is signed,
so a captured request cannot be replayed later with a fresh one.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from typing import Any

import httpx

from fieldbot.channels.base import Sent
from fieldbot.clock import Clock

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Fieldbot-Signature"
TIMESTAMP_HEADER = "X-Fieldbot-Timestamp"
TIMEOUT = httpx.Timeout(10.0, connect=5.0)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """Return the signature header's value for a body sent at `timestamp`."""
    mac = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode("ascii") + body,
                   hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


def verify(secret: str, timestamp: str, body: bytes, signature: str, *, now: int,
           tolerance: int = 300) -> bool:
    """Return whether a received request is signed with `secret` and recent (for receivers
    written in Python, and for our tests)."""
    if not timestamp.isdigit() or abs(now - int(timestamp)) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, int(timestamp), body), signature)


class WebhookPoster:
    """POST events as signed JSON; implements the HookPoster port."""

    def __init__(
        self,
        url: str,
        secret: str,
        clock: Clock,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._url = url
        self._secret = secret
        self._clock = clock
        self._client = httpx.AsyncClient(timeout=TIMEOUT, transport=transport,
                                         headers={"User-Agent": "fieldbot/0.1"})

    async def post(self, event: dict[str, Any]) -> Sent:
        body = json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        stamp = int(self._clock.now().timestamp())
        headers = {"Content-Type": "application/json", TIMESTAMP_HEADER: str(stamp),
                   SIGNATURE_HEADER: sign(self._secret, stamp, body)}
        try:
            response = await self._client.post(self._url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            log.warning("webhook: not accepted (%s), will retry", type(exc).__name__)
            return Sent(accepted=False, error=type(exc).__name__)
        status = response.status_code
        if response.is_success:
            return Sent(accepted=True, provider_id=response.headers.get("x-request-id", ""))
        transient = status in (408, 409, 425, 429) or status >= 500
        log.warning("webhook refused: http %s (%s)", status,
                    "will retry" if transient else "permanent")
        return Sent(accepted=False, permanent=not transient, error=f"http {status}")

    async def aclose(self) -> None:
        await self._client.aclose()
