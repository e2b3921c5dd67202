"""A snooze never moves a night's deadline past the end of its own check-in window: with a
morning check-in (reminder 11:00, deadline 11:45, window closing at 12:00), "+30 min" is
refused and says so. Before, two snoozes made the deadline 12:45; her "I'm safe" at 12:30
counted for the next night, and at 12:45 she and her manager were told she had missed it
(found by a hostile review of the escalation core)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from fieldbot.domain.nights import Refusal
from tests.builders import BERLIN, at, plan_trip, rows, said
from tests.harness import World

# Berlin is UTC+1 in December: the 1 December night's reminder is 2 December 11:00 local.
REMINDER = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)


async def test_a_check_in_before_the_snoozed_deadline_never_raises_an_alert(
    tmp_path: Path,
) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text('[checkin]\nreminder = "11:00"\ndeadline = "11:45"\n', encoding="utf-8")
    world = World(tmp_path, policy=policy)
    async with world.running():
        await world.enrol_team()
        await plan_trip(world, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
        await at(world, REMINDER)
        refused = await world.services.checkins.snooze(world.rep.id)
        assert refused.refused is Refusal.WINDOW_ENDS
        await world.rep.press("⏰ +30 min")
        assert world.rep.last.body == said("checkin.refused.window_ends")

        await at(world, datetime(2026, 12, 2, 10, 30, tzinfo=UTC))  # 11:30 local
        await world.rep.send("/checkin")
        assert "checked in" in world.rep.last.body
        await at(world, datetime(2026, 12, 2, 12, 20, tzinfo=UTC))
        assert await rows(world, "SELECT id FROM alerts") == []
