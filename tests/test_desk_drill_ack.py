"""A drill acknowledged on the desk page ends at once and its result goes to the officer, as
after the chat's button (promise 58). Before, the desk never settled the drill: it stayed open
until a later sweep noticed (found by a hostile review of the desk)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest

from conversations.web.desk import desk_app
from tests.builders import init_data, rows
from tests.harness import World
from tests.test_drills import start_team_drill


@pytest.fixture
async def client(team: World) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=desk_app(team.services, team.app.bot if team.app
                                                 else None))
    async with httpx.AsyncClient(transport=transport, base_url="https://desk.test") as c:
        yield c


async def test_a_drill_acknowledged_on_the_desk_ends_at_once_as_in_the_chat(
        team: World, client: httpx.AsyncClient) -> None:
    await start_team_drill(team)
    await team.advance(timedelta(minutes=30))  # the manager is told after 30 minutes
    await team.advance(timedelta(minutes=2))
    answer = await client.post("/api/login",
                               json={"init_data": init_data(team.manager.id, team.clock.now())})
    csrf = answer.json()["csrf"]
    [alert] = (await client.get("/api/state")).json()["alerts"]
    assert alert["kind"] == "drill"

    done = await client.post(f"/api/alerts/{alert['id']}/ack", headers={"x-desk-csrf": csrf})

    assert done.status_code == 200, done.text
    # As after the chat's Acknowledge: the drill is over and the officer has its result.
    [drill] = await rows(team, "SELECT state FROM drills")
    assert drill["state"] == "done"
    assert "Rita: acknowledged by Mia after 32 minutes" in (team.officer.last.body or "")
