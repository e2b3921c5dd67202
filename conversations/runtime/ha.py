"""Running as one of several instances on PostgreSQL: standby until leader, leader until lost.

    standby ──lock acquired──▶ (FENCE_DELAY) ──▶ leader: poll or serve the webhook, sweep, send
       ▲                                              │
       └──────────── lock lost (fenced at once) ◀─────┘

A leader that loses its lock stops its application (the outbox's messenger is closed at the same
instant) and goes back to standby with a fresh application; SIGINT/SIGTERM release the lock so
a standby takes over at once. In webhook mode a standby still answers Telegram: it keeps the
update in the shared inbox and wakes the leader (NOTIFY), or answers 503 so Telegram retries.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
from collections.abc import Callable
from http import HTTPStatus

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from conversations.runtime.bootstrap import FieldbotApp
from conversations.runtime.inbox import DurableUpdateQueue
from conversations.runtime.runner import install_signals, run_polling, run_webhook
from conversations.web.telegram import SECRET_HEADER
from fieldbot.clock import SystemClock
from fieldbot.config import Settings
from fieldbot.geo.gazetteer import INDEX_FILE, OfflineGeocoder
from fieldbot.services.container import Services, build_services
from fieldbot.services.leadership import FENCE_DELAY, POLL_TIMEOUT, Leadership
from fieldbot.web.server import WebServer, build_web, read_body

log = logging.getLogger(__name__)


class Webhook:
    def __init__(self, url: str, secret: str, listen: str, port: int, path: str) -> None:
        self.url, self.secret, self.listen, self.port, self.path = url, secret, listen, port, path


async def run_with_leadership(
    settings: Settings,
    make_app: Callable[[Leadership], FieldbotApp],
    webhook: Webhook | None = None,
) -> int:
    """Serve as leader whenever this instance holds the lock, until SIGINT/SIGTERM."""
    stop = asyncio.Event()
    install_signals(stop)
    leadership = Leadership(settings, SystemClock(), elect=True)
    # Ready before leading: a first start builds the place index (seconds), not the takeover.
    await asyncio.to_thread(OfflineGeocoder(index_path=settings.data_dir / INDEX_FILE).warm)
    code = 0
    try:
        while not stop.is_set():
            standby = await _standby_webhook(settings, leadership, webhook)
            try:
                leading = await leadership.wait(stop)
            finally:
                if standby is not None:
                    await standby.close()
            if not leading:
                break
            # The old leader's last long poll ends before this one's first begins.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), FENCE_DELAY)
            if stop.is_set() or not leadership.is_leader:
                continue
            code = await _lead(make_app(leadership), leadership, stop, webhook,
                               _http(settings))
            if not stop.is_set():
                log.warning("no longer the leader: standby again")
                await leadership.stand_down()
    finally:
        await leadership.release()
    return code


def _http(settings: Settings) -> tuple[str, int] | None:
    """Where the leader's HTTP server listens when polling (callbacks, links, /healthz)."""
    return (settings.http_listen, settings.http_port) if settings.http_port is not None \
        else None


async def _lead(app: FieldbotApp, leadership: Leadership, stop: asyncio.Event,
                webhook: Webhook | None, http: tuple[str, int] | None = None) -> int:
    session = asyncio.Event()
    lost = leadership.lost
    assert lost is not None

    async def end_on(event: asyncio.Event) -> None:
        await event.wait()
        session.set()

    watchers = [asyncio.create_task(end_on(stop)), asyncio.create_task(end_on(lost))]
    queue = app.update_queue
    assert isinstance(queue, DurableUpdateQueue)
    wakes: set[asyncio.Task[int]] = set()

    def wake() -> None:  # a standby kept an update in the shared inbox
        if app.running:
            task = asyncio.create_task(queue.replay(app.bot))
            wakes.add(task)
            task.add_done_callback(wakes.discard)

    leadership.on_inbox(wake)
    try:
        if webhook is None:
            return await run_polling(app, session, signals=False, poll_timeout=POLL_TIMEOUT,
                                     http=http)
        return await run_webhook(app, webhook.url, webhook.secret, webhook.listen,
                                 webhook.port, webhook.path, session, signals=False)
    finally:
        for task in watchers:
            task.cancel()


def _standby_route(services: Services, leadership: Leadership, secret: str,
                   path: str) -> Route:
    """The webhook while another instance leads: keep the update for the leader."""
    if not secret:  # every request without the header would match
        raise ValueError("a webhook needs a secret")
    expected = secret.encode()

    async def receive(request: Request) -> Response:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, expected):
            return Response(status_code=HTTPStatus.FORBIDDEN)
        try:
            data = json.loads(await read_body(request))
            update_id = int(data["update_id"])
        except (ValueError, TypeError, KeyError):
            return Response(status_code=HTTPStatus.BAD_REQUEST)
        # Kept in the shared inbox, the leader handles it; else 503 and Telegram retries.
        kept = await leadership.keep_for_leader(services.inbox, update_id, data)
        return Response(status_code=HTTPStatus.OK if kept else HTTPStatus.SERVICE_UNAVAILABLE)

    return Route(path, receive, methods=["POST"])


class _Standby:
    def __init__(self, server: WebServer, services: Services) -> None:
        self.server, self.services = server, services

    async def close(self) -> None:
        await self.server.stop()
        await self.services.stop()


async def _standby_webhook(settings: Settings, leadership: Leadership,
                           webhook: Webhook | None) -> _Standby | None:
    if webhook is None:
        return None
    services = build_services(settings, SystemClock())
    await services.open()
    server = WebServer(build_web([_standby_route(services, leadership, webhook.secret,
                                                 webhook.path)]),
                       webhook.listen, webhook.port)
    await server.start()
    return _Standby(server, services)
