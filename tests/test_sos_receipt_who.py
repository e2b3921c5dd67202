"""The rep's SOS receipt says who is really being alerted: "your manager and the safety
officers" only when there are both. Before, an organisation with no safety officer, or a team
whose manager had blocked the bot, still read that both were being alerted."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.builders import said
from tests.harness import World
from tests.pg import BACKENDS

pytestmark = pytest.mark.parametrize("backend", BACKENDS, indirect=True)


async def test_with_manager_and_officers_both_are_named(team: World) -> None:
    await team.rep.send("/sos")
    assert said("sos.sent.leads") in [m.body for m in team.rep.messages]


async def test_without_a_safety_officer_only_the_manager_is_named(world: World) -> None:
    await world.admin.send("/start")
    await world.enrol(world.manager, "manager", "north")
    await world.enrol(world.rep, "staff", "north")

    await world.rep.send("/sos")
    bodies = [m.body for m in world.rep.messages]
    assert said("sos.sent.manager") in bodies
    assert "SOS" in (world.manager.last.body or "")

    await world.rep.send("/sos")  # again: already active, still only the manager
    assert said("sos.already.manager") in [m.body for m in world.rep.messages]


async def test_a_manager_who_blocked_the_bot_is_not_named(team: World) -> None:
    await team.manager.block()
    await team.advance(timedelta(seconds=1))

    await team.rep.send("/sos")
    assert said("sos.sent.officers") in [m.body for m in team.rep.messages]
    assert "SOS" in (team.officer.last.body or "")


async def test_with_nobody_to_alert_she_is_asked_to_call(world: World) -> None:
    await world.admin.send("/start")
    await world.enrol(world.rep, "staff", "north")

    await world.rep.send("/sos")
    assert said("sos.sent.nobody") in [m.body for m in world.rep.messages]
    assert "Call your manager" in said("sos.sent.nobody")


async def test_the_chinese_receipt_names_only_the_manager_too(world: World) -> None:
    await world.admin.send("/start")
    await world.enrol(world.manager, "manager", "north")
    await world.enrol(world.rep, "staff", "north")
    await world.rep.send("/language")
    await world.rep.press("中文")

    await world.rep.send("/sos")
    assert said("sos.sent.manager", "zh") in [m.body for m in world.rep.messages]
    assert "安全专员" not in said("sos.sent.manager", "zh")
