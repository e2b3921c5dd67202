"""Twilio's requests to the bot: delivery statuses, the key pressed on a call, SMS replies.

Authenticated first: X-Twilio-Signature over our public URL and the form, checked in constant
time; a missing or wrong signature, or a message we never sent, is answered 403 and nothing
changes. Then the same services a button calls.
"""

from __future__ import annotations

import logging
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from conversations.i18n import Texts
from conversations.render import plain
from conversations.runtime.channels import GATHER_PATH, SMS_PATH, STATUS_PATH
from fieldbot.channels.twilio import SIGNATURE_HEADER, valid_signature
from fieldbot.domain.channels import ANSWERED_BY_MACHINE, answered_by_machine
from fieldbot.services.container import Services
from fieldbot.services.reach import RemoteAck
from fieldbot.web.server import read_body

log = logging.getLogger(__name__)

TWIML = "application/xml"
FORM_LIMIT = 64_000  # Twilio's forms are a few hundred bytes


def _forbidden() -> Response:
    return Response("forbidden", status_code=403, media_type="text/plain")


def twilio_routes(services: Services, auth_token: str, public_url: str) -> list[Route]:
    """The routes Twilio calls back; `public_url` is what Twilio signed (FIELDBOT_PUBLIC_URL)."""

    async def signed_form(request: Request) -> dict[str, str] | None:
        body = await read_body(request, FORM_LIMIT)
        try:
            pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
        except UnicodeDecodeError:
            return None
        url = public_url + request.url.path + (f"?{request.url.query}" if request.url.query
                                               else "")
        if not valid_signature(url, pairs, request.headers.get(SIGNATURE_HEADER, ""),
                               auth_token):
            log.warning("a request to %s without a valid Twilio signature: refused",
                        request.url.path)
            return None
        return dict(pairs)

    async def status(request: Request) -> Response:
        form = await signed_form(request)
        if form is None:
            return _forbidden()
        call = form.get("CallSid", "")
        # Answering-machine detection's verdict (AnsweredBy: on its own callback, or beside a
        # call's status): voicemail or a fax is nobody reached, whatever the call's status
        # says; a person (or "unknown") changes nothing: they may still press 1.
        machine = answered_by_machine(_status(form.get("AnsweredBy", "")))
        if form.get("MessageSid") and form.get("MessageStatus"):
            known = await services.reach.provider_status("sms", form["MessageSid"],
                                                         _status(form["MessageStatus"]))
        elif call and machine:
            known = await services.reach.provider_status("call", call, ANSWERED_BY_MACHINE)
        elif call and form.get("CallStatus"):
            known = await services.reach.provider_status("call", call,
                                                         _status(form["CallStatus"]))
        elif call and form.get("AnsweredBy"):
            known = await services.reach.knows("call", call)
        else:
            known = False
        return Response(status_code=204) if known else _forbidden()

    async def gather(request: Request) -> Response:
        form = await signed_form(request)
        if form is None:
            return _forbidden()
        done = await services.reach.ack_by_call(form.get("CallSid", ""), form.get("Digits", ""))
        if done is None:
            return _forbidden()
        t = Texts(done.language)
        if done.outcome == "not_understood":  # a wrong key: asked again, not hung up on
            return Response(plain.ask_again(t, public_url + GATHER_PATH), media_type=TWIML)
        return Response(plain.say(t, _call_answer(done), by_name=done.by_name),
                        media_type=TWIML)

    async def inbound_sms(request: Request) -> Response:
        form = await signed_form(request)
        if form is None:
            return _forbidden()
        done = await services.reach.ack_by_sms(form.get("From", ""), form.get("Body", "")[:500],
                                               form.get("MessageSid", ""))
        if done is None:  # a number nobody confirmed, or chatter already answered: no answer
            return Response("<Response/>", media_type=TWIML)
        t = Texts(done.language)
        key = f"channel.reply.{done.outcome}"
        text = plain.plain_text(t(key, alert=done.alert, by_name=done.by_name))
        return Response(f"<Response><Message>{plain.xml(text)}</Message></Response>",
                        media_type=TWIML)

    return [
        Route(STATUS_PATH, status, methods=["POST"]),
        Route(GATHER_PATH, gather, methods=["POST"]),
        Route(SMS_PATH, inbound_sms, methods=["POST"]),
    ]


def _status(text: str) -> str:
    """Twilio's statuses are short lower-case words ("no-answer", "machine_start"); keep
    nothing else."""
    return "".join(ch for ch in text.lower()[:32]
                   if ch.isascii() and (ch.isalpha() or ch in "-_"))


def _call_answer(done: RemoteAck) -> str:
    if done.outcome in ("acknowledged", "already", "closed", "not_understood"):
        return f"channel.call.{done.outcome}"
    return "channel.call.refused"
