"""Check-in handling against a bare PTB echo bot, both measured in this one run.

    python bench/throughput.py [--reps 2000] [--rounds 3] [--profile FILE]

In-process, no rate limit, the fake Telegram behind an httpx transport (no sockets). The echo
bot is a bare PTB Application whose only handler replies with the message's text; it gets `reps`
updates one after another (each handled to the end before the next), its fastest way (a bare
Application handles one update at a time anyway). fieldbot gets, in two ways:
- one after another, like the echo bot (the way `bench/rush.py --unthrottled` always measured);
- as a backlog: all `reps` updates handed at once to the bot's own update processor (32
  workers, each person's updates in order, an SOS first), as polling hands them over when
  Telegram has a queue for us: what the 20:55 rush is.
What fieldbot is given:
- /checkin: the first /checkin of the night of `reps` reps with a trip that is active now (a
  durable database write, a reply);
- "I'm safe": the same with the reminder's button (a database write, the toast, the edit).
Rounds alternate the bots, so a busy spell on the shared machine hits both; each round gives a
ratio (check-ins/s over the echo bot's updates/s in that round), and the median ratio counts.
For reference (not the goal), a third bare bot does what a check-in must and the echo bot does
not: it commits one row per update to SQLite (aiosqlite, WAL, synchronous=FULL, as fieldbot) and
then replies; its rate and /checkin's ratio to it are printed beside the goal's.
fieldbot's start-up objects are set aside from garbage collection once it has started, as
`fieldbot run` does (conversations/runtime/heap.py), and given back after its round; the bare
bots are as PTB leaves them.
`--profile FILE` writes a cProfile of the /checkin runs.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiosqlite
from pydantic import SecretStr
from telegram import Message, Update
from telegram.ext import Application, ApplicationBuilder, ContextTypes, MessageHandler, filters
from telegram.request import HTTPXRequest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import TOKEN, bot, enrol, record  # noqa: E402
from bench.rush import afternoon_city, file_trips_to  # noqa: E402
from conversations.runtime.heap import Heap  # noqa: E402
from faketelegram.api import FakeTelegram  # noqa: E402
from faketelegram.transport import FakeTransport  # noqa: E402
from fieldbot.config import Settings  # noqa: E402

SAFE_BUTTON = json.dumps({"inline_keyboard": [[{"text": "✅ I'm safe",
                                                  "callback_data": "checkin:safe"}]]})


async def timed(app: Any, fake: FakeTelegram, ids: list[int],
                act: Callable[[int], Awaitable[object]], backlog: bool = False) -> float:
    """Updates per second: `act` for each id, and the bot handling the update it sends.

    One after another: each update is handled to the end before the next is sent. A backlog:
    every update is decoded as it arrives, then all are handed to the update processor at
    once (what `Application` does with a batch from getUpdates) and handled concurrently."""
    arrived: list[Update] = []

    async def dispatch(data: dict[str, object]) -> None:
        update = Update.de_json(data, app.bot)
        if backlog:
            arrived.append(update)
        else:
            await app.process_update(update)

    fake.dispatch = dispatch
    began = time.perf_counter()
    for uid in ids:
        await act(uid)
    if backlog:
        processor = app.update_processor
        await asyncio.gather(*(processor.process_update(u, app.process_update(u))
                               for u in arrived))
    followups = getattr(app.bot_data, "followups", None)
    if followups is not None:
        await followups.settle()  # the receipt's edit is part of the work
    return len(ids) / (time.perf_counter() - began)


async def echo_round(tmp: Path, reps: int,
                     first: Callable[[Message], Awaitable[None]] | None = None) -> float:
    """The bare PTB bot replying each message's text; `first` runs before the reply."""
    fake = FakeTelegram(token=TOKEN)
    config = Settings(_env_file=None, token=SecretStr(TOKEN),  # type: ignore[call-arg]
                      bot_api_url="http://fake.telegram", db=tmp / "unused.db")
    request = HTTPXRequest(connection_pool_size=64,
                           httpx_kwargs={"transport": FakeTransport(fake)})
    app: Application[Any, Any, Any, Any, Any, Any] = (
        ApplicationBuilder().token(TOKEN).base_url(config.bot_base_url)
        .base_file_url(config.bot_file_url).request(request).build())

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        assert message and message.text
        if first is not None:
            await first(message)
        await message.reply_text(message.text)

    app.add_handler(MessageHandler(filters.TEXT, echo))
    await app.initialize()
    ids = [1000 + i for i in range(reps)]
    users = {uid: fake.user(uid, f"Rep {uid}") for uid in ids}
    try:
        return await timed(app, fake, ids, lambda uid: users[uid].send("hello"))
    finally:
        await app.shutdown()


async def durable_echo_round(path: Path, reps: int) -> float:
    """The echo bot, but each update first commits a row to `path` (a transaction, a sync)."""
    db = await aiosqlite.connect(path, isolation_level=None)
    for pragma in ("journal_mode=WAL", "synchronous=FULL"):
        await db.execute(f"PRAGMA {pragma}")
    await db.execute("CREATE TABLE seen (user_id INTEGER, at REAL, text TEXT)")

    async def commit(message: Message) -> None:
        assert message.from_user
        await db.execute("BEGIN IMMEDIATE")
        await db.execute("INSERT INTO seen VALUES (?, ?, ?)",
                         (message.from_user.id, time.time(), message.text))
        await db.execute("COMMIT")

    try:
        return await echo_round(path.parent, reps, commit)
    finally:
        await db.close()


async def fieldbot_round(tmp: Path, reps: int, button: bool, profile: cProfile.Profile | None,
                         backlog: bool = False) -> tuple[float, int]:
    app, fake = bot(tmp, rate_limit=False)
    services = app.bot_data.services
    await app.initialize()
    await services.start()
    heap = Heap()
    heap.settle()  # what `fieldbot run` does 2 s after its start (conversations/runtime/heap)
    try:
        ids = await enrol(app, fake, reps)
        city = afternoon_city()
        await file_trips_to(app, ids, city, datetime.now(ZoneInfo(city.tz_name)).date())
        users = {uid: fake.user(uid, f"Rep {uid}") for uid in ids}
        if button:  # the reminder each rep presses "I'm safe" on
            for uid in ids:
                await fake.call(TOKEN, "sendMessage", {"chat_id": uid, "text": "reminder",
                                                       "reply_markup": SAFE_BUTTON})

        async def act(uid: int) -> object:
            user = users[uid]
            return await (user.press_data("checkin:safe") if button else user.send("/checkin"))

        if profile is not None:
            profile.enable()
        try:
            rate = await timed(app, fake, ids, act, backlog)
        finally:
            if profile is not None:
                profile.disable()
        async with services.db.read() as conn, conn.execute(
                "SELECT COUNT(*) FROM nights WHERE checked_in_at IS NOT NULL") as cur:
            row = await cur.fetchone()
        return rate, row[0] if row else 0
    finally:
        heap.release()
        await app.shutdown()
        await services.stop()


def label(button: bool, backlog: bool) -> str:
    what = "I'm safe" if button else "/checkin"
    return f"{what}, {'backlog' if backlog else 'one by one'}"


async def main(reps: int, rounds: int, profile_to: Path | None) -> None:
    profile = cProfile.Profile() if profile_to else None
    echo: list[float] = []
    durable: list[float] = []  # the reference: an echo bot committing a row per update
    runs: dict[tuple[bool, bool], list[float]] = {}  # (button, backlog) -> check-ins/s
    checked = []
    for n in range(rounds):
        with tempfile.TemporaryDirectory() as tmpdir:
            tmp = Path(tmpdir)
            echo.append(await echo_round(tmp / "echo", reps))
            durable.append(await durable_echo_round(tmp / "durable.db", reps))
            for button in (False, True):
                for backlog in (False, True):
                    name = f"{'button' if button else 'typed'}-{'backlog' if backlog else 'one'}"
                    rate, done = await fieldbot_round(tmp / name, reps, button,
                                                      None if button else profile, backlog)
                    runs.setdefault((button, backlog), []).append(rate)
                    checked.append(done)
        print(f"round {n + 1}: echo {echo[-1]:.0f}/s, durable echo {durable[-1]:.0f}/s, "
              + ", ".join(f"{label(*kind)} {rates[-1]:.0f}/s" for kind, rates in runs.items()),
              flush=True)
    if profile is not None and profile_to is not None:
        profile.dump_stats(profile_to)
    cmd = f"python bench/throughput.py --reps {reps} --rounds {rounds}"
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())

    def row(button: bool, backlog: bool) -> tuple[str, str, str]:
        rates = runs[(button, backlog)]
        ratio = statistics.median(r / e for r, e in zip(rates, echo, strict=True))
        what = ("presses of the reminder's I'm safe (toast + edit)" if button
                else "first /checkin of the night")
        how = ("as a backlog through the bot's update processor (32 workers)" if backlog
               else "one after another")
        return (label(button, backlog),
                f"{reps:,} {what}, {how}: {', '.join(f'{r:.0f}' for r in rates)} "
                f"check-ins/s; ratio to the echo bot of the same round, median of {rounds}: "
                f"{ratio:.2f} (goal >= 0.5)", cmd)

    def against_durable(backlog: bool) -> str:
        rates = runs[(False, backlog)]
        ratio = statistics.median(r / d for r, d in zip(rates, durable, strict=True))
        return f"/checkin {'as a backlog' if backlog else 'one by one'} {ratio:.2f}"

    # One by one, no bot that commits each update before answering beats the durable echo bot,
    # which does nothing else: its own ratio to the echo bot is the disk's ceiling for the goal.
    ceiling = statistics.median(d / e for d, e in zip(durable, echo, strict=True))
    rows = [
        ("echo bot", f"bare PTB Application, one MessageHandler replying the text, {reps:,} "
         f"messages one after another: {', '.join(f'{r:.0f}' for r in echo)} updates/s "
         f"({rounds} rounds)", cmd),
        *(row(button, backlog) for button in (False, True) for backlog in (False, True)),
        ("reference: a durable echo bot", f"the echo bot committing one row per update first "
         f"(aiosqlite, WAL, synchronous=FULL, as fieldbot), {reps:,} messages one after another: "
         f"{', '.join(f'{r:.0f}' for r in durable)} updates/s; ratio to it, median of {rounds}: "
         f"{against_durable(False)}, {against_durable(True)} (not the goal: like with like); "
         f"the durable echo bot's own ratio to the echo bot, median of {rounds}: {ceiling:.2f}, "
         "the most that any bot committing each update before it answers reaches one by one "
         "on this disk", cmd),
        ("checked", f"nights checked in per run: {', '.join(str(c) for c in checked)} "
         f"(each run {reps:,}); load average at the end {load} on {os.cpu_count()} cores "
         f"(the machine is shared)", cmd),
    ]
    for _, line, _ in rows:
        print(line, flush=True)
    record("Load: check-in throughput against a bare PTB bot", rows)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--profile", type=Path, default=None)
    args = parser.parse_args()
    asyncio.run(main(args.reps, args.rounds, args.profile))
