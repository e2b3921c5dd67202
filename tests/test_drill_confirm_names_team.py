"""Start drills the team its confirmation named, and a team button of an earlier list is
stale. Before, Start re-read the team by its place in the newest list: an officer who confirmed
north, looked at south with /drill south, then pressed Start drilled south (found by a hostile
review)."""

from __future__ import annotations

from tests.builders import enrol_south, said
from tests.harness import World

START = "🧪 Start the drill"


async def test_start_on_an_older_confirmation_drills_the_team_it_named(team: World) -> None:
    _sol, sven = await enrol_south(team)
    await team.officer.send("/drill")
    await team.officer.press("north (1)")
    confirm_north = team.officer.last
    assert "north" in (confirm_north.body or "")
    await team.officer.send("/drill south")  # she looks at south, then goes back
    await team.officer.press(START, confirm_north)
    assert [t for t in team.rep.texts() if "DRILL" in t.upper()]
    assert not [t for t in sven.texts() if "DRILL" in t.upper()]


async def test_a_team_button_of_an_earlier_list_is_stale(team: World) -> None:
    _sol, sven = await enrol_south(team)
    await team.officer.send("/drill")
    first_list = team.officer.last
    await team.officer.send("/drill south")  # a new list: south is its first button
    toast = await team.officer.press("north (1)", first_list)
    assert toast is not None and toast.text == said("guard.stale_button")
    assert not [t for t in sven.texts() if "DRILL" in t.upper()]
