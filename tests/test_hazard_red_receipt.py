"""The receipt of a red hazard report says who really has it: the managers and officers, the
administrators when none of them can be reached, or nobody (then: call your manager or the
emergency number). Before, it read "sent to 1 manager(s) and safety officer(s)" when only the
admin got it, and thanked her for a red danger "sent to 0" (found by a hostile review)."""

from __future__ import annotations

from tests.builders import jpeg, report, said
from tests.harness import World


async def _team_without_officer(world: World) -> None:
    await world.admin.send("/start")
    await world.enrol(world.manager, "manager", "north")
    await world.enrol(world.rep, "staff", "north")


async def test_a_red_report_that_went_to_the_admin_does_not_claim_a_manager_got_it(
    world: World,
) -> None:
    await _team_without_officer(world)
    await world.manager.block()

    await report(world.rep, photos=(jpeg(),))

    assert "Reported by: Rita" in (world.admin.last.caption or "")  # the admin got it
    assert world.rep.last.body == said("hazard.saved.urgent_admins", id=1, count=1)


async def test_a_red_report_that_reached_nobody_says_so_and_asks_her_to_call(
    world: World,
) -> None:
    await _team_without_officer(world)
    await world.manager.block()
    await world.admin.block()

    await report(world.rep)

    assert world.rep.last.body == said("hazard.saved.urgent_nobody", id=1)
    assert "call your manager" in said("hazard.saved.urgent_nobody", id=1)
