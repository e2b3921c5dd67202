"""The append-only audit log: what is recorded, that it refuses changes, and the export."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
from contextlib import closing
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from fieldbot.domain.trips import Leg
from fieldbot.services.trips import TripPlan
from fieldbot.storage import audit
from tests.builders import BERLIN, DEADLINE, at, pg_schema, plan_trip
from tests.harness import ADMIN_ID, MANAGER_ID, OFFICER_ID, REP_ID, World

PERSONAL = ("Rita", "Mia", "Olu", "Ada", "Berlin", "Hotel", "Fixture", "+49")


async def entries(world: World, action: str | None = None) -> list[dict[str, Any]]:
    sql, args = "SELECT * FROM audit ORDER BY id", ()
    if action is not None:
        sql, args = "SELECT * FROM audit WHERE action = ? ORDER BY id", (action,)
    async with world.services.db.read() as conn, conn.execute(sql, args) as cur:
        return [dict(r) for r in await cur.fetchall()]


async def test_the_audit_log_refuses_updates_and_deletes(team: World) -> None:
    before = await entries(team)
    assert before
    refused = (sqlite3.IntegrityError, asyncpg.IntegrityConstraintViolationError)
    with pytest.raises(refused, match="append-only"):
        async with team.services.db.transaction() as conn:
            await conn.execute("UPDATE audit SET detail = 'forged' WHERE id = 1")
    with pytest.raises(refused, match="append-only"):
        async with team.services.db.transaction() as conn:
            await conn.execute("DELETE FROM audit")
    # nor from outside the bot
    if isinstance(team.settings.db, Path):
        with closing(sqlite3.connect(team.settings.db)) as raw, pytest.raises(
                sqlite3.IntegrityError, match="append-only"):
            raw.execute("DELETE FROM audit WHERE id = 1")
    else:
        dsn, schema = pg_schema(team.settings.db)
        outside = await asyncpg.connect(dsn, server_settings={"search_path": schema})
        try:
            with pytest.raises(asyncpg.IntegrityConstraintViolationError, match="append-only"):
                await outside.execute("DELETE FROM audit WHERE id = 1")
            with pytest.raises(asyncpg.IntegrityConstraintViolationError, match="append-only"):
                await outside.execute("TRUNCATE audit")
        finally:
            await outside.close()
    assert await entries(team) == before


async def test_others_can_append_with_record(team: World) -> None:
    now = team.clock.now()
    async with team.services.db.transaction() as conn:
        await audit.record(conn, MANAGER_ID, "view_team", REP_ID, "team=north", now)
    [entry] = await entries(team, "view_team")
    assert (entry["actor"], entry["subject"], entry["detail"]) == (MANAGER_ID, REP_ID,
                                                                    "team=north")


async def test_enrolments_are_logged(team: World) -> None:
    assert [(e["actor"], e["subject"], e["detail"]) for e in await entries(team, "enrol")] == [
        (None, ADMIN_ID, "role=admin via=configuration"),
        (MANAGER_ID, MANAGER_ID, f"role=manager team=north invited_by={ADMIN_ID}"),
        (OFFICER_ID, OFFICER_ID, f"role=officer team=- invited_by={ADMIN_ID}"),
        (REP_ID, REP_ID, f"role=staff team=north invited_by={ADMIN_ID}"),
    ]
    assert len(await entries(team, "invite")) == 3

    await team.enrol(team.rep, "manager", "north")  # a link never changes a role (issue 10)
    assert await entries(team, "role_change") == []
    assert len(await entries(team, "enrol")) == 4


async def test_trip_approvals_are_logged(team: World) -> None:
    rep = await team.services.enrolment.member(REP_ID)
    assert rep is not None
    plan = TripPlan(legs=(Leg(BERLIN, date(2026, 12, 2), date(2026, 12, 3)),),
                    lodging="Hotel Fixture", contact_name="Sam Fixture",
                    contact_phone="+4917000000", contact_user_id=None,
                    night_visits=True, companion="")  # alone at night: needs a yes
    submitted = await team.services.trips.submit(rep, plan, "audit-approval")
    assert submitted.trip is not None
    await team.tick()
    await team.manager.press("✅ Approve")
    [request] = await entries(team, "trip_approval_request")  # shows lodging and contact
    assert (request["subject"], request["detail"]) == (
        REP_ID, f"trip={submitted.trip.id} to={MANAGER_ID}")
    [entry] = await entries(team, "trip_approve")
    assert (entry["actor"], entry["subject"], entry["detail"]) == (
        MANAGER_ID, REP_ID, f"trip={submitted.trip.id}")


async def test_every_escalation_step_and_who_acted_is_logged(team: World) -> None:
    await plan_trip(team, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
    for minutes in (0, 15, 30, 60):
        await at(team, DEADLINE + timedelta(minutes=minutes))
    await team.officer.press("Acknowledge")
    await team.officer.press("Reached by phone")

    [opened] = await entries(team, "alert_open")
    assert (opened["subject"], opened["detail"]) == (REP_ID, "alert=1 kind=missed night=1")
    steps = [(e["at"][11:16], e["detail"]) for e in await entries(team, "alert_step")]
    assert steps == [  # the rep, the rep again, the manager, the officers with the managers
        ("20:00", f"alert=1 step=0 tier=1 attempt=1 to={REP_ID}"),
        ("20:15", f"alert=1 step=1 tier=1 attempt=2 to={REP_ID}"),
        ("20:30", f"alert=1 step=2 tier=2 attempt=1 to={MANAGER_ID}"),
        ("21:00", f"alert=1 step=3 tier=3 attempt=1 to={MANAGER_ID},{OFFICER_ID}"),
    ]
    [ack] = await entries(team, "alert_ack")
    assert (ack["actor"], ack["subject"], ack["detail"]) == (OFFICER_ID, REP_ID, "alert=1")
    [resolved] = await entries(team, "alert_resolve")
    assert (resolved["actor"], resolved["detail"]) == (OFFICER_ID, "alert=1 reason=phone")


async def test_an_sos_and_its_all_clear_are_logged(team: World) -> None:
    await plan_trip(team, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
    await at(team, DEADLINE + timedelta(minutes=30))
    await team.rep.send("/checkin")
    [cleared] = await entries(team, "alert_all_clear")
    assert (cleared["actor"], cleared["subject"]) == (None, REP_ID)
    await team.rep.send("/sos")
    sos = [e for e in await entries(team, "alert_open") if "kind=sos" in e["detail"]]
    assert [(e["actor"], e["subject"]) for e in sos] == [(REP_ID, REP_ID)]


async def test_entries_carry_ids_never_personal_details(team: World) -> None:
    await plan_trip(team, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
    await team.rep.share_location(52.51234, 13.40987)
    await at(team, DEADLINE + timedelta(minutes=60))
    await team.manager.press("Acknowledge")
    await team.rep.send("/privacy")
    for entry in await entries(team):
        text = f"{entry['action']} {entry['detail']}"
        assert not [word for word in PERSONAL if word in text], entry
        assert not re.search(r"\d+\.\d{3,}", text), entry  # no coordinates


def fieldbot(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    environment = {"PATH": os.environ.get("PATH", "/usr/bin"), "PTB_TIMEDELTA": "true",
                   "FIELDBOT_DB": str(tmp_path / "fieldbot.db"),
                   "FIELDBOT_DATA_DIR": str(tmp_path / "data")}
    return subprocess.run([sys.executable, "-m", "conversations.cli", *args], cwd=tmp_path,
                          env=environment, capture_output=True, text=True, check=False,
                          timeout=120)


async def test_fieldbot_audit_prints_the_log_and_the_export_is_logged(tmp_path: Path) -> None:
    world = World(tmp_path)
    await world.start()
    await world.enrol_team()
    await plan_trip(world, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
    await at(world, DEADLINE + timedelta(minutes=30))
    await world.stop()

    result = fieldbot(tmp_path, "audit", "--since", "2026-12-01")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == ("2026-12-01T09:00:00+00:00\tenrol\tactor=-\tsubject=1001"
                        "\trole=admin via=configuration")
    assert (f"2026-12-01T20:30:00+00:00\talert_step\tactor=-\tsubject={REP_ID}"
            f"\talert=1 step=2 tier=2 attempt=1 to={MANAGER_ID}") in lines
    assert fieldbot(tmp_path, "audit", "--since", "2026-12-02").stdout == ""

    with closing(sqlite3.connect(tmp_path / "fieldbot.db")) as conn, conn:
        exports = conn.execute("SELECT actor, detail FROM audit WHERE action = 'audit_export'"
                               " ORDER BY id").fetchall()
    assert exports[0] == (None, f"since=2026-12-01 entries={len(lines)}")


def test_fieldbot_audit_wants_a_date(tmp_path: Path) -> None:
    result = fieldbot(tmp_path, "audit", "--since", "last week")
    assert result.returncode == 2 and "--since" in result.stderr
