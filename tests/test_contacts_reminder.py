"""Managers and safety officers without a confirmed phone are reminded once a week, and the
administrators are told who they are (a bounded list)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from tests.builders import said
from tests.harness import MANAGER_ID, TWILIO, World


@pytest.fixture
async def reach(tmp_path: Path, db_target: Path | str) -> AsyncIterator[World]:
    world = World(tmp_path, db=db_target, **TWILIO)
    await world.start()
    await world.enrol_team()
    yield world
    await world.stop()


def count(texts: list[str], text: str) -> int:
    return sum(1 for t in texts if t == text)


async def test_managers_and_officers_without_a_phone_are_reminded_once_a_week(
    reach: World,
) -> None:
    reminder = said("contacts.reminder")
    await reach.tick()
    assert reminder not in reach.manager.texts()  # not on their first day

    await reach.advance(timedelta(days=1))  # Wednesday

    assert count(reach.manager.texts(), reminder) == 1
    assert count(reach.officer.texts(), reminder) == 1
    assert count(reach.rep.texts(), reminder) == 0  # field reps are not nagged
    assert reach.admin.last.body == said("contacts.missing", names="Mia, Olu")

    for _ in range(4):  # to Sunday: nothing more this week
        await reach.advance(timedelta(days=1))
    assert count(reach.manager.texts(), reminder) == 1

    await reach.manager.send("/contacts")
    await reach.manager.press(said("contacts.button.share"))
    await reach.manager.share_contact("+4915123456789", "Mia", contact_user_id=MANAGER_ID)
    await reach.advance(timedelta(days=1))  # Monday 09:00 UTC: a new week

    assert count(reach.manager.texts(), reminder) == 1
    assert count(reach.officer.texts(), reminder) == 2
    assert reach.admin.last.body == said("contacts.missing", names="Olu")


async def test_the_administrators_list_is_bounded(reach: World) -> None:
    for n in range(11):
        user = reach.fake.user(5100 + n, f"Manager{n:02d}", "en")
        await reach.enrol(user, "manager", "south")
    await reach.advance(timedelta(days=1))

    names = ", ".join(["Mia", "Olu", *(f"Manager{n:02d}" for n in range(8))])
    assert reach.admin.last.body == said(
        "contacts.missing", names=said("contacts.missing_more", names=names, count=3))


async def test_without_sms_or_calls_nobody_is_reminded(tmp_path: Path) -> None:
    world = World(tmp_path)
    await world.start()
    try:
        await world.enrol_team()
        await world.advance(timedelta(days=1))
        assert said("contacts.reminder") not in world.manager.texts()
    finally:
        await world.stop()
