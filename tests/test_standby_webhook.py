"""In webhook mode behind a load balancer, a standby that receives an update keeps it in the
shared inbox and wakes the leader; it never drops it, and it checks the secret like the leader."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import httpx
from cryptography.fernet import Fernet

from conversations.runtime.ha import Webhook, _standby_webhook
from conversations.web.telegram import SECRET_HEADER
from fieldbot.clock import SystemClock
from fieldbot.config import Settings
from fieldbot.services.container import opened
from fieldbot.services.leadership import Leadership
from fieldbot.storage.leadership import LeaderLock
from tests.pg import PgServer

SOS = {"update_id": 9001, "message": {
    "message_id": 1, "date": 0, "chat": {"id": 4004, "type": "private"},
    "from": {"id": 4004, "is_bot": False, "first_name": "R"}, "text": "/sos",
    "entities": [{"type": "bot_command", "offset": 0, "length": 4}]}}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_a_standby_keeps_a_webhook_update_for_the_leader_and_wakes_it(
    tmp_path: Path, pg_server: PgServer,
) -> None:
    url = pg_server.fresh()
    settings = Settings(_env_file=None, db=url, data_dir=tmp_path,  # type: ignore[call-arg]
                        encryption_key=Fernet.generate_key().decode())
    leader = LeaderLock(url)
    assert await leader.try_acquire()
    woken = asyncio.Event()
    leader.on_inbox(woken.set)
    standby = Leadership(settings, SystemClock(), elect=True)
    port = free_port()
    hook = Webhook("https://bot.example/telegram", "s3cret-fixture", "127.0.0.1", port,
                   "/telegram")
    server = await _standby_webhook(settings, standby, hook)
    assert server is not None
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            forged = await client.post("/telegram", json=SOS, headers={SECRET_HEADER: "nope"})
            assert forged.status_code == 403
            answer = await client.post("/telegram", json=SOS,
                                       headers={SECRET_HEADER: "s3cret-fixture"})
            assert answer.status_code == 200
            again = await client.post("/telegram", json=SOS,
                                      headers={SECRET_HEADER: "s3cret-fixture"})
            assert again.status_code == 200  # Telegram's retry: recognised, kept once
        await asyncio.wait_for(woken.wait(), 10)
        async with opened(settings, SystemClock()) as services:  # what the leader replays
            assert await services.inbox.unfinished() == [SOS]
    finally:
        await server.close()
        await leader.release()
