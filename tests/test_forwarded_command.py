"""A forwarded command is someone else's words: it does nothing, and the rep is told how to
act herself. Telegram keeps a forwarded message's bot_command entity, so before, forwarding a
colleague's "/sos" to the bot raised an SOS for the one who forwarded it."""

from __future__ import annotations

from datetime import date, timedelta

from tests.builders import BERLIN, REMINDER, at, plan_trip, rows, said
from tests.harness import World


async def test_a_forwarded_sos_raises_nothing_and_says_how(team: World) -> None:
    manager_mark = team.manager.mark()
    await team.rep.forward("/sos", written_by=team.officer)

    assert team.rep.last.body == said("guard.forwarded_command", command="sos")
    assert team.manager.since(manager_mark) == []
    async with team.services.db.read() as conn, conn.execute(
            "SELECT COUNT(*) FROM alerts") as cur:
        assert (await cur.fetchone() or (None,))[0] == 0

    await team.rep.send("/sos")  # typed herself, it does what it says
    assert any("SOS" in (m.body or "") for m in team.manager.since(manager_mark))


async def test_a_forwarded_command_in_chinese_is_refused_in_chinese(team: World) -> None:
    await team.rep.send("/language")
    await team.rep.press("中文")
    await team.rep.forward("/checkin", written_by=team.manager)
    assert team.rep.last.body == said("guard.forwarded_command", "zh", command="checkin")


async def test_a_forwarded_plain_text_is_still_read(team: World) -> None:
    """Only commands are refused: a forwarded address may answer a question."""
    await team.rep.forward("hello", written_by=team.manager)
    assert team.rep.last.body != said("guard.forwarded_command", command="hello")


# Found by a review of the change: not only commands. A colleague's "I'm safe" forwarded while
# tonight's reminder waits is not her check-in, and a forwarded pin is not where she is.
async def test_a_colleagues_forwarded_im_safe_does_not_check_the_rep_in(team: World) -> None:
    await plan_trip(team, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
    await at(team, REMINDER + timedelta(minutes=1))  # tonight's reminder waits for her
    assert "Evening check-in" in (team.rep.last.body or "")

    await team.rep.forward("I'm safe", written_by=team.manager)

    [first, *_] = await rows(team, "SELECT state FROM nights ORDER BY day")
    assert first["state"] == "reminded"  # not checked in on the manager's words
    assert team.rep.last.body == said("checkin.forwarded")
    await team.rep.send("I'm safe")  # typed herself, it checks her in
    [first, *_] = await rows(team, "SELECT state FROM nights ORDER BY day")
    assert first["state"] == "checked_in"


async def test_a_forwarded_pin_is_not_kept_as_her_location(team: World) -> None:
    await team.rep.forward_location(52.52, 13.40, written_by=team.manager)
    assert team.rep.last.body == said("location.forwarded")
    assert not await rows(team, "SELECT user_id FROM locations")
