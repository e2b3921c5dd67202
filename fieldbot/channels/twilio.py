"""SMS and voice calls through Twilio's REST API, and Twilio's request signature.

One httpx client, Basic auth with the account SID and auth token. The base URL is a setting
(FIELDBOT_TWILIO_API_URL), so tests and self-hosted gateways can point elsewhere.

What is permanent and what is transient, for Twilio: a number Twilio refuses (invalid,
unreachable, opted out, not a mobile for SMS) and any other 4xx answer will be refused again,
so the ladder moves on; 429, 5xx and network failures are worth retrying. Logs carry Twilio's
SIDs and error codes only, never a number or a text.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
from collections.abc import Iterable, Mapping
from urllib.parse import urlsplit, urlunsplit

import httpx

from fieldbot.channels.base import Sent

log = logging.getLogger(__name__)

API_VERSION = "2010-04-01"
SIGNATURE_HEADER = "X-Twilio-Signature"
TIMEOUT = httpx.Timeout(10.0, connect=5.0)
# Twilio's codes for a destination it will not reach, whatever is retried: not a valid number,
# not a mobile number, unsubscribed (STOP), cannot be routed, a region not enabled.
UNREACHABLE_CODES = frozenset({21211, 21214, 21217, 21401, 21407, 21408, 21421, 21610, 21612,
                               21614, 21215, 13224, 13223})

Params = Mapping[str, str] | Iterable[tuple[str, str]]


class TwilioClient:
    """Send SMS and place calls; implements the SmsSender and CallPlacer ports."""

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        from_number: str,
        *,
        api_url: str = "https://api.twilio.com",
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._sid = account_sid
        self._from = from_number
        self._base = f"{api_url.rstrip('/')}/{API_VERSION}/Accounts/{account_sid}"
        self._client = httpx.AsyncClient(
            auth=(account_sid, auth_token), timeout=TIMEOUT, transport=transport,
            headers={"User-Agent": "fieldbot/0.1", "Accept": "application/json"},
        )

    async def send_sms(self, to: str, body: str, *, status_callback: str | None = None) -> Sent:
        form = {"To": to, "From": self._from, "Body": body}
        if status_callback:
            form["StatusCallback"] = status_callback
        return await self._create("Messages", form)

    async def place_call(
        self, to: str, twiml: str, *, status_callback: str | None = None
    ) -> Sent:
        form = {"To": to, "From": self._from, "Twiml": twiml}
        if status_callback:
            form["StatusCallback"] = status_callback
            # Twilio reports only "completed" unless asked for more; the end states say
            # whether the person was reached (completed) or not (busy, no-answer, failed).
            form["StatusCallbackEvent"] = "completed"
            # And who answered: voicemail also "completes" a call (`answered_by_machine`). In the
            # background (AsyncAmd): the person hears the alert at once, and the verdict comes
            # to the same callback while the call goes on.
            form["MachineDetection"] = "Enable"
            form["AsyncAmd"] = "true"
            form["AsyncAmdStatusCallback"] = status_callback
            form["AsyncAmdStatusCallbackMethod"] = "POST"
        return await self._create("Calls", form)

    async def aclose(self) -> None:
        await self._client.aclose()

    async def _create(self, resource: str, form: dict[str, str]) -> Sent:
        url = f"{self._base}/{resource}.json"
        try:
            response = await self._client.post(url, data=form)
        except httpx.HTTPError as exc:
            log.warning("twilio %s: not accepted (%s), will retry", resource,
                        type(exc).__name__)
            return Sent(accepted=False, error=type(exc).__name__)
        return _answer(resource, response)


def _answer(resource: str, response: httpx.Response) -> Sent:
    """Read Twilio's answer: the new resource's SID, or its error (code, message, status)."""
    try:
        data = response.json()
    except ValueError:
        data = {}
    if not isinstance(data, dict):
        data = {}
    if response.is_success and isinstance(data.get("sid"), str):
        log.info("twilio %s %s accepted (%s)", resource, data["sid"], data.get("status", "?"))
        return Sent(accepted=True, provider_id=data["sid"])
    code = data.get("code")
    error = f"twilio {code}" if isinstance(code, int) else f"http {response.status_code}"
    status = response.status_code
    transient = status == 429 or status >= 500 or response.is_success
    permanent = not transient and (400 <= status < 500 or code in UNREACHABLE_CODES)
    log.warning("twilio %s refused: %s (%s)", resource, error,
                "permanent" if permanent else "will retry")
    return Sent(accepted=False, permanent=permanent, error=error)


# --- X-Twilio-Signature -------------------------------------------------------------------


def _pairs(params: Params) -> list[tuple[str, str]]:
    items = params.items() if isinstance(params, Mapping) else params
    return [(str(k), str(v)) for k, v in items]


def expected_signature(url: str, params: Params, auth_token: str) -> str:
    """Return Twilio's signature of a request: base64 of HMAC-SHA1, keyed with the auth token,
    over the full URL (query string included) followed by each POST parameter's name and value,
    sorted by name (a repeated name: its values in order), with no separators."""
    data = url + "".join(k + v for k, v in sorted(_pairs(params)))
    digest = hmac.new(auth_token.encode("utf-8"), data.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def _port_variants(url: str) -> list[str]:
    """The URL as given, and with the default port added or removed: Twilio signs the URL it
    called, and proxies in between add or strip ':443' (Twilio's own libraries try both)."""
    parts = urlsplit(url)
    default = {"https": 443, "http": 80}.get(parts.scheme)
    host = parts.hostname or ""
    userinfo = parts.netloc.rpartition("@")[0]
    prefix = f"{userinfo}@" if userinfo else ""
    variants = [url]
    if default is not None:
        if parts.port is None:
            variants.append(urlunsplit(parts._replace(netloc=f"{prefix}{host}:{default}")))
        elif parts.port == default:
            variants.append(urlunsplit(parts._replace(netloc=f"{prefix}{host}")))
    return variants


def valid_signature(url: str, params: Params, signature: str, auth_token: str) -> bool:
    """Return whether `signature` (the X-Twilio-Signature header) signs this request; compared
    in constant time. An empty or missing signature is never valid."""
    if not signature or not auth_token:
        return False
    pairs = _pairs(params)
    given = signature.encode("utf-8")
    return any(
        hmac.compare_digest(expected_signature(candidate, pairs, auth_token).encode(), given)
        for candidate in _port_variants(url)
    )
