"""A policy changed (and the bot restarted) while an alert is open does not skip the next
tier (promise 1). Only the step's index is stored, and under the new file (one rep reminder
fewer) index 2 named the officers' step: the ladder took it as done, waited for +90 with its due
time in the past, and the officers were told 30 minutes late (found by a hostile review)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from tests.builders import BERLIN, DEADLINE, alerts_in, at, plan_trip
from tests.harness import World


async def test_a_policy_change_during_an_open_alert_does_not_skip_the_officers(
    tmp_path: Path,
) -> None:
    world = World(tmp_path)
    await world.start()
    try:
        await world.enrol_team()
        await plan_trip(world, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
        for minutes in (0, 15, 30):
            await at(world, DEADLINE + timedelta(minutes=minutes))
        assert alerts_in(world.manager.texts(), "Alert A-1")
        await at(world, DEADLINE + timedelta(minutes=40))

        await world.stop()
        policy = tmp_path / "policy.toml"
        policy.write_text('[escalation]\nrep_reminders = ["0s"]\n', encoding="utf-8")
        world.settings = world.settings.model_copy(update={"policy": policy})
        await world.start()

        await at(world, DEADLINE + timedelta(minutes=60))
        await at(world, DEADLINE + timedelta(minutes=61))
        assert alerts_in(world.officer.texts(), "Alert A-1")
    finally:
        await world.stop()
