"""The fake Twilio answers like Twilio: its URL shapes, Basic auth, JSON bodies and codes."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from faketwilio import (
    DEFAULT_ACCOUNT_SID,
    DEFAULT_AUTH_TOKEN,
    DEFAULT_NUMBER,
    FakeTwilio,
    FakeTwilioTransport,
    gather_action,
)

BASE = f"http://fake.twilio/2010-04-01/Accounts/{DEFAULT_ACCOUNT_SID}"


@pytest.fixture
def fake() -> FakeTwilio:
    return FakeTwilio()


@pytest.fixture
async def http(fake: FakeTwilio) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=FakeTwilioTransport(fake),
                                 auth=(DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN)) as client:
        yield client


async def test_a_message_is_created_queued_with_its_uri(http: httpx.AsyncClient) -> None:
    answer = await http.post(f"{BASE}/Messages.json",
                             data={"To": "+4915123456789", "From": DEFAULT_NUMBER, "Body": "hi"})
    assert answer.status_code == 201
    body = answer.json()
    assert body["status"] == "queued" and body["sid"].startswith("SM")
    assert body["uri"] == f"/2010-04-01/Accounts/{DEFAULT_ACCOUNT_SID}/Messages/{body['sid']}.json"
    listed = await http.get(f"{BASE}/Messages.json")
    assert [m["sid"] for m in listed.json()["messages"]] == [body["sid"]]


@pytest.mark.parametrize(
    ("form", "code"),
    [
        ({"To": "+4915123456789", "From": DEFAULT_NUMBER}, 21602),  # no body
        ({"To": "+4915123456789", "From": "+15550000000", "Body": "x"}, 21606),  # not ours
        ({"To": "+15005550001", "From": DEFAULT_NUMBER, "Body": "x"}, 21211),  # magic invalid
        ({"To": "+15005550009", "From": DEFAULT_NUMBER, "Body": "x"}, 21614),  # not a mobile
        ({"To": "hello", "From": DEFAULT_NUMBER, "Body": "x"}, 21211),
    ],
)
async def test_refusals_carry_twilios_codes(
    http: httpx.AsyncClient, form: dict[str, str], code: int
) -> None:
    answer = await http.post(f"{BASE}/Messages.json", data=form)
    assert answer.status_code == 400
    assert answer.json()["code"] == code and answer.json()["status"] == 400
    assert answer.json()["more_info"].endswith(str(code))


async def test_a_call_needs_twiml_or_a_url(http: httpx.AsyncClient, fake: FakeTwilio) -> None:
    answer = await http.post(f"{BASE}/Calls.json",
                             data={"To": "+4915123456789", "From": DEFAULT_NUMBER})
    assert answer.json()["code"] == 21205 and fake.calls == []


async def test_credentials_and_the_account_in_the_path_are_checked(fake: FakeTwilio) -> None:
    async with httpx.AsyncClient(transport=FakeTwilioTransport(fake)) as anonymous:
        none = await anonymous.post(f"{BASE}/Messages.json", data={})
        wrong = await anonymous.post(f"{BASE}/Messages.json", data={},
                                     auth=(DEFAULT_ACCOUNT_SID, "nope"))
        other = await anonymous.post(
            f"http://fake.twilio/2010-04-01/Accounts/AC{'9' * 32}/Messages.json", data={},
            auth=(DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN))
    assert (none.status_code, none.json()["code"]) == (401, 20003)
    assert (wrong.status_code, wrong.json()["code"]) == (401, 20003)
    assert other.status_code == 404


def test_the_gather_action_is_read_from_the_twiml() -> None:
    twiml = ('<?xml version="1.0" encoding="UTF-8"?><Response><Gather numDigits="1"'
             ' action="https://bot.example/twilio/gather?t=abc&amp;a=12" method="POST">'
             '<Say language="zh-CN">请按 1</Say></Gather></Response>')
    assert gather_action(twiml) == ("https://bot.example/twilio/gather?t=abc&a=12", "POST")
    with pytest.raises(ValueError, match="no <Gather>"):
        gather_action("<Response><Say>hi</Say></Response>")
    with pytest.raises(ValueError, match="absolute"):
        gather_action('<Response><Gather action="/relative"/></Response>')
