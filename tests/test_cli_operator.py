"""`fieldbot` as a new operator runs it: a wrong token stops the start with one line naming
FIELDBOT_TOKEN (it printed a traceback holding the token); durations no date can be reckoned
with, a zero sweep interval and a zero invite lifetime are refused by check-config (they
crashed it, made every purge fail each hour, or spun the sweep loop). Found by an operator's
walkthrough."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.builders import fieldbot

WRONG = "7123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0"  # BotFather's shape, not the fake's


@pytest.fixture
def fake_url() -> Iterator[str]:
    proc = subprocess.Popen([sys.executable, "-m", "faketelegram", "--port", "0"],
                            stdout=subprocess.PIPE, text=True,
                            cwd=Path(__file__).resolve().parent.parent)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        yield line.rsplit(" ", 1)[-1].strip()
    finally:
        proc.terminate()
        proc.wait(10)
        if proc.stdout is not None:
            proc.stdout.close()


def test_a_wrong_token_stops_the_start_with_a_message_not_a_traceback(
        tmp_path: Path, fake_url: str) -> None:
    """README: "A wrong token (401) still stops it at once"; logs "never ... the token"."""
    result = fieldbot(tmp_path, "run", FIELDBOT_TOKEN=WRONG, FIELDBOT_BOT_API_URL=fake_url,
                      FIELDBOT_ADVISORY_REFRESH="false")
    assert result.returncode == 2, result.stderr[-500:]
    assert "Traceback" not in result.stderr
    assert WRONG not in result.stderr and WRONG.split(":")[1] not in result.stderr
    assert "FIELDBOT_TOKEN" in result.stderr


@pytest.mark.parametrize("value", ["99999999999d", "999999999d", "3000000d"])
def test_a_huge_retention_is_refused_by_check_config(tmp_path: Path, value: str) -> None:
    """A retention the purge cannot subtract from today makes every purge fail (logged
    traceback each hour) or crashes the command: check-config should name the variable."""
    result = fieldbot(tmp_path, "check-config", FIELDBOT_RETENTION=value)
    assert result.returncode == 2, result.stdout + result.stderr[-300:]
    assert "Traceback" not in result.stderr
    assert "FIELDBOT_RETENTION" in result.stderr


def test_a_huge_duration_in_the_policy_is_reported_not_a_traceback(tmp_path: Path) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text('[checkin]\nsnooze = "99999999999d"\n', encoding="utf-8")
    result = fieldbot(tmp_path, "check-config", FIELDBOT_POLICY=str(policy))
    assert result.returncode == 2, result.stderr[-300:]
    assert "Traceback" not in result.stderr
    assert "snooze" in result.stderr


def test_a_zero_sweep_interval_is_refused(tmp_path: Path) -> None:
    """0s is accepted, and while Telegram cannot be reached at start the sweep loop then
    spins without waiting (Sweeps.run_until with a zero wait): a busy CPU."""
    result = fieldbot(tmp_path, "check-config", FIELDBOT_SWEEP_INTERVAL="0s")
    assert result.returncode == 2
    assert "FIELDBOT_SWEEP_INTERVAL" in result.stderr


def test_a_zero_invite_lifetime_is_refused(tmp_path: Path) -> None:
    result = fieldbot(tmp_path, "check-config", FIELDBOT_INVITE_TTL="0s")
    assert result.returncode == 2 and "FIELDBOT_INVITE_TTL" in result.stderr


def test_file_system_mistakes_are_one_line_not_a_traceback(tmp_path: Path) -> None:
    """A data folder that cannot be made, a database path that is a folder: they printed an
    OSError's traceback (found by an operator's walkthrough)."""
    made_up = tmp_path / "no-such-parent" / "x"
    (tmp_path / "no-such-parent").write_text("a file, not a folder", encoding="utf-8")
    result = fieldbot(tmp_path, "geo", "build", FIELDBOT_DATA_DIR=str(made_up))
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr[-300:]
    (tmp_path / "a-folder").mkdir()
    result = fieldbot(tmp_path, "audit", "--verify", FIELDBOT_DB="a-folder")
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr[-300:]
    assert "a-folder" in result.stderr


def test_a_short_invite_lifetime_is_said_in_minutes(tmp_path: Path) -> None:
    result = fieldbot(tmp_path, "invite", "--role", "staff", "--team", "north",
                      FIELDBOT_INVITE_TTL="30m")
    assert result.returncode == 0, result.stderr[-300:]
    assert "expires in 30 min" in result.stdout and "0 h" not in result.stdout


def test_check_config_warns_of_a_public_url_without_https(tmp_path: Path) -> None:
    result = fieldbot(tmp_path, "check-config", FIELDBOT_PUBLIC_URL="http://bot.example.test",
                      FIELDBOT_HTTP_PORT="8080")
    assert "FIELDBOT_PUBLIC_URL is http" in result.stdout + result.stderr
    local = fieldbot(tmp_path, "check-config", FIELDBOT_PUBLIC_URL="http://127.0.0.1:8080",
                     FIELDBOT_HTTP_PORT="8080")
    assert "FIELDBOT_PUBLIC_URL is http" not in local.stdout + local.stderr
