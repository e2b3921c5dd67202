"""Running the bot: long polling (default) or a webhook with a constant-time secret check."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import signal
from collections.abc import AsyncIterator
from http import HTTPStatus

from telegram import Update
from telegram.error import Conflict, TelegramError
from tornado.httpserver import HTTPServer
from tornado.web import Application as TornadoApp
from tornado.web import RequestHandler

from conversations.runtime.bootstrap import FieldbotApp

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name
EXIT_CONFLICT = 3


async def run_polling(
    app: FieldbotApp, stop: asyncio.Event | None = None, *, signals: bool = True,
    poll_timeout: int = 10,
) -> int:
    """Poll until SIGINT/SIGTERM (or `stop`); exit clearly if another instance polls.

    `signals=False`: the caller handles the signals (it sets `stop`); `poll_timeout`: the
    long poll's length, which bounds how long a stopped poller may still hold Telegram."""
    stop = stop or asyncio.Event()
    conflict: list[TelegramError] = []

    def on_poll_error(error: TelegramError) -> None:
        if isinstance(error, Conflict):
            conflict.append(error)
            stop.set()
        else:
            log.warning("polling error (will retry): %s", type(error).__name__)

    if signals:
        _install_signals(stop)
    async with _running(app):
        await app.bot.delete_webhook(drop_pending_updates=False)
        assert app.updater is not None
        await app.updater.start_polling(
            allowed_updates=Update.ALL_TYPES, error_callback=on_poll_error,
            timeout=poll_timeout,
        )
        await app.start()
        await stop.wait()
        await app.updater.stop()
        await app.stop()
    if conflict:
        log.error(
            "another fieldbot instance is already polling with this token (409 Conflict); "
            "exiting instead of fighting over updates"
        )
        return EXIT_CONFLICT
    return 0


class _WebhookHandler(RequestHandler):
    def initialize(self, app: FieldbotApp, secret: str) -> None:
        self.bot_app = app
        self.secret = secret

    async def post(self) -> None:
        given = self.request.headers.get(SECRET_HEADER, "")
        # compare_digest: the time taken must not reveal how much of the secret matched.
        if not hmac.compare_digest(given.encode(), self.secret.encode()):
            self.set_status(HTTPStatus.FORBIDDEN)
            return
        try:
            data = json.loads(self.request.body)
            update = Update.de_json(data, self.bot_app.bot)
        except (ValueError, TypeError, KeyError):
            self.set_status(HTTPStatus.BAD_REQUEST)
            return
        await self.bot_app.update_queue.put(update)
        self.set_status(HTTPStatus.OK)


def webhook_server(app: FieldbotApp, secret: str, path: str = "/telegram") -> HTTPServer:
    """Return a tornado server that feeds verified updates into the application."""
    web = TornadoApp([(path, _WebhookHandler, {"app": app, "secret": secret})])
    return HTTPServer(web, xheaders=True)


async def run_webhook(
    app: FieldbotApp, url: str, secret: str, listen: str, port: int, path: str = "/telegram",
    stop: asyncio.Event | None = None, *, signals: bool = True,
) -> int:
    """Serve the webhook until SIGINT/SIGTERM (or `stop`); Telegram sends the secret with
    every update."""
    stop = stop or asyncio.Event()
    if signals:
        _install_signals(stop)
    server = webhook_server(app, secret, path)
    async with _running(app):
        server.listen(port, address=listen)
        await app.bot.set_webhook(
            url, secret_token=secret, allowed_updates=Update.ALL_TYPES
        )
        await app.start()
        await stop.wait()
        server.stop()
        await app.stop()
    return 0


@contextlib.asynccontextmanager
async def _running(app: FieldbotApp) -> AsyncIterator[FieldbotApp]:
    """Initialize and shut down as `Application.run_polling` does, hooks included: started by
    hand, PTB calls neither post_init (services, scheduler) nor post_shutdown (database)."""
    async with app:
        if app.post_init:
            await app.post_init(app)
        try:
            yield app
        finally:
            if app.post_stop:
                await app.post_stop(app)
    if app.post_shutdown:
        await app.post_shutdown(app)


def install_signals(stop: asyncio.Event) -> None:
    _install_signals(stop)


def _install_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):
            log.debug("signal handlers unavailable")
