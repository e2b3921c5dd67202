"""A FakeTwilio on a loopback port, served by uvicorn."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn

from faketwilio.api import FakeTwilio
from faketwilio.app import build_app


@asynccontextmanager
async def serve(fake: FakeTwilio, host: str = "127.0.0.1", port: int = 0) -> AsyncIterator[str]:
    """Serve `fake` until the block ends; yields its base URL (port 0 picks a free one)."""
    config = uvicorn.Config(build_app(fake), host=host, port=port, log_level="warning",
                            lifespan="off", access_log=False)
    server = uvicorn.Server(config)
    task = asyncio.get_running_loop().create_task(server.serve())
    try:
        while not server.started:
            if task.done():
                task.result()  # raises why it could not start
                raise RuntimeError("the fake Twilio server stopped before it started")
            await asyncio.sleep(0.01)
        bound = server.servers[0].sockets[0].getsockname()
        yield f"http://{host}:{bound[1]}"
    finally:
        server.should_exit = True
        await task
