"""Issue 10, item 10: no free text, name or exact pin in clear in the database; the database
file, the data folder and the photos private; photos encrypted; rotation and upgrades cover
all of it."""

from __future__ import annotations

import io
import re
import sqlite3
import stat
from contextlib import closing
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken
from PIL import Image, UnidentifiedImageError

from fieldbot.domain.trips import Leg
from fieldbot.services.trips import TripPlan
from fieldbot.storage.db import Database
from tests.builders import (
    BERLIN,
    DEADLINE,
    SPOT,
    at,
    fieldbot,
    file_keys,
    jpeg,
    raw_bytes,
    report,
    stored_photos,
)
from tests.harness import REP_ID, World

SKIP = "ZQSKIPMARKER"
COMPANION = "ZQCOMPANIONMARKER"
ENDREPORT = "ZQREPORTMARKER"
REJECT = "ZQREJECTMARKER"
RESOLVE = "ZQRESOLVEMARKER"
HAZARD = "ZQHAZARDMARKER"
MARKERS = (SKIP, COMPANION, ENDREPORT, REJECT, RESOLVE, HAZARD)
NAMES = ("Rita", "Mia", "Olu", "Ada")
T = "2026-11-01T00:00:00.000000+00:00"
PIN = (f"{SPOT[0]}", f"{SPOT[1]}")  # the exact pin; the grid keeps 52.52 / 13.41


def plan(companion: str, night_visits: bool = True) -> TripPlan:
    return TripPlan(
        legs=(Leg(BERLIN, date(2026, 12, 1), date(2026, 12, 3)),),
        lodging="Hotel Fixture, Room 12", contact_name="Sam Fixture",
        contact_phone="+4917000000", contact_user_id=None,
        night_visits=night_visits, companion=companion,
    )


async def everything_personal(world: World) -> None:
    """A trip with a companion, a rejected one, a skip, an end-of-trip report, a hazard with
    a photo and an exact pin, an SOS resolved with a note: each carrying a marker."""
    services = world.services
    rep = await services.enrolment.member(REP_ID)
    manager = await services.enrolment.member(world.manager.id)
    assert rep is not None and manager is not None
    trip = (await services.trips.submit(rep, plan(COMPANION), "t-companion")).trip
    waiting = (await services.trips.submit(
        rep, replace(plan(""), legs=(Leg(BERLIN, date(2027, 1, 5), date(2027, 1, 6)),)),
        "t-reject")).trip
    assert trip is not None and waiting is not None
    await services.trips.decide(waiting.id, manager, approve=False, reason=REJECT)
    await at(world, DEADLINE - timedelta(hours=2))
    skipped = await services.checkins.skip(REP_ID, SKIP)
    assert skipped.refused is None
    assert await services.trips.end(trip.id, REP_ID) is not None
    await services.trips.file_report(trip.id, rep, ENDREPORT, None)
    await report(world.rep, photos=(jpeg(),), description=HAZARD)
    alert_id, _ = await services.escalation.raise_sos(REP_ID)
    await services.escalation.resolve(alert_id, manager, "safe", note=RESOLVE)
    assert world.app is not None
    await world.app.update_persistence()


# A Fernet token is random base64: a short name such as "Ada" turns up inside one now and
# then by chance. What is encrypted is cut out before looking for names in clear.
FERNET_TOKEN = re.compile(r"gAAAAA[A-Za-z0-9_=-]+")


async def every_value(world: World) -> list[str]:
    """Every value stored, with the encrypted parts (Fernet tokens) cut out."""
    async with world.services.db.read() as conn:
        tables = [r[0] for r in await conn.execute_fetchall(
            "SELECT name FROM sqlite_master WHERE type = 'table'" if conn.dialect == "sqlite"
            else "SELECT table_name FROM information_schema.tables"
            " WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'")]
        assert "users" in tables, tables
        return [FERNET_TOKEN.sub("", str(v)) for t in tables
                for row in await conn.execute_fetchall(f'SELECT * FROM "{t}"')
                for v in row if v is not None]


async def test_no_note_name_report_or_pin_is_stored_in_clear(team: World) -> None:
    await everything_personal(team)
    # The people who need them still read them (decrypted for display).
    trip = await team.services.trips.get(1)
    assert trip is not None and trip.companion == COMPANION
    hazard = await team.services.hazards.get(1)
    assert hazard is not None and hazard.description == HAZARD
    assert (hazard.lat, hazard.lon) == SPOT
    assert any(HAZARD in (m.caption or m.body) for m in team.manager.messages)

    values = await every_value(team)
    for secret in (*MARKERS, *NAMES, *PIN):
        assert not any(secret in v for v in values), secret
    raw = raw_bytes(team)
    for secret in (*MARKERS, *PIN):
        assert secret.encode() not in raw, secret
    async with team.services.db.read() as conn:
        rows = await conn.execute_fetchall("SELECT lat, lon FROM hazards")
        assert [tuple(r) for r in rows] == [(52.52, 13.41)]


async def test_the_database_and_the_data_folder_are_private(team: World) -> None:
    await report(team.rep, photos=(jpeg(),), description=HAZARD)
    db = team.settings.db
    if not str(db).startswith("postgresql:"):  # SQLite's files (PostgreSQL keeps its own)
        assert isinstance(db, Path)
        for path in (db, Path(f"{db}-wal"), Path(f"{db}-shm")):
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert stat.S_IMODE(team.settings.data_dir.stat().st_mode) == 0o700
    [photo] = stored_photos(team)
    assert stat.S_IMODE(photo.stat().st_mode) == 0o600


async def test_a_stored_photo_is_not_an_image_but_leads_still_see_it(team: World) -> None:
    await report(team.rep, photos=(jpeg(),), description=HAZARD)
    [photo] = stored_photos(team)
    data = photo.read_bytes()
    assert data.startswith(b"gAAAAA")
    try:
        Image.open(io.BytesIO(data))
        opened = True
    except UnidentifiedImageError:
        opened = False
    assert not opened
    shown = team.manager.last.photo_bytes
    assert shown is not None and Image.open(io.BytesIO(shown)).format == "JPEG"


async def test_rotate_key_re_encrypts_the_new_fields_and_the_photos(tmp_path: Path) -> None:
    world = World(tmp_path)
    await world.start()
    await world.enrol_team()
    await everything_personal(world)
    [photo] = stored_photos(world)
    await world.stop()
    [old] = file_keys(world.settings.key_path)

    result = fieldbot(tmp_path, "rotate-key")
    assert result.returncode == 0, result.stderr
    [new] = file_keys(world.settings.key_path)
    with closing(sqlite3.connect(world.settings.db)) as conn:
        tokens = [r[0] for r in conn.execute(
            "SELECT name FROM users WHERE name != '' UNION ALL"
            " SELECT companion FROM trips WHERE companion != '' UNION ALL"
            " SELECT report FROM trips WHERE report != '' UNION ALL"
            " SELECT decision_note FROM trips WHERE decision_note != '' UNION ALL"
            " SELECT note FROM nights WHERE note != '' UNION ALL"
            " SELECT note FROM alerts WHERE note != '' UNION ALL"
            " SELECT description FROM hazards UNION ALL SELECT point FROM hazards UNION ALL"
            " SELECT value FROM vault WHERE name = 'audit_key'")]
    assert len(tokens) >= 11
    for token in [*tokens, photo.read_text("ascii")]:
        try:
            Fernet(old).decrypt(token)
            still_old = True
        except InvalidToken:
            still_old = False
        assert not still_old
        Fernet(new).decrypt(token)

    await world.start()  # the new key alone reads everything, the audit chain included
    hazard = await world.services.hazards.get(1)
    assert hazard is not None and hazard.description == HAZARD
    ref = hazard.photos[0]
    assert await world.services.hazards.photo_bytes(ref) is not None
    assert (await world.services.privacy.verify_audit()).intact
    await world.stop()


async def test_a_database_of_every_earlier_version_ends_up_encrypted(tmp_path: Path) -> None:
    for version in (4, 5):
        folder = tmp_path / f"v{version}"
        old = Database(folder / "fieldbot.db")
        await old.connect(target_version=version)
        async with old.transaction() as conn:
            await conn.execute("INSERT INTO users (id, name, role, team, enrolled_at)"
                               f" VALUES ({REP_ID}, 'Rita', 'staff', 'north', '2026-11-01')")
            await conn.execute(
                "INSERT INTO trips (id, user_id, status, companion, report, decision_note,"
                " created_at) VALUES (1, ?, 'ended', ?, ?, ?, '2026-11-01')",
                (REP_ID, COMPANION, ENDREPORT, REJECT))
            await conn.execute(
                "INSERT INTO nights (trip_id, user_id, day, leg_index, tz_name, reminder_at,"
                " deadline, opens_at, closes_at, state, note) VALUES (1, ?, '2026-12-01', 0,"
                " 'Europe/Berlin', ?, ?, ?, ?, 'skipped', ?)", (REP_ID, T, T, T, T, SKIP))
            await conn.execute(
                "INSERT INTO alerts (kind, user_id, anchor, state, note, created_at)"
                " VALUES ('sos', ?, ?, 'resolved', ?, ?)", (REP_ID, T, RESOLVE, T))
            await conn.execute(
                "INSERT INTO hazards (reporter_id, category, severity, lat, lon, radius_km,"
                " description, created_at) VALUES (?, 'road', 4, ?, ?, 0.5, ?, ?)",
                (REP_ID, *SPOT, HAZARD, T))
            photos = folder / "data" / "photos"
            photos.mkdir(parents=True)
            sha = "a" * 64
            (photos / f"{sha}.jpg").write_bytes(jpeg())
            await conn.execute("INSERT INTO hazard_photos VALUES (1, 0, ?, ?)",
                               (sha, f"photos/{sha}.jpg"))
            if version >= 5:
                await conn.execute("INSERT INTO audit (at, action, detail) VALUES"
                                   " (?, 'enrol', 'x')", (T,))
        await old.close()

        world = World(folder)
        await world.start()
        try:
            values = await every_value(world)
            for secret in (*MARKERS, "Rita", *PIN):
                assert not any(secret in v for v in values), (version, secret)
            member = await world.services.enrolment.member(REP_ID)
            assert member is not None and member.name == "Rita"
            hazard = await world.services.hazards.get(1)
            assert hazard is not None and (hazard.description, hazard.lat) == (HAZARD, SPOT[0])
            data = (photos / f"{sha}.jpg").read_bytes()
            assert data.startswith(b"gAAAAA")
            assert await world.services.hazards.photo_bytes(hazard.photos[0]) == jpeg()
            check = await world.services.privacy.verify_audit()
            assert check.intact, check
        finally:
            await world.stop()
