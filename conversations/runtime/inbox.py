"""PTB's update queue, made durable: an update is kept in the inbox before Telegram forgets it."""

from __future__ import annotations

import asyncio
import logging
from collections import deque

from telegram import Bot, Update

from fieldbot.services.inbox import UpdateInbox

log = logging.getLogger(__name__)


class DurableUpdateQueue(asyncio.Queue[object]):
    """The queue between the updater (or the webhook) and the application.

    PTB's updater awaits `put` for each update before its next getUpdates confirms them, and
    the webhook handler before answering 200: so an update is durable before Telegram drops it.
    """

    REMEMBER = 10_000  # ids queued by this process, so that a replay never queues one twice

    def __init__(self) -> None:
        super().__init__()
        self.inbox: UpdateInbox | None = None  # set once the services exist
        self._queued: set[int] = set()
        self._order: deque[int] = deque()

    def _note(self, update_id: int) -> None:
        self._queued.add(update_id)
        self._order.append(update_id)
        if len(self._order) > self.REMEMBER:
            self._queued.discard(self._order.popleft())

    async def put(self, item: object) -> None:
        if isinstance(item, Update):
            if (self.inbox is not None
                    and not await self.inbox.arrived(item.update_id, item.to_dict())):
                return  # Telegram delivered it again: it is queued or handled already
            self._note(item.update_id)
        await super().put(item)

    async def replay(self, bot: Bot) -> int:
        """Queue the updates kept but not finished (by a killed process, or by a standby that
        took them from the webhook) and not queued here yet; return how many."""
        assert self.inbox is not None
        found = [data for data in await self.inbox.unfinished()
                 if int(data.get("update_id", -1)) not in self._queued]
        for data in found:
            update = Update.de_json(data, bot)
            self._note(update.update_id)
            await super().put(update)  # kept already: straight to the queue
        return len(found)
