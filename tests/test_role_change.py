"""Roles change only through the operator's `fieldbot set-role` (an invite never changes them)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from fieldbot.domain.roles import Role
from tests.harness import REP_ID, World


def set_role(world: World, *args: str) -> subprocess.CompletedProcess[str]:
    environment = {"PATH": os.environ.get("PATH", "/usr/bin"), "PTB_TIMEDELTA": "true",
                   "FIELDBOT_DB": str(world.settings.db),
                   "FIELDBOT_DATA_DIR": str(world.settings.data_dir)}
    return subprocess.run([sys.executable, "-m", "conversations.cli", "set-role", *args],
                          cwd=world.tmp, env=environment, capture_output=True, text=True,
                          check=False, timeout=120)


async def test_the_operator_makes_a_rep_a_manager_of_another_team(team: World) -> None:
    await team.stop()
    done = set_role(team, "--user", str(REP_ID), "--role", "manager", "--team", "south")
    await team.start()

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"user {REP_ID} is now manager in team south"
    rita = await team.services.enrolment.member(REP_ID)
    assert rita is not None and (rita.role, rita.team) == (Role.MANAGER, "south")
    await team.rep.send("/team")  # a manager's command now works for her
    assert "for managers and the safety desk" not in (team.rep.last.body or "")


async def test_unknown_people_and_missing_teams_are_refused(team: World) -> None:
    await team.stop()
    unknown = set_role(team, "--user", "999999", "--role", "officer")
    no_team = set_role(team, "--user", str(REP_ID), "--role", "staff")
    await team.start()

    assert unknown.returncode == 2 and "user 999999 has not enrolled here" in unknown.stderr
    assert "fieldbot invite --role" in unknown.stderr  # what to do about it
    assert no_team.returncode == 2 and "need a team: add --team NAME" in no_team.stderr
    rita = await team.services.enrolment.member(REP_ID)
    assert rita is not None and rita.role is Role.STAFF  # nothing changed


def test_set_role_needs_a_numeric_user(tmp_path: Path) -> None:
    world = World(tmp_path)
    result = set_role(world, "--user", "rita", "--role", "officer")
    assert result.returncode == 2 and "invalid int value" in result.stderr
