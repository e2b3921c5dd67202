"""A rep answers a roll-call with "🆘 I need help" in an organisation with no safety officer.
Her SOS receipt says who is alerted (promise 75), and the roll-call question she pressed no
longer contradicts it: before, it read "Your manager and the safety officers are alerted"
(found by a hostile review). The managers' notices of a "needs help" answer name nobody either."""

from __future__ import annotations

from datetime import timedelta

from tests.builders import said
from tests.harness import World


async def test_the_roll_call_help_receipt_does_not_claim_officers_who_do_not_exist(
    world: World,
) -> None:
    await world.admin.send("/start")
    await world.enrol(world.manager, "manager", "north")
    await world.enrol(world.rep, "staff", "north")  # no safety officer enrolled
    mia, rita = world.manager, world.rep
    await mia.send("/rollcall")
    await mia.press("👥 A team")
    await mia.press("north")
    go = next(b for row in mia.last.buttons for b in row if b.startswith("📣"))
    await mia.press(go)
    question = next(m for m in rita.messages if (m.body or "").startswith("🔔"))
    await rita.press("🆘 I need help", question)
    await world.advance(timedelta(seconds=1))
    receipts = [t for t in rita.texts() if t.startswith("🆘")]
    # Her SOS receipt is right: only her manager is alerted.
    assert any(said("sos.sent.manager").split("\n")[0] in t for t in receipts), receipts
    # The roll-call question she pressed must not tell her the safety officers are alerted.
    assert "safety officers" not in (question.body or ""), question.body
    assert question.body == said("rollcall.receipt.help", rollcall="R-1")
