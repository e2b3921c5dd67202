"""Update handling order: each person in order, and an SOS ahead of the queue."""

from __future__ import annotations

import asyncio
from typing import Any

from telegram import Update

from conversations.runtime.updates import URGENT, PriorityUpdateProcessor, urgency
from tests.builders import until


def message(update_id: int, user_id: int, text: str) -> Update:
    return Update.de_json({"update_id": update_id, "message": {
        "message_id": update_id, "date": 0, "text": text,
        "chat": {"id": user_id, "type": "private"},
        "from": {"id": user_id, "is_bot": False, "first_name": f"U{user_id}"},
        "entities": [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
        if text.startswith("/") else []}}, None)


async def test_an_sos_overtakes_queued_check_ins_and_each_person_stays_in_order() -> None:
    processor = PriorityUpdateProcessor(workers=1)
    handled: list[str] = []
    gate = asyncio.Event()

    async def handle(name: str, wait: bool = False) -> None:
        if wait:
            await gate.wait()  # the first check-in holds the only worker
        handled.append(name)

    updates: list[tuple[Update, str]] = [
        (message(1, 11, "/checkin"), "rita-1"),
        (message(2, 12, "/checkin"), "sam-1"),
        (message(3, 11, "/checkin again"), "rita-2"),
        (message(4, 13, "/checkin"), "ana-1"),
        (message(5, 14, "/sos"), "olu-sos"),
    ]
    tasks: list[asyncio.Task[Any]] = []
    for i, (update, name) in enumerate(updates):
        tasks.append(asyncio.create_task(
            processor.process_update(update, handle(name, wait=i == 0))))
        await until(lambda n=i + 1: processor.arrived == n, "the update reaches the gate")
    gate.set()
    await asyncio.gather(*tasks)
    assert handled[0] == "rita-1"
    assert handled[1] == "olu-sos"
    assert handled.index("rita-1") < handled.index("rita-2")
    assert sorted(handled) == sorted(name for _, name in updates)


def test_what_counts_as_urgent() -> None:
    assert urgency(message(1, 1, "/sos")) == URGENT
    assert urgency(message(1, 1, "/sos@fieldbot_bot")) == URGENT
    assert urgency(message(1, 1, "/SOS@Acme_Safety_Bot")) == URGENT  # as a card may print it
    assert urgency(message(1, 1, "/sosx")) == 0
    assert urgency(message(1, 1, "/checkin")) == 0


async def test_an_sos_does_not_wait_for_the_same_persons_queued_check_in() -> None:
    processor = PriorityUpdateProcessor(workers=1)
    handled: list[str] = []
    gate = asyncio.Event()

    async def handle(name: str, wait: bool = False) -> None:
        if wait:
            await gate.wait()
        handled.append(name)

    busy = asyncio.create_task(processor.process_update(message(1, 12, "/checkin"),
                                                        handle("sam-1", wait=True)))
    await until(lambda: processor.busy == 1, "sam's check-in holds the worker")
    queued = asyncio.create_task(processor.process_update(message(2, 11, "/checkin"),
                                                          handle("rita-checkin")))
    await until(lambda: processor.arrived == 2, "rita's check-in waits")
    sos = asyncio.create_task(processor.process_update(message(3, 11, "/sos"),
                                                       handle("rita-sos")))
    await until(lambda: processor.arrived == 3, "rita's SOS waits")
    gate.set()
    await asyncio.gather(busy, queued, sos)
    assert handled == ["sam-1", "rita-sos", "rita-checkin"]
