"""One HTTP server for everything the bot serves: built from a list of routes, started and
stopped by the runner beside the bot, on a socket it binds itself (port 0 in tests)."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from fieldbot.clock import Clock
from fieldbot.config import ConfigError
from fieldbot.services.sweeper import heartbeat_health

log = logging.getLogger(__name__)

MAX_BODY = 1_000_000  # Telegram updates and provider callbacks are a few kilobytes


class BodyTooLarge(Exception):
    """A request body over the limit: answered 413, never read into memory whole."""


async def read_body(request: Request, limit: int = MAX_BODY) -> bytes:
    """Return the request body, refusing one longer than `limit` as it streams in."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def health_route(heartbeat_file: Path, clock: Clock, sweep_interval: timedelta) -> Route:
    """GET /healthz: 200 when the sweep ran recently (what `fieldbot health` checks), else 503."""

    async def healthz(request: Request) -> Response:
        healthy, why = heartbeat_health(heartbeat_file, clock.now(), sweep_interval)
        return PlainTextResponse(why, status_code=200 if healthy else 503)

    return Route("/healthz", healthz, methods=["GET"])


def build_web(routes: Sequence[BaseRoute], extra: Sequence[BaseRoute] = ()) -> Starlette:
    """Return the ASGI app serving `routes` and then `extra` (e.g. a Mount("/desk", ...))."""

    async def too_large(request: Request, exc: Exception) -> Response:
        return PlainTextResponse("request too large", status_code=413)

    return Starlette(routes=[*routes, *extra], exception_handlers={BodyTooLarge: too_large})


class WebServer:
    """uvicorn serving one ASGI app, run inside the bot's own event loop.

    No access log: acknowledgement links carry tokens, and request lines are not ours to
    keep. uvicorn installs no signal handlers here; the runner owns SIGINT/SIGTERM.
    """

    def __init__(self, app: Starlette, host: str, port: int) -> None:
        self.app = app
        self._host = host
        self._port = port
        self._config = uvicorn.Config(app, host=host, port=port, log_config=None,
                                      access_log=False, lifespan="off", server_header=False)
        self._server = uvicorn.Server(self._config)
        self._task: asyncio.Task[None] | None = None
        self._socket: socket.socket | None = None

    @property
    def port(self) -> int:
        """The port listened on (the real one when 0 was asked for)."""
        if self._socket is None:
            return self._port
        return int(self._socket.getsockname()[1])

    async def start(self) -> None:
        """Bind and listen; return once connections are accepted (at once if listening)."""
        if self._task is not None:
            return
        family = socket.AF_INET6 if ":" in self._host else socket.AF_INET
        try:
            self._socket = socket.create_server((self._host, self._port), family=family,
                                                reuse_port=False)
        except OSError as exc:  # in use, not ours to bind: one clear line, not a traceback
            raise ConfigError(f"FIELDBOT_HTTP_PORT: cannot listen on {self._host}:"
                              f"{self._port}: {exc.strerror or exc}") from None
        self._config.load()
        self._server.lifespan = self._config.lifespan_class(self._config)
        await self._server.startup(sockets=[self._socket])
        self._task = asyncio.get_running_loop().create_task(self._server.main_loop(),
                                                            name="fieldbot-http")
        log.info("HTTP server listening on port %s", self.port)

    async def stop(self) -> None:
        """Stop accepting, let requests under way finish, close."""
        if self._task is None:
            return
        self._server.should_exit = True
        await self._task
        await self._server.shutdown()
        self._task = None
        if self._socket is not None:
            self._socket.close()
            self._socket = None
