"""The 20:55 rush against the real `fieldbot run` process, the fake Telegram on loopback.

    python bench/rush.py [--reps 10000] [--window 300] [--photos 200] [--sos 50] [--typed]
    python bench/rush.py --unthrottled [--reps 2000]

Phases, one bot process (the trips are in a city where it is now between 12:30 and 19:30, so
every check-in window is open and no reminder falls inside the run):
1. start-up: the database already holds `reps` active trips; time from process start to its
   first getUpdates call, and VmHWM then;
2. the rush: every rep presses "I'm safe" on a reminder (with `--typed`: sends /checkin), spread
   evenly over `window` seconds (300: the issue's five minutes; less compresses it, and the row
   says so), with plain photos and /sos mixed in: updates handled per second, press → toast
   p50/p99 and press → the reminder edited into the receipt (typed: update → reply), SOS → first
   manager message p99, VmHWM;
`--unthrottled`: check-ins per second in-process with the rate limiter off, as a ratio to a
raw aiosqlite loop (same PRAGMAs, one transaction per insert): how close to storage we run.

The bot's replies go through PTB's AIORateLimiter (30 messages/s overall, Telegram's limit),
so end to end the rate of anything that answers with a message is capped there.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import random
import re
import sqlite3
import sys
import tempfile
import time
from contextlib import closing
from datetime import UTC, date, datetime, timedelta
from datetime import time as time_of_day
from pathlib import Path
from zoneinfo import ZoneInfo

import aiosqlite
from PIL import Image
from telegram import Update

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402
    BERLIN,
    MANAGER,
    OFFICER,
    TOKEN,
    bot,
    enrol,
    pct,
    record,
)
from conversations.runtime.bootstrap import FieldbotApp  # noqa: E402
from faketelegram.api import FakeTelegram  # noqa: E402
from faketelegram.server import serve  # noqa: E402
from fieldbot.clock import SystemClock  # noqa: E402
from fieldbot.config import Settings  # noqa: E402
from fieldbot.domain.members import Member  # noqa: E402
from fieldbot.domain.places import Place  # noqa: E402
from fieldbot.domain.roles import Role  # noqa: E402
from fieldbot.domain.trips import Leg  # noqa: E402
from fieldbot.services.container import build_services  # noqa: E402
from fieldbot.services.trips import TripPlan  # noqa: E402
from fieldbot.storage import users  # noqa: E402

FIRST_REP = 100_000
# Real coordinates and zones; whatever the hour, one of them is between 12:30 and 19:30.
CITIES = [BERLIN,
          Place("Tokyo", "JP", "Japan", "Tokyo", 35.68, 139.69, "Asia/Tokyo"),
          Place("Sydney", "AU", "Australia", "New South Wales", -33.87, 151.21,
                "Australia/Sydney"),
          Place("Auckland", "NZ", "New Zealand", "Auckland", -36.85, 174.76, "Pacific/Auckland"),
          Place("Dubai", "AE", "United Arab Emirates", "Dubai", 25.2, 55.27, "Asia/Dubai"),
          Place("Kolkata", "IN", "India", "West Bengal", 22.57, 88.36, "Asia/Kolkata"),
          Place("New York", "US", "United States", "New York", 40.71, -74.01,
                "America/New_York"),
          Place("Los Angeles", "US", "United States", "California", 34.05, -118.24,
                "America/Los_Angeles"),
          Place("Honolulu", "US", "United States", "Hawaii", 21.31, -157.86, "Pacific/Honolulu")]


def afternoon_city() -> Place:
    """A city where the check-in window is open now and the reminder is hours away."""
    now = datetime.now(UTC)
    for city in CITIES:
        local = now.astimezone(ZoneInfo(city.tz_name)).time()
        if time_of_day(12, 30) <= local <= time_of_day(19, 30):
            return city
    raise SystemExit("no afternoon city right now; add one to CITIES")
SOS_LABEL = re.compile(r"SOS A-\d+</b> \(message 1\): <b>Rep (\d+)</b>")


async def prepare(tmp: Path, reps: int) -> Settings:
    """Enrol a manager, an officer and `reps` reps, each with a trip that is active now."""
    settings = Settings(_env_file=None, token=TOKEN, bot_api_url="http://127.0.0.1:1",  # type: ignore[call-arg]
                        db=tmp / "fieldbot.db", data_dir=tmp / "data", admin_ids=(1,))
    services = build_services(settings, SystemClock())
    await services.db.connect()
    try:
        now = services.clock.now()
        people = [Member(MANAGER, "Bench Manager", Role.MANAGER, "bench", "en"),
                  Member(OFFICER, "Bench Officer", Role.OFFICER, "", "en")]
        people += [Member(FIRST_REP + i, f"Rep {FIRST_REP + i}", Role.STAFF, "bench", "en")
                   for i in range(reps)]
        async with services.db.transaction() as conn:
            for person in people:
                await users.upsert(conn, person, now, cipher=services.cipher)
        city = afternoon_city()
        today = now.astimezone(ZoneInfo(city.tz_name)).date()
        for person in people[2:]:
            plan = TripPlan(legs=(Leg(city, today, today + timedelta(days=3)),),
                            lodging="Bench Hotel", contact_name="Bench Contact",
                            contact_phone="+4900000000", contact_user_id=None,
                            night_visits=False, companion="")
            await services.trips.submit(person, plan, f"rush-{person.id}")
    finally:
        await services.stop()
    return settings


async def launch(settings: Settings, base_url: str, log: Path) -> asyncio.subprocess.Process:
    env = {**os.environ, "PTB_TIMEDELTA": "true", "FIELDBOT_TOKEN": TOKEN,
           "FIELDBOT_BOT_API_URL": base_url, "FIELDBOT_ADVISORY_REFRESH": "false",
           "FIELDBOT_DB": str(settings.db),
           "FIELDBOT_DATA_DIR": str(settings.data_dir), "FIELDBOT_ADMIN_IDS": "1"}
    with log.open("ab") as out:
        return await asyncio.create_subprocess_exec(
            str(Path(sys.executable).parent / "fieldbot"), "run",
            env=env, stdout=out, stderr=out, stdin=asyncio.subprocess.DEVNULL)


def vm_hwm_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def jpeg(seed: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (320, 240), ((seed * 37) % 256, (seed * 91) % 256, 90)).save(out, "JPEG")
    return out.getvalue()


def replies_after(fake: FakeTelegram, start: int) -> dict[int, datetime]:
    """First sendMessage accepted per chat, from call index `start` on."""
    first: dict[int, datetime] = {}
    for call in fake.calls[start:]:
        if call.method in ("sendMessage", "sendPhoto") and call.status == 200:
            chat = int(call.params.get("chat_id", 0))
            first.setdefault(chat, call.at)
    return first


async def raw_insert_rate(tmp: Path, n: int = 3000) -> float:
    """Inserts per second, one BEGIN IMMEDIATE … COMMIT each, with the bot's PRAGMAs."""
    async with aiosqlite.connect(tmp / "raw.db", isolation_level=None) as conn:
        for pragma in ("journal_mode=WAL", "synchronous=FULL", "foreign_keys=ON",
                       "busy_timeout=5000", "secure_delete=ON"):
            await conn.execute(f"PRAGMA {pragma}")
        await conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, user_id INTEGER, at TEXT)")
        started = time.perf_counter()
        for i in range(n):
            await conn.execute("BEGIN IMMEDIATE")
            await conn.execute("INSERT INTO t (user_id, at) VALUES (?, ?)", (i, "x"))
            await conn.execute("COMMIT")
        return n / (time.perf_counter() - started)


SAFE_BUTTON = json.dumps({"inline_keyboard": [[{"text": "✅ I'm safe",
                                                  "callback_data": "checkin:safe"}]]})


def first_call_per_chat(fake: FakeTelegram, start: int, method: str) -> dict[int, datetime]:
    """When each chat first had `method` accepted, from call index `start` on."""
    first: dict[int, datetime] = {}
    for call in fake.calls[start:]:
        if call.method == method and call.status == 200:
            if method == "answerCallbackQuery":  # the fake's query ids start with the user id
                chat = int(str(call.params.get("callback_query_id", 0))) // 1_000_000
            else:
                chat = int(call.params.get("chat_id", 0))
            first.setdefault(chat, call.at)
    return first


async def main(reps: int, window: float, photos: int, sos: int, typed: bool) -> None:
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        t0 = time.perf_counter()
        settings = await prepare(tmp, reps)
        print(f"prepared {reps} active trips in {time.perf_counter() - t0:.0f} s", flush=True)
        fake = FakeTelegram(token=TOKEN)
        rep_ids = [FIRST_REP + i for i in range(reps)]
        people = {uid: fake.user(uid, f"Rep {uid}") for uid in rep_ids}
        for uid in (1, MANAGER, OFFICER):
            fake.user(uid, "Bench").started = True
        for user in people.values():
            user.started = True
        log = tmp / "bot.log"
        rows: list[tuple[str, str, str]] = []
        cmd = (f"python bench/rush.py --reps {reps} --window {window:g} --photos {photos} "
               f"--sos {sos}" + (" --typed" if typed else ""))
        async with serve(fake) as base_url:
            launched = datetime.now(UTC)
            bot = await launch(settings, base_url, log)
            try:
                await fake.wait_for(lambda: bool(fake.calls_to("getUpdates")), 120)
                startup = (fake.calls_to("getUpdates")[0].at - launched).total_seconds()
                rows.append(("start-up", f"{reps:,} active trips, a first start (the place "
                             "index is built meanwhile; bench/footprint.py measures later "
                             f"starts): process start → first getUpdates {startup:.2f} s; "
                             f"VmHWM {vm_hwm_mb(bot.pid):.0f} MB",
                             cmd))
                print(rows[-1][1], flush=True)
                # Let the start-up catch-up sweep finish before the rush.
                await asyncio.sleep(3)

                # Tonight's reminder in every rep's chat, to press "I'm safe" on (sent here, by
                # the fake itself: 10,000 reminders at 30/s would take the bot five minutes).
                reminders = {}
                if not typed:
                    for uid in rep_ids:
                        await fake.call(TOKEN, "sendMessage", {
                            "chat_id": uid, "text": "🌙 Evening check-in", "reply_markup":
                            SAFE_BUTTON})
                        reminders[uid] = people[uid].last

                # --- the rush ---------------------------------------------------------------
                rng = random.Random(2055)
                events: list[tuple[str, int]] = [("checkin", uid) for uid in rep_ids]
                sos_reps = rng.sample(rep_ids, sos)
                events += [("sos", uid) for uid in sos_reps]
                events += [("photo", uid) for uid in rng.sample(rep_ids, photos)]
                rng.shuffle(events)
                image = jpeg(1)
                start_call = len(fake.calls)
                sent_at: dict[tuple[str, int], datetime] = {}
                began = time.perf_counter()
                for i, (kind, uid) in enumerate(events):
                    due = began + window * i / len(events)
                    delay = due - time.perf_counter()
                    if delay > 0:
                        await asyncio.sleep(delay)
                    sent_at[(kind, uid)] = datetime.now(UTC)
                    user = people[uid]
                    if kind == "photo":
                        await user.send_photo(image, caption="rush")
                    elif kind == "checkin" and not typed:
                        await user.press_data("checkin:safe", reminders[uid])
                    else:
                        await user.send(f"/{kind}")

                def receipts() -> dict[int, datetime]:
                    if typed:
                        return replies_after(fake, start_call)
                    return {**first_call_per_chat(fake, start_call, "sendMessage"),
                            **first_call_per_chat(fake, start_call, "editMessageText")}

                def done() -> bool:
                    if typed:
                        return set(rep_ids) | {MANAGER} <= set(receipts())
                    edited = first_call_per_chat(fake, start_call, "editMessageText")
                    return (set(rep_ids) <= set(edited) and MANAGER in
                            first_call_per_chat(fake, start_call, "sendMessage"))

                await fake.wait_for(done, 900)
                handled = time.perf_counter() - began
                peak = vm_hwm_mb(bot.pid)
                if typed:
                    first = replies_after(fake, start_call)
                else:
                    first = first_call_per_chat(fake, start_call, "editMessageText")
                    toasted = first_call_per_chat(fake, start_call, "answerCallbackQuery")
                    toasts = [(toasted[uid] - at).total_seconds()
                              for (kind, uid), at in sent_at.items()
                              if kind == "checkin" and uid in toasted]
                    for late, uid in sorted(
                            ((toasted[uid] - at).total_seconds(), uid)
                            for (kind, uid), at in sent_at.items()
                            if kind == "checkin" and uid in toasted)[-3:]:
                        others = [kind for kind, who in sent_at
                                  if who == uid and kind != "checkin"]
                        print(f"slow toast: {late * 1000:.0f} ms, rep {uid}, also sent: "
                              f"{', '.join(others) or 'nothing else'}", flush=True)
                latencies = [(first[uid] - at).total_seconds()
                             for (kind, uid), at in sent_at.items()
                             if kind == "checkin" and uid in first]
                sos_first: dict[int, datetime] = {}
                for call in fake.calls[start_call:]:
                    if (call.method == "sendMessage" and call.status == 200
                            and int(call.params.get("chat_id", 0)) == MANAGER):
                        found = SOS_LABEL.search(str(call.params.get("text", "")))
                        if found:
                            sos_first.setdefault(int(found.group(1)), call.at)
                sos_lat = [(sos_first[uid] - sent_at[("sos", uid)]).total_seconds()
                           for uid in sos_reps if uid in sos_first]
                total = len(events)
                shape = ("the full 5-minute rush" if window >= 300
                         else "the 5-minute rush compressed")
                checkin = "/checkin" if typed else "I'm safe presses"
                what = (f"{reps:,} {checkin} + {photos} photos + {sos} /sos over {window:g} s "
                        f"({shape})")
                load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
                rows.append(("rush", f"{what}: {total:,} updates, the last receipt "
                             f"{handled:.1f} s after the first update = "
                             f"{total / handled:.0f} updates/s; load average then {load} on "
                             f"{os.cpu_count()} cores (the machine is shared)", cmd))
                if not typed:
                    rows.append((
                        "rush", f"press → toast (I'm safe): n={len(toasts)} "
                        f"p50={pct(toasts, 50) * 1000:.0f} ms p99={pct(toasts, 99) * 1000:.0f} ms"
                        f" max={max(toasts) * 1000:.0f} ms (target p99 < 1 s)", cmd))
                receipt = ("update → first reply (check-ins)" if typed else
                           "press → the reminder edited into the receipt (low priority)")
                rows += [
                    ("rush", f"{receipt}: n={len(latencies)} "
                     f"p50={pct(latencies, 50) * 1000:.0f} ms p99={pct(latencies, 99) * 1000:.0f}"
                     f" ms max={max(latencies) * 1000:.0f} ms", cmd),
                    ("rush", f"/sos → first manager message: n={len(sos_lat)}/{sos} "
                     f"p50={pct(sos_lat, 50) * 1000:.0f} ms p99={pct(sos_lat, 99) * 1000:.0f} ms "
                     f"max={max(sos_lat) * 1000:.0f} ms (target p99 < 1 s)", cmd),
                    ("rush", f"peak memory of the bot process (VmHWM): {peak:.0f} MB", cmd),
                ]
                for row in rows[1:]:
                    print(row[1], flush=True)

            finally:
                bot.terminate()
                await bot.wait()
        checked = nights_checked_in(settings.db)
        rows.append(("rush", f"nights checked in afterwards: {checked:,} of {reps:,}", cmd))
        print(rows[-1][1], flush=True)
        errors = [line for line in log.read_text(errors="replace").splitlines()
                  if " ERROR " in line or "Traceback" in line]
        rows.append(("errors", f"{len(errors)} ERROR lines in the bot's log", cmd))
        print(rows[-1][1], *errors[:5], sep="\n", flush=True)
    record("Load: the 20:55 rush", rows)


async def file_trips_to(app: FieldbotApp, rep_ids: list[int], city: Place, start: date) -> None:
    services = app.bot_data.services
    for rep_id in rep_ids:
        member = await services.enrolment.member(rep_id)
        assert member is not None
        plan = TripPlan(legs=(Leg(city, start, start + timedelta(days=3)),),
                        lodging="Bench Hotel", contact_name="Bench Contact",
                        contact_phone="+4900000000", contact_user_id=None,
                        night_visits=False, companion="")
        await services.trips.submit(member, plan, f"bench-{rep_id}")


def nights_checked_in(db: Path) -> int:
    with closing(sqlite3.connect(db)) as conn:
        row = conn.execute("SELECT COUNT(*) FROM nights WHERE checked_in_at IS NOT NULL")
        return int(row.fetchone()[0])


async def unthrottled(reps: int) -> None:
    """Check-ins handled per second with Telegram's rate limit out of the way: the real
    Application in-process, each /checkin dispatched once the previous one is handled."""
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        app, fake = bot(tmp, rate_limit=False)
        services = app.bot_data.services
        await app.initialize()
        await services.start()
        rep_ids = await enrol(app, fake, reps)
        city = afternoon_city()
        today = datetime.now(ZoneInfo(city.tz_name)).date()
        await file_trips_to(app, rep_ids, city, today)

        async def dispatch(data: dict[str, object]) -> None:
            await app.process_update(Update.de_json(data, app.bot))

        fake.dispatch = dispatch
        began = time.perf_counter()
        for uid in rep_ids:
            await fake.user(uid, f"Rep {uid}").send("/checkin")
        rate = reps / (time.perf_counter() - began)
        async with services.db.read() as conn, conn.execute(
            "SELECT COUNT(*) FROM nights WHERE checked_in_at IS NOT NULL") as cur:
            row = await cur.fetchone()
        checked = row[0] if row else 0
        await app.shutdown()
        await services.stop()
        raw = await raw_insert_rate(tmp)
    cmd = f"python bench/rush.py --unthrottled --reps {reps}"
    line = (f"{reps:,} first /checkin of the night, one after another, in-process, no rate "
            f"limit: {rate:.0f} check-ins/s ({checked:,} nights checked in); raw aiosqlite "
            f"insert, one transaction each, same PRAGMAs: {raw:.0f}/s; ratio {rate / raw:.2f}")
    print(line, flush=True)
    record("Load: check-in throughput at the storage limit", [("check-ins", line, cmd)])


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=10_000)
    parser.add_argument("--window", type=float, default=300.0)
    parser.add_argument("--photos", type=int, default=200)
    parser.add_argument("--sos", type=int, default=50)
    parser.add_argument("--typed", action="store_true",
                        help="check in with a typed /checkin instead of the I'm safe button")
    parser.add_argument("--unthrottled", action="store_true",
                        help="check-in throughput in-process without the rate limiter")
    args = parser.parse_args()
    if args.unthrottled:
        asyncio.run(unthrottled(args.reps))
    else:
        asyncio.run(main(args.reps, args.window, args.photos, args.sos, args.typed))
