"""An /sos sent while Telegram is failing: the alert goes out after recovery, and so does the
rep's "SOS sent" (before, the receipt was sent once, directly, and lost)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from faketelegram.errors import ServerError
from tests.builders import said
from tests.harness import World
from tests.pg import BACKENDS

pytestmark = pytest.mark.parametrize("backend", BACKENDS, indirect=True)


async def test_the_sos_receipt_lost_to_a_502_arrives_after_recovery(team: World) -> None:
    team.fake.fail_always("sendMessage", ServerError(502))
    mark = team.rep.mark()
    await team.rep.send("/sos")
    assert team.rep.since(mark) == []  # nothing got through

    team.fake.clear_failures()
    await team.advance(timedelta(minutes=1))

    receipts = [m for m in team.rep.since(mark) if m.body == said("sos.sent.leads")]
    assert len(receipts) == 1
    assert any("SOS" in (m.body or "") for m in team.manager.messages)


async def test_a_receipt_sent_at_once_is_not_sent_again(team: World) -> None:
    mark = team.rep.mark()
    await team.rep.send("/sos")
    await team.advance(timedelta(minutes=10))

    assert [m.body for m in team.rep.since(mark)].count(said("sos.sent.leads")) == 1
