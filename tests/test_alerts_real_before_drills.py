"""A safety officer runs a team drill (30 people) at 20:50; at 21:30 a rep of another team
has really missed her check-in. /alerts lists real alerts before practice ones: before, the
drill's alerts came first (they are older) and the real one was cut off into "… and 17 more"
(found by a hostile review)."""

from __future__ import annotations

from datetime import date, timedelta

from fieldbot.domain.members import Member
from fieldbot.domain.roles import Role
from fieldbot.storage import users
from tests.builders import BERLIN, DEADLINE, at, enrol_south, plan_for, rows
from tests.harness import World

START = "🧪 Start the drill"


async def test_a_real_missed_check_in_is_not_cut_off_behind_thirty_drill_alerts(
    team: World,
) -> None:
    _sol, sven = await enrol_south(team)
    await plan_for(team, sven, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
    async with team.services.db.transaction() as tx:
        for n in range(29):  # team north: Rita and 29 colleagues
            rep = Member(710000 + n, f"North rep {n}", Role.STAFF, "north", "en")
            await users.upsert(tx, rep, team.clock.now(), cipher=team.services.cipher)
    await at(team, DEADLINE - timedelta(minutes=10))
    await team.officer.send("/drill")
    await team.officer.press("north (30)")
    await team.officer.press(START)
    await at(team, DEADLINE + timedelta(minutes=30))  # Sven's real missed check-in, tier 2
    [real] = [r for r in await _open_kinds(team) if r != "drill"]
    assert real == "missed"
    await team.officer.send("/alerts")
    page = team.officer.last.body or ""
    assert "Sven" in page, page[-400:]
    assert page.index("Sven") < page.index("drill (practice)")


async def _open_kinds(team: World) -> list[str]:
    return [r["kind"] for r in await rows(
        team, "SELECT kind FROM alerts WHERE state IN ('open', 'acknowledged')")]
