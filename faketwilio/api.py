"""The fake's state: accounts, the messages and calls it accepted, the numbers it refuses,
and what a test does in Twilio's place (status callbacks, a pressed digit, an inbound SMS)."""

from __future__ import annotations

import itertools
import re
import xml.etree.ElementTree as ET  # noqa: S405 - parses only the TwiML of the bot under test
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

import httpx

from faketwilio.signature import sign

DEFAULT_ACCOUNT_SID = "AC" + "f1e1d" * 6 + "ab"
DEFAULT_AUTH_TOKEN = "fake-twilio-auth-token-0000000000"  # noqa: S105 - a fake's
DEFAULT_NUMBER = "+15005550006"
API = "/2010-04-01"
E164 = re.compile(r"\+[1-9][0-9]{6,14}")
# Twilio's magic test numbers that fail, and the codes real Twilio answers with.
MAGIC_FAILURES = {"+15005550001": 21211, "+15005550002": 21612, "+15005550004": 21610,
                  "+15005550009": 21614}
ERROR_TEXT = {
    20003: "Authenticate",
    20404: "The requested resource was not found",
    21211: "The 'To' number is not a valid phone number.",
    21214: "'To' phone number cannot be reached",
    21205: "Url parameter is required.",
    21602: "Message body is required.",
    21606: "The From phone number is not a valid, SMS-capable inbound phone number or short"
           " code for your account.",
    21610: "Attempt to send to unsubscribed recipient",
    21612: "The 'To' phone number is not currently reachable via SMS",
    21614: "'To' number is not a valid mobile number",
    20429: "Too Many Requests",
    20500: "Internal Server Error",
}
MESSAGE_STATES = {"queued", "sending", "sent", "delivered", "failed", "undelivered"}
CALL_STATES = {"queued", "ringing", "in-progress", "completed", "busy", "no-answer", "failed",
               "canceled"}
# Who answered, by answering-machine detection (MachineDetection=Enable).
ANSWERERS = {"human", "machine_start", "machine_end_beep", "machine_end_silence",
             "machine_end_other", "fax", "unknown"}


class TwilioError(Exception):
    """An error answer: Twilio's JSON body with its code, message and HTTP status."""

    def __init__(self, status: int, code: int, message: str | None = None) -> None:
        super().__init__(message or ERROR_TEXT.get(code, "error"))
        self.status = status
        self.code = code

    def body(self) -> dict[str, Any]:
        return {"code": self.code, "message": str(self),
                "more_info": f"https://www.twilio.com/docs/errors/{self.code}",
                "status": self.status}


@dataclass
class Message:
    sid: str
    to: str
    from_: str
    body: str
    status_callback: str | None
    created: datetime
    status: str = "queued"


@dataclass
class Call:
    sid: str
    to: str
    from_: str
    twiml: str
    status_callback: str | None
    created: datetime
    status: str = "queued"
    gathered: list[str] = field(default_factory=list)  # the TwiML answers to pressed digits
    machine_detection: str | None = None  # "Enable" or "DetectMessageEnd", as asked
    amd_callback: str | None = None  # AsyncAmdStatusCallback: where the verdict goes


@dataclass(frozen=True)
class Posted:
    """What the bot answered to a request the fake made in Twilio's place."""

    status: int
    text: str


class FakeTwilio:
    """One fake Twilio account. Serve it with `faketwilio.app.build_app` (loopback) or
    `faketwilio.transport.FakeTwilioTransport` (in-process)."""

    def __init__(
        self,
        account_sid: str = DEFAULT_ACCOUNT_SID,
        auth_token: str = DEFAULT_AUTH_TOKEN,
        numbers: tuple[str, ...] = (DEFAULT_NUMBER,),
        *,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.numbers = set(numbers)
        self.clock = clock or (lambda: datetime.now(UTC))
        self.messages: list[Message] = []
        self.calls: list[Call] = []
        self.refused: dict[str, int] = dict(MAGIC_FAILURES)
        self._faults: list[int] = []  # HTTP statuses for the next requests (429, 500, 503)
        self._ids = itertools.count(1)
        # Where the fake's own POSTs go (callbacks): the network, unless a test routes them
        # into an app in-process (httpx.ASGITransport).
        self.callback_transport: httpx.AsyncBaseTransport | None = None

    # --- what a test sets up --------------------------------------------------------------

    def fail_number(self, number: str, code: int = 21211) -> None:
        """Refuse every message and call to `number` with Twilio's error `code`."""
        self.refused[number] = code

    def fail_next(self, status: int = 500, times: int = 1) -> None:
        """Answer the next `times` create requests with HTTP `status` (429 or 5xx)."""
        self._faults.extend([status] * times)

    def sms_to(self, number: str) -> list[Message]:
        return [m for m in self.messages if m.to == number]

    def calls_to(self, number: str) -> list[Call]:
        return [c for c in self.calls if c.to == number]

    # --- the REST API ---------------------------------------------------------------------

    def check_auth(self, username: str | None, password: str | None, path_sid: str) -> None:
        if username != self.account_sid or password != self.auth_token:
            raise TwilioError(401, 20003)
        if path_sid != self.account_sid:
            raise TwilioError(404, 20404)

    def create_message(self, form: dict[str, str]) -> dict[str, Any]:
        to, from_ = form.get("To", ""), form.get("From", "")
        self._fault()
        self._check_to(to)
        if from_ not in self.numbers:
            raise TwilioError(400, 21606)
        if not form.get("Body"):
            raise TwilioError(400, 21602)
        message = Message(self._sid("SM"), to, from_, form["Body"], form.get("StatusCallback"),
                          self.clock())
        self.messages.append(message)
        return self._message_json(message)

    def create_call(self, form: dict[str, str]) -> dict[str, Any]:
        to, from_ = form.get("To", ""), form.get("From", "")
        self._fault()
        self._check_to(to)
        if from_ not in self.numbers:
            raise TwilioError(400, 21210, "The source phone number provided is not yet"
                                          " verified for your account.")
        if not form.get("Twiml") and not form.get("Url"):
            raise TwilioError(400, 21205)
        call = Call(self._sid("CA"), to, from_, form.get("Twiml", ""),
                    form.get("StatusCallback"), self.clock(),
                    machine_detection=form.get("MachineDetection"),
                    amd_callback=form.get("AsyncAmdStatusCallback")
                    if form.get("AsyncAmd") == "true" else None)
        self.calls.append(call)
        return self._call_json(call)

    def _fault(self) -> None:
        if self._faults:
            status = self._faults.pop(0)
            raise TwilioError(status, 20429 if status == 429 else 20500)

    def _check_to(self, to: str) -> None:
        if not E164.fullmatch(to):
            raise TwilioError(400, 21211)
        if to in self.refused:
            raise TwilioError(400, self.refused[to])

    def _sid(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):032x}"

    def _common(self, sid: str, created: datetime, kind: str) -> dict[str, Any]:
        date = format_datetime(created.astimezone(UTC), usegmt=True)
        return {"sid": sid, "account_sid": self.account_sid, "api_version": "2010-04-01",
                "date_created": date, "date_updated": date, "direction": "outbound-api",
                "uri": f"{API}/Accounts/{self.account_sid}/{kind}/{sid}.json"}

    def _message_json(self, m: Message) -> dict[str, Any]:
        return {**self._common(m.sid, m.created, "Messages"), "to": m.to, "from": m.from_,
                "body": m.body, "status": m.status, "num_segments": "1", "num_media": "0",
                "date_sent": None, "error_code": None, "error_message": None, "price": None,
                "price_unit": "USD", "messaging_service_sid": None}

    def _call_json(self, c: Call) -> dict[str, Any]:
        return {**self._common(c.sid, c.created, "Calls"), "to": c.to, "to_formatted": c.to,
                "from": c.from_, "from_formatted": c.from_, "status": c.status,
                "start_time": None, "end_time": None, "duration": None, "price": None,
                "price_unit": "USD", "answered_by": None, "parent_call_sid": None}

    # --- what Twilio does later, done when a test says so ---------------------------------

    async def message_status(self, sid: str, status: str, *, error_code: int | None = None,
                             signature: str | None = None) -> Posted:
        """Report a message's new status to its StatusCallback, signed like Twilio does."""
        if status not in MESSAGE_STATES:
            raise ValueError(f"not a message status: {status}")
        message = next(m for m in self.messages if m.sid == sid)
        message.status = status
        form = {"MessageSid": sid, "SmsSid": sid, "AccountSid": self.account_sid,
                "From": message.from_, "To": message.to, "MessageStatus": status,
                "SmsStatus": status, "ApiVersion": "2010-04-01"}
        if error_code is not None:
            form["ErrorCode"] = str(error_code)
        assert message.status_callback, "the message was sent without a StatusCallback"
        return await self.post(message.status_callback, form, signature=signature)

    async def call_status(self, sid: str, status: str, *, duration: int = 0,
                          signature: str | None = None) -> Posted:
        """Report a call's end (completed, no-answer, busy, failed) to its StatusCallback."""
        if status not in CALL_STATES:
            raise ValueError(f"not a call status: {status}")
        call = next(c for c in self.calls if c.sid == sid)
        call.status = status
        form = {"CallSid": sid, "AccountSid": self.account_sid, "From": call.from_,
                "To": call.to, "CallStatus": status, "Direction": "outbound-api",
                "ApiVersion": "2010-04-01", "CallDuration": str(duration)}
        assert call.status_callback, "the call was placed without a StatusCallback"
        return await self.post(call.status_callback, form, signature=signature)

    async def answered_by(self, sid: str, answerer: str, *,
                          signature: str | None = None) -> Posted:
        """Answering-machine detection's verdict on a call placed with MachineDetection and
        AsyncAmd: POST it to the call's AsyncAmdStatusCallback, as Twilio does."""
        if answerer not in ANSWERERS:
            raise ValueError(f"not an answerer: {answerer}")
        call = next(c for c in self.calls if c.sid == sid)
        if call.machine_detection is None or not call.amd_callback:
            raise ValueError("the call was placed without asynchronous machine detection")
        form = {"CallSid": sid, "AccountSid": self.account_sid, "AnsweredBy": answerer,
                "MachineDetectionDuration": "2400"}
        return await self.post(call.amd_callback, form, signature=signature)

    async def press(self, sid: str, digits: str = "1", *,
                    signature: str | None = None) -> Posted:
        """The person answers the call and presses `digits`: POST them to the `<Gather>`'s
        action, as Twilio does."""
        call = next(c for c in self.calls if c.sid == sid)
        action, method = gather_action(call.twiml)
        if method != "POST":
            raise ValueError("the fake posts Gather results only (method POST)")
        call.status = "in-progress"
        form = {"CallSid": sid, "AccountSid": self.account_sid, "From": call.from_,
                "To": call.to, "Digits": digits, "FinishedOnKey": "", "CallStatus": "in-progress",
                "Direction": "outbound-api", "ApiVersion": "2010-04-01"}
        posted = await self.post(action, form, signature=signature)
        call.gathered.append(posted.text)
        return posted

    async def inbound_sms(self, url: str, from_: str, body: str, *, to: str | None = None,
                          signature: str | None = None, sid: str | None = None) -> Posted:
        """Someone texts our number: POST the message to the number's webhook `url` (`sid`:
        an earlier message's, as Twilio's retry or a replayed request posts it again)."""
        sid = sid or self._sid("SM")
        form = {"MessageSid": sid, "SmsSid": sid, "SmsMessageSid": sid,
                "AccountSid": self.account_sid, "From": from_,
                "To": to or sorted(self.numbers)[0], "Body": body, "NumMedia": "0",
                "NumSegments": "1", "SmsStatus": "received", "ApiVersion": "2010-04-01"}
        return await self.post(url, form, signature=signature)

    async def post(self, url: str, form: dict[str, str], *,
                   signature: str | None = None) -> Posted:
        """POST a form to `url` with X-Twilio-Signature (a test may pass a forged one)."""
        header = sign(url, form, self.auth_token) if signature is None else signature
        async with httpx.AsyncClient(transport=self.callback_transport, timeout=10) as client:
            response = await client.post(
                url, data=form,
                headers={"X-Twilio-Signature": header, "User-Agent": "TwilioProxy/1.1",
                         "I-Twilio-Idempotency-Token": self._sid("")})
        return Posted(response.status_code, response.text)


def gather_action(twiml: str) -> tuple[str, str]:
    """Return the action URL and method of the first `<Gather>` in a call's TwiML."""
    root = ET.fromstring(twiml)  # noqa: S314 - the bot under test's own TwiML
    gather = root.find(".//Gather")
    if gather is None:
        raise ValueError("the call's TwiML has no <Gather>")
    action = gather.get("action")
    if not action or not action.startswith(("http://", "https://")):
        raise ValueError("the <Gather> has no absolute action URL")
    return action, gather.get("method", "POST").upper()
