"""/report's "this month" is the month where the organisation is (FIELDBOT_DEFAULT_TZ), not
UTC's: at 07:30 on 1 December in Shanghai, UTC still reads 30 November. Before, a lead there
asking for December was told it was in the future, and a bare /report showed November."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from tests.builders import said
from tests.harness import World

SHANGHAI_MORNING_OF_THE_1ST = datetime(2026, 11, 30, 23, 30, tzinfo=UTC)  # 07:30 on 1 Dec


async def test_the_first_morning_of_a_month_in_shanghai_is_that_month(tmp_path: Path) -> None:
    world = World(tmp_path, start=SHANGHAI_MORNING_OF_THE_1ST, default_tz="Asia/Shanghai")
    async with world.running():
        await world.enrol_team()
        await world.officer.send("/report 2026-12")
        bodies = [m.body or "" for m in world.officer.messages]
        assert said("report.future") not in bodies
        assert any("December 2026" in b for b in bodies)

        mark = world.officer.mark()
        await world.officer.send("/report")
        assert any("December 2026" in (m.body or "") for m in world.officer.since(mark))
