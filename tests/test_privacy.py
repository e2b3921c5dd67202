"""Personal data end to end: encryption at rest, the key's life cycle, retention, /privacy and
/forgetme — as Rita the rep, Mia her manager, Olu the officer and Ada the admin."""

from __future__ import annotations

import logging
import sqlite3
import stat
from contextlib import closing
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from babel.messages.pofile import read_po
from cryptography.fernet import Fernet, InvalidToken
from pydantic import SecretStr

from conversations.i18n import placeholders
from fieldbot.clock import FakeClock
from fieldbot.config import ConfigError, Settings, load_settings
from fieldbot.crypto import KeyProblem, generate_key
from fieldbot.services.container import build_services
from fieldbot.storage.db import Database
from tests.builders import (
    BERLIN,
    DEADLINE,
    at,
    fieldbot,
    file_keys,
    first_line,
    jpeg,
    plan,
    plan_trip,
    raw_bytes,
    report,
    rows,
    said,
    stored_photos,
)
from tests.harness import REP_ID, World

LOCALES = Path(__file__).parent.parent / "conversations" / "locales"
PHONE = "+491701234567"  # what "Sam Lee +49 170 1234567" becomes
LODGING = "Hotel Adlon, Unter den Linden 77"
FIXTURE_PHONE = "+4917000000"  # plan_trip's made-up contact
FIXTURE_LODGING = "Hotel Fixture, Room 12"


async def file_trip_through_the_chat(world: World) -> None:
    await plan(world.rep)
    await world.rep.press("✅ Confirm")
    assert world.rep.last.body.startswith(first_line("trip.saved_no_nights"))


def key_file(world: World) -> Path:
    return world.settings.key_path


# --- encryption at rest ---------------------------------------------------------------------


async def test_the_database_file_holds_no_phone_number_lodging_or_location_in_clear(
    team: World,
) -> None:
    await file_trip_through_the_chat(team)
    await team.rep.share_location(52.51234, 13.40987)
    await at(team, DEADLINE + timedelta(minutes=30))
    alert = team.manager.last
    assert "Alert A-1" in alert.body and PHONE in alert.body and LODGING in alert.body
    assert "52.51234" in alert.body  # the manager sees the last location...
    assert team.fake.sent_to(team.manager.id)[-1].protect_content

    raw = raw_bytes(team)  # ...but nothing of it is readable in the database file
    for secret in (PHONE, "1701234567", "Hotel Adlon", "Unter den Linden", "Sam Lee",
                   "52.51234", "13.40987"):
        assert secret.encode() not in raw, secret
    [trip] = await rows(team, "SELECT lodging, contact_phone FROM trips")
    assert trip["lodging"].startswith("gAAAAA") and trip["contact_phone"].startswith("gAAAAA")


async def test_a_draft_in_progress_is_stored_encrypted_too(team: World) -> None:
    await plan(team.rep)  # stopped at the summary: the draft lives in user_data
    assert team.app is not None
    await team.app.update_persistence()
    [stored] = await rows(team, "SELECT value FROM ptb_state WHERE kind = 'user' AND key = ?",
                          str(REP_ID))
    assert "Adlon" not in stored["value"] and PHONE not in stored["value"]
    await team.restart()  # and it still resumes after a restart
    await team.rep.press("✅ Confirm")
    assert team.rep.last.body.startswith(first_line("trip.saved_no_nights"))


# --- the key ---------------------------------------------------------------------------------


async def test_the_first_start_creates_a_private_key_file_and_says_so_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    world = World(tmp_path)
    with caplog.at_level(logging.WARNING):
        await world.start()
        await world.restart()
    await world.stop()
    path = key_file(world)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(file_keys(path)) == 1
    warnings = [r.getMessage() for r in caplog.records if "NEW ENCRYPTION KEY" in r.getMessage()]
    assert len(warnings) == 1
    assert str(path) in warnings[0] and "apart from the database" in warnings[0]
    assert file_keys(path)[0].encode() not in raw_bytes(world)  # never inside the database


async def test_a_wrong_key_stops_start_up_with_a_clear_message(tmp_path: Path) -> None:
    world = World(tmp_path)
    await world.start()
    await world.enrol_team()
    await plan_trip(world, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
    await world.stop()

    wrong = Settings(_env_file=None, db=world.settings.db, data_dir=tmp_path / "data",  # type: ignore[call-arg]
                     encryption_key=SecretStr(generate_key()))
    services = build_services(wrong, FakeClock(datetime(2026, 12, 1, tzinfo=UTC)))
    with pytest.raises(KeyProblem, match="does not open the personal data") as refused:
        await services.start()
    assert "FIELDBOT_ENCRYPTION_KEY" in str(refused.value)
    assert not services.db.is_open

    key_file(world).rename(tmp_path / "elsewhere.key")  # a lost key file is not replaced
    services = build_services(world.settings, FakeClock(datetime(2026, 12, 1, tzinfo=UTC)))
    with pytest.raises(KeyProblem, match="restore the key file"):
        await services.start()
    assert not key_file(world).exists()


def test_a_malformed_key_or_a_key_file_in_place_of_the_database_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FIELDBOT_ENCRYPTION_KEY", "not-a-key-but-a-secret-typo")
    with pytest.raises(ConfigError, match="FIELDBOT_ENCRYPTION_KEY") as caught:
        load_settings(_env_file=None)
    assert "secret-typo" not in str(caught.value)
    monkeypatch.delenv("FIELDBOT_ENCRYPTION_KEY")
    monkeypatch.setenv("FIELDBOT_DB", "same.db")
    monkeypatch.setenv("FIELDBOT_KEY_FILE", "same.db")
    with pytest.raises(ConfigError, match="FIELDBOT_KEY_FILE"):
        load_settings(_env_file=None)
    monkeypatch.setenv("FIELDBOT_KEY_FILE", "keys/fieldbot.key")
    monkeypatch.setenv("FIELDBOT_RETENTION", "30d12h")
    assert load_settings(_env_file=None).retention == timedelta(days=30, hours=12)


async def test_the_command_line_refuses_a_wrong_key_too(tmp_path: Path) -> None:
    world = World(tmp_path)
    await world.start()
    await world.stop()
    result = fieldbot(tmp_path, "audit", "--since", "2026-01-01",
                      FIELDBOT_ENCRYPTION_KEY=generate_key())
    assert result.returncode == 2
    assert "does not open the personal data" in result.stderr


async def test_rotate_key_re_encrypts_everything_and_the_old_key_is_no_longer_needed(
    tmp_path: Path,
) -> None:
    world = World(tmp_path)
    await world.start()
    await world.enrol_team()
    await plan_trip(world, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
    await world.rep.share_location(52.51234, 13.40987)
    await world.stop()
    [old] = file_keys(key_file(world))

    result = fieldbot(tmp_path, "rotate-key")
    assert result.returncode == 0, result.stderr
    assert "re-encrypted" in result.stdout and "Back up the key again" in result.stdout
    [new] = file_keys(key_file(world))
    assert new != old

    with closing(sqlite3.connect(world.settings.db)) as conn, conn:
        tokens = [r[0] for r in conn.execute("SELECT contact_phone FROM trips UNION ALL"
                                             " SELECT point FROM locations UNION ALL"
                                             " SELECT params FROM outbox")]
    for token in tokens:
        with pytest.raises(InvalidToken):
            Fernet(old).decrypt(token)
        Fernet(new).decrypt(token)

    await world.start()  # the new key alone opens everything
    trip = await world.services.trips.get(1)
    assert trip is not None and trip.contact_phone == FIXTURE_PHONE
    await at(world, DEADLINE + timedelta(minutes=30))
    assert FIXTURE_PHONE in world.manager.last.body and "52.51234" in world.manager.last.body
    await world.stop()

    alone = Settings(_env_file=None, db=world.settings.db, data_dir=tmp_path / "data",  # type: ignore[call-arg]
                     encryption_key=SecretStr(old))
    with pytest.raises(KeyProblem):
        await build_services(alone, world.clock).start()


async def test_a_running_bot_keeps_working_while_another_process_rotates(team: World) -> None:
    await plan_trip(team, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
    before = key_file(team).read_text("ascii")
    # while the bot runs, as an operator would
    result = fieldbot(team.tmp, "rotate-key", FIELDBOT_DB=str(team.settings.db))
    assert result.returncode == 0, result.stderr
    assert key_file(team).read_text("ascii") != before
    await team.rep.share_location(52.51234, 13.40987)  # written with the new key
    await at(team, DEADLINE + timedelta(minutes=30))
    assert FIXTURE_PHONE in team.manager.last.body and "52.51234" in team.manager.last.body


async def test_with_the_key_in_the_environment_rotation_takes_two_steps(tmp_path: Path) -> None:
    old = generate_key()
    world = World(tmp_path, encryption_key=SecretStr(old))
    await world.start()
    await world.enrol_team()
    await plan_trip(world, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
    await world.stop()
    assert not key_file(world).exists()

    refused = fieldbot(tmp_path, "rotate-key", FIELDBOT_ENCRYPTION_KEY=old)
    assert refused.returncode == 1 and "FIELDBOT_ENCRYPTION_KEY=<new>,<current>" in refused.stderr
    new = refused.stdout.strip()
    done = fieldbot(tmp_path, "rotate-key", FIELDBOT_ENCRYPTION_KEY=f"{new},{old}")
    assert done.returncode == 0, done.stderr

    world = World(tmp_path, encryption_key=SecretStr(new))
    await world.start()
    trip = await world.services.trips.get(1)
    await world.stop()
    assert trip is not None and trip.lodging == FIXTURE_LODGING


# --- retention -------------------------------------------------------------------------------


async def test_retention_purges_lodging_contacts_and_locations_but_keeps_statistics(
    team: World,
) -> None:
    trip_id = await plan_trip(team, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
    await team.rep.share_location(52.51234, 13.40987)
    await at(team, DEADLINE + timedelta(minutes=30))  # an alert went out with the details
    await team.rep.send("/checkin")
    await team.rep.send("/endtrip")
    await team.rep.press("🏁 End the trip")
    ended = team.clock.now()

    await at(team, ended + timedelta(days=89))
    trip = await team.services.trips.get(trip_id)
    assert trip is not None and trip.lodging == FIXTURE_LODGING  # not yet due

    await at(team, ended + timedelta(days=90, hours=1))
    trip = await team.services.trips.get(trip_id)
    assert trip is not None
    assert (trip.lodging, trip.contact_name, trip.contact_phone) == ("", "", "")
    assert await rows(team, "SELECT * FROM locations") == []
    sent = await rows(team, "SELECT params FROM outbox WHERE kind = 'alert'")
    assert sent and all(r["params"] == "" for r in sent)
    # The statistics survive: the trip, its nights and the alert are all still there.
    assert [r["state"] for r in await rows(team, "SELECT state FROM nights WHERE trip_id = ?"
                                           " ORDER BY day", trip_id)][:1] == ["checked_in"]
    assert len(await rows(team, "SELECT id FROM alerts")) == 1
    [entry] = await rows(team, "SELECT * FROM audit WHERE action = 'retention_purge'")
    assert "trips=1" in entry["detail"] and "locations=1" in entry["detail"]
    assert await team.services.privacy.purge_if_due() is None  # at most once a day


async def test_the_retention_period_is_configurable(tmp_path: Path) -> None:
    world = World(tmp_path, retention="7d")
    await world.start()
    try:
        await world.enrol_team()
        trip_id = await plan_trip(world, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
        await at(world, datetime(2026, 12, 12, 12, tzinfo=UTC))  # 8 days after the last day
        trip = await world.services.trips.get(trip_id)
        assert trip is not None and trip.lodging == ""
    finally:
        await world.stop()


async def test_someone_still_travelling_keeps_only_their_last_known_location(
    tmp_path: Path,
) -> None:
    world = World(tmp_path, retention="7d")
    await world.start()
    try:
        await world.enrol_team()
        await plan_trip(world, BERLIN, date(2026, 12, 1), date(2026, 12, 20))
        await world.rep.share_location(52.5, 13.4)
        world.clock.advance(timedelta(days=1))
        await world.rep.share_location(52.51234, 13.40987)
        await world.advance(timedelta(days=10))
        data = await world.services.privacy.personal_data(REP_ID)
        assert data.locations == 1 and data.last_location is not None
        assert data.last_location[:2] == (52.51234, 13.40987)
    finally:
        await world.stop()


async def test_hazard_photos_are_deleted_when_due_and_the_report_stays(team: World) -> None:
    await report(team.rep, photos=(jpeg(),))
    assert len(stored_photos(team)) == 1
    [params] = await rows(team, "SELECT params FROM outbox WHERE kind = 'hazard_alert' LIMIT 1")
    assert "photos/" not in params["params"]  # the photo path travels encrypted
    await team.advance(timedelta(days=91))
    assert stored_photos(team) == []
    assert await rows(team, "SELECT * FROM hazard_photos") == []
    assert len(await rows(team, "SELECT id FROM hazards")) == 1


async def test_forgetme_deletes_my_hazard_photos_and_anonymises_my_reports(team: World) -> None:
    await report(team.rep, photos=(jpeg(),))
    await team.rep.send("/forgetme")
    await team.rep.press("🗑 Erase")
    assert stored_photos(team) == []
    [hazard] = await rows(team, "SELECT reporter_id FROM hazards")
    assert hazard["reporter_id"] < 0


# --- /privacy --------------------------------------------------------------------------------


async def test_privacy_shows_what_is_stored_and_cannot_be_forwarded(team: World) -> None:
    await file_trip_through_the_chat(team)
    await team.rep.share_location(52.51234, 13.40987)
    await team.rep.send("/privacy")
    shown = team.rep.last
    assert team.fake.sent_to(team.rep.id)[-1].protect_content
    body = shown.body or ""
    assert body.startswith("🔒 What fieldbot keeps about you")
    assert "Name: Rita" in body and "team: north" in body
    assert "#1 Berlin, Germany: 1 Dec 2026 – 3 Dec 2026 (approved)" in body
    assert f"🏨 {LODGING}" in body and f"☎️ Sam Lee, {PHONE}" in body
    assert "Shared locations: 1" in body and "mlat=52.51234" in body
    assert "Alerts about you: 0" in body
    assert "deleted 90 days after a trip ends" in body


async def test_privacy_in_chinese_uses_the_policy_terms(team: World) -> None:
    await team.rep.send("/language")
    await team.rep.press("中文")
    await plan_trip(team, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
    await team.rep.send("/privacy")
    body = team.rep.last.body or ""
    assert body.startswith("🔒 系统保存的您的个人信息")
    for term in ("最小必要", "加密存储", "访问留痕", "到期销毁", FIXTURE_LODGING):
        assert term in body, term


# --- /forgetme -------------------------------------------------------------------------------


async def test_forgetme_erases_after_confirmation_and_keeps_anonymous_statistics(
    team: World,
) -> None:
    trip_id = await plan_trip(team, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
    await team.rep.share_location(52.51234, 13.40987)
    await at(team, DEADLINE + timedelta(minutes=30))
    await team.manager.press("Resolve")
    await team.manager.press("Reached by phone")

    await team.rep.send("/forgetme")
    assert "Erase your personal data?" in team.rep.last.body
    await team.rep.press("Keep")
    assert team.rep.last.body == "Nothing was erased."
    assert await rows(team, "SELECT id FROM users WHERE id = ?", REP_ID)

    await team.rep.send("/forgetme")
    await team.rep.press("🗑 Erase")
    assert "Your personal data has been erased" in team.rep.last.body
    assert await rows(team, "SELECT id FROM users WHERE id = ?", REP_ID) == []
    assert await rows(team, "SELECT * FROM locations") == []
    [trip] = await rows(team, "SELECT * FROM trips WHERE id = ?", trip_id)
    assert trip["user_id"] < 0 and (trip["lodging"], trip["contact_phone"]) == ("", "")
    assert {r["user_id"] for r in await rows(team, "SELECT user_id FROM nights")} == {
        trip["user_id"]}
    [stand_in] = await rows(team, "SELECT * FROM users WHERE id = ?", trip["user_id"])
    assert (stand_in["name"], stand_in["team"], stand_in["role"]) == ("", "north", "staff")
    for table, column in (("alerts", "user_id"), ("nights", "user_id"), ("trips", "user_id"),
                          ("outbox", "recipient"), ("alert_recipients", "user_id")):
        assert not await rows(team, f"SELECT 1 FROM {table} WHERE {column} = ?", REP_ID), table
    [entry] = await rows(team, "SELECT * FROM audit WHERE action = 'erase'")
    assert (entry["actor"], entry["subject"]) == (REP_ID, REP_ID)
    assert "Rita" not in entry["detail"]

    await team.rep.send("/trip")  # no longer enrolled: a stranger
    assert "ask your manager for an invite" in team.rep.last.body


async def test_forgetme_is_blocked_while_an_alert_about_you_is_open(team: World) -> None:
    await plan_trip(team, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
    await at(team, DEADLINE + timedelta(minutes=30))
    await team.rep.send("/forgetme")
    assert "cannot be erased right now: alert A-1 about you is still open" in team.rep.last.body
    assert not team.rep.last.buttons

    await team.manager.press("Acknowledge")  # acknowledged is not resolved: still blocked
    await team.rep.send("/forgetme")
    assert "A-1" in team.rep.last.body and not team.rep.last.buttons

    await team.manager.press("Reached by phone")
    await team.rep.send("/forgetme")
    await team.rep.press("🗑 Erase")
    assert "has been erased" in team.rep.last.body


async def test_a_confirmation_pressed_after_an_alert_opened_does_not_erase(team: World) -> None:
    await plan_trip(team, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
    await team.rep.send("/forgetme")
    confirm = team.rep.last
    await team.services.escalation.raise_sos(REP_ID)
    await team.rep.press("🗑 Erase", confirm)
    assert "A-1" in team.rep.last.body
    assert await rows(team, "SELECT id FROM users WHERE id = ?", REP_ID)


async def test_an_admin_erases_a_departed_employee_and_others_cannot(team: World) -> None:
    await plan_trip(team, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
    await team.manager.send(f"/forgetme {REP_ID}")
    assert "Only an administrator" in team.manager.last.body
    await team.manager.press_data(f"forgetme:yes:{REP_ID}", team.manager.last)  # forged
    assert await rows(team, "SELECT id FROM users WHERE id = ?", REP_ID)

    await team.admin.send(f"/forgetme {REP_ID}")
    assert f"Erase the personal data of Rita (user {REP_ID})?" in team.admin.last.body
    await team.admin.press("🗑 Erase")
    assert f"user {REP_ID} has been erased: 1 trips anonymised" in team.admin.last.body
    assert await rows(team, "SELECT id FROM users WHERE id = ?", REP_ID) == []
    [entry] = await rows(team, "SELECT * FROM audit WHERE action = 'erase'")
    assert (entry["actor"], entry["subject"]) == (team.admin.id, REP_ID)


async def test_forged_or_oversized_user_ids_are_refused_quietly(
    team: World, caplog: pytest.LogCaptureFixture
) -> None:
    huge = "9" * 25
    await team.admin.send(f"/forgetme {huge}")
    assert team.admin.last.body.startswith("Usage: /forgetme")
    await team.admin.send("/forgetme ²")
    assert team.admin.last.body.startswith("Usage: /forgetme")
    await team.admin.press_data(f"forgetme:yes:{huge}", team.admin.last)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    result = fieldbot(team.tmp, "erase", "--user", huge)
    assert result.returncode == 2 and "not a Telegram user id" in result.stderr


def test_erasing_someone_nobody_stored_says_so_and_where_it_looked(tmp_path: Path) -> None:
    """A typo of the id, or the command run in another folder than the bot's: not "user 888
    erased", and no empty database and new key made there."""
    elsewhere = fieldbot(tmp_path, "erase", "--user", "888")
    assert elsewhere.returncode == 2
    assert f"no database at {tmp_path / 'fieldbot.db'}" in elsewhere.stderr
    assert not (tmp_path / "fieldbot.db").exists() and not (tmp_path / "data").exists()
    assert fieldbot(tmp_path, "invite", "--role", "manager", "--team", "north").returncode == 0
    result = fieldbot(tmp_path, "erase", "--user", "888")
    assert result.returncode == 1
    assert "nobody with id 888 is stored in" in result.stderr
    assert str(tmp_path / "fieldbot.db") in result.stderr
    # Nor does the log say "user 888 erased", nor the audit hold an erasure that never was.
    assert "888 erased" not in result.stderr
    audit = fieldbot(tmp_path, "audit", "--since", "2000-01-01")
    assert "erase" not in audit.stdout, audit.stdout


async def test_the_operator_erases_from_the_command_line(tmp_path: Path) -> None:
    world = World(tmp_path)
    await world.start()
    await world.enrol_team()
    await plan_trip(world, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
    await world.services.escalation.raise_sos(REP_ID)
    await world.stop()

    blocked = fieldbot(tmp_path, "erase", "--user", str(REP_ID))
    assert blocked.returncode == 1 and "A-1" in blocked.stderr

    with closing(sqlite3.connect(world.settings.db)) as conn, conn:
        conn.execute("UPDATE alerts SET state = 'resolved'")
    done = fieldbot(tmp_path, "erase", "--user", str(REP_ID))
    assert done.returncode == 0, done.stderr
    assert f"user {REP_ID} erased: 1 trips anonymised" in done.stdout
    with closing(sqlite3.connect(world.settings.db)) as conn, conn:
        left = conn.execute("SELECT COUNT(*) FROM users WHERE id = ?", (REP_ID,)).fetchone()
    assert left == (0,)


def test_the_managers_notice_of_an_erasure_says_what_happened_not_who_did_it() -> None:
    """The operator or an admin may have erased her: the notice said "a member of your team has
    erased their personal data" whoever did (found by an operator's walkthrough)."""
    for language in ("en", "zh"):
        notice = said("forgetme.manager_notice", language, trips="")
        assert "has erased their" not in notice and "删除了个人信息" not in notice
    assert said("forgetme.manager_notice", trips="").startswith(
        "ℹ️ The personal data of a member of your team has been erased")


# --- upgrading a database written before encryption at rest ----------------------------------


async def test_data_from_before_encryption_is_encrypted_at_the_first_start(tmp_path: Path) -> None:
    old = Database(tmp_path / "fieldbot.db")
    await old.connect(target_version=4)
    async with old.transaction() as conn:
        await conn.execute("INSERT INTO users (id, name, role, team, enrolled_at)"
                           " VALUES (4004, 'Rita', 'staff', 'north', '2026-11-01')")
        await conn.execute(
            "INSERT INTO trips (id, user_id, status, lodging, contact_name, contact_phone,"
            " created_at) VALUES (1, 4004, 'approved', ?, 'Sam', ?, '2026-11-01')",
            (FIXTURE_LODGING, FIXTURE_PHONE))
        await conn.execute("INSERT INTO legs VALUES (1, 0, 'Berlin', 'DE', 'Germany', 'Berlin',"
                           " 52.52, 13.405, 'Europe/Berlin', NULL, '2026-12-01', '2026-12-03')")
        await conn.execute("INSERT INTO locations (user_id, at, lat, lon) VALUES"
                           " (4004, '2026-11-30T10:00:00.000000+00:00', 52.51234, 13.40987)")
    await old.close()

    world = World(tmp_path)
    await world.start()
    try:
        trip = await world.services.trips.get(1)
        assert trip is not None and (trip.lodging, trip.contact_phone) == (
            FIXTURE_LODGING, FIXTURE_PHONE)
        data = await world.services.privacy.personal_data(REP_ID)
        assert data.last_location is not None and data.last_location[:2] == (52.51234, 13.40987)
        raw = raw_bytes(world)
        assert FIXTURE_PHONE.encode() not in raw and b"Hotel Fixture" not in raw
    finally:
        await world.stop()


def test_every_privacy_text_exists_in_both_languages_with_the_same_placeholders() -> None:
    catalogs: dict[str, dict[str, Any]] = {}
    for folder in ("en", "zh_Hans"):
        with (LOCALES / folder / "LC_MESSAGES" / "privacy.po").open("rb") as handle:
            catalogs[folder] = {str(m.id): str(m.string) for m in read_po(handle) if m.id}
    assert catalogs["en"].keys() == catalogs["zh_Hans"].keys()
    for key, english in catalogs["en"].items():
        assert english and catalogs["zh_Hans"][key], key
        assert placeholders(english) == placeholders(catalogs["zh_Hans"][key]), key


async def test_an_erased_person_mid_question_starts_afresh_when_enrolled_again(
        team: World) -> None:
    """Rita is asked for her trip's dates when Ada erases her; enrolled again, her first words
    are not taken as the answer to that old question."""
    await team.rep.send("/trip")
    await team.rep.send("Berlin")
    await team.admin.send(f"/forgetme {REP_ID}")
    await team.admin.press("🗑 Erase")
    await team.enrol(team.rep, "staff", "north")

    await team.rep.send("Paris")

    assert team.rep.last.body.startswith("I only act on commands.")
