"""An Acknowledge pressed on a drill's alert after the drill ended (unanswered, or stood down
because a real alert about the person opened) says the alert is over, and never that the
person checked in. Before, every alert no longer live read "already over (the person checked
in, or it was resolved)", while Rita had answered nothing and, in the second case, her real
missed check-in was climbing (found by a hostile review)."""

from __future__ import annotations

from datetime import date, timedelta

from tests.builders import BERLIN, DEADLINE, at, plan_trip, rows, said
from tests.harness import World

START = "🧪 Start the drill"


async def test_an_old_acknowledge_of_an_ended_drill_says_it_is_over(team: World) -> None:
    await team.officer.send("/drill Rita")
    await team.officer.press("Rita")
    await team.officer.press(START)
    for _ in range(5):
        await team.advance(timedelta(minutes=15))  # the drill climbs to her manager
    drill_alert = next(m for m in team.manager.messages if "DRILL" in (m.body or "").upper()
                       and m.inline_keyboard)
    await team.advance(timedelta(hours=2))  # the drill ends: nobody answered
    assert "Rita: nobody answered" in (team.officer.last.body or "")
    toast = await team.manager.press(drill_alert.inline_keyboard[0][0]["text"], drill_alert)
    assert toast is not None and toast.text == said("alert.err.closed")
    assert "checked in" not in toast.text


async def test_an_old_acknowledge_of_a_stood_down_drill_never_says_she_checked_in(
        team: World) -> None:
    await plan_trip(team, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
    await at(team, DEADLINE - timedelta(minutes=45))
    await team.officer.send("/drill Rita")
    await team.officer.press("Rita")
    await team.officer.press(START)
    await at(team, DEADLINE - timedelta(minutes=15))  # the drill reaches Mia
    drill_alert = next(m for m in team.manager.messages if "DRILL A-1" in (m.body or "")
                       and m.inline_keyboard)
    await at(team, DEADLINE + timedelta(minutes=30))  # the real one: Alert A-2 to Mia
    assert any("Alert A-2" in t for t in team.manager.texts())
    toast = await team.manager.press(drill_alert.inline_keyboard[0][0]["text"], drill_alert)
    [real] = await rows(team, "SELECT state FROM alerts WHERE kind = 'missed'")
    assert real["state"] == "open"
    assert toast is not None and "checked in" not in toast.text
