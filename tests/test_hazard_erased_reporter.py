"""A report verified after its reporter erased herself: nobody earns its points, nobody is
sent a message about it, and the leaderboard shows no nameless row. Before, the admins were
told "User -1 could not be reached … ask them to press Start", the lead read "The reporter earns
10 points", and /points listed "1.  – 10" (found by a hostile review)."""

from __future__ import annotations

from tests.builders import YELLOW, report, said
from tests.harness import World


async def test_verifying_an_erased_reporters_hazard_sends_no_false_unreachable_notice(
    team: World,
) -> None:
    await report(team.rep, severity=YELLOW)
    await team.rep.send("/forgetme")
    await team.rep.press(said("forgetme.button_erase"))
    admin_mark = team.admin.mark()

    await team.manager.send("/hazards")
    await team.manager.press("✅ Verify")
    await team.tick()

    told = [m.body or "" for m in team.admin.since(admin_mark)]
    assert not any("could not be reached" in body for body in told), told
    assert team.manager.last.body == said("hazards.done.verified_anonymous", id=1, notified=0)


async def test_the_leaderboard_has_no_nameless_row_after_an_erasure(team: World) -> None:
    await report(team.rep, severity=YELLOW)
    await team.manager.send("/hazards")
    await team.manager.press("✅ Verify")  # Rita earns the points, then erases herself
    await team.rep.send("/forgetme")
    await team.rep.press(said("forgetme.button_erase"))

    await team.manager.send("/points")

    assert "1.  – 10" not in (team.manager.last.body or ""), team.manager.last.body
