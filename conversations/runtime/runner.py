"""Running the bot: long polling (default) or a webhook with a constant-time secret check."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING

from telegram import Update
from telegram.error import Conflict, NetworkError, RetryAfter, TelegramError

from conversations.runtime.bootstrap import FieldbotApp

if TYPE_CHECKING:  # the HTTP server (Starlette, uvicorn: 40 ms) loads only when one is asked for
    from starlette.routing import BaseRoute

log = logging.getLogger(__name__)

__all__ = ["EXIT_CONFLICT", "install_signals", "run_polling", "run_webhook"]

EXIT_CONFLICT = 3


async def run_polling(
    app: FieldbotApp, stop: asyncio.Event | None = None, *, signals: bool = True,
    poll_timeout: int = 10, http: tuple[str, int] | None = None,
    extra: Sequence[BaseRoute] = (),
) -> int:
    """Poll until SIGINT/SIGTERM (or `stop`); exit clearly if another instance polls.

    `signals=False`: the caller handles the signals (it sets `stop`); `poll_timeout`: the
    long poll's length, which bounds how long a stopped poller may still hold Telegram. With
    `http` (listen address, port) the bot's HTTP server runs beside: provider callbacks,
    acknowledgement links, /healthz. Without it no port is opened."""
    stop = stop or asyncio.Event()
    conflict: list[TelegramError] = []

    def on_poll_error(error: TelegramError) -> None:
        if isinstance(error, Conflict):
            conflict.append(error)
            stop.set()
        else:
            log.warning("polling error (will retry): %s", type(error).__name__)
            if isinstance(error, NetworkError) and not isinstance(error, RetryAfter):
                # getUpdates failing: Telegram may be going down (ReachService decides).
                app.create_task(app.bot_data.services.reach.telegram_failed())

    if signals:
        _install_signals(stop)
    async with _running(app):
        server = None
        if http is not None:
            from conversations.web import web_server

            server = web_server(app, *http, extra=extra)
            await server.start()
        try:
            assert app.updater is not None  # it deletes any webhook first
            await app.updater.start_polling(
                allowed_updates=Update.ALL_TYPES, error_callback=on_poll_error,
                timeout=poll_timeout,
            )
            await app.start()
            await stop.wait()
            await app.updater.stop()
        finally:
            if server is not None:
                await server.stop()
        await app.stop()
    if conflict:
        log.error(
            "another fieldbot instance is already polling with this token (409 Conflict); "
            "exiting instead of fighting over updates"
        )
        return EXIT_CONFLICT
    return 0


async def run_webhook(
    app: FieldbotApp, url: str, secret: str, listen: str, port: int, path: str = "/telegram",
    stop: asyncio.Event | None = None, *, signals: bool = True,
    extra: Sequence[BaseRoute] = (),
) -> int:
    """Serve the webhook on the bot's HTTP server until SIGINT/SIGTERM (or `stop`); Telegram
    sends the secret with every update."""
    from conversations.web import Webhook, web_server

    stop = stop or asyncio.Event()
    if signals:
        _install_signals(stop)
    async with _running(app):
        server = web_server(app, listen, port, webhook=Webhook(secret, path), extra=extra)
        await server.start()
        try:
            await app.bot.set_webhook(
                url, secret_token=secret, allowed_updates=Update.ALL_TYPES
            )
            await app.start()
            await stop.wait()
        finally:
            await server.stop()  # no update arrives once the application stops
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
