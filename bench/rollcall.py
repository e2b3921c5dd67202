"""Roll-call benchmark (issue 14): 1,000 people asked "Are you safe?" at Telegram's 30 msg/s.

    python bench/rollcall.py [--people 1000] [--routine 300]

The real bot (PTB Application, its priority rate limiter at 30 messages/s, the outbox, SQLite)
against the in-process fake Telegram, with the wall clock. `people` reps have a trip under way
in Berlin (half of them) or shared their location there an hour ago (the other half); at the
same moment `routine` check-in reminders of other reps are waiting in the outbox, and one rep
raises an SOS while the questions go out. Measured: from the officer's "Ask now" (the
selection, the outbox rows) until Telegram has accepted every question, against the floor of
all messages sent by then at 30/s; and the order: the SOS before any question, every question
before any routine reminder.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import BERLIN, MANAGER, OFFICER, bot, enrol, file_trips, record  # noqa: E402
from fieldbot.domain.rollcall import Scope, ScopeKind  # noqa: E402
from fieldbot.storage import alerts, outbox  # noqa: E402
from fieldbot.storage.codec import ts  # noqa: E402

COMMAND = "python bench/rollcall.py"
TARGET = 1.1


async def run(people: int, routine: int) -> list[str]:
    with tempfile.TemporaryDirectory() as tmp:
        app, fake = bot(Path(tmp))
        services = app.bot_data.services
        await app.initialize()
        await services.start()
        reps = await enrol(app, fake, people + routine + 1)
        asked, others, sos_rep = reps[:people], reps[people:-1], reps[-1]
        today = datetime.now(UTC).date()
        prep = time.perf_counter()
        await file_trips(app, asked[: people // 2], today, today + timedelta(days=3))
        now = services.clock.now()
        async with services.db.transaction() as conn:
            for rep in asked[people // 2:]:
                await alerts.add_location(conn, rep, BERLIN.lat + 0.05, BERLIN.lon - 0.05,
                                          False, now - timedelta(hours=1),
                                          cipher=services.cipher)
            for rep in others:  # routine traffic waiting to go: tonight's reminders
                await outbox.enqueue(
                    conn, dedupe=f"bench:reminder:{rep}", recipient=rep, kind="reminder",
                    priority=outbox.PRIORITY_REMINDER, now=now, cipher=services.cipher,
                    params={"night_id": None, "deadline": ts(now + timedelta(hours=2)),
                            "tz": "Europe/Berlin"})
        setup = time.perf_counter() - prep
        officer = await services.enrolment.member(OFFICER)
        assert officer is not None
        scope = Scope(ScopeKind.PLACE, "Berlin", BERLIN.lat, BERLIN.lon, 50)

        started, began = time.perf_counter(), datetime.now(UTC)
        view = await services.rollcall.start(officer, scope, "Bench: flooding downtown", None)
        decided = time.perf_counter() - started
        drain = asyncio.create_task(_drain_until(services, fake, set(asked)))
        await asyncio.sleep(2.0)  # the questions are going out: now someone needs help
        await services.escalation.raise_sos(sos_rep)
        await services.deliver()
        await drain
        await app.shutdown()
        await services.stop()

    sent = list(fake.sent)
    is_question = [s.chat_id in set(asked) and "are you safe?" in (s.text or "") for s in sent]
    last = max(i for i, q in enumerate(is_question) if q)
    elapsed = (sent[last].at - began).total_seconds()  # the fake's clock is the wall clock
    by_then = last + 1
    floor = by_then / 30
    questions = sum(is_question)
    sos_at = [i for i, s in enumerate(sent) if s.chat_id in (MANAGER, OFFICER)
              and "SOS" in (s.text or "")]
    routine_at = [i for i, s in enumerate(sent) if s.chat_id in set(others)]
    ratio = elapsed / floor
    return [
        f"{questions:,} people asked (R-{view.id}: {people // 2} by trip, {people - people // 2}"
        f" by last location, {view.tally.asked} in scope), {routine} routine reminders waiting,"
        f" an SOS raised 2 s in: every question accepted {elapsed:.1f} s after Ask now "
        f"(selection and {questions:,} outbox rows {decided:.2f} s); {by_then:,} messages sent "
        f"by then, floor at 30 msg/s {floor:.1f} s; ratio {ratio:.2f} (target <= {TARGET})",
        f"order: the SOS's {len(sos_at)} messages at positions {sos_at} (the questions were "
        f"going out; SOS 100 > area questions 45); the first routine reminder at position "
        f"{min(routine_at) if routine_at else '-'} (after all {questions:,} questions: "
        f"{not routine_at or min(routine_at) > last}); set-up {setup:.0f} s; load average "
        f"at the end {', '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} cores",
    ]


async def _drain_until(services: object, fake: object, asked: set[int]) -> None:
    """Deliver (as the sweep would) until every person asked has had the question."""
    from faketelegram.api import FakeTelegram
    from fieldbot.services.container import Services

    assert isinstance(services, Services) and isinstance(fake, FakeTelegram)
    while True:
        got = {s.chat_id for s in fake.sent if s.chat_id in asked}
        if len(got) >= len(asked):
            return
        await services.deliver()
        await asyncio.sleep(0)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=1000)
    parser.add_argument("--routine", type=int, default=300)
    args = parser.parse_args()
    lines = asyncio.run(run(args.people, args.routine))
    for line in lines:
        print(line)
    command = f"{COMMAND} --people {args.people} --routine {args.routine}"
    record("Roll-call: 1,000 people asked", [("roll-call", line, command) for line in lines])


if __name__ == "__main__":
    main()
