"""The operator's command line, run as a separate process like an operator would."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.builders import fieldbot

FIXTURES = Path(__file__).parent / "fixtures"


def test_invite_from_the_command_line_prints_a_code_without_a_token(tmp_path: Path) -> None:
    result = fieldbot(tmp_path, "invite", "--role", "manager", "--team", "north")
    assert result.returncode == 0, result.stderr
    assert "invite code:" in result.stdout and "single use" in result.stdout


def test_invite_for_staff_needs_a_team(tmp_path: Path) -> None:
    result = fieldbot(tmp_path, "invite", "--role", "staff")
    assert result.returncode == 2
    assert "field reps and managers need a team: add --team NAME" in result.stderr


@pytest.mark.parametrize(("fixture", "source"), [
    ("us_state_advisories.FIXTURE.xml", "US State Department"),
    ("canada_advisories.FIXTURE.json", "Government of Canada"),
])
def test_risk_import_loads_a_saved_feed(tmp_path: Path, fixture: str, source: str) -> None:
    result = fieldbot(tmp_path, "risk", "import", str(FIXTURES / fixture))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"{source}: ")


def test_risk_import_refuses_a_file_that_is_not_a_feed(tmp_path: Path) -> None:
    junk = tmp_path / "junk.txt"
    junk.write_text("hello", encoding="utf-8")
    result = fieldbot(tmp_path, "risk", "import", str(junk))
    assert result.returncode == 2
    assert "cannot import" in result.stderr


def test_health_follows_the_heartbeat(tmp_path: Path) -> None:
    assert fieldbot(tmp_path, "health").returncode == 1
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "heartbeat").write_text(datetime.now(UTC).isoformat(), "utf-8")
    assert fieldbot(tmp_path, "health").returncode == 0


def test_run_without_a_token_says_what_is_missing(tmp_path: Path) -> None:
    result = fieldbot(tmp_path, "run")
    assert result.returncode == 2
    assert "FIELDBOT_TOKEN" in result.stderr


@pytest.mark.parametrize("secret", ["has space", "ü" * 10, "x" * 257, "semi;colon"])
def test_a_webhook_secret_telegram_would_refuse_stops_the_start(
    tmp_path: Path, secret: str,
) -> None:
    """Telegram takes 1-256 of A-Z a-z 0-9 _ -: anything else would fail setWebhook at every
    retry, and the bot would never go live."""
    result = fieldbot(tmp_path, "run", "--webhook", FIELDBOT_TOKEN="123:FIXTURE",
                      FIELDBOT_WEBHOOK_URL="https://bot.example.test/telegram",
                      FIELDBOT_WEBHOOK_SECRET=secret)
    assert result.returncode == 2
    assert "FIELDBOT_WEBHOOK_SECRET" in result.stderr and "A-Z" in result.stderr
    assert secret not in result.stderr  # a secret never reaches a log


def test_an_empty_webhook_secret_is_no_secret_and_several_instances_need_one(
    tmp_path: Path,
) -> None:
    """FIELDBOT_WEBHOOK_SECRET= (a compose file's ${VAR:-}) is unset, never a secret that a
    request without the header matches: on PostgreSQL, where every instance must share one,
    the start stops and says so."""
    result = fieldbot(tmp_path, "run", "--webhook", FIELDBOT_TOKEN="123:FIXTURE",
                      FIELDBOT_DB="postgresql://fixture@127.0.0.1:1/none",
                      FIELDBOT_WEBHOOK_URL="https://bot.example.test/telegram",
                      FIELDBOT_WEBHOOK_SECRET="")
    assert result.returncode == 2
    assert "FIELDBOT_WEBHOOK_SECRET: required" in result.stderr


def _no_such_database() -> str:
    from tests.pg import SERVER, with_database  # the test server; a database nobody made
    return with_database(SERVER, "fieldbot_fixture_no_such_db")


def test_a_postgresql_database_that_does_not_exist_stops_the_start(tmp_path: Path) -> None:
    """Not a standby waiting for ever for a lock nobody holds (and `health` saying it is
    healthy), but a start that stops and says what to fix."""
    result = fieldbot(tmp_path, "run", FIELDBOT_TOKEN="123:FIXTURE",
                      FIELDBOT_DB=_no_such_database())
    assert result.returncode == 2
    assert "no such database (createdb it first)" in result.stderr
    assert "Traceback" not in result.stderr


def test_migrate_db_to_a_database_that_does_not_exist_says_so(tmp_path: Path) -> None:
    assert fieldbot(tmp_path, "invite", "--role", "manager", "--team", "north").returncode == 0
    result = fieldbot(tmp_path, "migrate-db", "--to", _no_such_database())
    assert result.returncode == 2
    assert "no such database" in result.stderr and "Traceback" not in result.stderr


async def test_health_says_at_once_that_a_stopped_bot_is_not_running(tmp_path: Path) -> None:
    """Not "healthy" for minutes after a clean stop, until the last heartbeat grew old (found
    by following the README as a new operator)."""
    from tests.harness import World

    world = World(tmp_path, start=datetime.now(UTC))  # `health` reads the machine's clock
    await world.start()
    await world.tick()  # a sweep: the heartbeat
    try:
        assert fieldbot(tmp_path, "health").returncode == 0
    finally:
        await world.stop()
    stopped = fieldbot(tmp_path, "health")
    assert stopped.returncode == 1
    assert "not running" in stopped.stderr and str(tmp_path / "data") in stopped.stderr
