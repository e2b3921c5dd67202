"""The monthly safety summary: hand-computed figures, the CSV and PNG files, /report, the
scheduled send to the leads, and `fieldbot report`."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from fieldbot.domain.ladder import AlertKind
from fieldbot.domain.members import Member
from fieldbot.domain.places import Place
from fieldbot.domain.report import AlertRecord, Month, NightRecord, summarise
from fieldbot.storage import audit
from fieldbot.storage.codec import ts
from tests.builders import at, enrol_south, plan_for
from tests.harness import OTHER_MANAGER_ID, OTHER_REP_ID, World

BERLIN = Place("Berlin", "DE", "Germany", "Berlin", 52.52, 13.405, "Europe/Berlin")
NEW_YORK = Place("New York", "US", "United States", "New York", 40.71, -74.01, "America/New_York")
DECEMBER = Month(2026, 12)
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def utc(month: int, day: int, hour: int, minute: int = 0, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


# --- the pure rules -------------------------------------------------------------------------


def test_months_parse_and_step() -> None:
    assert Month.parse("2026-12") == DECEMBER
    assert DECEMBER.next() == Month(2027, 1) and Month(2027, 1).previous() == DECEMBER
    assert (DECEMBER.start, DECEMBER.end) == (utc(12, 1, 0), utc(1, 1, 0, year=2027))
    for bad in ("2026-13", "2026-1", "December", "", "9999-01", "0000-01"):
        with pytest.raises(ValueError, match="month"):
            Month.parse(bad)
    last = Month.parse("9998-12")  # the last month whose end can be written down
    assert last.end == datetime(9999, 1, 1, tzinfo=UTC)


def test_an_empty_month_has_no_rate_and_no_times() -> None:
    empty = summarise(DECEMBER, None, [], [], None)
    assert (empty.nights, empty.checkin_rate, empty.median_ack, empty.hazards) == (
        0, None, None, None)


def test_skipped_nights_are_excused_and_the_median_of_two_is_their_mean() -> None:
    nights = [NightRecord("north", 1, date(2026, 12, d), s)
              for d, s in ((1, "checked_in"), (2, "skipped"), (3, "missed"), (4, "cancelled"))]
    told = utc(12, 2, 20, 30)
    alerts = [AlertRecord("north", AlertKind.MISSED, told, told, told + timedelta(minutes=m), "")
              for m in (10, 3)]
    got = summarise(DECEMBER, "north", nights, alerts, [])
    assert (got.nights, got.checked_in, got.skipped, got.missed) == (3, 1, 1, 1)
    assert got.checkin_rate == 0.5
    assert (got.median_ack, got.worst_ack) == (timedelta(seconds=390), timedelta(minutes=10))
    assert got.hazards == {1: 0, 2: 0, 3: 0, 4: 0}


# --- a month built through the services -----------------------------------------------------


async def member(world: World, user_id: int) -> Member:
    found = await world.services.enrolment.member(user_id)
    assert found is not None
    return found


async def latest_alert(world: World) -> int:
    async with world.services.db.read() as conn, conn.execute(
        "SELECT MAX(id) FROM alerts"
    ) as cur:
        row = await cur.fetchone()
    assert row is not None and row[0] is not None
    return int(row[0])


async def add_hazard(world: World, team: str, severity: int, when: datetime,
                     state: str = "open") -> None:
    async with world.services.db.transaction() as conn:
        await conn.execute(
            "INSERT INTO hazards (reporter_id, team, category, severity, lat, lon, radius_km,"
            " state, created_at) VALUES (?,?,?,?,?,?,?,?,?)",
            (4004, team, "road", severity, 52.5, 13.4, 2.0, state, ts(when)),
        )


async def build_december(world: World) -> None:
    """Rita (north, Berlin) and Sven (south, New York) through December, by the clock.

    Berlin is UTC+1 (deadline 20:00 UTC); New York UTC-5 (deadline 02:00 UTC next day).
    """
    await enrol_south(world)
    sven = world.fake.user(OTHER_REP_ID, "Sven")
    rita = world.rep.id
    await plan_for(world, world.rep, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
    await plan_for(world, world.rep, BERLIN, date(2026, 12, 31), date(2027, 1, 1))
    await plan_for(world, sven, NEW_YORK, date(2026, 12, 5), date(2026, 12, 6))
    mia, olu = await member(world, world.manager.id), await member(world, world.officer.id)

    # Dec 1: on time. Dec 2: missed; Mia is told at +30 min, acknowledges 10 min later
    # (600 s) and resolves it as a false alarm. Dec 3: skipped with a reason.
    await at(world, utc(12, 1, 19))
    await world.services.checkins.check_in(rita)
    for minutes in (0, 15, 30):
        await at(world, utc(12, 2, 20, minutes))
    await at(world, utc(12, 2, 20, 40))
    first = await latest_alert(world)
    await world.services.escalation.acknowledge(first, mia)
    await world.services.escalation.resolve(first, mia, "false_alarm")
    await at(world, utc(12, 3, 19))
    assert (await world.services.checkins.skip(rita, "client dinner")).refused is None

    # Hazards: north red and blue count; a dismissed one and one in January do not.
    await add_hazard(world, "north", 4, utc(12, 4, 9))
    await add_hazard(world, "north", 1, utc(12, 4, 10))
    await add_hazard(world, "south", 2, utc(12, 4, 11), state="dismissed")
    await add_hazard(world, "north", 3, utc(1, 1, 9, year=2027))

    # Dec 5 (NY): missed; Sol is told at +30 min, the officers at +60, Olu acknowledges at
    # +70 (2400 s after the first lead was told). Dec 6: missed, then a late check-in closes
    # it before anyone acknowledged (no time to acknowledge).
    for minutes in (0, 15, 30, 60, 70):
        await at(world, utc(12, 6, 2) + timedelta(minutes=minutes))
    await world.services.escalation.acknowledge(await latest_alert(world), olu)
    await at(world, utc(12, 7, 2))
    await at(world, utc(12, 7, 2, 10))
    await world.services.checkins.check_in(sven.id)

    # Dec 10: Rita's SOS, acknowledged by Mia after 3 minutes (180 s).
    await at(world, utc(12, 10, 12))
    sos, _ = await world.services.escalation.raise_sos(rita)
    await at(world, utc(12, 10, 12, 3))
    await world.services.escalation.acknowledge(sos, mia)

    # Dec 31: on time. Jan 1 is missed, but that night and its alert belong to January.
    await at(world, utc(12, 31, 19))
    await world.services.checkins.check_in(rita)
    await at(world, utc(1, 1, 20, 1, year=2027))
    await at(world, utc(1, 2, 12, year=2027))


# Worked out by hand from build_december:
#   north: trips 2; nights Dec 1 ok, Dec 2 missed, Dec 3 skipped, Dec 31 ok -> 4 nights,
#          rate 2 / (4 - 1) = 0.667; alerts: Dec 2 (false alarm, 600 s), SOS (180 s) ->
#          median (600 + 180) / 2 = 390 s, worst 600 s; hazards blue 1, red 1.
#   south: trips 1; nights Dec 5 missed, Dec 6 checked in late -> rate 1 / 2 = 0.500;
#          alerts: Dec 5 (2400 s), Dec 6 (closed by the check-in, never acknowledged).
#   ALL:   trips 3; nights 6 (3 ok, 1 skipped, 2 missed) -> rate 3 / 5 = 0.600; alerts 4,
#          1 false alarm, 1 SOS, 3 acknowledged: 180, 600, 2400 s -> median 600, worst 2400.
EXPECTED_CSV = [
    ["month", "team", "trips", "nights", "checked_in", "skipped", "missed", "checkin_rate",
     "alerts", "false_alarms", "sos", "acknowledged", "median_ack_seconds",
     "worst_ack_seconds", "hazards_blue", "hazards_yellow", "hazards_orange", "hazards_red",
     "visits", "visits_alone_after_dark", "visit_alerts",
     "drills", "drill_participation", "drill_median_ack_seconds", "drill_worst_ack_seconds"],
    ["2026-12", "north", "2", "4", "2", "1", "1", "0.667", "2", "1", "1", "2", "390", "600",
     "1", "0", "0", "1", "0", "0", "0", "0", "", "", ""],
    ["2026-12", "south", "1", "2", "1", "0", "1", "0.500", "2", "0", "0", "1", "2400", "2400",
     "0", "0", "0", "0", "0", "0", "0", "0", "", "", ""],
    ["2026-12", "ALL", "3", "6", "3", "1", "2", "0.600", "4", "1", "1", "3", "600", "2400",
     "1", "0", "0", "1", "0", "0", "0", "0", "", "", ""],
]


async def test_the_monthly_csv_matches_the_hand_computed_month(team: World) -> None:
    await build_december(team)

    exported = await team.services.reports.export(DECEMBER, team.tmp / "out")

    with exported.csv.open(encoding="utf-8", newline="") as handle:
        assert list(csv.reader(handle)) == EXPECTED_CSV
    assert exported.chart.read_bytes().startswith(PNG_MAGIC)
    async with team.services.db.read() as conn:
        entries = await audit.since(conn, utc(1, 1, 0, year=2027))
    assert [(e.actor, e.action) for e in entries if e.action == "export_report"] == [
        (None, "export_report")]


async def test_report_on_demand_for_a_manager_and_for_the_safety_desk(team: World) -> None:
    await build_december(team)

    await team.manager.send("/report 2026-12")
    chart = team.manager.messages[-2]  # the chart, then the numbers
    assert chart.photo_bytes is not None and chart.photo_bytes.startswith(b"\x89PNG")
    assert (chart.body or "").startswith("📊 December 2026: the last twelve months")
    assert (team.manager.last.body or "").splitlines() == [
        "📊 Monthly safety summary: December 2026",
        "Team north",
        "🧳 Trips: 2 · nights: 4",
        "✅ Checked in: 2 · skipped with a reason: 1 · missed: 1",
        "📈 Check-in rate: 67% (skipped nights not counted)",
        "🚨 Alerts raised: 2 · false alarms: 1 · SOS: 1",
        "⏱ Time to acknowledge: median 6 minutes, worst 10 minutes (2 acknowledged)",
        "⚠️ Hazard reports: 🔴 red 1 · 🟠 orange 0 · 🟡 yellow 0 · 🔵 blue 1",
    ]
    await team.officer.send("/report 2026-12")
    officer_lines = (team.officer.last.body or "").splitlines()
    assert officer_lines[1:3] == ["All teams", "🧳 Trips: 3 · nights: 6"]
    assert "⏱ Time to acknowledge: median 10 minutes, worst 40 minutes (3 acknowledged)" in (
        officer_lines)

    await team.officer.send("/report")  # this month (January) so far
    assert "The month is not over yet" in (team.officer.last.body or "")
    await team.officer.send("/report 2027-02")
    assert team.officer.last.body == "That month has not started yet."
    await team.officer.send("/report last-month")
    assert (team.officer.last.body or "").startswith("Usage: /report")


async def test_the_summary_in_chinese(team: World) -> None:
    mei = team.fake.user(2022, "梅", "zh")
    await team.enrol(mei, "manager", "north")
    await plan_for(team, team.rep, BERLIN, date(2026, 12, 1), date(2026, 12, 2))
    await at(team, utc(12, 1, 19))
    await team.services.checkins.check_in(team.rep.id)

    await mei.send("/report 2026-12")

    assert (mei.messages[-2].body or "").startswith("📊 2026年12月：近十二个月趋势")

    assert (mei.last.body or "").splitlines()[:5] == [
        "📊 月度安全报告：2026年12月",
        "north 团队",
        "本月尚未结束，以下为截至目前的数据。",
        "🧳 出差行程：1 个 · 出差夜数：1 晚",
        "✅ 已报平安：1 晚 · 说明原因未报：0 晚 · 未报平安：0 晚",
    ]


async def test_last_months_summary_goes_to_managers_and_officers_once(team: World) -> None:
    await enrol_south(team)
    sol = team.fake.user(OTHER_MANAGER_ID, "Sol")
    await plan_for(team, team.rep, BERLIN, date(2026, 12, 1), date(2026, 12, 2))
    await at(team, utc(12, 1, 19))
    await team.services.checkins.check_in(team.rep.id)

    team.clock.set(utc(1, 1, 11, year=2027))  # not yet over everywhere (UTC-12)
    assert await team.services.reports.send_monthly() == 0
    team.clock.set(utc(1, 1, 12, year=2027))
    assert await team.services.reports.send_monthly() == 3
    assert await team.services.reports.send_monthly() == 0
    await team.tick()

    for lead, scope in ((team.manager, "Team north"), (sol, "Team south"),
                        (team.officer, "All teams")):
        summaries = [t for t in lead.texts() if t.startswith("📊 Monthly safety summary")]
        assert len(summaries) == 1, lead.first_name
        assert summaries[0].splitlines()[:2] == ["📊 Monthly safety summary: December 2026",
                                                 scope]
    assert not [t for t in team.rep.texts() if t.startswith("📊")]
    assert not [t for t in team.admin.texts() if t.startswith("📊")]


# --- fieldbot report ------------------------------------------------------------------------


def fieldbot(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    environment = {"PATH": os.environ.get("PATH", "/usr/bin"), "PTB_TIMEDELTA": "true",
                   "HOME": os.environ.get("HOME", str(tmp_path)),  # matplotlib's font cache
                   "FIELDBOT_DB": str(tmp_path / "cli.db"),
                   "FIELDBOT_DATA_DIR": str(tmp_path / "data")}
    return subprocess.run([sys.executable, "-m", "conversations.cli", *args], cwd=tmp_path,
                          env=environment, capture_output=True, text=True, check=False,
                          timeout=120)


def test_fieldbot_report_writes_a_csv_and_a_png(tmp_path: Path) -> None:
    result = fieldbot(tmp_path, "report", "--month", "2025-12", "--out", "reports")

    assert result.returncode == 0, result.stderr
    out = tmp_path / "reports"
    assert (out / "fieldbot-report-2025-12.png").read_bytes().startswith(PNG_MAGIC)
    with (out / "fieldbot-report-2025-12.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["team"], r["nights"], r["checkin_rate"]) for r in rows] == [("ALL", "0", "")]
    assert fieldbot(tmp_path, "report", "--month", "2026-13").returncode == 2


def test_fieldbot_report_of_a_month_to_come_says_so_and_writes_nothing(tmp_path: Path) -> None:
    # As /report answers "That month has not started yet.": no files of zeros for 2099-01.
    result = fieldbot(tmp_path, "report", "--month", "2099-01", "--out", "reports")

    assert result.returncode == 2
    assert "2099-01 has not started yet" in result.stderr
    assert not (tmp_path / "reports").exists()


def test_fieldbot_report_writes_the_chart_in_the_language_asked(tmp_path: Path) -> None:
    result = fieldbot(tmp_path, "report", "--month", "2025-12", "--out", "zh", "--lang", "zh")
    assert result.returncode == 0, result.stderr
    assert "missing from font" not in result.stderr
    assert (tmp_path / "zh" / "fieldbot-report-2025-12.png").read_bytes().startswith(PNG_MAGIC)
