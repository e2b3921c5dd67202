"""PTB's update queue, made durable: an update is kept in the inbox before Telegram forgets it."""

from __future__ import annotations

import asyncio
import logging

from telegram import Bot, Update

from fieldbot.services.inbox import UpdateInbox

log = logging.getLogger(__name__)


class DurableUpdateQueue(asyncio.Queue[object]):
    """The queue between the updater (or the webhook) and the application.

    PTB's updater awaits `put` for each update before its next getUpdates confirms them, and
    the webhook handler before answering 200: so an update is durable before Telegram drops it.
    """

    def __init__(self) -> None:
        super().__init__()
        self.inbox: UpdateInbox | None = None  # set once the services exist

    async def put(self, item: object) -> None:
        if (isinstance(item, Update) and self.inbox is not None
                and not await self.inbox.arrived(item.update_id, item.to_dict())):
            return  # Telegram delivered it again: it is queued or handled already
        await super().put(item)

    async def replay(self, bot: Bot) -> int:
        """Queue the updates a killed process kept but never finished; return how many."""
        assert self.inbox is not None
        found = await self.inbox.unfinished()
        for data in found:
            update = Update.de_json(data, bot)
            await super().put(update)  # kept already: straight to the queue
        return len(found)
