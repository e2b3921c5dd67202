"""The outgoing webhook: signed JSON a receiver can check, failures sorted; and the factory
that builds only the channels a deployment configured."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from fieldbot.channels.base import Channel, Sent
from fieldbot.channels.build import build_channels
from fieldbot.channels.webhook import WebhookPoster, sign, verify
from fieldbot.clock import FakeClock
from fieldbot.config import ConfigError, Settings, load_settings
from tests.harness import START

SECRET = "hook-secret-0123456789abcdef"
SID = "AC" + "0123456789abcdef" * 2


async def test_an_event_is_posted_as_json_with_a_signature_over_timestamp_and_body() -> None:
    seen: list[httpx.Request] = []

    def receive(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(202)

    poster = WebhookPoster("https://paging.example/in", SECRET, FakeClock(START),
                           transport=httpx.MockTransport(receive))
    sent = await poster.post({"alert": "A-12", "kind": "sos", "text": "丽塔 需要帮助"})
    await poster.aclose()

    assert sent.accepted
    [request] = seen
    body = request.content
    assert json.loads(body) == {"alert": "A-12", "kind": "sos", "text": "丽塔 需要帮助"}
    stamp = request.headers["X-Fieldbot-Timestamp"]
    assert stamp == str(int(START.timestamp()))
    signature = request.headers["X-Fieldbot-Signature"]
    assert signature.startswith("sha256=") and signature == sign(SECRET, int(stamp), body)
    now = int(START.timestamp())
    assert verify(SECRET, stamp, body, signature, now=now)
    assert not verify(SECRET, stamp, body + b" ", signature, now=now)  # body changed
    assert not verify("another-secret-xxxxxxx", stamp, body, signature, now=now)
    assert not verify(SECRET, stamp, body, signature, now=now + 3600)  # replayed an hour on
    assert not verify(SECRET, str(now + 3600), body, signature, now=now + 3600)  # new stamp


@pytest.mark.parametrize(("status", "permanent"), [(400, True), (404, True), (410, True),
                                                    (429, False), (500, False), (503, False)])
async def test_failures_are_sorted(status: int, permanent: bool) -> None:
    poster = WebhookPoster("https://paging.example/in", SECRET, FakeClock(START),
                           transport=httpx.MockTransport(lambda r: httpx.Response(status)))
    sent = await poster.post({"alert": "A-1"})
    await poster.aclose()
    assert sent == Sent(accepted=False, permanent=permanent, error=f"http {status}")


def settings(tmp_path: Path, **values: object) -> Settings:
    return load_settings(_env_file=None, db=tmp_path / "db", **values)


def test_only_telegram_is_live_when_nothing_else_is_configured(tmp_path: Path) -> None:
    assert build_channels(settings(tmp_path)).live() == [Channel.TELEGRAM]


async def test_each_fully_configured_channel_is_live(tmp_path: Path) -> None:
    channels = build_channels(settings(
        tmp_path, twilio_account_sid=SID, twilio_auth_token="tok", twilio_from="+15005550006",
        smtp_url="smtp://u:p@mail.example:587", mail_from="desk@example.com",
        webhook_out_url="https://paging.example/in", webhook_out_secret=SECRET,
    ))
    assert channels.live() == [Channel.TELEGRAM, Channel.SMS, Channel.CALL, Channel.EMAIL,
                               Channel.WEBHOOK]
    await channels.aclose()


@pytest.mark.parametrize(
    ("values", "named"),
    [
        ({"twilio_account_sid": SID, "twilio_from": "+15005550006"},
         "FIELDBOT_TWILIO_AUTH_TOKEN"),
        ({"smtp_url": "smtp://u:hunter2pass@mail.example"}, "FIELDBOT_MAIL_FROM"),
        ({"webhook_out_url": "https://paging.example/in"}, "FIELDBOT_WEBHOOK_OUT_SECRET"),
    ],
)
def test_a_half_configured_channel_stops_start_up_naming_what_is_missing(
    tmp_path: Path, values: dict[str, str], named: str
) -> None:
    with pytest.raises(ConfigError, match=named) as caught:
        settings(tmp_path, **values)
    assert "half configured" in str(caught.value) and "hunter2pass" not in str(caught.value)


@pytest.mark.parametrize(
    ("values", "named"),
    [
        ({"twilio_account_sid": "ACnot-a-sid"}, "FIELDBOT_TWILIO_ACCOUNT_SID"),
        ({"twilio_from": "0151 5550100"}, "FIELDBOT_TWILIO_FROM"),
        ({"twilio_api_url": "ftp://x"}, "FIELDBOT_TWILIO_API_URL"),
        ({"smtp_url": "imap://u:hunter2pass@mail.example"}, "FIELDBOT_SMTP_URL"),
        ({"mail_from": "not an address"}, "FIELDBOT_MAIL_FROM"),
        ({"webhook_out_secret": "hunter2pass"}, "FIELDBOT_WEBHOOK_OUT_SECRET"),
        ({"webhook_out_url": "paging.example"}, "FIELDBOT_WEBHOOK_OUT_URL"),
    ],
)
def test_a_bad_channel_setting_is_named_and_never_echoed(
    tmp_path: Path, values: dict[str, str], named: str
) -> None:
    with pytest.raises(ConfigError, match=named) as caught:
        settings(tmp_path, **values)
    assert "hunter2pass" not in str(caught.value)
