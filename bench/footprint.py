"""Memory and start-up of the real `fieldbot run` process with 10,000 active trips.

    python bench/footprint.py [--reps 10000] [--runs 3]

The bot runs against the fake Telegram on loopback (faketelegram/server.py), the database
already holding `reps` active trips. Measured, per start:
- process start → its first getUpdates call (the bot is ready to hear people);
- VmRSS and VmHWM (peak) of the bot process at that moment and after 5 s of running (the
  start-up sweep has run by then).
The first start finds no place index in the data folder and builds it (in a child process,
so the bot's own heap never holds GeoNames, and in the background: the bot polls meanwhile);
the later starts open the file as it is.
After each later start, a bare PTB echo bot starts against the same fake Telegram: the floor
for any bot on python-telegram-bot, on the machine as it is at that moment.
Then, to say where the rest goes: the same interpreter importing what `fieldbot run`
imports, with nothing else (memory and time).
Goals (issue 17): RSS <= 110 MB and start-up <= 1.0 s with 10,000 active trips.
"""

from __future__ import annotations

import argparse
import asyncio
import compileall
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import MANAGER, OFFICER, TOKEN, record  # noqa: E402
from bench.rush import FIRST_REP, launch, prepare  # noqa: E402
from faketelegram.api import FakeTelegram  # noqa: E402
from faketelegram.server import serve  # noqa: E402
from fieldbot.geo.gazetteer import INDEX_FILE  # noqa: E402

SETTLE_S = 5.0
# What `fieldbot run` imports before it can poll (conversations.cli imports it lazily).
_IMPORTS = """
import json, time, resource
def rss():
    for line in open('/proc/self/status'):
        if line.startswith('VmRSS:'):
            return int(line.split()[1]) / 1024
t = time.perf_counter(); base = rss()
import telegram.ext
ptb, ptb_s = rss(), time.perf_counter() - t
import conversations.runtime.bootstrap, conversations.runtime.runner
print(json.dumps({"base": base, "ptb": ptb, "ptb_s": ptb_s, "all": rss(),
                  "all_s": time.perf_counter() - t}))
"""

# The floor for any bot on PTB: a bare echo bot, polling the same fake Telegram.
_BARE_BOT = """
import os
from telegram.ext import ApplicationBuilder, MessageHandler, filters
async def echo(update, context):
    await update.message.reply_text(update.message.text)
app = ApplicationBuilder().token(os.environ["TOKEN"]).base_url(os.environ["BASE"]).build()
app.add_handler(MessageHandler(filters.TEXT, echo))
app.run_polling()
"""


def memory_mb(pid: int) -> tuple[float, float]:
    """Return (VmRSS, VmHWM) of a process in MB."""
    found: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            found[key] = int(value.split()[0]) / 1024
    return found["VmRSS"], found["VmHWM"]


async def one_start(settings_tmp: Path, settings: object, reps: int) -> dict[str, float]:
    fake = FakeTelegram(token=TOKEN)
    for uid in (1, MANAGER, OFFICER, *range(FIRST_REP, FIRST_REP + reps)):
        fake.user(uid, "Bench").started = True
    async with serve(fake) as base_url:
        launched = datetime.now(UTC)
        bot = await launch(settings, base_url, settings_tmp / "bot.log")  # type: ignore[arg-type]
        try:
            await fake.wait_for(lambda: bool(fake.calls_to("getUpdates")), 300)
            ready_rss, ready_hwm = memory_mb(bot.pid)
            startup = (fake.calls_to("getUpdates")[0].at - launched).total_seconds()
            await asyncio.sleep(SETTLE_S)
            rss, hwm = memory_mb(bot.pid)
        finally:
            bot.terminate()
            await bot.wait()
    return {"startup": startup, "ready_rss": ready_rss, "ready_hwm": ready_hwm,
            "rss": rss, "hwm": hwm}


async def bare_start() -> float:
    """Process start → first getUpdates of the bare PTB echo bot, in seconds."""
    fake = FakeTelegram(token=TOKEN)
    async with serve(fake) as base_url:
        launched = datetime.now(UTC)
        bot = await asyncio.create_subprocess_exec(
            sys.executable, "-c", _BARE_BOT, env={**os.environ, "TOKEN": TOKEN,
                                                  "BASE": f"{base_url}/bot"},
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
        try:
            await fake.wait_for(lambda: bool(fake.calls_to("getUpdates")), 60)
            return (fake.calls_to("getUpdates")[0].at - launched).total_seconds()
        finally:
            bot.terminate()
            await bot.wait()


def imports_only() -> dict[str, float]:
    done = subprocess.run([sys.executable, "-c", _IMPORTS], capture_output=True, text=True,
                          check=True, cwd=ROOT)
    found: dict[str, float] = json.loads(done.stdout)
    return found


def compile_bytecode() -> None:
    """Compile the project's modules, as `pip install` does for the packages it installs.

    An editable install writes them at its first start, unless PYTHONDONTWRITEBYTECODE is set
    (as on this machine and in many containers): then every start compiles some 170 modules
    from source, which is the interpreter's work, not the bot's.
    """
    for package in ("fieldbot", "conversations"):
        compileall.compile_dir(ROOT / package, quiet=1)


async def main(reps: int, runs: int) -> None:
    cmd = f"python bench/footprint.py --reps {reps} --runs {runs}"
    rows: list[tuple[str, str, str]] = []
    compile_bytecode()
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        t0 = time.perf_counter()
        settings = await prepare(tmp, reps)
        print(f"prepared {reps:,} active trips in {time.perf_counter() - t0:.0f} s", flush=True)
        assert not (settings.data_dir / INDEX_FILE).exists()
        starts, bare = [await one_start(tmp, settings, reps)], []
        for _ in range(runs):  # each start beside the bare bot's, so a slow spell hits both
            starts.append(await one_start(tmp, settings, reps))
            bare.append(await bare_start())
        index_mb = (settings.data_dir / INDEX_FILE).stat().st_size / 1e6
    first, later = starts[0], starts[1:]
    rows.append(("first start", f"{reps:,} active trips, no place index yet (built in the "
                 f"background by a child process, {index_mb:.0f} MB file): first getUpdates "
                 f"{first['startup']:.2f} s; VmRSS {first['rss']:.0f} MB, VmHWM "
                 f"{first['hwm']:.0f} MB", cmd))
    startups = ", ".join(f"{s['startup']:.2f}" for s in later)
    rows.append(("start-up", f"{reps:,} active trips, place index in the data folder: process "
                 f"start → first getUpdates {startups} s ({len(later)} starts; goal <= 1.0 s; "
                 "before: 2.0-2.2 s)", cmd))
    rows.append(("reference: a bare PTB bot", "an echo bot of a dozen lines (PTB's "
                 "ApplicationBuilder, run_polling), started after each of the starts above: "
                 f"first getUpdates {', '.join(f'{b:.2f}' for b in bare)} s, the floor for any "
                 "bot on python-telegram-bot on this machine at that moment", cmd))
    rsss = ", ".join(f"{s['rss']:.0f}" for s in later)
    hwms = ", ".join(f"{s['hwm']:.0f}" for s in later)
    rows.append(("memory", f"{reps:,} active trips, {SETTLE_S:g} s after start: VmRSS {rsss} MB, "
                 f"VmHWM {hwms} MB (goal RSS <= 110 MB; before: 218-224 MB)", cmd))
    base = imports_only()
    rows.append(("where it goes", f"the interpreter alone {base['base']:.0f} MB; importing "
                 f"python-telegram-bot {base['ptb'] - base['base']:.0f} MB in "
                 f"{base['ptb_s']:.2f} s; everything `fieldbot run` imports "
                 f"{base['all']:.0f} MB in {base['all_s']:.2f} s (no data yet); load average "
                 f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores", cmd))
    for _, line, _ in rows:
        print(line, flush=True)
    record("Footprint: memory and start-up", rows)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(main(args.reps, args.runs))
