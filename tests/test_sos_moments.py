"""After an SOS the rep is not left alone with silence: she is told when someone has seen it
and when it is closed (never for a duress alert), and a mis-tap can be taken back at once,
everyone alerted told. SOS sits rows apart from I'm safe on the reminder."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from tests.builders import BERLIN, REMINDER, at, plan_trip, rows, said
from tests.harness import World
from tests.test_hardening_duress import WORD, duress_world


async def test_the_rep_is_told_who_has_seen_her_sos_and_when_it_is_closed(team: World) -> None:
    await team.rep.send("/sos")
    assert "SOS" in team.manager.last.body
    await team.manager.press("Acknowledge")
    assert team.rep.last.body == said("sos.seen", by_name="Mia", alert="A-1")
    await team.manager.press(said("resolve.phone"))  # acknowledged: the reasons are offered
    assert team.rep.last.body == said("sos.closed", by_name="Mia", alert="A-1")


async def test_a_duress_alert_tells_the_rep_nothing_when_it_is_handled(tmp_path: Path) -> None:
    world = await duress_world(tmp_path)
    try:
        await at(world, REMINDER)
        await world.rep.send(f"/checkin {WORD}")
        mark = world.rep.mark()
        duress = [m for m in world.manager.messages if m.buttons == [["Acknowledge", "Resolve"]]]
        await world.manager.press("Acknowledge", duress[-1])
        await world.manager.press(said("resolve.phone"))
        assert world.rep.since(mark) == []
    finally:
        await world.stop()


async def test_a_mistaken_sos_is_taken_back_and_everyone_alerted_is_told(team: World) -> None:
    await plan_trip(team, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
    await team.rep.send("/sos")
    assert team.rep.last.body == said("sos.mistake_offer")
    await team.rep.press(said("sos.button.mistake"))
    assert team.rep.last.body == said("sos.mistake_done")
    notice = said("sos.mistake_notice", alert="A-1", subject_name="Rita")
    assert team.manager.last.body == notice and team.officer.last.body == notice
    [alert] = await _alerts(team)
    assert (alert["state"], alert["resolution"]) == ("resolved", "false_alarm")
    # Nothing more climbs: the ladder of the withdrawn SOS is gone.
    before = len(team.manager.messages)
    await team.advance(timedelta(minutes=60))
    assert len(team.manager.messages) == before


async def test_an_old_or_forged_mistake_button_closes_nothing(team: World) -> None:
    await team.rep.send("/sos")
    offer = team.rep.last
    await team.manager.press("Acknowledge")
    await team.manager.press(said("resolve.phone"))
    toast = await team.rep.press(said("sos.button.mistake"), offer)
    assert toast is not None and toast.text == said("sos.mistake_too_late")
    # An old offer never closes a later SOS; another rep's button closes nothing of Rita's.
    await team.rep.send("/sos")  # A-2, open
    toast = await team.rep.press(said("sos.button.mistake"), offer)
    assert toast is not None and toast.text == said("sos.mistake_too_late")
    eve = team.fake.user(9999, "Eve")
    await team.enrol(eve, "staff", "north")
    toast = await eve.press_data("sos:mistake")
    assert toast is not None and toast.text == said("sos.mistake_too_late")
    states = {a["id"]: a["state"] for a in await _alerts(team)}
    assert states[2] == "open"


async def _alerts(world: World) -> list[dict[str, object]]:
    return await rows(world, "SELECT id, state, resolution FROM alerts ORDER BY id")
