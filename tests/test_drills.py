"""Drills end to end (DESIGN.md §12): a practice alert through the real ladder, labelled DRILL
in every message and outbox row, ended by the person's "I'm safe" or a lead's Acknowledge,
measured, reported — and never confused with a real alert."""

from __future__ import annotations

import json
from datetime import timedelta

from fieldbot.domain.report import Month
from tests.builders import rows, said
from tests.harness import World

DRILL_LABEL = "🧪 DRILL — practice only, not a real alert."


async def start_team_drill(world: World) -> None:
    await world.officer.send("/drill")
    await world.officer.press("north (1)")
    await world.officer.press("🧪 Start the drill")


async def outbox_params(world: World) -> list[dict[str, object]]:
    cipher = world.services.cipher
    found = []
    for r in await rows(world, "SELECT kind, params FROM outbox WHERE alert_id IS NOT NULL"
                               " OR kind IN ('all_clear', 'ack_notice', 'drill_result')"):
        text = r["params"]
        found.append({"kind": r["kind"], **json.loads(cipher.decrypt(text)
                                                       if not text.startswith("{") else text)})
    return found


async def test_a_drill_ended_by_the_reps_im_safe(team: World) -> None:
    await start_team_drill(team)
    assert said("drill.started", drill="D-1", count=1, minutes=120) in team.officer.last.body
    first = team.rep.last
    assert first.body.startswith(DRILL_LABEL) and "Drill A-1" in first.body
    assert first.buttons == [["✅ I'm safe (drill)"]]  # not the real check-in buttons

    team.clock.advance(timedelta(minutes=3))
    await team.rep.press("✅ I'm safe (drill)")
    assert team.rep.last.body == said("drill.safe_thanks")
    await team.tick()
    result = team.officer.last.body
    assert result.startswith(DRILL_LABEL)
    assert "1 of 1 answered" in result and "Rita: safe, answered after 3 minutes" in result
    [alert] = await rows(team, "SELECT kind, state FROM alerts")
    assert (alert["kind"], alert["state"]) == ("drill", "closed")
    assert all(p.get("drill") is True for p in await outbox_params(team))
    actions = [r["action"] for r in await rows(team, "SELECT action FROM audit")]
    assert {"drill_start", "drill_safe", "drill_done"} <= set(actions)


async def test_a_drill_climbs_the_real_ladder_and_ends_with_acknowledge(team: World) -> None:
    await start_team_drill(team)
    await team.advance(timedelta(minutes=30))  # the base ladder: the manager after 30 min
    alert = team.manager.last
    assert alert.body.startswith(DRILL_LABEL) and "DRILL A-1" in alert.body
    assert alert.buttons == [["Acknowledge", "Resolve"]]
    await team.advance(timedelta(minutes=2))
    await team.manager.press("Acknowledge")

    result = team.officer.last.body
    assert "Rita: acknowledged by Mia after 32 minutes" in result
    assert "nobody answered" not in result
    # Nothing more of the drill: no repeats, no officers' turn.
    seen = len(team.manager.messages) + len(team.rep.messages)
    await team.advance(timedelta(hours=3))
    assert len(team.manager.messages) + len(team.rep.messages) == seen
    assert all(p.get("drill") is True for p in await outbox_params(team))


async def test_nobody_answers_the_drill_ends_and_says_who_never_did(team: World) -> None:
    await start_team_drill(team)
    await team.restart()  # the drill lives in the database: it still runs and ends
    for _ in range(5):
        await team.advance(timedelta(minutes=30))
    result = team.officer.last.body
    assert "0 of 1 answered" in result and "Rita: nobody answered" in result
    # The officers were told as in a real alert — labelled DRILL — and never an emergency
    # contact: a drill's alerts reach no tier beyond the safety officers.
    drills = [t for t in team.officer.texts() if "DRILL A-1" in t]
    assert drills and all(t.startswith(DRILL_LABEL) for t in drills)
    assert not [t for t in team.officer.texts() if "EMERGENCY" in t]


async def test_drills_count_in_the_report_never_as_alerts(team: World) -> None:
    await start_team_drill(team)
    team.clock.advance(timedelta(minutes=4))
    await team.rep.press("✅ I'm safe (drill)")
    await team.officer.send("/drill Rita")
    await team.officer.press("Rita")
    await team.officer.press("🧪 Start the drill")
    for _ in range(5):
        await team.advance(timedelta(minutes=30))

    month = Month(2026, 12)
    summary = (await team.services.reports.table(month))[-1]
    assert summary.alerts == 0  # two drill alerts, no real one
    assert summary.drills is not None
    assert (summary.drills.held, summary.drills.asked, summary.drills.answered) == (2, 2, 1)
    assert summary.drills.median == timedelta(minutes=4)

    await team.officer.send("/report")
    assert said("report.drills", held=2, rate="50%", median="4 minutes", worst="4 minutes") \
        in team.officer.last.body
    exported = await team.services.reports.export(month, team.tmp / "out")
    header, *_, total = exported.csv.read_text(encoding="utf-8").splitlines()
    assert header.endswith("drills,drill_participation,drill_median_ack_seconds,"
                           "drill_worst_ack_seconds")
    assert total.endswith(",2,0.500,240,240")
    assert exported.chart.read_bytes().startswith(b"\x89PNG")


async def test_a_field_rep_cannot_start_a_drill_or_answer_someone_elses(team: World) -> None:
    await team.rep.send("/drill")
    assert team.rep.last.body == said("guard.officers_only")
    await team.manager.send("/drill")  # a manager is a lead, but drills are the officers'
    assert team.manager.last.body == said("guard.officers_only")
    await start_team_drill(team)
    [alert] = await rows(team, "SELECT id FROM alerts")
    toast = await team.manager.press_data(f"drillsafe:{alert['id']}")
    assert toast is not None and toast.text == said("drill.err.unknown")
    toast = await team.rep.press_data("drill:go:team:0:deadbeef")
    assert toast is not None and toast.text == said("guard.stale_button")
    # An old Start button starts nothing twice.
    await team.officer.send("/drill")
    await team.officer.press("north (1)")
    start = team.officer.last
    data = start.inline_keyboard[0][0]["callback_data"]
    await team.officer.press("🧪 Start the drill")
    toast = await team.officer.press_data(data, start)
    assert toast is not None and toast.text == said("guard.stale_button")
    assert len(await rows(team, "SELECT id FROM drills")) == 2


async def test_a_drill_never_stops_an_erasure_and_ends_with_it(team: World) -> None:
    await start_team_drill(team)
    await team.rep.send("/forgetme")
    await team.rep.press("🗑 Erase")
    assert "Your personal data has been erased" in team.rep.last.body
    [alert] = await rows(team, "SELECT state, resolution FROM alerts")
    assert (alert["state"], alert["resolution"]) == ("closed", "drill_ended")
    await team.advance(timedelta(hours=1))
    assert not [t for t in team.manager.texts() if "DRILL A-1" in t]  # nobody alerted
    assert "nobody answered" in team.officer.last.body  # the drill ended, reported
