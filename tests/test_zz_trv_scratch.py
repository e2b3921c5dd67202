from __future__ import annotations
from datetime import UTC, datetime, timedelta
from tests.builders import alerts_in, plan, rows
from tests.harness import World

async def test_scratch(team: World) -> None:
    await plan(team.rep, start="today", end="2026-12-06", companion="alone")
    await team.rep.press("✅ Confirm")
    request = team.manager.last
    team.clock.set(datetime(2026, 12, 4, 10, 0, tzinfo=UTC))
    m0, o0, r0 = team.manager.mark(), team.officer.mark(), team.rep.mark()
    await team.manager.press("✅ Approve", request)
    await team.tick()
    await team.advance(timedelta(hours=1, minutes=1))
    for who, m in ((team.rep, r0), (team.manager, m0), (team.officer, o0)):
        print("=====", who.first_name if hasattr(who,'first_name') else who.id)
        for msg in who.since(m):
            print("--", msg.body[:300])
    print(await rows(team, "SELECT id, kind, state FROM alerts"))
    assert False
