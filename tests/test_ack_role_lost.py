"""An alert acknowledged by someone who then loses the role to act on it (`fieldbot set-role`
made her staff) goes back up its ladder, at the next tier, due now, as for an acknowledger
who is erased (promise 14). Before, it stayed hers for good: no officer told, nothing repeated,
and she could not resolve it (found by a hostile review of the escalation core)."""

from __future__ import annotations

from datetime import date, timedelta

from fieldbot.domain.roles import Role
from tests.builders import BERLIN, DEADLINE, alerts_in, at, plan_trip, rows
from tests.harness import World


async def test_an_alert_acked_by_a_manager_who_becomes_staff_goes_to_the_officers(
    team: World,
) -> None:
    await plan_trip(team, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
    await at(team, DEADLINE + timedelta(minutes=30))
    assert "Alert A-1" in team.manager.last.body
    await team.manager.press("Acknowledge")
    assert not alerts_in(team.officer.texts(), "Alert A-1")

    await team.services.enrolment.change_role(team.manager.id, Role.STAFF, "north")
    await team.advance(timedelta(minutes=1))

    [alert] = await rows(team, "SELECT state, acked_by FROM alerts")
    assert alert["state"] == "open", alert  # nobody who may act holds it any more
    assert alerts_in(team.officer.texts(), "Alert A-1")  # the officers are told at once


async def test_a_manager_who_stays_a_lead_keeps_what_she_acknowledged(team: World) -> None:
    await plan_trip(team, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
    await at(team, DEADLINE + timedelta(minutes=30))
    await team.manager.press("Acknowledge")
    await team.services.enrolment.change_role(team.manager.id, Role.OFFICER, "")
    await team.advance(timedelta(minutes=1))
    [alert] = await rows(team, "SELECT state, acked_by FROM alerts")
    assert (alert["state"], alert["acked_by"]) == ("acknowledged", team.manager.id)
