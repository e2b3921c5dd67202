"""Inbound SMS acknowledgement: Twilio's retry (or a replay) of the same SMS, same
MessageSid, arriving while the first delivery is still being handled. RELIABILITY.md promise
72: "the same SMS twice at once acknowledges once (the first wins)".

`ReachService.ack_by_sms` checks `inbound_seen`, acknowledges, and only then writes the SID
down in a second transaction. A copy that arrives between the acknowledgement's commit and
that write (the write waits for the database like any other: a sweep, a burst of check-ins)
is not seen as a copy, and its bare "1" acknowledges the *next* newest open alert.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from tests.channel_world import PUBLIC, missed_night, share_phone
from tests.harness import World


async def _states(world: World) -> dict[int, str]:
    async with world.services.db.read() as conn, conn.execute(
            "SELECT id, state FROM alerts ORDER BY id") as cur:
        return {r[0]: r[1] for r in await cur.fetchall()}


async def test_a_copy_of_an_sms_arriving_before_it_is_written_down_acknowledges_another_alert(
    reach: World, monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Mia has two open alerts on her phone: Rita's missed check-in and Rita's SOS.
    phone = await share_phone(reach, reach.manager)
    await missed_night(reach)
    await reach.advance(timedelta(minutes=5))
    await reach.rep.send("/sos")
    await reach.tick()
    assert list((await _states(reach)).values()) == ["open", "open"]

    # Writing the SID down waits for the database (busy with a sweep, a burst of check-ins:
    # `BEGIN IMMEDIATE` waits for the writer) for the first copy; the second copy comes in
    # meanwhile. Modelled by holding the first copy between its acknowledgement's commit and
    # the write.
    reach_service = reach.services.reach
    real = reach_service._sms_reply
    second_done = asyncio.Event()
    calls = 0

    async def slow(phone: str, text: str, sid: str):  # type: ignore[no-untyped-def]
        nonlocal calls
        calls += 1
        done = await real(phone, text, sid)
        if calls == 1:
            await asyncio.wait_for(second_done.wait(), 5)
        return done

    monkeypatch.setattr(reach_service, "_sms_reply", slow)
    sid = "SM" + "ab" * 16
    url = f"{PUBLIC}/twilio/sms"

    async def copy() -> str:
        await asyncio.sleep(0.3)  # after the first copy acknowledged, before it is written down
        answer = await reach.twilio.inbound_sms(url, phone, "1", sid=sid)
        second_done.set()
        return answer.text

    first, second = await asyncio.gather(reach.twilio.inbound_sms(url, phone, "1", sid=sid),
                                         copy())

    # What Mia sees: she texted "1" once, and BOTH alerts are now acknowledged in her name
    # (the second copy's answer: "you acknowledged alert A-1"); the missed check-in's ladder
    # stopped although she never took it.
    # What should happen: the copy acknowledges nothing (it is the same SMS); A-1 stays open
    # and keeps escalating.
    assert "A-2" in first.text
    assert (await _states(reach))[1] == "open", f"the copy answered: {second}"
