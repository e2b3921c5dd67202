"""A forwarded command is someone else's words: it does nothing, and the rep is told how to
act herself. Telegram keeps a forwarded message's bot_command entity, so before, forwarding a
colleague's "/sos" to the bot raised an SOS for the one who forwarded it."""

from __future__ import annotations

from tests.builders import said
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
