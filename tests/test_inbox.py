"""An update confirmed to Telegram but not yet handled when the process dies is not lost.

PTB's updater confirms updates with its next getUpdates before the application has handled
them. Here the updater runs with nothing handling its queue (the process is "killed" after
Telegram has forgotten the update), then a new process starts on the same database.
"""

from __future__ import annotations

import pytest
from telegram import Update

from tests.harness import MANAGER_ID, OFFICER_ID, World
from tests.pg import BACKENDS

pytestmark = pytest.mark.parametrize("backend", BACKENDS, indirect=True)


async def test_an_sos_confirmed_to_telegram_but_not_handled_is_handled_after_a_restart(
    team: World,
) -> None:
    app = team.app
    assert app is not None and app.updater is not None
    team.fake.dispatch = None  # updates now wait for getUpdates, as with the real Telegram
    await team.rep.send("/sos")
    sos_id = team.fake.pending[-1]["update_id"]
    await app.updater.start_polling(poll_interval=0, timeout=0)
    # Telegram forgets an update once a later getUpdates passes a higher offset.
    await team.fake.wait_for(lambda: not team.fake.pending and any(
        (call.params.get("offset") or 0) > sos_id for call in team.fake.calls_to("getUpdates")
    ), 10)
    await app.updater.stop()
    assert not [m for m in team.fake.sent_to(MANAGER_ID) if "SOS" in (m.text or "")]

    await team.stop()  # the process dies; the queue in memory is gone
    team.fake.dispatch = team._dispatch
    await team.start()
    app = team.app
    assert app is not None
    await app.start()  # the application's update fetcher handles the replayed update
    try:
        await team.fake.wait_for(lambda: "SOS" in (team.manager.last.body or ""), 10)
        await team.fake.wait_for(lambda: "SOS" in (team.officer.last.body or ""), 10)
    finally:
        await app.stop()
    assert [m for m in team.fake.sent_to(OFFICER_ID) if "SOS" in (m.text or "")]


async def test_an_update_telegram_delivers_twice_is_handled_once(team: World) -> None:
    app = team.app
    assert app is not None
    inbox = team.services.inbox
    update = Update.de_json(
        {"update_id": 777, "message": {"message_id": 1, "date": 0,
                                        "chat": {"id": 4004, "type": "private"},
                                        "from": {"id": 4004, "is_bot": False, "first_name": "R"},
                                        "text": "/checkin"}}, app.bot)
    await app.update_queue.put(update)
    await app.update_queue.put(update)  # Telegram redelivered it: same update_id

    assert app.update_queue.qsize() == 1
    assert await inbox.unfinished() == [update.to_dict()]
    inbox.handled(777)
    assert await inbox.unfinished() == []
