"""Answers typed instead of pressed, in Chinese: a visit over its end is ended by
typing the button's words ("已结束，我很安全") or "我很安全", as it asks; a roll-call's
"您平安吗？" is answered by typing "平安". Before, the first got "I only respond to
commands", the second "checked in for tonight" with the visit still open and alerting,
and the roll-call counted her as silent (asked again, her manager told) after a "收到"
for tonight's check-in (found by a hostile review)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from tests.builders import BERLIN, plan_trip, rollcall_near_berlin, rows, said
from tests.harness import World


@pytest.mark.parametrize("typed", ["已结束，我很安全", "我很安全"])
async def test_typing_that_the_visit_is_over_ends_it(team: World, typed: str) -> None:
    rita, mia = team.rep, team.manager
    await rita.send("/language")
    await rita.press("中文")
    await plan_trip(team, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
    team.clock.set(datetime(2026, 12, 1, 12, 30, tzinfo=UTC))  # 13:30 in Berlin
    await rita.send("/visit")
    await rita.send("张总公司")
    await rita.press("独自前往")
    await rita.press("+1 小时")
    await rita.press("▶️ 开始计时")
    team.clock.set(datetime(2026, 12, 1, 13, 30, tzinfo=UTC))  # 14:30 in Berlin: the end
    await team.tick()
    assert "请立即点已结束，我很安全" in (rita.last.body or "")

    await rita.send(typed)

    for _ in range(6):
        await team.advance(timedelta(minutes=5))
    visit_alerts = [m.body for m in mia.messages
                    if "has not ended a client visit" in (m.body or "")]
    assert not visit_alerts, (rita.texts()[-3:], visit_alerts)
    [visit] = await rows(team, "SELECT state FROM visits")
    assert visit["state"] == "ended"


async def test_typed_pingan_answers_the_roll_call_it_replies_to(team: World) -> None:
    rita, mia, olu = team.rep, team.manager, team.officer
    await rita.send("/language")
    await rita.press("中文")
    await plan_trip(team, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
    team.clock.set(datetime(2026, 12, 1, 12, 0, tzinfo=UTC))  # 13:00 in Berlin
    await rollcall_near_berlin(olu)
    assert (rita.last.body or "").startswith("🔔 安全点名 R-1：您平安吗？")

    await rita.send("平安")  # her answer to "您平安吗？", typed
    assert rita.last.body == said("rollcall.receipt.safe", "zh", rollcall="R-1")
    assert "已报平安" not in (rita.last.body or "")  # not tonight's check-in at 13:00

    for _ in range(12):  # an hour: the roll-call's reminder and its manager notice are due
        await team.advance(timedelta(minutes=5))
    asked_again = [m.body for m in rita.messages if "再次询问" in (m.body or "")]
    told_silent = [m.body for m in mia.messages if "has not answered" in (m.body or "")]
    assert not asked_again and not told_silent, (asked_again, told_silent)
