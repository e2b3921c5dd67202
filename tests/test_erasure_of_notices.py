"""/forgetme erases what the outbox holds about a person, not only what it sent them: Mia's
notice that Rita is on a visit alone (client, place, pin), Rita's client note, the roll-call's
"has not answered" and its summary, the drill's result, who acknowledged an alert. Sent ones
lose their content; one still waiting goes (it is someone's safety message) and keeps nothing
of her once sent. Found by a second pair of eyes trying the visits, roll-calls and drills as
careless and hostile people, and by a review of the change; both engines.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from faketelegram.errors import ServerError
from fieldbot.domain.hazards import Category, HazardReport, Severity
from fieldbot.storage import outbox
from fieldbot.storage.outbox import read_params
from tests.builders import (
    BERLIN,
    DEADLINE,
    SPOT,
    at,
    lone_visit,
    plan_for,
    plan_trip,
    rollcall_near_berlin,
    rows,
    said,
)
from tests.harness import World
from tests.pg import BACKENDS

pytestmark = pytest.mark.parametrize("backend", BACKENDS, indirect=True)

DUSK = datetime(2026, 12, 1, 18, 30, tzinfo=UTC)


async def stored_mentions(world: World, *needles: str) -> list[tuple[str, str]]:
    """(kind, state) of every stored message whose content mentions one of `needles`."""
    found = []
    for row in await rows(world, "SELECT kind, state, params FROM outbox WHERE params != ''"):
        if any(n in repr(read_params(row["params"], world.services.cipher)) for n in needles):
            found.append((row["kind"], row["state"]))
    return found


async def erase(world: World, who: str = "rep") -> None:
    user = getattr(world, who)
    await user.send("/forgetme")
    await user.press(said("forgetme.button_erase"))
    assert not await rows(world, "SELECT id FROM users WHERE id = ?", user.id)


async def test_a_visit_alone_and_its_note_leave_no_name_client_place_or_pin(team: World) -> None:
    team.clock.set(DUSK)
    await lone_visit(team.rep, pin=SPOT)
    assert "alone after dark" in team.manager.last.body
    await team.rep.send("/done")
    await team.rep.press("😠 Aggressive")
    await team.rep.send("The owner threatens reps")
    assert await stored_mentions(team, "Rita", "Acme", str(SPOT[0]))  # before: stored
    await erase(team)
    assert await stored_mentions(team, "Rita", "Acme", str(SPOT[0]), "threatens") == []
    [visit] = await rows(team, "SELECT client, place, place_zh, point FROM visits")
    assert visit == {"client": "", "place": "", "place_zh": "", "point": ""}


async def test_the_retention_purge_empties_a_visits_place_in_chinese_too(team: World) -> None:
    await lone_visit(team.rep, pin=SPOT)
    await team.rep.send("/done")
    [before] = await rows(team, "SELECT place_zh FROM visits")
    assert before["place_zh"]
    await team.advance(timedelta(days=400))  # past any retention
    await team.services.privacy.purge()
    [after] = await rows(team, "SELECT client, place, place_zh FROM visits")
    assert after == {"client": "", "place": "", "place_zh": ""}


async def test_a_roll_calls_notices_and_summary_and_a_drills_result_forget_her(
    team: World,
) -> None:
    await plan_for(team, team.rep, BERLIN, date(2026, 12, 1), date(2026, 12, 4))
    await team.officer.send("/drill")
    await team.officer.press("north (1)")
    await team.officer.press("🧪 Start the drill")
    await team.rep.press("✅ I'm safe (drill)")
    await rollcall_near_berlin(team.officer)
    await team.advance(timedelta(minutes=31))  # asked again, then Mia told of her silence
    assert [t for t in team.manager.texts() if "has not answered" in t]
    tally = team.officer.last
    await team.officer.press("⏹ Close", tally)
    await team.officer.press("⏹ Yes, close it", tally)
    assert "No answer: Rita" in team.officer.last.body
    kinds = {kind for kind, _ in await stored_mentions(team, "Rita")}
    assert {"drill_result", "rollcall_silent", "rollcall_summary"} <= kinds
    await erase(team)
    assert await stored_mentions(team, "Rita") == []


async def test_a_safety_message_about_her_still_waiting_goes_and_then_keeps_nothing_of_her(
    team: World,
) -> None:
    """Rita checks in late and erases herself at once, while Mia's chat fails for a moment:
    the all-clear still reaches Mia (she read "Rita missed her check-in"), and once sent it
    keeps nothing of Rita. Erasure must never withdraw someone else's safety message."""
    await plan_trip(team, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
    await at(team, DEADLINE + timedelta(minutes=31))
    assert "Rita" in team.manager.last.body  # Mia was alerted
    team.fake.fail_always("sendMessage", ServerError(502), chat_id=team.manager.id)
    await team.rep.send("/checkin")
    assert ("all_clear", "pending") in await stored_mentions(team, "Rita")
    await erase(team)
    team.fake.clear_failures()
    await team.advance(timedelta(minutes=10))  # Telegram takes Mia's messages again
    assert [t for t in team.manager.texts() if "checked in" in t and "A-1" in t]
    assert await stored_mentions(team, "Rita") == []


async def test_a_red_hazard_alert_still_waiting_reaches_the_leads_after_its_reporter_goes(
    team: World,
) -> None:
    team.fake.fail_always("sendMessage", ServerError(502), chat_id=team.manager.id)
    rita = await team.services.enrolment.member(team.rep.id)
    assert rita is not None
    report = HazardReport(Category.CRIME, Severity.RED, 52.52, 13.40, "Berlin", True,
                          "FIXTURE armed robbery at the station")
    assert (await team.services.hazards.report(rita, report, "draft-1")).alerted >= 1
    await team.tick()
    await erase(team)
    team.fake.clear_failures()
    await team.advance(timedelta(minutes=10))
    assert [t for t in team.manager.texts() if "FIXTURE armed robbery" in t]
    assert await stored_mentions(team, "Rita") == []


async def test_a_message_to_an_erased_person_leaves_nothing_that_names_a_later_one(
    team: World,
) -> None:
    """A notice to Mia about Rita, still waiting, goes with Mia's erasure, and so does the
    note of whom it was about: the next message (an alert to Olu, which may take the freed
    id) is not taken for one about Rita, and her erasure leaves it alone."""
    team.fake.fail_always("sendMessage", ServerError(502), chat_id=team.manager.id)
    team.clock.set(DUSK)
    await lone_visit(team.rep)
    await team.admin.send(f"/forgetme {team.manager.id}")  # her chat fails: the operator
    await team.admin.press("🗑 Erase")
    assert not await rows(team, "SELECT id FROM users WHERE id = ?", team.manager.id)
    assert await rows(team, "SELECT * FROM outbox_about WHERE outbox_id NOT IN"
                            " (SELECT id FROM outbox)") == []
    async with team.services.db.transaction() as tx:
        await outbox.enqueue(tx, dedupe="alert:99:step:2:to:olu", recipient=team.officer.id,
                             kind="alert", params={}, priority=50, now=team.clock.now())
    await team.rep.send("/done")
    await erase(team)
    assert await rows(team, "SELECT id FROM outbox WHERE dedupe = 'alert:99:step:2:to:olu'")


async def test_who_acknowledged_an_alert_is_forgotten_with_her(team: World) -> None:
    await plan_trip(team, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
    await at(team, DEADLINE + timedelta(minutes=60))
    await team.manager.press("Acknowledge")
    assert "Mia" in team.rep.last.body  # the rep learns who has it
    assert await stored_mentions(team, "Mia")
    await team.rep.send("/checkin")  # the all-clear names Rita to those alerted
    await erase(team, "manager")
    assert await stored_mentions(team, "Mia") == []
    assert await stored_mentions(team, "Rita")  # Rita's own: not erased
