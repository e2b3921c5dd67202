"""At FIELDBOT_LOG_LEVEL=DEBUG no log record carries lodging, phones, places or message texts.

Rita (made up) files a trip with a made-up hotel and contact, then checks in with a pin, while
the root logger captures everything at DEBUG.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from fieldbot.config import load_settings
from fieldbot.logs import LIBRARIES, OWN, setup_logging
from tests.builders import first_line
from tests.harness import World

LODGING = "Hotel Quietlog, Fixturestrasse 42"
CONTACT_NAME = "Tamsin Fixture"
PHONE = "+49 151 5550 9876"
PHONE_DIGITS = "+4915155509876"
CHECKIN_TEXT = "all calm by the riverside tonight"
PIN = (52.5161, 13.3777)
SECRETS = (LODGING, "Quietlog", "Fixturestrasse", CONTACT_NAME, PHONE, PHONE_DIGITS,
           "5550 9876", "55509876", CHECKIN_TEXT, "riverside", "52.5161", "13.3777")


@pytest.fixture
def logging_restored() -> Iterator[None]:
    """Leave the logging set-up as it was (setup_logging changes process-wide state)."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    names = (*OWN, *LIBRARIES)
    levels = {name: logging.getLogger(name).level for name in names}
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, saved in levels.items():
        logging.getLogger(name).setLevel(saved)


async def file_a_trip_and_check_in(world: World) -> None:
    rep = world.rep
    await rep.send("/trip")
    await rep.send("Berlin")
    await rep.press("1 Dec 2026")
    await rep.press("3 Dec 2026")
    await rep.press("No, that's all")
    await rep.send(LODGING)
    await rep.send(f"{CONTACT_NAME} {PHONE}")
    await rep.press("No")
    await rep.press("✅ Confirm")
    assert rep.last.body and rep.last.body.startswith(first_line("trip.saved_no_nights"))
    await rep.send(f"/checkin {CHECKIN_TEXT}")
    await rep.share_location(*PIN)


def capture_everything(caplog: pytest.LogCaptureFixture) -> None:
    """The root logger at DEBUG, into caplog (setup_logging replaced the root's handlers)."""
    logging.getLogger().addHandler(caplog.handler)
    caplog.set_level(logging.DEBUG)


def leaks(records: list[logging.LogRecord]) -> list[str]:
    found = []
    for record in records:
        text = record.getMessage() + (record.exc_text or "")
        found += [f"{record.name}: {secret}" for secret in SECRETS if secret in text]
    return found


async def test_a_trip_at_debug_leaves_no_personal_data_in_any_log_record(
        team: World, caplog: pytest.LogCaptureFixture, logging_restored: None) -> None:
    setup_logging("DEBUG")
    capture_everything(caplog)

    await file_a_trip_and_check_in(team)

    assert leaks(caplog.records) == []
    names = {record.name for record in caplog.records}
    assert any(name.startswith("fieldbot.") for name in names)  # the capture did work
    assert not any(record.levelno < logging.INFO and record.name.split(".")[0] in LIBRARIES
                   for record in caplog.records)


async def test_library_debug_only_when_asked_and_then_with_a_loud_warning(
        team: World, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str],
        logging_restored: None) -> None:
    setup_logging("DEBUG", library_level="DEBUG")
    assert "WARNING fieldbot: FIELDBOT_LIBRARY_LOG_LEVEL=DEBUG: library logs now include " \
        "PERSONAL DATA" in capsys.readouterr().err
    capture_everything(caplog)

    await file_a_trip_and_check_in(team)

    # What the setting exposes (and why it is off by default): the libraries log the texts.
    assert leaks(caplog.records)


def test_library_levels_by_default() -> None:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    levels = {name: logging.getLogger(name).level for name in (*OWN, *LIBRARIES)}
    try:
        setup_logging("DEBUG")
        assert logging.getLogger("fieldbot.services.trips").getEffectiveLevel() == logging.DEBUG
        assert logging.getLogger("conversations.flows.trip").getEffectiveLevel() == logging.DEBUG
        for name in ("telegram.ext.Application", "telegram._bot", "aiosqlite"):
            assert logging.getLogger(name).getEffectiveLevel() == logging.INFO, name
        assert logging.getLogger("httpx").getEffectiveLevel() == logging.WARNING
        assert logging.getLogger("some.other.library").getEffectiveLevel() == logging.INFO
        setup_logging("ERROR")
        assert logging.getLogger("telegram").getEffectiveLevel() == logging.ERROR
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        for name, saved in levels.items():
            logging.getLogger(name).setLevel(saved)


def test_the_library_level_is_a_setting_of_its_own(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FIELDBOT_LOG_LEVEL", "DEBUG")
    assert load_settings(_env_file=None).library_log_level is None
    monkeypatch.setenv("FIELDBOT_LIBRARY_LOG_LEVEL", "DEBUG")
    assert load_settings(_env_file=None).library_log_level == "DEBUG"
