"""Work a handler hands off, so that its worker can take the next update at once.

The receipt of an "I'm safe" button is a toast (answerCallbackQuery, outside Telegram's
~30 messages/s) and then the reminder edited into the receipt. That edit waits for Telegram's
budget at low priority: in the evening rush for many seconds. Awaited in the handler, it would
hold a worker all that time, and with every worker waiting for an edit the next person's toast
would wait too. A follow-up waits on its own instead; a test can wait for all of them, and
shutdown drops those still waiting (each was a courtesy after an answer already given).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

log = logging.getLogger(__name__)


class Followups:
    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()

    def start(self, work: Coroutine[Any, Any, None], *, name: str) -> None:
        """Run `work` beside the handler; a failure is logged (by `name`, never user data)."""
        task = asyncio.get_running_loop().create_task(self._run(work, name), name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @staticmethod
    async def _run(work: Coroutine[Any, Any, None], name: str) -> None:
        try:
            await work
        except Exception:  # noqa: BLE001 - nobody awaits a follow-up: say it here
            log.warning("follow-up %s failed", name, exc_info=True)

    async def settle(self) -> None:
        """Wait until every follow-up started so far (and any they start) is done."""
        while self._tasks:
            await asyncio.gather(*self._tasks)

    async def cancel(self) -> None:
        """Stop every follow-up still waiting (at shutdown: never hold the stop for them)."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
