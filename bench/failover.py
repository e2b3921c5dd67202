"""Failover: two real `fieldbot run` on one PostgreSQL, the leader SIGKILLed again and again.

While the instances run, made-up reps send /sos through the loopback fake Telegram and missed
check-ins fall due (a policy in seconds). Each round kills the current leader with SIGKILL at a
random moment and starts a new instance, so two are always running. Measured per kill: the time
until the standby holds the lock ("leader"), and until it polls Telegram again ("serving").
At the end: SOS and missed-check-in alerts lost (must be 0) and the most copies of one message.

    python -m bench.failover [--kills 20] [--reps 200] [--seed N]
        [--postgres postgresql://postgres@127.0.0.1:5432/postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import tempfile
import time
from pathlib import Path

from bench.common import pct, record
from faketelegram.api import FakeTelegram
from faketelegram.server import serve
from tests.failover_rig import (
    ADMIN,
    MANAGER,
    OFFICER,
    TOKEN,
    Instance,
    Rig,
    complete,
    copies,
    reached,
    sos_senders,
    until,
)
from tests.pg import PgServer


async def leader_of(instances: list[Instance]) -> Instance:
    await until(lambda: any(i.role == "leader" for i in instances), 60, "led")
    return next(i for i in instances if i.role == "leader")


async def run(kills: int, reps: int, seed: int, server: PgServer) -> dict[str, object]:
    rng = random.Random(seed)
    tmp = Path(tempfile.mkdtemp(prefix="fieldbot-failover-"))
    rig = Rig(tmp, server.fresh(), "")
    rep_ids = [9000 + i for i in range(reps)]
    travelling = rep_ids[: reps // 4]
    await rig.prepare(rep_ids, travelling, deadline_in=30)
    fake = FakeTelegram(token=TOKEN)
    people = {uid: fake.user(uid, "Failover") for uid in (ADMIN, MANAGER, OFFICER, *rep_ids)}
    for user in people.values():
        user.started = True
    waiting = [uid for uid in rep_ids if uid not in travelling]
    rng.shuffle(waiting)
    sent_sos: list[int] = []
    locked: list[float] = []
    serving: list[float] = []
    async with serve(fake) as base_url:
        rig.base_url = base_url
        instances = [await rig.launch()]
        await leader_of(instances)
        instances.append(await rig.launch())
        for _ in range(kills):
            leader = await leader_of(instances)
            standby = next(i for i in instances if i is not leader)
            await until(lambda s=standby: s.role == "standby", 60, "standby")
            alive = rng.uniform(1.0, 5.0)
            started = time.monotonic()
            while time.monotonic() - started < alive:
                for _ in range(min(len(waiting), rng.choice((0, 1, 2)))):
                    uid = waiting.pop()
                    await people[uid].send("/sos")
                    sent_sos.append(uid)
                await asyncio.sleep(rng.uniform(0.05, 0.3))
            polls = len(fake.calls_to("getUpdates"))
            killed = time.monotonic()
            await leader.kill()
            locked.append(await until(lambda s=standby: s.role == "leader", 60, "leader"))
            await fake.wait_for(lambda p=polls: len(fake.calls_to("getUpdates")) > p, 60)
            serving.append(time.monotonic() - killed)
            instances = [standby, await rig.launch()]
        try:
            await fake.wait_for(lambda: set(sent_sos) <= sos_senders(fake)
                                and complete(reached(fake, "Alert")) >= len(travelling)
                                and complete(reached(fake, "SOS")) >= len(sent_sos), 300)
        except AssertionError:
            pass  # counted as lost below
        finally:
            for instance in instances:
                await instance.stop()
    sos = reached(fake, "SOS")
    missed = reached(fake, "Alert")
    figures: dict[str, object] = {
        "kills": kills, "sos_sent": len(sent_sos),
        "sos_lost": len(set(sent_sos) - sos_senders(fake)) + len(sos) - complete(sos),
        "missed_alerts": len(missed), "missed_lost": len(travelling) - complete(missed),
        "most_copies": max(copies(fake).values(), default=0),
        "locked": locked, "serving": serving,
    }
    if figures["sos_lost"] or figures["missed_lost"]:
        print(f"something was lost: bots.log is kept in {tmp}")
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    return figures


def seconds(values: list[float]) -> str:
    return (f"p50 {pct(values, 50):.1f} s, p99 {pct(values, 99):.1f} s,"
            f" max {max(values):.1f} s (n={len(values)})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--reps", type=int, default=200)
    parser.add_argument("--seed", type=int, default=random.randrange(2**32))
    parser.add_argument("--postgres", default=None, help="server URL (FIELDBOT_TEST_POSTGRES)")
    args = parser.parse_args()
    if args.postgres:
        os.environ["FIELDBOT_TEST_POSTGRES"] = args.postgres
    print(f"seed {args.seed}", flush=True)
    server = PgServer()
    try:
        figures = asyncio.run(run(args.kills, args.reps, args.seed, server))
    finally:
        server.drop()
    print({k: v for k, v in figures.items() if k not in ("locked", "serving")})
    command = (f"python -m bench.failover --kills {args.kills} --reps {args.reps}"
               f" --seed {args.seed}")
    locked, serving = figures["locked"], figures["serving"]
    assert isinstance(locked, list)
    assert isinstance(serving, list)
    record("Failover: two instances on PostgreSQL, the leader SIGKILLed", [
        ("leader kills (SIGKILL), two instances always running", str(figures["kills"]), command),
        ("kill → the standby holds the lock", seconds(locked), command),
        ("kill → the new leader polls Telegram again (goal ≤ 15 s)", seconds(serving), command),
        ("SOS sent by reps during the kills / lost (must be 0)",
         f"{figures['sos_sent']} / {figures['sos_lost']}", command),
        ("missed check-ins alerted / lost (must be 0)",
         f"{figures['missed_alerts']} / {figures['missed_lost']}", command),
        ("most copies of one message (≤ 1 + kills that cut a send short)",
         str(figures["most_copies"]), command),
    ])


if __name__ == "__main__":
    main()
