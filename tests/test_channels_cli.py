"""`fieldbot check-config` with channels: which are live, and what is missing for callbacks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from faketwilio import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, DEFAULT_NUMBER

TWILIO_ENV = {
    "FIELDBOT_TWILIO_ACCOUNT_SID": DEFAULT_ACCOUNT_SID,
    "FIELDBOT_TWILIO_AUTH_TOKEN": DEFAULT_AUTH_TOKEN,
    "FIELDBOT_TWILIO_FROM": DEFAULT_NUMBER,
}


def check_config(tmp_path: Path, token: str | None = "123456:FIXTURE-token",
                 **env: str) -> subprocess.CompletedProcess[str]:
    given = {"FIELDBOT_TOKEN": token} if token is not None else {}
    return subprocess.run(
        [sys.executable, "-m", "conversations.cli", "check-config"],
        env={"PATH": "/usr/bin", **given, **env},
        capture_output=True, text=True, cwd=tmp_path, check=False, timeout=120,
    )


def test_check_config_warns_of_what_would_stop_the_start(tmp_path: Path) -> None:
    """Not "configuration OK" and nothing else, when `fieldbot run` would stop at once."""
    from tests.pg import SERVER, with_database

    result = check_config(tmp_path, token=None,
                          FIELDBOT_RISK_REGISTER=str(tmp_path / "no-such-register.toml"),
                          FIELDBOT_DB=with_database(SERVER, "fieldbot_fixture_no_such_db"))
    assert result.returncode == 0, result.stderr
    assert "warning: FIELDBOT_TOKEN is not set" in result.stdout
    assert "warning: FIELDBOT_RISK_REGISTER: no file at" in result.stdout
    assert "warning: FIELDBOT_DB: the database server refused" in result.stdout
    assert "no such database" in result.stdout


def test_check_config_warns_when_sms_and_calls_have_no_public_url(tmp_path: Path) -> None:
    result = check_config(tmp_path, **TWILIO_ENV)
    assert result.returncode == 0, result.stderr
    assert "channels live: telegram, sms, call" in result.stdout
    assert "warning: call, sms live but FIELDBOT_PUBLIC_URL is not set" in result.stdout
    assert DEFAULT_AUTH_TOKEN not in result.stdout + result.stderr


def test_check_config_warns_when_nothing_listens_on_the_public_url(tmp_path: Path) -> None:
    result = check_config(tmp_path, **TWILIO_ENV, FIELDBOT_PUBLIC_URL="https://bot.example")
    assert "FIELDBOT_PUBLIC_URL is not set" not in result.stdout
    assert "FIELDBOT_HTTP_PORT is not" in result.stdout
    quiet = check_config(tmp_path, **TWILIO_ENV, FIELDBOT_PUBLIC_URL="https://bot.example",
                         FIELDBOT_HTTP_PORT="8080")
    assert "warning" not in quiet.stdout, quiet.stdout


def test_telegram_alone_needs_no_port_and_no_warning(tmp_path: Path) -> None:
    result = check_config(tmp_path)
    assert result.returncode == 0
    assert "channels live: telegram\n" in result.stdout and "warning" not in result.stdout


def test_a_public_url_that_is_not_a_url_stops_start_up(tmp_path: Path) -> None:
    result = check_config(tmp_path, FIELDBOT_PUBLIC_URL="bot.example?x=1")
    assert result.returncode == 2
    assert "FIELDBOT_PUBLIC_URL" in result.stderr


def test_the_demo_shows_an_unacknowledged_alert_going_on_to_an_sms_and_a_call(
    tmp_path: Path,
) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "conversations.cli", "demo"], capture_output=True, text=True,
        cwd=tmp_path, check=False, timeout=120, env={"PATH": "/usr/bin", "PTB_TIMEDELTA": "true"},
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    alert = out.index("bot → Mia (manager): 🚨 Alert A-1")
    sms = out.index("SMS → Mia (manager): fieldbot alert A-1")
    call = out.index("☎ call → Mia (manager): This is fieldbot. Alert 1.")
    pressed = out.index("☎ Mia (manager): Thank you. You have acknowledged the alert.")
    assert alert < sms < call < pressed
    assert "+4915123456700" not in out.replace("[☎ +4915123456700]", "")  # only where shared
