""""I'm safe" typed to a roll-call, or to a visit over its end, while yesterday's missed check-in
is still open (tonight's reminder not sent yet) ends the missed check-in with an all-clear, as
it did before typed answers counted for their question (found by a review of the change)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from tests.builders import BERLIN, DEADLINE, at, plan_trip, rollcall_near_berlin, rows, said
from tests.harness import World


async def test_typed_im_safe_to_a_roll_call_leaves_the_missed_alert_unmentioned(
        team: World) -> None:
    await plan_trip(team, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
    await at(team, DEADLINE + timedelta(minutes=35))  # her manager is alerted
    # The next day, 13:30 in Berlin: tonight's window is open, its reminder not yet sent.
    await at(team, datetime(2026, 12, 2, 12, 30, tzinfo=UTC))
    [a] = await rows(team, "SELECT state FROM alerts")
    assert a["state"] not in ("closed", "resolved")
    await rollcall_near_berlin(team.officer)
    mark = team.rep.mark()

    await team.rep.send("I'm safe")

    read = [m.body for m in team.rep.since(mark)]
    [a] = await rows(team, "SELECT state FROM alerts")
    closed = a["state"] not in ("open", "acknowledged", "acked")
    told = said("rollcall.checkin_still_missing") in read
    assert closed or told, (a["state"], read)


async def test_typed_im_safe_at_a_visit_over_its_end_leaves_the_missed_alert_climbing(
        team: World) -> None:
    """The same with a visit over its end instead of a roll-call: ends_visit_typed makes
    text_reply end the visit and return before check_in, which used to close A-1."""
    from tests.builders import lone_visit
    await plan_trip(team, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
    await at(team, DEADLINE + timedelta(minutes=35))  # her manager is alerted
    await at(team, datetime(2026, 12, 2, 12, 0, tzinfo=UTC))  # 13:00 Berlin, next day
    await lone_visit(team.rep)  # one hour
    await at(team, datetime(2026, 12, 2, 13, 5, tzinfo=UTC))  # its end has passed
    mark = team.rep.mark()

    await team.rep.send("I'm safe")

    read = [m.body for m in team.rep.since(mark)]
    states = [r["state"] for r in await rows(
        team, "SELECT state FROM alerts WHERE kind = 'missed'")]
    closed = all(s not in ("open", "acknowledged", "acked") for s in states)
    told = any("check-in" in (b or "").lower() for b in read)
    assert closed or told, (states, read)
