"""Configuration, storage migrations, persistence across restarts, logging, webhook, demo."""

from __future__ import annotations

import logging
import sqlite3
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest

from conversations.runtime.bootstrap import build_application
from conversations.web import Webhook, web_routes
from conversations.web.telegram import SECRET_HEADER
from faketelegram.errors import Flood
from fieldbot.config import ConfigError, load_settings
from fieldbot.logs import LIBRARIES, OWN, RedactTokens, setup_logging
from fieldbot.storage.db import Database, migrations
from fieldbot.web.server import build_web
from tests.builders import BERLIN, REMINDER, at, plan_trip
from tests.harness import GAZETTEER, TOKEN, World


def test_invalid_settings_name_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FIELDBOT_ADMIN_IDS", "12,abc")
    with pytest.raises(ConfigError, match="FIELDBOT_ADMIN_IDS"):
        load_settings(_env_file=None)


def test_a_malformed_token_is_refused_without_echoing_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FIELDBOT_TOKEN", "not-a-token-secret-value")
    with pytest.raises(ConfigError, match="FIELDBOT_TOKEN") as caught:
        load_settings(_env_file=None)
    assert "secret-value" not in str(caught.value)


def test_settings_read_ids_durations_and_urls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FIELDBOT_ADMIN_IDS", "12, 34")
    monkeypatch.setenv("FIELDBOT_INVITE_TTL", "2h")
    monkeypatch.setenv("FIELDBOT_BOT_API_URL", "http://localhost:8081/")
    settings = load_settings(_env_file=None)
    assert settings.admin_ids == (12, 34)
    assert settings.invite_ttl == timedelta(hours=2)
    assert settings.bot_base_url == "http://localhost:8081/bot"
    assert settings.bot_file_url == "http://localhost:8081/file/bot"


def test_check_config_exits_2_with_a_clear_message(tmp_path: Path) -> None:
    bad = tmp_path / "policy.toml"
    bad.write_text('[escalation]\nmanager_after = "soon"\n', encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "conversations.cli", "check-config"],
        env={"FIELDBOT_POLICY": str(bad), "PATH": "/usr/bin"},
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert result.returncode == 2
    assert "escalation.manager_after" in result.stderr


async def test_migrations_from_an_empty_file_and_from_every_earlier_version(
    tmp_path: Path,
) -> None:
    latest = len(migrations())
    fresh = Database(tmp_path / "fresh.db")
    await fresh.connect()
    assert await fresh.version() == latest
    await fresh.close()
    for start in range(1, latest):
        db = Database(tmp_path / f"from{start}.db")
        await db.connect(target_version=start)
        assert await db.version() == start
        await db.close()
        await db.connect()
        assert await db.version() == latest
        await db.close()
    schema = {
        name: sorted(
            r[1]
            for r in sqlite3.connect(tmp_path / name).execute(
                "SELECT type, name FROM sqlite_master ORDER BY name"
            )
        )
        for name in ["fresh.db", "from1.db"]
    }
    assert schema["fresh.db"] == schema["from1.db"]


async def test_a_conversation_resumes_after_a_restart(team: World) -> None:
    await plan_trip(team, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
    await at(team, REMINDER)
    await team.rep.press("Skip tonight")
    await team.restart()
    await team.rep.send("Flight delayed, landing after midnight")
    assert "your manager has been informed" in team.rep.last.body


def test_tokens_are_redacted_from_log_lines(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("test.redact")
    logger.addFilter(RedactTokens())
    with caplog.at_level(logging.INFO):
        logger.info(
            "POST https://api.telegram.org/bot%s/getMe", TOKEN.replace("FIXTURE", "X" * 20)
        )
    assert "123456:" not in caplog.text and "<token>" in caplog.text


async def test_the_bot_never_logs_its_token(
    team: World, capfd: pytest.CaptureFixture[str]
) -> None:
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    levels = {name: logging.getLogger(name).level for name in (*OWN, *LIBRARIES)}
    setup_logging("DEBUG", "DEBUG")  # what `fieldbot run` installs, at its most talkative
    try:
        await team.rep.send("/help")
        await team.tick()
        team.fake.fail_next("sendMessage", Flood(retry_after=3))
        await team.rep.send("/help")
    finally:
        root.handlers[:], _ = saved
        root.setLevel(saved[1])
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)
    err = capfd.readouterr().err
    assert "sendMessage" in err or "fieldbot" in err  # something was logged
    assert TOKEN not in err and TOKEN.split(":")[1] not in err


async def test_the_webhook_checks_the_secret_token(world: World) -> None:
    assert world.app is not None
    web = build_web(web_routes(world.app, webhook=Webhook("s3cret-fixture", "/telegram")))
    update = {
        "update_id": 1,
        "message": {
            "message_id": 1,
            "date": 0,
            "chat": {"id": 5, "type": "private"},
            "from": {"id": 5, "is_bot": False, "first_name": "X"},
            "text": "hi",
        },
    }
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=web),
                                 base_url="http://bot") as client:
        wrong = await client.post("/telegram", json=update, headers={SECRET_HEADER: "nope"})
        missing = await client.post("/telegram", json=update)
        garbage = await client.post("/telegram", content=b"{not json",
                                    headers={SECRET_HEADER: "s3cret-fixture"})
        huge = await client.post("/telegram", content=b"x" * 2_000_000,
                                 headers={SECRET_HEADER: "s3cret-fixture"})
        right = await client.post(
            "/telegram", json=update, headers={SECRET_HEADER: "s3cret-fixture"}
        )
    assert (wrong.status_code, missing.status_code, garbage.status_code, huge.status_code,
            right.status_code) == (403, 403, 400, 413, 200)
    assert world.app.update_queue.qsize() == 1
    # Kept in the inbox before the 200: a kill now loses nothing.
    assert await world.services.inbox.unfinished() != []


async def test_a_webhook_without_a_secret_cannot_be_served(world: World) -> None:
    """An empty secret would match every request that carries no header at all."""
    assert world.app is not None
    with pytest.raises(ValueError, match="secret"):
        web_routes(world.app, webhook=Webhook("", "/telegram"))


def test_an_empty_webhook_secret_is_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FIELDBOT_TOKEN", "123:FIXTURE")
    monkeypatch.setenv("FIELDBOT_WEBHOOK_SECRET", "")
    assert load_settings().webhook_secret is None


def test_the_demo_runs_and_prints_a_transcript(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "conversations.cli", "demo"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
        timeout=120,
        env={"PATH": "/usr/bin", "PTB_TIMEDELTA": "true"},
    )
    assert result.returncode == 0, result.stderr
    assert "bot → Mia (manager): 🚨 Alert A-1" in result.stdout
    assert "All clear" in result.stdout
    # Its database and key are gone at its end: nobody is told to back up a key.
    assert "ENCRYPTION KEY" not in result.stdout + result.stderr


def test_a_kept_demo_database_can_be_opened_afterwards_and_is_never_reused(
        tmp_path: Path) -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "conversations.cli", *args], capture_output=True, text=True,
            cwd=tmp_path, check=False, timeout=120,
            env={"PATH": "/usr/bin", "PTB_TIMEDELTA": "true", "FIELDBOT_DB": "kept.db",
                 "FIELDBOT_DATA_DIR": "kept-data"})

    first = run("demo", "--db", "kept.db")
    assert first.returncode == 0, first.stderr
    assert (tmp_path / "kept-data" / "fieldbot.key").exists()  # its key, beside it
    opened = run("audit", "--verify")
    assert opened.returncode == 0 and "audit log intact" in opened.stdout, opened.stderr

    again = run("demo", "--db", "kept.db")
    assert again.returncode == 2
    assert "kept.db exists already" in again.stderr and "Traceback" not in again.stderr


async def test_the_scheduler_only_wakes_the_sweep_with_generous_misfire_grace(
    world: World,
) -> None:
    assert world.app is not None and world.app.job_queue is not None
    jobs = {job.name: job for job in world.app.job_queue.jobs()}
    repeat = jobs["sweep-repeat"].job
    assert repeat.misfire_grace_time == 3600 and repeat.coalesce
    # The start-up catch-up runs at once, not one interval later (APScheduler's interval
    # trigger would wait a whole interval even with first=0).
    startup = world.app.job_queue.get_jobs_by_name("sweep-next")
    assert len(startup) == 1
    first_repeat = repeat.trigger.start_date
    assert startup[0].job.trigger.run_date < first_repeat - timedelta(seconds=20)
    scheduler = world.app.bot_data.scheduler
    scheduler.wake_at(world.clock.now() + timedelta(minutes=5))
    scheduler.wake_at(world.clock.now() + timedelta(minutes=2))
    oneshots = world.app.job_queue.get_jobs_by_name("sweep-next")
    assert len(oneshots) == 1  # the later one was replaced, not added


async def test_a_second_instance_exits_with_a_clear_message_on_409(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from conversations.runtime.runner import EXIT_CONFLICT, run_polling
    from faketelegram.errors import Conflict

    world = World(tmp_path)
    world.fake.dispatch = None  # updates go through getUpdates, as in production
    world.fake.fail_always("getUpdates", Conflict())
    app = build_application(world.settings, world.clock, request=world._request(),
                            get_updates_request=world._request(), rate_limit=False,
                            gazetteer=GAZETTEER)
    with caplog.at_level(logging.ERROR):
        code = await run_polling(app)
    assert code == EXIT_CONFLICT
    assert "another fieldbot instance is already polling" in caplog.text


async def test_webhook_mode_end_to_end(tmp_path: Path) -> None:
    """`fieldbot run --webhook`: Telegram POSTs updates with the secret; the bot answers."""
    import asyncio
    import socket

    from conversations.runtime.runner import run_webhook

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    world = World(tmp_path)
    world.fake.dispatch = None
    world.fake.deliver_webhooks = True
    app = build_application(world.settings, world.clock, request=world._request(),
                            get_updates_request=world._request(), rate_limit=False,
                            gazetteer=GAZETTEER)
    stop = asyncio.Event()
    url = f"http://127.0.0.1:{port}/telegram"
    running = asyncio.ensure_future(run_webhook(app, url, "s3cret-fixture", "127.0.0.1", port,
                                                stop=stop))
    try:
        await world.fake.wait_for(lambda: world.fake.webhook is not None, timeout=60)
        assert world.fake.webhook is not None
        assert world.fake.webhook.secret_token == "s3cret-fixture"
        await world.admin.send("/start")
        await world.fake.wait_for(lambda: bool(world.admin.messages), timeout=60)
        assert world.admin.last.body.startswith("Hello Ada!")
    finally:
        stop.set()
        assert await running == 0


def test_a_kept_demo_database_takes_the_key_the_environment_names(tmp_path: Path) -> None:
    """With FIELDBOT_ENCRYPTION_KEY set, the demo's kept database uses it, as `fieldbot audit`
    will afterwards (it wrote a key file of its own, and audit could not read the database)."""
    key = "Vv5UAxcOhNM3WSgIRMt6ODNKaGM8v4uwB5hSWr-Q5Fs="  # made up for this test
    env = {"PATH": "/usr/bin", "PTB_TIMEDELTA": "true", "FIELDBOT_DB": "kept.db",
           "FIELDBOT_DATA_DIR": "kept-data", "FIELDBOT_ENCRYPTION_KEY": key}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "conversations.cli", *args],
                              capture_output=True, text=True, cwd=tmp_path, check=False,
                              timeout=120, env=env)

    assert run("demo", "--db", "kept.db").returncode == 0
    assert not (tmp_path / "kept-data" / "fieldbot.key").exists()
    opened = run("audit", "--verify")
    assert opened.returncode == 0 and "audit log intact" in opened.stdout, opened.stderr
