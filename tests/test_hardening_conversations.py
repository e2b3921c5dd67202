"""Issue 10, item 6: conversations never capture each other's input. One open question per
person (starting something else ends it, visibly), questions expire by the bot's clock (also
across a restart), and a question about one night never acts on another."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from fieldbot.domain.trips import TripStatus
from fieldbot.services.checkins import Refusal
from tests.builders import (
    BERLIN,
    DEADLINE,
    REMINDER,
    alerts_in,
    at,
    first_line,
    import_us_fixture,
    plan,
    plan_trip,
    rows,
    said,
    trips_of,
)
from tests.harness import World

PUT_ASIDE = "⏸ Your unfinished trip plan was put aside. Send /trip to continue it."
SKIP_CLOSED = "✖️ The open question (reason for skipping tonight) was closed: nothing was saved."


async def nights(world: World) -> list[dict[str, Any]]:
    return await rows(world, "SELECT id, day, state FROM nights ORDER BY day")


async def test_an_abandoned_trip_draft_does_not_eat_a_skip_reason(team: World) -> None:
    await plan_trip(team, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
    team.clock.set(REMINDER - timedelta(minutes=20))
    await team.rep.send("/trip")
    await team.rep.send("Berlin")  # the plan now waits for its start date; she leaves it
    await at(team, REMINDER)
    mark = team.rep.mark()
    await team.rep.press("Skip tonight")
    assert [m.body for m in team.rep.since(mark)][-2:] == [
        PUT_ASIDE, "Why are you skipping tonight's check-in? (Your manager will be told; send "
        "/cancel to go back.)"]
    await team.rep.send("Dinner with the client runs late")
    assert "tonight is skipped" in team.rep.last.body
    assert "Dinner with the client" in team.manager.last.body
    assert (await nights(team))[0]["state"] == "skipped"
    await at(team, DEADLINE + timedelta(hours=2))
    assert not alerts_in(team.manager.texts(), "Alert")
    # the plan was put aside, not lost: /trip offers it again
    await team.rep.send("/trip")
    assert team.rep.last.buttons == [["Continue", "Start over"]]
    await team.rep.press("Continue")
    assert first_line("trip.ask.start", place="Berlin, Germany") in team.rep.last.body


async def test_an_abandoned_trip_draft_does_not_eat_a_reject_reason(team: World) -> None:
    await import_us_fixture(team)
    await team.manager.send("/trip")
    await team.manager.send("Berlin")  # Mia's own plan, left at its start date
    await plan(team.rep, "Seoul", "2026-12-02", "2026-12-04")
    await team.rep.press("✅ Confirm")
    mark = team.manager.mark()
    await team.manager.press("❌ Reject")
    bodies = [m.body for m in team.manager.since(mark)]
    assert bodies[0] == PUT_ASIDE
    assert bodies[-1].startswith("Why do you reject this trip plan?")
    await team.manager.send("Not this month")
    assert team.manager.last.body == said("approval.done.rejected")
    [trip] = await trips_of(team, team.rep)
    assert trip.status is TripStatus.REJECTED
    assert await trips_of(team, team.manager) == []


async def test_a_skip_question_left_open_expires_and_skips_no_other_night(team: World) -> None:
    await plan_trip(team, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
    await at(team, REMINDER)
    await team.rep.press("Skip tonight")  # ... and she never answers
    await at(team, DEADLINE + timedelta(minutes=5))
    await at(team, REMINDER + timedelta(days=1))  # the next evening's reminder
    manager_mark = team.manager.mark()
    mark = team.rep.mark()
    await team.rep.send("ok thanks")
    assert team.rep.since(mark)[0].body == (
        "⌛ The question (reason for skipping tonight) went unanswered for 30 minutes and was "
        "closed: nothing was saved.")
    states = [n["state"] for n in await nights(team)]
    assert states[1] != "skipped"
    assert not any("skipping" in m.body for m in team.manager.since(manager_mark))


async def test_a_question_expires_by_the_clock_even_across_a_restart(team: World) -> None:
    await team.rep.send("/risk")
    assert team.rep.last.body.startswith("Which place?")
    await team.restart()
    team.clock.advance(timedelta(minutes=31))
    mark = team.rep.mark()
    await team.rep.send("Berlin")
    bodies = [m.body for m in team.rep.since(mark)]
    assert bodies == ["⌛ The question (place to assess with /risk) went unanswered for 30 "
                      "minutes and was closed: nothing was saved."]


async def test_a_question_still_fresh_is_answered(team: World) -> None:
    await team.rep.send("/risk")
    team.clock.advance(timedelta(minutes=29))
    await team.rep.send("Berlin")
    assert "Berlin" in team.rep.last.body and "went unanswered" not in team.rep.last.body


async def test_a_command_closes_the_open_question_visibly(team: World) -> None:
    await plan_trip(team, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
    await at(team, REMINDER)
    await team.rep.press("Skip tonight")
    mark = team.rep.mark()
    await team.rep.send("/checkin")
    bodies = [m.body for m in team.rep.since(mark)]
    assert bodies[0] == SKIP_CLOSED
    assert bodies[1].startswith("✅ Thanks — you are checked in for tonight.")
    await team.rep.send("I changed my mind, skipping")
    assert (await nights(team))[0]["state"] == "checked_in"


async def test_a_draft_put_aside_expires_into_the_drawer_not_the_bin(team: World) -> None:
    await team.rep.send("/trip")
    await team.rep.send("Berlin")
    team.clock.advance(timedelta(hours=2, minutes=1))
    mark = team.rep.mark()
    await team.rep.send("2026-12-03")
    assert [m.body for m in team.rep.since(mark)] == [
        "⌛ Your unfinished trip plan was put aside after 120 minutes without an answer. Send "
        "/trip to continue it."]
    await team.rep.send("/trip")
    await team.rep.press("Start over")
    assert "Where are you going?" in team.rep.last.body


async def test_an_old_reminders_skip_button_skips_no_other_night(team: World) -> None:
    await plan_trip(team, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
    await at(team, REMINDER)
    first_reminder = team.rep.last
    await team.rep.send("/checkin")  # the reminder keeps its buttons
    await at(team, REMINDER + timedelta(days=1))
    await team.rep.press("Skip tonight", first_reminder)
    assert team.rep.last.body == ("That question was about another night: nothing was changed. "
                                  "Please use the buttons of tonight's reminder.")
    assert [n["state"] for n in await nights(team)][1] == "reminded"


async def test_a_skip_answer_names_its_night(team: World) -> None:
    await plan_trip(team, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
    first, second, _ = await nights(team)
    team.clock.set(REMINDER + timedelta(days=1))
    change = await team.services.checkins.skip(team.rep.id, "late dinner", first["id"])
    assert change.refused is Refusal.OTHER_NIGHT
    change = await team.services.checkins.skip(team.rep.id, "late dinner", second["id"])
    assert change.refused is None


async def test_im_safe_typed_after_a_reminder_mid_plan_checks_in_and_keeps_the_draft(
        team: World) -> None:
    """Promise 12: a reply answers the question last asked. The evening reminder came in the
    middle of a trip plan's questions; "I'm safe" answers the reminder. Before, it was saved
    as the new trip's lodging and tonight went missed (found by a hostile review)."""
    await plan_trip(team, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
    team.clock.set(REMINDER - timedelta(minutes=5))  # 19:55 in Berlin
    await team.rep.send("/trip")
    await team.rep.send("Tokyo")
    await team.rep.send("2026-12-10")
    await team.rep.send("2026-12-12")
    await team.rep.press("No, that's all")  # the bot asks for the lodging address
    await team.advance(timedelta(minutes=6))  # 20:01: the evening reminder
    assert "Evening check-in: please let us know you are safe" in team.rep.last.body

    mark = team.rep.mark()
    await team.rep.send("I'm safe")
    said_now = [m.body or "" for m in team.rep.since(mark)]
    assert said_now[0] == said("flow.put_aside", what="trip plan", command="/trip")
    assert "checked in" in said_now[-1].lower()
    assert [n["state"] for n in await nights(team)][0] == "checked_in"

    await team.rep.send("/trip")  # the draft is as she left it: Tokyo, no lodging yet
    await team.rep.press("Continue")
    assert (team.rep.last.body or "").startswith("Where will you stay?")


async def test_a_lodging_that_is_no_check_in_word_still_answers_the_plan(team: World) -> None:
    await plan_trip(team, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
    team.clock.set(REMINDER - timedelta(minutes=5))
    await team.rep.send("/trip")
    await team.rep.send("Tokyo")
    await team.rep.send("2026-12-10")
    await team.rep.send("2026-12-12")
    await team.rep.press("No, that's all")
    await team.advance(timedelta(minutes=6))  # the reminder waits for an answer
    await team.rep.send("Hotel Safe Harbour, Minato")
    assert "emergency contact" in (team.rep.last.body or "")
    assert [n["state"] for n in await nights(team)][0] == "reminded"
