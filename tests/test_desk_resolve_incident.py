""""Incident – handled" on the desk resolves the alert and sends the lead's chat the button that
records the incident (the page cannot ask its questions), and the page says so. Before, the
page said "A-1 resolved." and nothing else: no incident, no word of one, and its deadlines
never started (promise 58; found by a hostile review of the desk)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, timedelta

import httpx
import pytest

from conversations.web.desk import desk_app
from tests.builders import BERLIN, DEADLINE, at, init_data, plan_for, rows, said
from tests.harness import World


@pytest.fixture
async def client(team: World) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=desk_app(team.services, team.app.bot if team.app
                                                 else None))
    async with httpx.AsyncClient(transport=transport, base_url="https://desk.test") as c:
        yield c


async def test_resolving_as_incident_on_the_desk_starts_the_incident_as_in_the_chat(
        team: World, client: httpx.AsyncClient) -> None:
    await plan_for(team, team.rep, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
    await at(team, DEADLINE + timedelta(minutes=30))  # Mia is alerted: A-1
    csrf = (await client.post("/api/login", json={"init_data": init_data(
        team.manager.id, team.clock.now())})).json()["csrf"]
    [alert] = (await client.get("/api/state")).json()["alerts"]
    mark = team.manager.mark()

    done = await client.post(f"/api/alerts/{alert['id']}/resolve", json={"reason": "incident"},
                             headers={"x-desk-csrf": csrf})

    assert done.status_code == 200, done.text
    assert done.json()["message"] == said("desk.resolved_incident", alert="A-1")
    [asked] = [m for m in team.manager.since(mark)
               if (m.body or "") == said("desk.record_incident", alert="A-1")]
    await team.manager.press("📋 Record the incident behind A-1", asked)
    assert (await rows(team, "SELECT COUNT(*) AS n FROM incidents"))[0]["n"] == 0  # not yet
    assert (team.manager.last.body or "").startswith(said("incident.from_alert", alert="A-1"))
