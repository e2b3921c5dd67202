"""The bot's one HTTP server: /healthz, extra routes mounted beside ours, polling with a port."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Mount, Route

from conversations.runtime.bootstrap import build_application
from conversations.web import web_routes, web_server
from fieldbot.web.server import build_web
from tests.harness import GAZETTEER, World


async def test_healthz_says_whether_the_sweep_ran_recently(world: World) -> None:
    assert world.app is not None
    web = build_web(web_routes(world.app))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=web),
                                 base_url="http://bot") as client:
        before = await client.get("/healthz")
        await world.tick()
        fresh = await client.get("/healthz")
        world.clock.advance(world.settings.sweep_interval * 10)
        stale = await client.get("/healthz")
    assert (before.status_code, fresh.status_code, stale.status_code) == (503, 200, 503)
    assert fresh.text.startswith("healthy")


async def test_other_pages_mount_beside_the_bot_routes(world: World) -> None:
    async def hello(request: Request) -> Response:
        return PlainTextResponse("desk")

    assert world.app is not None
    desk = build_web([Route("/", hello)])
    server = web_server(world.app, "127.0.0.1", 0, extra=[Mount("/extra", app=desk)])
    await server.start()
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}") as client:
            page = await client.get("/extra/")
            real_desk = await client.get("/desk/")
            health = await client.get("/healthz")
            unknown = await client.get("/nothing-here")
    finally:
        await server.stop()
    assert (page.status_code, page.text) == (200, "desk")
    # The safety desk page is served by the bot's own server, with its strict policy.
    assert real_desk.status_code == 200 and "<html" in real_desk.text.lower()
    assert "script-src 'self'" in real_desk.headers["content-security-policy"]
    assert health.status_code == 503  # served, and honest: no sweep yet
    assert unknown.status_code == 404


async def test_polling_with_a_port_serves_http_beside_the_bot(tmp_path: Path) -> None:
    from conversations.runtime.runner import run_polling

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    world = World(tmp_path)
    world.fake.dispatch = None
    app = build_application(world.settings, world.clock, request=world._request(),
                            get_updates_request=world._request(), rate_limit=False,
                            gazetteer=GAZETTEER)
    stop = asyncio.Event()
    running = asyncio.ensure_future(run_polling(app, stop, http=("127.0.0.1", port)))
    try:
        # The server listens before the bot asks Telegram for updates.
        await world.fake.wait_for(lambda: bool(world.fake.calls_to("deleteWebhook")), timeout=60)
        await world.fake.wait_for(lambda: world.settings.heartbeat_file.exists(), timeout=60)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            health = await client.get("/healthz")
            webhook = await client.post("/telegram", json={})  # polling: no webhook route
            desk = await client.get("/desk/")  # what `fieldbot run` with a port serves
        assert health.status_code == 200  # the start-up sweep ran: healthy
        assert webhook.status_code == 404
        assert desk.status_code == 200 and "desk.js" in desk.text
    finally:
        stop.set()
        assert await running == 0


async def test_in_webhook_mode_one_server_carries_telegram_twilio_links_and_health(
    tmp_path: Path,
) -> None:
    from conversations.web import Webhook
    from tests.channel_world import channel_world

    async with channel_world(tmp_path) as world:
        assert world.app is not None
        web = build_web(web_routes(world.app, webhook=Webhook("s3cret-fixture", "/tg")))
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=web),
                                     base_url="https://bot.example.test") as client:
            telegram = await client.post("/tg", json={}, headers={})
            status = await client.post("/twilio/status", data={"MessageSid": "SM1",
                                                               "MessageStatus": "failed"})
            reply = await client.post("/twilio/sms", data={"From": "+4915123456701",
                                                           "Body": "1"})
            link = await client.get("/ack/not-a-token")
            health = await client.get("/healthz")
    assert (telegram.status_code, status.status_code, reply.status_code) == (403, 403, 403)
    assert link.status_code == 404 and health.status_code in (200, 503)


async def test_a_port_already_taken_is_one_clear_line(world: World) -> None:
    import socket as sockets

    from fieldbot.config import ConfigError

    assert world.app is not None
    with sockets.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        server = web_server(world.app, "127.0.0.1", port)
        with pytest.raises(ConfigError, match=f"FIELDBOT_HTTP_PORT: cannot listen on "
                                              f"127.0.0.1:{port}"):
            await server.start()
