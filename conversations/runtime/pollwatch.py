"""Whether this bot's long poll has been answered by Telegram at least once.

Two bots polling one token cut each other's polls short: Telegram answers the older poll 409
Conflict when a newer one arrives, and a bot that stops makes one last short poll (PTB's, to
mark what it fetched as read), which cuts the other's too. So a 409 alone does not say which
bot is the second. The one whose polls Telegram has already answered is the first, and goes on;
the one that has never had an answer exits (`runner.run_polling`).
"""

from __future__ import annotations

from typing import Any

from telegram.request import BaseRequest, RequestData


class PollWatch(BaseRequest):
    """The getUpdates connection, noting the first poll Telegram answers."""

    def __init__(self, inner: BaseRequest) -> None:
        self._inner = inner
        self.answered = False

    @property
    def read_timeout(self) -> float | None:
        return self._inner.read_timeout

    async def initialize(self) -> None:
        await self._inner.initialize()

    async def shutdown(self) -> None:
        await self._inner.shutdown()

    async def do_request(
        self, url: str, method: str, request_data: RequestData | None = None,
        read_timeout: Any = None, write_timeout: Any = None, connect_timeout: Any = None,
        pool_timeout: Any = None,  # PTB's own defaults, passed on as they come
    ) -> tuple[int, bytes]:
        code, payload = await self._inner.do_request(
            url, method, request_data, read_timeout, write_timeout, connect_timeout,
            pool_timeout)
        if code == 200 and url.endswith("/getUpdates"):
            self.answered = True
        return code, payload
