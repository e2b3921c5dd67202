"""`fieldbot check-config` says which channels are live, and stops on a half-configured one
without echoing a secret."""

from __future__ import annotations

from pathlib import Path

from tests.builders import fieldbot

SID = "AC" + "0123456789abcdef" * 2


def test_check_config_lists_the_live_channels(tmp_path: Path) -> None:
    done = fieldbot(tmp_path, "check-config", FIELDBOT_TWILIO_ACCOUNT_SID=SID,
                    FIELDBOT_TWILIO_AUTH_TOKEN="tok-hunter2", FIELDBOT_TWILIO_FROM="+15005550006")
    assert done.returncode == 0, done.stderr
    assert "channels live: telegram, sms, call" in done.stdout
    assert "not configured: e-mail, webhook" in done.stdout
    assert "hunter2" not in done.stdout + done.stderr


def test_check_config_stops_on_a_half_configured_channel(tmp_path: Path) -> None:
    done = fieldbot(tmp_path, "check-config",
                    FIELDBOT_SMTP_URL="smtp://desk:hunter2pass@mail.example:587")
    assert done.returncode == 2
    assert "e-mail is half configured: FIELDBOT_MAIL_FROM missing" in done.stderr
    assert "hunter2pass" not in done.stdout + done.stderr
