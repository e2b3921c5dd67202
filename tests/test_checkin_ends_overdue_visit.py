"""/checkin during a client visit over its end ends the visit (the all-clear goes), as "I'm
safe" typed does. Before, it answered "No check-in is due right now" and the visit's alert
climbed to the safety officers (found by a hostile review of the escalation core)."""

from __future__ import annotations

from datetime import timedelta

from tests.builders import alerts_in
from tests.harness import World

MIN = timedelta(minutes=1)


async def test_checkin_after_an_overdue_visit_stops_its_alert(team: World) -> None:
    await team.rep.send("/visit")
    await team.rep.send("Acme GmbH")
    await team.rep.press("Alone")
    await team.rep.press("+1 h")
    await team.rep.press("▶️ Start")
    await team.advance(70 * MIN)  # the end (10:00) + 10 min: the manager's alert
    assert alerts_in(team.manager.texts(), "has not ended a client visit")

    await team.advance(2 * MIN)
    await team.rep.send("/checkin")
    await team.services.deliver()
    await team.advance(10 * MIN)  # 10:22, past the officers' step at 10:20

    assert not alerts_in(team.officer.texts(), "Alert A-1"), team.rep.texts()[-1]
    assert "No check-in is due" not in "\n".join(team.rep.texts()[-3:])
    assert any("All clear" in t for t in team.manager.texts())
