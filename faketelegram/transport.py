"""FakeTransport: an httpx transport that answers from a FakeTelegram, no sockets."""

from __future__ import annotations

import httpx

from faketelegram.api import FakeTelegram
from faketelegram.errors import SimulatedTimeout
from faketelegram.routing import route


class FakeTransport(httpx.AsyncBaseTransport):
    """Route `{base}/bot<token>/<method>` and `{base}/file/bot<token>/<path>` to a fake."""

    def __init__(self, fake: FakeTelegram) -> None:
        self.fake = fake

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Answer one request; an injected Timeout raises httpx.ReadTimeout."""
        body = await request.aread()
        try:
            reply = await route(
                self.fake,
                request.url.path,
                request.url.query.decode(),
                request.headers.get("content-type", ""),
                body,
            )
        except SimulatedTimeout as exc:
            raise httpx.ReadTimeout(str(exc), request=request) from exc
        return httpx.Response(
            reply.status,
            headers={"content-type": reply.content_type},
            content=reply.body,
            request=request,
        )
