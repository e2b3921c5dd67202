"""The Telegram webhook on the bot's HTTP server: the secret first, then the update is kept
in the inbox (DurableUpdateQueue.put) before Telegram is answered 200."""

from __future__ import annotations

import hmac
import json
import logging
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from telegram import Update
from telegram.ext import Application

from fieldbot.web.server import read_body

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name


def webhook_route(app: Application[Any, Any, Any, Any, Any, Any], secret: str,
                  path: str = "/telegram") -> Route:
    """POST `path`: an update from Telegram, authenticated by its secret token header."""
    if not secret:  # every request without the header would match
        raise ValueError("a webhook needs a secret")
    expected = secret.encode()

    async def receive(request: Request) -> Response:
        given = request.headers.get(SECRET_HEADER, "").encode()
        # compare_digest: the time taken must not reveal how much of the secret matched.
        if not hmac.compare_digest(given, expected):
            return Response(status_code=403)
        try:
            data = json.loads(await read_body(request))
            update = Update.de_json(data, app.bot)
        except (ValueError, TypeError, KeyError, AttributeError):
            return Response(status_code=400)
        if update is None:
            return Response(status_code=400)
        # Awaited: the update is durable in the inbox before Telegram hears 200 and forgets it.
        await app.update_queue.put(update)
        return Response(status_code=200)

    return Route(path, receive, methods=["POST"])
