"""Review of issue 10 by trying (item 6: a question about one night never acts on another):
yesterday's reminder buttons, pressed tonight, change nothing about tonight."""

from __future__ import annotations

from datetime import date, timedelta

from tests.harness import World
from tests.test_escalation_flow import BERLIN, REMINDER, at, plan_trip
from tests.test_trip_flow import rows


async def test_yesterdays_snooze_button_does_not_move_tonights_deadline(team: World) -> None:
    await plan_trip(team, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
    await at(team, REMINDER)
    yesterdays = team.rep.last
    await team.rep.send("/checkin")  # checked in by command: the reminder keeps its buttons
    await at(team, REMINDER + timedelta(days=1))
    before = await rows(team, "SELECT deadline, snoozes FROM nights ORDER BY day")
    await team.rep.press("⏰ +30 min", yesterdays)
    assert await rows(team, "SELECT deadline, snoozes FROM nights ORDER BY day") == before
    assert "another night" in team.rep.last.body
    await team.rep.press("⏰ +30 min")  # tonight's own reminder still snoozes tonight
    assert "deadline is now 21:30 Wed 2 Dec" in team.rep.last.body


async def test_im_safe_typed_before_the_reminder_checks_in(team: World) -> None:
    """Rita types "I'm safe!" an hour before tonight's reminder: she is checked in, not told
    "I only act on commands"; Li types 平安。 with nothing due and is told so; other text still
    gets the short help."""
    await plan_trip(team, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
    await at(team, REMINDER - timedelta(hours=1))
    await team.rep.send("I’m safe!")
    assert team.rep.last.body.startswith("✅ Thanks — you are checked in for tonight.")
    assert [r["state"] for r in await rows(team, "SELECT state FROM nights ORDER BY day")][0] \
        == "checked_in"

    li = team.fake.user(5006, "Li", "zh-hans")
    await team.enrol(li, "staff", "north")
    await li.send("平安。")
    assert li.last.body == "✅ 收到。目前没有需要报平安的行程。"
    await team.rep.send("hello")
    assert team.rep.last.body.startswith("I only act on commands.")


async def test_a_command_naming_another_bot_is_taken_as_ours(team: World) -> None:
    """Only private chats reach the bot, so the name after the command is ours whatever it
    says: a card printed before the bot was renamed reads "/sos@acme_safety_bot". Before, the
    rep was told "This is not available yet" and no SOS went out."""
    await plan_trip(team, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
    await at(team, REMINDER)
    await team.rep.send("/checkin@acme_safety_bot")
    assert team.rep.last.body.startswith("✅ Thanks — you are checked in for tonight.")
    await team.rep.send("/SOS@Acme_Safety_Bot")
    assert await rows(team, "SELECT kind FROM alerts") == [{"kind": "sos"}]
    assert "not available" not in " ".join(m.body for m in team.rep.messages[-3:])
