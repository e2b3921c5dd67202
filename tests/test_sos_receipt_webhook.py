"""The SOS receipt (promise 75) counts someone who blocked the bot only if the policy sends the
alert to them by SMS, a call or e-mail and they can be reached there. The company's webhook
reaches no person: before, configuring one made a blocked manager with no phone or address read
as "being alerted" (found by a review of the change)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import httpx

from tests.builders import said
from tests.harness import World


async def test_a_blocked_manager_is_not_named_because_a_company_webhook_exists(
        tmp_path: Path) -> None:
    world = World(tmp_path, webhook_out_url="https://hooks.example.test/fieldbot",
                  webhook_out_secret="0123456789abcdef0123")
    world.webhook_transport = httpx.MockTransport(lambda request: httpx.Response(200))
    async with world.running():
        await world.admin.send("/start")
        await world.enrol(world.manager, "manager", "north")
        await world.enrol(world.rep, "staff", "north")  # no safety officer
        await world.manager.block()
        await world.advance(timedelta(seconds=1))

        await world.rep.send("/sos")
        bodies = [m.body for m in world.rep.messages]
        assert said("sos.sent.manager") not in bodies  # nobody can reach Mia
        assert said("sos.sent.nobody") in bodies
