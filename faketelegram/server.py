"""A loopback HTTP server for a FakeTelegram: Bot API, file downloads and control API."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import h11

from faketelegram.api import FakeTelegram
from faketelegram.control import handle_control
from faketelegram.errors import SimulatedTimeout
from faketelegram.routing import Reply, route

_MAX_BODY = 64 * 1024 * 1024


class _Request:
    """A request read off the wire."""

    def __init__(self, method: str, target: str, content_type: str, body: bytes) -> None:
        self.method = method
        self.path, _, self.query = target.partition("?")
        self.content_type = content_type
        self.body = body


class _Connection:
    """One client connection: read requests, answer them, hang when told to."""

    def __init__(
        self,
        fake: FakeTelegram,
        control: bool,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> None:
        self.fake = fake
        self.control = control
        self.reader = reader
        self.writer = writer
        self.h11 = h11.Connection(h11.SERVER, max_incomplete_event_size=64 * 1024)

    async def run(self) -> None:
        """Serve requests until the client goes away."""
        try:
            while True:
                request = await self._read()
                if request is None:
                    return
                try:
                    reply = await self._answer(request)
                except SimulatedTimeout as fault:
                    await self._hang(fault)
                    return
                await self._write(reply)
                if self.h11.our_state is h11.MUST_CLOSE:
                    return
                self.h11.start_next_cycle()
        except (h11.RemoteProtocolError, ConnectionError):
            return
        finally:
            self.writer.close()
            with contextlib.suppress(ConnectionError):
                await self.writer.wait_closed()

    async def _answer(self, request: _Request) -> Reply:
        if self.control and request.path.startswith("/_control/"):
            return await handle_control(
                self.fake, request.method, request.path, request.query, request.body
            )
        return await route(
            self.fake, request.path, request.query, request.content_type, request.body
        )

    async def _read(self) -> _Request | None:
        head: h11.Request | None = None
        body = bytearray()
        while True:
            event = self.h11.next_event()
            if event is h11.NEED_DATA:
                data = await self.reader.read(65536)
                self.h11.receive_data(data)
                continue
            if isinstance(event, h11.Request):
                head = event
            elif isinstance(event, h11.Data):
                body += event.data
                if len(body) > _MAX_BODY:
                    raise h11.RemoteProtocolError("request body too large")
            elif isinstance(event, h11.EndOfMessage) and head is not None:
                headers = {k.decode().lower(): v.decode() for k, v in head.headers}
                return _Request(
                    head.method.decode(),
                    head.target.decode(),
                    headers.get("content-type", ""),
                    bytes(body),
                )
            elif isinstance(event, h11.ConnectionClosed | h11.PAUSED):
                return None

    async def _write(self, reply: Reply) -> None:
        headers = [
            ("content-type", reply.content_type),
            ("content-length", str(len(reply.body))),
            ("server", "faketelegram"),
        ]
        for event in (
            h11.Response(status_code=reply.status, headers=headers),
            h11.Data(data=reply.body),
            h11.EndOfMessage(),
        ):
            self.writer.write(self.h11.send(event) or b"")
        await self.writer.drain()

    async def _hang(self, fault: SimulatedTimeout) -> None:
        """Answer nothing until the client gives up, the fake releases us or the delay ends."""
        gone = asyncio.ensure_future(self.reader.read())
        released = asyncio.ensure_future(fault.hang())
        try:
            await asyncio.wait({gone, released}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (gone, released):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task


@asynccontextmanager
async def serve(
    fake: FakeTelegram, host: str = "127.0.0.1", port: int = 0, control: bool = True
) -> AsyncIterator[str]:
    """Serve fake on host:port (0 picks a free port); yield the base URL, e.g. http://h:p."""
    tasks: set[asyncio.Task[Any]] = set()

    async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        tasks.add(task)
        try:
            await _Connection(fake, control, reader, writer).run()
        except asyncio.CancelledError:
            # Only serve() cancels these, on the way out; asyncio 3.11's stream callback
            # would log a cancelled connection task as an error.
            pass
        finally:
            tasks.discard(task)

    server = await asyncio.start_server(accept, host, port)
    bound = server.sockets[0].getsockname()
    try:
        yield f"http://{host}:{bound[1]}"
    finally:
        server.close()
        for task in list(tasks):
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await server.wait_closed()
