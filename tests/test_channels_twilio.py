"""The Twilio adapter against the fake Twilio (in-process and on a loopback port): what it
sends, what it reads back, how it sorts failures, and Twilio's request signature."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from urllib.parse import parse_qsl

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from faketwilio import (
    DEFAULT_ACCOUNT_SID,
    DEFAULT_AUTH_TOKEN,
    DEFAULT_NUMBER,
    FakeTwilio,
    FakeTwilioTransport,
    sign,
)
from faketwilio.server import serve
from fieldbot.channels.base import Sent
from fieldbot.channels.twilio import TwilioClient, expected_signature, valid_signature

PHONE = "+4915550100"


async def _form(request: Request) -> dict[str, str]:
    return dict(parse_qsl((await request.body()).decode(), keep_blank_values=True))


@pytest.fixture
def fake() -> FakeTwilio:
    return FakeTwilio()


@pytest.fixture
async def client(fake: FakeTwilio) -> AsyncIterator[TwilioClient]:
    c = TwilioClient(DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, DEFAULT_NUMBER,
                     api_url="http://fake.twilio", transport=FakeTwilioTransport(fake))
    yield c
    await c.aclose()


async def test_an_sms_is_posted_to_the_messages_resource_and_its_sid_kept(
    fake: FakeTwilio, client: TwilioClient
) -> None:
    sent = await client.send_sms(PHONE, "Alert A-12: Rita missed her check-in",
                                 status_callback="https://bot.example/twilio/status")

    assert sent == Sent(accepted=True, provider_id=fake.messages[0].sid)
    assert sent.provider_id.startswith("SM") and len(sent.provider_id) == 34
    m = fake.messages[0]
    assert (m.to, m.from_, m.body) == (PHONE, DEFAULT_NUMBER,
                                       "Alert A-12: Rita missed her check-in")
    assert m.status_callback == "https://bot.example/twilio/status"


async def test_a_call_carries_its_twiml_and_comes_back_with_a_call_sid(
    fake: FakeTwilio, client: TwilioClient
) -> None:
    twiml = "<Response><Say>Alert</Say></Response>"
    sent = await client.place_call(PHONE, twiml)

    assert sent.accepted and sent.provider_id.startswith("CA")
    assert fake.calls[0].twiml == twiml and fake.calls[0].status_callback is None


@pytest.mark.parametrize("code", [21211, 21214, 21610, 21614])
async def test_a_number_twilio_refuses_is_a_permanent_failure(
    fake: FakeTwilio, client: TwilioClient, code: int
) -> None:
    fake.fail_number(PHONE, code)

    sms = await client.send_sms(PHONE, "hello")
    call = await client.place_call(PHONE, "<Response/>")

    assert sms == Sent(accepted=False, permanent=True, error=f"twilio {code}")
    assert call == Sent(accepted=False, permanent=True, error=f"twilio {code}")
    assert fake.messages == [] and fake.calls == []


async def test_a_malformed_number_is_refused_for_good_with_twilios_21211(
    client: TwilioClient,
) -> None:
    sent = await client.send_sms("0151 555", "hello")
    assert sent == Sent(accepted=False, permanent=True, error="twilio 21211")


@pytest.mark.parametrize("status", [429, 500, 503])
async def test_throttling_and_server_errors_are_retried_later(
    fake: FakeTwilio, client: TwilioClient, status: int
) -> None:
    fake.fail_next(status)

    first = await client.send_sms(PHONE, "hello")
    again = await client.send_sms(PHONE, "hello")

    assert not first.accepted and not first.permanent
    assert again.accepted and len(fake.messages) == 1


async def test_wrong_credentials_get_twilios_401_and_count_as_permanent(
    fake: FakeTwilio,
) -> None:
    client = TwilioClient(DEFAULT_ACCOUNT_SID, "not-the-token", DEFAULT_NUMBER,
                          api_url="http://fake.twilio", transport=FakeTwilioTransport(fake))
    try:
        sent = await client.send_sms(PHONE, "hello")
    finally:
        await client.aclose()
    assert sent == Sent(accepted=False, permanent=True, error="twilio 20003")


async def test_a_network_failure_is_transient() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    client = TwilioClient(DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, DEFAULT_NUMBER,
                          transport=httpx.MockTransport(refuse))
    try:
        sent = await client.place_call(PHONE, "<Response/>")
    finally:
        await client.aclose()
    assert sent == Sent(accepted=False, permanent=False, error="ConnectError")


async def test_nothing_personal_is_logged(
    fake: FakeTwilio, client: TwilioClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    fake.fail_number("+4915550199", 21211)
    await client.send_sms(PHONE, "Rita at Hotel Adlon")
    await client.send_sms("+4915550199", "Rita at Hotel Adlon")
    logged = caplog.text
    assert "Rita" not in logged and "5550100" not in logged and "5550199" not in logged
    assert fake.messages[0].sid in logged and "21211" in logged


async def test_the_adapter_talks_to_the_fake_on_a_loopback_port(fake: FakeTwilio) -> None:
    async with serve(fake) as base_url:
        client = TwilioClient(DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, DEFAULT_NUMBER,
                              api_url=base_url)
        try:
            sent = await client.send_sms(PHONE, "over a real socket")
            async with httpx.AsyncClient() as raw:
                unauth = await raw.post(
                    f"{base_url}/2010-04-01/Accounts/{DEFAULT_ACCOUNT_SID}/Messages.json",
                    data={"To": PHONE, "From": DEFAULT_NUMBER, "Body": "x"})
        finally:
            await client.aclose()
    assert sent.accepted and fake.messages[0].body == "over a real socket"
    assert unauth.status_code == 401
    assert unauth.json()["code"] == 20003 and unauth.json()["status"] == 401


# --- the signature ----------------------------------------------------------------------

# Twilio's documented example (docs "Webhooks security"): the auth token 12345, this URL and
# these parameters sign to this value.
DOC_URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
DOC_PARAMS = {"CallSid": "CA1234567890ABCDE", "Caller": "+12349013030", "Digits": "1234",
              "From": "+12349013030", "To": "+18005551212"}
DOC_SIGNATURE = "0/KCTR6DLpKmkAf8muzZqo1nDgQ="


def test_the_signature_matches_twilios_documented_example() -> None:
    assert expected_signature(DOC_URL, DOC_PARAMS, "12345") == DOC_SIGNATURE
    assert sign(DOC_URL, DOC_PARAMS, "12345") == DOC_SIGNATURE  # the fake's own copy agrees
    assert valid_signature(DOC_URL, DOC_PARAMS, DOC_SIGNATURE, "12345")


@pytest.mark.parametrize(
    ("url", "params", "signature", "token"),
    [
        (DOC_URL, DOC_PARAMS, DOC_SIGNATURE, "54321"),  # another token
        (DOC_URL, {**DOC_PARAMS, "Digits": "1"}, DOC_SIGNATURE, "12345"),  # a changed value
        (DOC_URL.replace("foo=1", "foo=2"), DOC_PARAMS, DOC_SIGNATURE, "12345"),  # the query
        (DOC_URL, DOC_PARAMS, "", "12345"),  # no header
        (DOC_URL, DOC_PARAMS, DOC_SIGNATURE, ""),  # no token configured
    ],
)
def test_a_signature_that_does_not_match_is_refused(
    url: str, params: dict[str, str], signature: str, token: str
) -> None:
    assert not valid_signature(url, params, signature, token)


def test_parameters_are_sorted_by_name_whatever_order_they_came_in() -> None:
    backwards = list(reversed(list(DOC_PARAMS.items())))
    assert expected_signature(DOC_URL, backwards, "12345") == DOC_SIGNATURE


def test_a_proxy_adding_or_removing_the_default_port_does_not_break_the_check() -> None:
    url = "https://bot.example/twilio/status"
    signed_with_port = expected_signature("https://bot.example:443/twilio/status", {"A": "1"},
                                          "tok")
    assert valid_signature(url, {"A": "1"}, signed_with_port, "tok")
    assert valid_signature("https://bot.example:443/twilio/status", {"A": "1"},
                           expected_signature(url, {"A": "1"}, "tok"), "tok")


async def test_the_fakes_callbacks_carry_a_signature_the_bot_accepts(
    fake: FakeTwilio, client: TwilioClient
) -> None:
    seen: list[tuple[str, dict[str, str], bool]] = []

    async def status(request: Request) -> PlainTextResponse:
        form = await _form(request)
        ok = valid_signature(str(request.url), form,
                             request.headers.get("x-twilio-signature", ""), DEFAULT_AUTH_TOKEN)
        seen.append((request.url.path, form, ok))
        return PlainTextResponse("", status_code=204 if ok else 403)

    async def gather(request: Request) -> PlainTextResponse:
        form = await _form(request)
        seen.append((request.url.path, form, valid_signature(
            str(request.url), form, request.headers.get("x-twilio-signature", ""),
            DEFAULT_AUTH_TOKEN)))
        return PlainTextResponse("<Response><Say>Thank you</Say></Response>",
                                 media_type="text/xml")

    bot = Starlette(routes=[Route("/twilio/status", status, methods=["POST"]),
                            Route("/twilio/gather", gather, methods=["POST"])])
    fake.callback_transport = httpx.ASGITransport(app=bot)
    callback = "https://bot.example/twilio/status"
    await client.send_sms(PHONE, "hello", status_callback=callback)
    await client.place_call(
        PHONE, '<Response><Gather action="https://bot.example/twilio/gather?alert=12"'
        ' numDigits="1"><Say>Press 1</Say></Gather></Response>', status_callback=callback)

    delivered = await fake.message_status(fake.messages[0].sid, "delivered")
    pressed = await fake.press(fake.calls[0].sid, "1")
    unanswered = await fake.call_status(fake.calls[0].sid, "no-answer")
    forged = await fake.message_status(fake.messages[0].sid, "failed", signature="forged=")

    assert [d.status for d in (delivered, unanswered, forged)] == [204, 204, 403]
    assert "Thank you" in pressed.text and fake.calls[0].gathered == [pressed.text]
    paths = [(p, ok) for p, _, ok in seen]
    assert paths == [("/twilio/status", True), ("/twilio/gather", True),
                     ("/twilio/status", True), ("/twilio/status", False)]
    assert seen[0][1]["MessageStatus"] == "delivered" and seen[0][1]["To"] == PHONE
    assert seen[1][1]["Digits"] == "1" and seen[1][1]["CallSid"] == fake.calls[0].sid
    assert seen[2][1]["CallStatus"] == "no-answer"


async def test_an_inbound_sms_is_posted_signed_with_its_sender(fake: FakeTwilio) -> None:
    got: list[dict[str, str]] = []

    async def inbound(request: Request) -> PlainTextResponse:
        form = await _form(request)
        assert valid_signature(str(request.url), form,
                               request.headers["x-twilio-signature"], DEFAULT_AUTH_TOKEN)
        got.append(form)
        return PlainTextResponse("<Response/>", media_type="text/xml")

    fake.callback_transport = httpx.ASGITransport(
        app=Starlette(routes=[Route("/twilio/sms", inbound, methods=["POST"])]))
    answer = await fake.inbound_sms("https://bot.example/twilio/sms", from_=PHONE, body="ACK")

    assert answer.status == 200
    assert got[0]["From"] == PHONE and got[0]["Body"] == "ACK"
    assert got[0]["To"] == DEFAULT_NUMBER and got[0]["MessageSid"].startswith("SM")
