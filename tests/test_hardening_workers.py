"""One person's backlog holds at most one worker; order per person and SOS-first still hold.

Rita the rep floods the bot (200 updates queued); Sam, another rep, checks in meanwhile.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

from telegram import Update

from conversations.runtime.updates import PriorityUpdateProcessor
from tests.builders import until

RITA, SAM, ANA, OLU = 11, 12, 13, 14


def message(update_id: int, user_id: int, text: str) -> Update:
    return Update.de_json({"update_id": update_id, "message": {
        "message_id": update_id, "date": 0, "text": text,
        "chat": {"id": user_id, "type": "private"},
        "from": {"id": user_id, "is_bot": False, "first_name": f"U{user_id}"},
        "entities": [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
        if text.startswith("/") else []}}, None)


class Desk:
    """Handlers that record what was handled, how many ran at once, and can be held."""

    def __init__(self) -> None:
        self.handled: list[str] = []
        self.running: dict[str, int] = {}
        self.most_at_once: dict[str, int] = {}
        self.hold = asyncio.Event()

    async def handle(self, who: str, name: str, held: bool = False) -> None:
        self.running[who] = self.running.get(who, 0) + 1
        self.most_at_once[who] = max(self.most_at_once.get(who, 0), self.running[who])
        if held:
            await self.hold.wait()
        self.handled.append(name)
        self.running[who] -= 1


async def let_queued_updates_arrive(processor: PriorityUpdateProcessor, count: int,
                                    busy: int = 1) -> None:
    """Wait (no time passes) until `count` updates reached the gate and only `busy` hold a
    worker: every update that could finish has finished."""
    await until(lambda: processor.arrived == count and processor.busy == busy,
                f"{count} updates at the gate, {busy} running")


def submit(processor: PriorityUpdateProcessor, update: Update,
           work: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
    return asyncio.create_task(processor.process_update(update, work))


async def test_another_reps_check_in_is_not_held_up_by_one_persons_backlog() -> None:
    processor = PriorityUpdateProcessor(workers=32)
    desk = Desk()
    tasks = [submit(processor, message(n, RITA, f"/checkin {n}"),
                    desk.handle("rita", f"rita-{n}", held=n == 1)) for n in range(1, 201)]
    tasks.append(submit(processor, message(201, SAM, "/checkin"), desk.handle("sam", "sam")))
    try:
        await let_queued_updates_arrive(processor, len(tasks))
        # Rita's first update is still being handled, her 199 others wait: Sam is done already.
        assert desk.handled == ["sam"]
        assert desk.most_at_once["rita"] == 1
    finally:
        desk.hold.set()
        await asyncio.gather(*tasks)
    assert desk.handled[1:] == [f"rita-{n}" for n in range(1, 201)]  # Rita's stay in order
    assert desk.most_at_once["rita"] == 1


async def test_with_a_single_worker_the_other_rep_is_next_after_the_running_update() -> None:
    processor = PriorityUpdateProcessor(workers=1)
    desk = Desk()
    tasks = [submit(processor, message(n, RITA, f"/checkin {n}"),
                    desk.handle("rita", f"rita-{n}", held=n == 1)) for n in range(1, 201)]
    tasks.append(submit(processor, message(201, SAM, "/checkin"), desk.handle("sam", "sam")))
    await let_queued_updates_arrive(processor, len(tasks))
    desk.hold.set()
    await asyncio.gather(*tasks)
    assert desk.handled.index("sam") == 1  # right after the update that held the only worker
    assert [n for n in desk.handled if n != "sam"] == [f"rita-{n}" for n in range(1, 201)]


async def test_an_sos_behind_the_persons_own_backlog_gets_the_next_free_worker() -> None:
    processor = PriorityUpdateProcessor(workers=1)
    desk = Desk()
    tasks = [submit(processor, message(1, SAM, "/checkin"), desk.handle("sam", "sam", held=True))]
    tasks += [submit(processor, message(n, RITA, f"/checkin {n}"),
                     desk.handle("rita", f"rita-{n}")) for n in range(2, 52)]
    tasks.append(submit(processor, message(52, ANA, "/checkin"), desk.handle("ana", "ana")))
    tasks.append(submit(processor, message(53, RITA, "/sos"), desk.handle("rita", "rita-sos")))
    await let_queued_updates_arrive(processor, len(tasks))
    desk.hold.set()
    await asyncio.gather(*tasks)
    assert desk.handled[:2] == ["sam", "rita-sos"]
    assert [n for n in desk.handled if n.startswith("rita-") and n != "rita-sos"] == [
        f"rita-{n}" for n in range(2, 52)]
    assert desk.handled.index("ana") <= 3  # Rita's backlog does not push Ana back either


async def test_an_sos_of_someone_else_overtakes_a_backlog_waiting_for_the_worker() -> None:
    processor = PriorityUpdateProcessor(workers=1)
    desk = Desk()
    tasks = [submit(processor, message(n, RITA, f"/checkin {n}"),
                    desk.handle("rita", f"rita-{n}", held=n == 1)) for n in range(1, 101)]
    tasks.append(submit(processor, message(101, SAM, "/checkin"), desk.handle("sam", "sam")))
    tasks.append(submit(processor, message(102, OLU, "/sos"), desk.handle("olu", "olu-sos")))
    await let_queued_updates_arrive(processor, len(tasks))
    desk.hold.set()
    await asyncio.gather(*tasks)
    assert desk.handled[:3] == ["rita-1", "olu-sos", "sam"]


async def test_a_cancelled_waiting_update_gives_its_turn_on() -> None:
    processor = PriorityUpdateProcessor(workers=1)
    desk = Desk()
    first = submit(processor, message(1, SAM, "/checkin"), desk.handle("sam", "sam", held=True))
    gone = submit(processor, message(2, RITA, "/sos"), desk.handle("rita", "rita-sos"))
    later = submit(processor, message(3, ANA, "/checkin"), desk.handle("ana", "ana"))
    await let_queued_updates_arrive(processor, 3)
    gone.cancel()
    await until(gone.done, "the waiting SOS is cancelled")
    desk.hold.set()
    await asyncio.gather(first, later)
    assert desk.handled == ["sam", "ana"]
    assert gone.cancelled()
