"""Chaos: the real `fieldbot run` process killed with SIGKILL at random moments, many times.

While the bot runs, made-up reps send `/sos` through the loopback fake Telegram and missed
check-ins fall due (a policy in seconds: the deadline passes during the run, the manager is
alerted seconds later and the ladder repeats). The bot is killed with SIGKILL at a random
moment of each run, then started again. At the end one last run delivers what is left.

Counted: kills, SOS sent by the reps, SOS lost (an /sos whose alert never reached the manager
and the officer: must be 0), missed-check-in alerts lost (same), and the most copies of one
message (same alert, recipient and attempt) — at-least-once delivery allows a copy per kill
that cut a send short, never more.

    python -m bench.chaos [--kills 50] [--reps 400] [--seed N]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import shutil
import signal
import sys
import tempfile
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bench.common import BERLIN, record
from faketelegram.api import FakeTelegram
from faketelegram.server import serve
from fieldbot.clock import SystemClock
from fieldbot.config import Settings
from fieldbot.domain.members import Member
from fieldbot.domain.roles import Role
from fieldbot.domain.trips import Leg
from fieldbot.services.container import build_services
from fieldbot.services.trips import TripPlan
from fieldbot.storage import users

TOKEN = "424242:CHAOS-fixture-token-not-real-00000"
ADMIN, MANAGER, OFFICER = 1, 10, 11
LABEL = re.compile(r"(SOS|Alert|EMERGENCY) (A-\d+)\b.*?\(message (\d+)\)")
SOS_TO = re.compile(r"SOS (A-\d+)\b.*?Chaos Rep (\d+)", re.S)


def policy_text(first_deadline_in: int) -> str:
    """A policy in seconds: tonight's deadline passes a little after the run starts."""
    now = SystemClock().now().astimezone(ZoneInfo(BERLIN.tz_name))
    reminder = (now + timedelta(seconds=first_deadline_in // 2)).strftime("%H:%M:%S")
    deadline = (now + timedelta(seconds=first_deadline_in)).strftime("%H:%M:%S")
    return (f'[checkin]\nwindow_opens = "00:00"\nreminder = "{reminder}"\n'
            f'deadline = "{deadline}"\n\n[escalation]\nrep_reminders = ["0s"]\n'
            'manager_after = "2s"\nofficers_after = "6s"\nrepeat_every = "30s"\n\n'
            '[sos]\nrepeat_every = "60s"\n\n[risk.level3]\n\n[risk.level4]\n')


async def prepare(tmp: Path, reps: int, deadline_in: int) -> tuple[dict[str, str], list[int]]:
    """Enrol everyone, file today's trips, and return the bot's environment."""
    policy = tmp / "policy.toml"
    policy.write_text(policy_text(deadline_in), encoding="utf-8")
    env = {"FIELDBOT_TOKEN": TOKEN, "FIELDBOT_ADVISORY_REFRESH": "false",
           "FIELDBOT_DB": str(tmp / "fieldbot.db"),
           "FIELDBOT_DATA_DIR": str(tmp / "data"), "FIELDBOT_ADMIN_IDS": str(ADMIN),
           "FIELDBOT_POLICY": str(policy), "FIELDBOT_SWEEP_INTERVAL": "1s"}
    settings = Settings(_env_file=None, token=TOKEN, db=tmp / "fieldbot.db",  # type: ignore[call-arg]
                        data_dir=tmp / "data", admin_ids=(ADMIN,), policy=policy)
    services = build_services(settings, SystemClock())
    await services.db.connect()
    rep_ids = [5000 + i for i in range(reps)]
    try:
        now = services.clock.now()
        people = [Member(ADMIN, "Chaos Admin", Role.ADMIN, "", "en"),
                  Member(MANAGER, "Chaos Manager", Role.MANAGER, "chaos", "en"),
                  Member(OFFICER, "Chaos Officer", Role.OFFICER, "", "en")]
        people += [Member(uid, f"Chaos Rep {uid}", Role.STAFF, "chaos", "en") for uid in rep_ids]
        async with services.db.transaction() as conn:
            for person in people:
                await users.upsert(conn, person, now, cipher=services.cipher)
        today = now.astimezone(ZoneInfo(BERLIN.tz_name)).date()
        for uid in rep_ids[: reps // 2]:  # half travel tonight and will miss the check-in
            member = await services.enrolment.member(uid)
            assert member is not None
            plan = TripPlan(legs=(Leg(BERLIN, today, today + timedelta(days=2)),),
                            lodging="Made-up Hotel", contact_name="Made-up Contact",
                            contact_phone="+4900000000", contact_user_id=None,
                            night_visits=False, companion="")
            await services.trips.submit(member, plan, f"chaos-{uid}")
    finally:
        await services.stop()
    return env, rep_ids


async def launch(env: dict[str, str], base_url: str, log: Path) -> asyncio.subprocess.Process:
    full = {**os.environ, "PTB_TIMEDELTA": "true", "FIELDBOT_BOT_API_URL": base_url, **env}
    with log.open("ab") as out:
        return await asyncio.create_subprocess_exec(
            str(Path(sys.executable).parent / "fieldbot"), "run",
            env=full, stdout=out, stderr=out, stdin=asyncio.subprocess.DEVNULL,
        )


def copies(fake: FakeTelegram) -> Counter[tuple[str, int, str]]:
    """How often each (alert, recipient, attempt) message was sent."""
    got: Counter[tuple[str, int, str]] = Counter()
    for message in fake.sent:
        found = LABEL.search(message.text or "")
        if found:
            got[(found.group(2), message.chat_id, found.group(3))] += 1
    return got


def reached(fake: FakeTelegram, kind: str) -> dict[str, set[int]]:
    """Which people each alert of `kind` ("SOS" or "Alert") reached."""
    got: dict[str, set[int]] = {}
    for message in fake.sent:
        found = LABEL.search(message.text or "")
        if found and found.group(1) == kind:
            got.setdefault(found.group(2), set()).add(message.chat_id)
    return got


def complete(alerts: dict[str, set[int]]) -> int:
    """How many alerts reached both the manager and the officer."""
    return sum(1 for people in alerts.values() if {MANAGER, OFFICER} <= people)


def sos_senders(fake: FakeTelegram) -> set[int]:
    """The reps whose SOS reached the manager."""
    return {int(m.group(2)) for message in fake.sent_to(MANAGER)
            if (m := SOS_TO.search(message.text or ""))}


async def run(kills: int, reps: int, seed: int) -> dict[str, int]:
    rng = random.Random(seed)
    folder = tempfile.mkdtemp(prefix="fieldbot-chaos-")
    if True:  # the folder (database, bot.log) is kept when something was lost
        tmp = Path(folder)
        env, rep_ids = await prepare(tmp, reps, deadline_in=20)
        travelling = rep_ids[: reps // 2]
        fake = FakeTelegram(token=TOKEN)
        people = {uid: fake.user(uid, "Chaos") for uid in (ADMIN, MANAGER, OFFICER, *rep_ids)}
        for user in people.values():
            user.started = True
        waiting_sos = list(rep_ids)
        rng.shuffle(waiting_sos)
        sent_sos: list[int] = []
        log = tmp / "bot.log"
        async with serve(fake) as base_url:
            for _ in range(kills):
                bot = await launch(env, base_url, log)
                alive = rng.uniform(1.0, 8.0)  # start-up takes 1-3 s: most runs poll
                started = time.monotonic()
                while time.monotonic() - started < alive:
                    for _ in range(min(len(waiting_sos), rng.choice((0, 0, 1, 2, 4)))):
                        uid = waiting_sos.pop()  # a few at once: some land mid-handling
                        await people[uid].send("/sos")
                        sent_sos.append(uid)
                    await asyncio.sleep(rng.uniform(0.05, 0.3))
                bot.send_signal(signal.SIGKILL)
                await bot.wait()
            bot = await launch(env, base_url, log)
            try:
                await fake.wait_for(lambda: set(sent_sos) <= sos_senders(fake)
                                    and complete(reached(fake, "Alert")) >= len(travelling)
                                    and complete(reached(fake, "SOS")) >= len(sent_sos), 300)
            except AssertionError:  # not all reached: counted as lost below
                pass
            finally:
                bot.send_signal(signal.SIGKILL)
                await bot.wait()
        missed = reached(fake, "Alert")
        sos = reached(fake, "SOS")
        sos_incomplete = len(sos) - complete(sos)
        figures = {
            "kills": kills,
            "sos_sent": len(sent_sos),
            "sos_lost": len(set(sent_sos) - sos_senders(fake)) + sos_incomplete,
            "missed_alerts": len(missed),
            "missed_lost": len(travelling) - complete(missed),
            "most_copies": max(copies(fake).values(), default=0),
        }
        if figures["sos_lost"] or figures["missed_lost"]:
            print(f"something was lost: the database and bot.log are kept in {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)
        return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=50)
    parser.add_argument("--reps", type=int, default=400)
    parser.add_argument("--seed", type=int, default=random.randrange(2**32))
    args = parser.parse_args()
    print(f"seed {args.seed}", flush=True)
    figures = asyncio.run(run(args.kills, args.reps, args.seed))
    print(figures)
    command = f"python -m bench.chaos --kills {args.kills} --reps {args.reps} --seed {args.seed}"
    record("Chaos: SIGKILL at random moments", [
        ("kills (SIGKILL of `fieldbot run`)", str(figures["kills"]), command),
        ("SOS sent by reps during the kills", str(figures["sos_sent"]), command),
        ("SOS lost (must be 0)", str(figures["sos_lost"]), command),
        ("missed check-ins alerted / lost (must be 0)",
         f"{figures['missed_alerts']} / {figures['missed_lost']}", command),
        ("most copies of one message (≤ 1 + kills that cut a send short)",
         str(figures["most_copies"]), command),
    ])


if __name__ == "__main__":
    main()
