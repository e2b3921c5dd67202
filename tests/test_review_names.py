"""Review of issue 10 by trying (item 5, hostile names): a 64-character name full of
right-to-left overrides reaches every list and alert without its bidi controls, so it cannot
reverse the bot's own words around it in the manager's alert, /alerts or /team."""

from __future__ import annotations

from datetime import date, timedelta

from tests.harness import World
from tests.test_escalation_flow import BERLIN, DEADLINE, at, plan_trip

BIDI = ("\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069")


async def test_names_with_rtl_overrides_reach_no_message_with_their_controls(
    world: World,
) -> None:
    world.rep.first_name = ("\u202eRita <b>&amp;</b> \u2067Ähmed" * 5)[:64]
    world.rep.last_name = ("\u202devil\u202c" * 20)[:64]
    await world.enrol_team()
    await plan_trip(world, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
    await at(world, DEADLINE + timedelta(minutes=61))
    await world.rep.send("/sos")
    for command in ("/alerts", "/team"):
        await world.manager.send(command)
        await world.officer.send(command)
    await world.manager.press("Acknowledge")
    people = (world.admin, world.manager, world.officer, world.rep)
    bodies = [m.body or "" for person in people for m in person.messages]
    assert any("Rita <b>&amp;</b> Ähmed" in body for body in bodies)  # the name, unharmed
    for body in bodies:
        assert len(body) <= 4096
        assert not any(control in body for control in BIDI), repr(body[:120])


async def test_a_name_with_rtl_overrides_reaches_no_button_with_them(world: World) -> None:
    """A colleague's name on /visit's companion buttons and /drill's person buttons: the
    label reads the name, not the rest of the row reversed."""
    eve = world.fake.user(4007, "Eve\u202eevil\u2067", "en")
    await world.enrol_team()
    await world.enrol(eve, "staff", "north")
    await world.rep.send("/visit")
    await world.rep.send("Acme")
    await world.officer.send("/drill Eve")
    labels = [b for user in (world.rep, world.officer) for message in user.messages
              for row in message.buttons for b in row]
    assert labels.count("Eveevil") == 2, labels
    assert not any(control in label for label in labels for control in BIDI)
