"""Running the bot: long polling (default) or a webhook with a constant-time secret check."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import signal
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from datetime import timedelta
from functools import partial
from typing import TYPE_CHECKING

from telegram import Update
from telegram.error import BadRequest, Conflict, NetworkError, RetryAfter, TelegramError

from conversations.runtime.bootstrap import FieldbotApp, publish_commands, start_core
from conversations.runtime.heap import Heap
from fieldbot.scheduler import Sweeps

if TYPE_CHECKING:  # the HTTP server (Starlette, uvicorn: 40 ms) loads only when one is asked for
    from starlette.routing import BaseRoute

    from fieldbot.web.server import WebServer

log = logging.getLogger(__name__)

__all__ = ["EXIT_CONFLICT", "install_signals", "run_polling", "run_webhook"]

EXIT_CONFLICT = 3
TELEGRAM_RETRY = 15.0  # seconds between asking Telegram again when a start cannot reach it


@contextlib.contextmanager
def _sole_runner(app: FieldbotApp) -> Iterator[bool]:
    """On SQLite, one bot per database: a second `fieldbot run` on the same file (a supervisor
    and a manual start, two containers on one volume) knows at once, from a lock beside the
    database, and exits before it polls. Before, started within one long poll of the first,
    it cut the first's poll short, and both took the 409 for their own and stopped: no bot
    ran. (PostgreSQL elects a leader instead.)"""
    settings = app.bot_data.services.settings
    if settings.postgres:
        yield True
        return
    lock = os.open(f"{settings.db}.run.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(lock)  # the lock goes with it


async def run_polling(
    app: FieldbotApp, stop: asyncio.Event | None = None, *, signals: bool = True,
    poll_timeout: int = 10, http: tuple[str, int] | None = None,
    extra: Sequence[BaseRoute] = (), telegram_retry: float = TELEGRAM_RETRY,
) -> int:
    """Poll until SIGINT/SIGTERM (or `stop`); exit clearly if another instance polls."""
    with _sole_runner(app) as sole:
        if not sole:
            log.error("another fieldbot is running on this database; this one exits")
            return EXIT_CONFLICT
        return await _polling(app, stop, signals=signals, poll_timeout=poll_timeout,
                              http=http, extra=extra, telegram_retry=telegram_retry)


async def _polling(
    app: FieldbotApp, stop: asyncio.Event | None = None, *, signals: bool = True,
    poll_timeout: int = 10, http: tuple[str, int] | None = None,
    extra: Sequence[BaseRoute] = (), telegram_retry: float = TELEGRAM_RETRY,
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
            if _another_start(error, app.bot_data.poll_watch.answered):
                # Telegram cut this poll short for a newer one: that instance is the second,
                # and its first poll is cut short by this one's next, before any answer.
                log.warning("another instance polled with this token (409 Conflict); this one"
                            " goes on polling, the other exits")
                return
            conflict.append(error)
            stop.set()
        else:
            log.warning("polling error (will retry): %s", type(error).__name__)
            if isinstance(error, NetworkError) and not isinstance(error, RetryAfter):
                # getUpdates failing: Telegram may be going down (ReachService decides).
                app.create_task(app.bot_data.services.reach.telegram_failed())

    if signals:
        _install_signals(stop)
    server = None
    if http is not None:
        from conversations.web import web_server

        server = web_server(app, *http, extra=extra)
    async with _running(app, stop, telegram_retry, server) as reached:
        if not reached:
            return 0
        assert app.updater is not None
        poll = partial(app.updater.start_polling,  # it deletes any webhook first
                       allowed_updates=Update.ALL_TYPES, error_callback=on_poll_error,
                       timeout=poll_timeout)
        if await _go_live(app, poll, stop, telegram_retry):
            await stop.wait()
    if conflict:
        log.error(
            "another fieldbot instance is already polling with this token (409 Conflict); "
            "this one stops polling instead of fighting over updates"
        )
        return EXIT_CONFLICT
    return 0


def _another_start(error: Conflict, answered: bool) -> bool:
    """Whether a 409 means another instance polls, with this one the first: Telegram has
    answered this one's polls before (`PollWatch`), so the other is the newer. A webhook set
    meanwhile, or a 409 before any answer (this instance is the second), is not."""
    return answered and "terminated by other getupdates" in error.message.lower()


async def run_webhook(
    app: FieldbotApp, url: str, secret: str, listen: str, port: int, path: str = "/telegram",
    stop: asyncio.Event | None = None, *, signals: bool = True,
    extra: Sequence[BaseRoute] = (), telegram_retry: float = TELEGRAM_RETRY,
) -> int:
    """Serve the webhook on the bot's HTTP server until SIGINT/SIGTERM (or `stop`); Telegram
    sends the secret with every update."""
    with _sole_runner(app) as sole:
        if not sole:
            log.error("another fieldbot is running on this database; this one exits")
            return EXIT_CONFLICT
        return await _webhook(app, url, secret, listen, port, path, stop, signals=signals,
                              extra=extra, telegram_retry=telegram_retry)


async def _webhook(
    app: FieldbotApp, url: str, secret: str, listen: str, port: int, path: str = "/telegram",
    stop: asyncio.Event | None = None, *, signals: bool = True,
    extra: Sequence[BaseRoute] = (), telegram_retry: float = TELEGRAM_RETRY,
) -> int:
    from conversations.web import Webhook, web_server

    stop = stop or asyncio.Event()
    if signals:
        _install_signals(stop)
    server = web_server(app, listen, port, webhook=Webhook(secret, path), extra=extra)
    async with _running(app, stop, telegram_retry, server) as reached:
        if not reached:
            return 0
        hook = partial(app.bot.set_webhook, url, secret_token=secret,
                       allowed_updates=Update.ALL_TYPES)
        if await _go_live(app, hook, stop, telegram_retry):
            await stop.wait()
    return 0


async def _go_live(app: FieldbotApp, receive: Callable[[], Awaitable[object]],
                   stop: asyncio.Event, retry: float) -> bool:
    """Start the application (its sweeps, the updates a killed process left), then ask
    Telegram for updates (`receive`: poll, or set the webhook) and publish the command menus.
    Telegram answered getMe a moment ago, but may fail now: each call is asked again every
    `retry` seconds meanwhile, the ladder running. False if stopped before all were answered."""
    if stop.is_set():
        return False
    await app.start()
    if not await _until_answered(app, receive, stop, retry):
        return False
    try:  # cosmetic: its failures are not counted as Telegram failing (the bot works)
        if not await _until_answered(app, partial(publish_commands, app), stop, retry,
                                     outage=False):
            return False
    except BadRequest as exc:  # a menu Telegram refuses must not stop the bot
        log.error("Telegram refused the command menus (%s): the bot runs without them",
                  exc.message)
    log.info("fieldbot started as @%s", app.bot.username)
    return True


async def _until_answered(app: FieldbotApp, call: Callable[[], Awaitable[object]],
                          stop: asyncio.Event, retry: float, *, outage: bool = True,
                          failing: str = "Telegram failed a call of the start") -> bool:
    """Make a Telegram call of the start, again every `retry` seconds while Telegram fails
    it (a network error, a 5xx; flood control: after the wait it asks for); False if stopped
    first. A refusal (400: a webhook URL Telegram does not take) is not asked again: it is
    raised. `outage`: whether a failure counts towards Telegram being down."""
    said = False  # the first failure is a warning, the ones after it (every `retry`) info
    while not stop.is_set():
        wait = retry
        try:
            await call()
            return True
        except BadRequest:
            raise
        except RetryAfter as exc:
            asked = exc.retry_after
            wait = max(retry, asked.total_seconds() if isinstance(asked, timedelta) else asked)
            log.warning("Telegram asks the start to wait %s s", wait)
        except NetworkError as exc:
            log.log(logging.INFO if said else logging.WARNING,
                    "%s (%s): asking again in %s s", failing, type(exc).__name__, retry)
            said = True
            if outage:
                await app.bot_data.services.reach.telegram_failed()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), wait)
    return False


@contextlib.asynccontextmanager
async def _running(app: FieldbotApp, stop: asyncio.Event, telegram_retry: float,
                   server: WebServer | None) -> AsyncIterator[bool]:
    """Initialize and shut down as `Application.run_polling` does, hooks included: started by
    hand, PTB calls neither post_init (services, scheduler) nor post_shutdown (database).
    The bot's HTTP server (provider callbacks, links, /healthz, a webhook) listens as soon as
    the core runs, Telegram reached or not, and stops before the application does (no update
    arrives once it has stopped). Yields whether Telegram was reached (False: stopped before
    it answered)."""
    heap = Heap()
    try:
        reached = await _initialize(app, stop, telegram_retry, server)
        if reached and app.post_init:
            await app.post_init(app)
        if reached and server is not None:
            await server.start()  # already listening if the start went on without Telegram
        heap.settle_soon()
        try:
            yield reached
        finally:
            heap.release()
            if server is not None:
                await server.stop()
            if app.updater is not None and app.updater.running:
                await app.updater.stop()  # before the application, as PTB requires
            if app.running:
                await app.stop()
            if reached and app.post_stop:
                await app.post_stop(app)
    finally:  # however the start or the run ended: nothing listening, the database closed
        try:
            if server is not None:
                await server.stop()  # a start that failed before the inner block
            await app.shutdown()
            await app.bot.shutdown()  # its connections, if no start reached Telegram
        finally:
            if app.post_shutdown:
                await app.post_shutdown(app)


async def _initialize(app: FieldbotApp, stop: asyncio.Event, retry: float,
                      server: WebServer | None) -> bool:
    """Initialize the application (PTB asks Telegram who the bot is). While Telegram cannot
    be reached, the core runs without it: the ladder's sweeps go on, and what would have gone
    by Telegram goes by SMS, calls and e-mail once Telegram has failed long enough (policy:
    telegram_down_after); Telegram is asked again every `retry` seconds. A wrong token stays
    fatal (InvalidToken is not a network error). False if stopped before Telegram answered."""
    try:
        await app.initialize()
        return True
    except NetworkError as exc:
        log.warning("Telegram cannot be reached at start (%s): the ladder goes on without it; "
                    "asking again every %s s", type(exc).__name__, retry)
    await start_core(app)
    if server is not None:  # SMS replies, call keypresses and links acknowledge meanwhile
        await server.start()
    services = app.bot_data.services
    await services.reach.telegram_failed()
    reached = asyncio.Event()
    sweeps = Sweeps(services.sweeper.tick, services.settings.sweep_interval, services.clock.now)
    services.reach.wake = sweeps.wake  # the job queue's scheduler takes over once reached
    sweeping = asyncio.create_task(sweeps.run_until(reached))
    try:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), retry)
        if not await _until_answered(app, app.initialize, stop, retry,
                                     failing="Telegram still cannot be reached"):
            return False
        log.warning("Telegram answers again: starting the bot")
        return True
    finally:
        reached.set()
        await sweeping  # its tick ends before PTB's scheduler starts its own


def install_signals(stop: asyncio.Event) -> None:
    _install_signals(stop)


def _install_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):
            log.debug("signal handlers unavailable")
