"""A trip still to come can be withdrawn with /endtrip: filed with the wrong dates, the overlap
refusal sends the rep there, and it works. Before, /endtrip said "no trip under way" and nothing
anywhere could withdraw it, so the right dates could never be filed and the wrong trip's
check-ins would start (found by a hostile review)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from tests.builders import BERLIN, plan, plan_trip, rows, said
from tests.harness import World


async def _filed_wrong_then_refused(team: World) -> None:
    await plan(team.rep, start="2026-12-10", end="2026-12-12")  # she meant 11-13
    await team.rep.press("✅ Confirm")
    await plan(team.rep, start="2026-12-11", end="2026-12-13")
    await team.rep.press("✅ Confirm")
    assert "withdraw the other trip with /endtrip first" in team.rep.last.body


async def test_a_trip_filed_with_the_wrong_dates_is_withdrawn_and_the_right_one_filed(
        team: World) -> None:
    await _filed_wrong_then_refused(team)
    manager_mark = team.manager.mark()

    await team.rep.send("/endtrip")
    assert team.rep.last.body.startswith("You have no trip under way to end.")
    await team.rep.press("❌ Berlin, Germany, from 10 Dec 2026")
    assert team.rep.last.body.startswith("✅ Your trip to Berlin, Germany (10 Dec 2026")
    await team.tick()
    assert [m.body for m in team.manager.since(manager_mark)] == [said(
        "trip.withdrawn_notice", name="Rita", places="Berlin, Germany", start="10 Dec 2026",
        end="12 Dec 2026")]
    [wrong] = await rows(team, "SELECT status FROM trips WHERE id = 1")
    assert wrong["status"] == "cancelled"
    assert not await rows(team, "SELECT id FROM nights WHERE trip_id = 1 AND state = 'pending'")

    await team.rep.send("/trip")  # the refused plan was put aside by /endtrip: on with it
    await team.rep.press("Continue")
    await team.rep.press("✅ Confirm")  # now it goes in
    assert "Trip plan saved" in team.rep.last.body
    [right] = await rows(team, "SELECT status FROM trips WHERE id = 2")
    assert right["status"] == "approved"


async def test_an_old_withdraw_button_changes_nothing_once_the_trip_has_begun(
        team: World) -> None:
    await _filed_wrong_then_refused(team)
    await team.rep.send("/endtrip")
    offer = team.rep.last
    team.clock.set(datetime(2026, 12, 10, 9, 0, tzinfo=UTC))  # the trip has begun
    await team.rep.press("❌ Berlin, Germany, from 10 Dec 2026", offer)
    assert team.rep.last.body == said("endtrip.withdraw_refused")
    [trip] = await rows(team, "SELECT status FROM trips WHERE id = 1")
    assert trip["status"] == "approved"


async def test_a_trip_under_way_is_ended_not_withdrawn(team: World) -> None:
    await plan_trip(team, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
    await team.rep.send("/endtrip")
    assert team.rep.last.body.startswith("🏁")
    assert "❌" not in str(team.rep.last.buttons)


async def test_a_waiting_approval_withdrawn_can_no_longer_be_approved(team: World) -> None:
    await plan(team.rep, start="2026-12-10", end="2026-12-12", companion="alone")
    await team.rep.press("✅ Confirm")
    request = team.manager.last
    assert request.buttons == [["✅ Approve", "❌ Reject"]]
    await team.rep.send("/endtrip")
    await team.rep.press("❌ Berlin, Germany, from 10 Dec 2026")
    await team.manager.press("✅ Approve", request)
    [trip] = await rows(team, "SELECT status FROM trips WHERE id = 1")
    assert trip["status"] == "cancelled"
    assert not await rows(team, "SELECT id FROM nights")


async def test_keep_them_all_withdraws_nothing(team: World) -> None:
    await _filed_wrong_then_refused(team)
    await team.rep.send("/endtrip")
    await team.rep.press(said("endtrip.button.keep_all"))
    assert team.rep.last.body == said("endtrip.kept_all")
    [trip] = await rows(team, "SELECT status FROM trips WHERE id = 1")
    assert trip["status"] == "approved"


# An old or second withdraw button (found by a review of the change): only a trip waiting for
# approval or approved may be withdrawn, once.
async def test_an_old_withdraw_button_does_not_touch_a_trip_rejected_since(team: World) -> None:
    await plan(team.rep, start="2026-12-10", end="2026-12-12", companion="alone")
    await team.rep.press("✅ Confirm")
    request = team.manager.last
    await team.rep.send("/endtrip")
    offer = team.rep.last  # the withdraw button of the trip waiting for approval
    await team.rep.send("/trips")  # she leaves the offer there
    await team.manager.press("❌ Reject", request)
    await team.manager.send("Not this month")
    [before] = await rows(team, "SELECT status, decision_note FROM trips WHERE id = 1")
    assert before["status"] == "rejected"
    manager_mark = team.manager.mark()

    await team.rep.press("❌ Berlin, Germany, from 10 Dec 2026", offer)
    await team.tick()

    [after] = await rows(team, "SELECT status, decision_note FROM trips WHERE id = 1")
    told = [m.body for m in team.manager.since(manager_mark)]
    assert (after["status"], bool(after["decision_note"]), told) == ("rejected", True, [])
    assert team.rep.last.body == said("endtrip.withdraw_refused")


async def test_a_trip_withdrawn_already_is_not_withdrawn_twice(team: World) -> None:
    await plan(team.rep, start="2026-12-10", end="2026-12-12")
    await team.rep.press("✅ Confirm")
    await team.rep.send("/endtrip")
    first = team.rep.last
    await team.rep.send("/endtrip")
    second = team.rep.last
    await team.rep.press("❌ Berlin, Germany, from 10 Dec 2026", first)
    assert team.rep.last.body.startswith("✅ Your trip to Berlin")
    await team.rep.press("❌ Berlin, Germany, from 10 Dec 2026", second)
    assert team.rep.last.body == said("endtrip.withdraw_refused")
    assert len(await rows(team, "SELECT id FROM audit WHERE action = 'trip_withdraw'")) == 1


# On the road (found by a review of the change): the refusal sends her to /endtrip, which
# offers the trip still to come beside the one under way.
async def test_a_wrong_trip_to_come_can_be_withdrawn_while_another_is_under_way(
        team: World) -> None:
    await plan_trip(team, BERLIN, date(2026, 12, 1), date(2026, 12, 3))  # under way today
    await plan(team.rep, start="2026-12-10", end="2026-12-12")  # she meant 11-13
    await team.rep.press("✅ Confirm")
    await plan(team.rep, start="2026-12-11", end="2026-12-13")
    await team.rep.press("✅ Confirm")
    assert "withdraw the other trip with /endtrip first" in team.rep.last.body

    await team.rep.send("/endtrip")  # as the refusal says
    buttons = [b for row in team.rep.last.buttons for b in row]
    assert "❌ Berlin, Germany, from 10 Dec 2026" in buttons, (team.rep.last.body, buttons)
    assert "🏁 End the trip" in buttons  # the trip under way, offered on its own button
    await team.rep.press("❌ Berlin, Germany, from 10 Dec 2026")
    statuses = [r["status"] for r in await rows(team, "SELECT status FROM trips ORDER BY id")]
    assert statuses == ["approved", "cancelled"]  # on the road still, the wrong one gone


async def test_a_trip_still_waiting_on_its_first_day_can_be_withdrawn(team: World) -> None:
    """Never approved, it asked no check-in; it would block the dates of any other trip until
    a manager decided (found by a review of the change)."""
    await plan(team.rep, start="2026-12-10", end="2026-12-12", companion="alone")
    await team.rep.press("✅ Confirm")
    team.clock.set(datetime(2026, 12, 10, 9, 0, tzinfo=UTC))  # its first day: still waiting
    await team.rep.send("/endtrip")
    await team.rep.press("❌ Berlin, Germany, from 10 Dec 2026")
    [trip] = await rows(team, "SELECT status FROM trips WHERE id = 1")
    assert trip["status"] == "cancelled"
