"""Typing a call for help instead of pressing 🆘 is an SOS, as the button is, never a check-in.
Before, "紧急求助" (the button's own words), "救命" or "need help" typed to the reminder read
"✅ checked in", nobody was alerted, and after a missed deadline the manager got an all-clear
(found by a hostile review in Chinese)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from tests.builders import BERLIN, REMINDER, plan_trip, rows, said
from tests.harness import World


async def _chinese_at_the_reminder(team: World) -> None:
    await team.rep.send("/language")
    await team.rep.press("中文")
    await plan_trip(team, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
    team.clock.set(datetime(2026, 12, 1, 19, 0, tzinfo=UTC))  # 20:00 in Berlin: the reminder
    await team.tick()
    assert ["🆘 紧急求助"] in team.rep.last.buttons


@pytest.mark.parametrize("typed", ["紧急求助", "🆘 紧急求助", "救命", "我需要帮助"])
async def test_sos_words_typed_to_the_reminder_raise_an_sos(team: World, typed: str) -> None:
    await _chinese_at_the_reminder(team)
    await team.rep.send(typed)
    assert said("sos.sent.leads", "zh") in [m.body for m in team.rep.messages]
    assert any("SOS" in (m.body or "") for m in team.manager.messages)
    [tonight, *_] = await rows(team, "SELECT state FROM nights ORDER BY day")
    assert tonight["state"] != "checked_in"


async def test_sos_words_after_a_missed_deadline_send_no_all_clear(team: World) -> None:
    await _chinese_at_the_reminder(team)
    for minute in (0, 15, 30):  # 21:00 Berlin missed; her manager is alerted at 21:30
        team.clock.set(datetime(2026, 12, 1, 20, minute, tzinfo=UTC))
        await team.tick()
    assert "Alert A-1" in (team.manager.last.body or "")
    await team.rep.send("紧急求助")
    assert not [m for m in team.manager.messages if "All clear" in (m.body or "")]
    assert any("SOS" in (m.body or "") for m in team.manager.messages)


async def test_a_bare_help_is_an_sos_only_as_the_answer_to_a_reminder(team: World) -> None:
    await team.rep.send("help")  # no reminder waits: she may mean /help
    assert not await rows(team, "SELECT id FROM alerts")
    await plan_trip(team, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
    team.clock.set(REMINDER + timedelta(minutes=1))
    await team.tick()
    await team.rep.send("Help")
    [sos] = await rows(team, "SELECT kind FROM alerts")
    assert sos["kind"] == "sos"


async def test_need_help_typed_in_the_middle_of_a_plan_is_an_sos_not_a_lodging(
        team: World) -> None:
    await team.rep.send("/trip")
    await team.rep.send("Tokyo")
    await team.rep.send("2026-12-10")
    await team.rep.send("2026-12-12")
    await team.rep.press("No, that's all")  # the bot asks for the lodging address
    await team.rep.send("I need help")
    assert said("sos.sent.leads") in [m.body for m in team.rep.messages]
    assert said("flow.put_aside", what="trip plan", command="/trip") in [
        m.body for m in team.rep.messages]
