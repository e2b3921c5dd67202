"""The safety desk page (/dashboard): a Telegram Mini App that also opens in a browser.

`desk_app(services, bot)` is a self-contained ASGI app; the bot's HTTP server mounts it at
`/desk`: `desk_routes(app)` is that mount, for the server's `extra` routes. `DeskServer` serves
it alone on a loopback port (tests, trying it out) under the same path.
"""

from __future__ import annotations

import asyncio
import socket
from types import TracebackType

import uvicorn
from starlette.applications import Starlette
from starlette.routing import BaseRoute, Mount
from telegram import Bot
from telegram.ext import Application

from conversations.web.desk.app import desk_app
from fieldbot.services.container import Services

__all__ = ["DeskServer", "desk_app", "desk_routes"]

MOUNT = "/desk"


def desk_routes(app: Application) -> list[BaseRoute]:
    """Return the desk mounted at /desk, for the bot's HTTP server (its `extra` routes)."""
    return [Mount(MOUNT, app=desk_app(app.bot_data.services, app.bot))]


class DeskServer:
    """Serve the desk at http://127.0.0.1:<port>/desk/ in this event loop, until closed."""

    def __init__(self, services: Services, bot: Bot | None = None, port: int = 0) -> None:
        self._app = Starlette(routes=[Mount(MOUNT, app=desk_app(services, bot))])
        self._port = port
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None
        self.url = ""

    async def __aenter__(self) -> DeskServer:
        # The socket is bound and listening before uvicorn runs: a browser may connect at once
        # (the connection waits in the backlog), so nobody has to wait for "started".
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self._port))
        sock.listen(64)
        port = sock.getsockname()[1]
        config = uvicorn.Config(self._app, lifespan="off", log_level="warning",
                                access_log=False)
        self._server = uvicorn.Server(config)
        self._task = asyncio.get_running_loop().create_task(self._server.serve([sock]))
        self.url = f"http://127.0.0.1:{port}{MOUNT}/"
        return self

    async def __aexit__(self, kind: type[BaseException] | None, error: BaseException | None,
                        tb: TracebackType | None) -> None:
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            await self._task
