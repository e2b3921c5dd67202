"""Shared set-up for the benchmarks: a real bot against the in-process fake Telegram."""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from pydantic import SecretStr
from telegram.request import HTTPXRequest

from conversations.runtime.bootstrap import FieldbotApp, build_application
from faketelegram.api import FakeTelegram
from faketelegram.transport import FakeTransport
from fieldbot.clock import SystemClock
from fieldbot.config import Settings
from fieldbot.domain.members import Member
from fieldbot.domain.places import Place
from fieldbot.domain.roles import Role
from fieldbot.domain.trips import Leg
from fieldbot.services.trips import TripPlan
from fieldbot.storage import users

os.environ.setdefault("PTB_TIMEDELTA", "true")

TOKEN = "424242:BENCH-fixture-token-not-real-000000"
RESULTS = Path(__file__).parent / "RESULTS.md"
# A made-up destination for made-up trips (real coordinates and zone).
BERLIN = Place("Berlin", "DE", "Germany", "Berlin", 52.52, 13.405, "Europe/Berlin")
MANAGER, OFFICER = 10, 11


def machine() -> str:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        cpu = platform.processor()
    return (f"{platform.node()} · {cpu} · {os.cpu_count()} cores · "
            f"Python {platform.python_version()}")


def git_rev() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, check=False).stdout.strip()
    except OSError:
        return "?"


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def summary(values: list[float]) -> str:
    return (f"n={len(values)} p50={pct(values, 50) * 1000:.0f} ms "
            f"p99={pct(values, 99) * 1000:.0f} ms max={max(values) * 1000:.0f} ms "
            f"mean={statistics.fmean(values) * 1000:.0f} ms")


def bot(
    tmp: Path, *, rate_limit: bool = True, **settings: Any
) -> tuple[FieldbotApp, FakeTelegram]:
    fake = FakeTelegram(token=TOKEN)
    config = Settings(_env_file=None, token=SecretStr(TOKEN),  # type: ignore[call-arg]
                      bot_api_url="http://fake.telegram", db=tmp / "bench.db",
                      data_dir=tmp / "data", admin_ids=(1,), advisory_refresh=False,
                      **settings)
    request = HTTPXRequest(connection_pool_size=64,
                           httpx_kwargs={"transport": FakeTransport(fake)})
    app = build_application(config, SystemClock(), request=request, rate_limit=rate_limit)
    return app, fake


async def enrol(app: FieldbotApp, fake: FakeTelegram, reps: int) -> list[int]:
    """Enrol a manager, an officer and `reps` reps (ids from 1000) directly in storage."""
    services = app.bot_data.services
    now = services.clock.now()
    people = [Member(MANAGER, "Bench Manager", Role.MANAGER, "bench", "en"),
              Member(OFFICER, "Bench Officer", Role.OFFICER, "", "en")]
    people += [Member(1000 + i, f"Rep {i}", Role.STAFF, "bench", "en") for i in range(reps)]
    async with services.db.transaction() as conn:
        for person in people:
            await users.upsert(conn, person, now, cipher=services.cipher)
    for person in people:
        fake.user(person.id, person.name).started = True
    return [p.id for p in people[2:]]


async def file_trips(app: FieldbotApp, rep_ids: list[int], start: date, end: date) -> None:
    services = app.bot_data.services
    for rep_id in rep_ids:
        member = await services.enrolment.member(rep_id)
        assert member is not None
        plan = TripPlan(legs=(Leg(BERLIN, start, end),), lodging="Bench Hotel",
                        contact_name="Bench Contact", contact_phone="+4900000000",
                        contact_user_id=None, night_visits=False, companion="")
        await services.trips.submit(member, plan, f"bench-{rep_id}")


def record(section: str, rows: list[tuple[str, str, str]]) -> None:
    """Replace `section` in RESULTS.md with a table of (what, figure, command) rows."""
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    block = [f"## {section}", "", f"Machine: {machine()}  ", f"Date: {stamp}, commit {git_rev()}",
             "", "| what | result | command |", "|---|---|---|"]
    block += [f"| {what} | {figure} | `{command}` |" for what, figure, command in rows]
    text = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else "# Benchmark results\n"
    sections = text.split("\n## ")
    kept = [s for s in sections[1:] if not s.startswith(section)]
    RESULTS.write_text("\n## ".join([sections[0].rstrip() + "\n", *kept]).rstrip()
                       + "\n\n" + "\n".join(block) + "\n", encoding="utf-8")
