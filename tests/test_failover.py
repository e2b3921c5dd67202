"""Two real `fieldbot run` on one PostgreSQL: the leader is SIGKILLed mid-burst, the standby takes
over, every alert reaches its recipients, at most one copy per failover, and a /trip half done
on the old leader goes on with the new one. No 409 Conflict from Telegram at any point."""

from __future__ import annotations

import asyncio
import socket
import time
from pathlib import Path

from bench.chaos import complete, copies, reached  # the chaos bench counts the same way
from faketelegram.api import FakeTelegram
from faketelegram.server import serve
from tests.failover_rig import MANAGER, OFFICER, TOKEN, Rig, sos_senders, until
from tests.pg import PgServer

REPS = list(range(7000, 7030))
TRAVELLING = REPS[:10]  # tonight's deadline passes during the run: missed check-ins escalate
SOS_BEFORE, SOS_DURING = REPS[10:20], REPS[20:28]
TRAVELLER = REPS[29]  # files a /trip across the failover
TAKEOVER = 15.0  # seconds, the promise (docs/RELIABILITY.md)


async def test_the_standby_takes_over_a_killed_leader_and_nothing_is_lost(
    tmp_path: Path, pg_server: PgServer,
) -> None:
    rig = Rig(tmp_path, pg_server.fresh(), "")
    await rig.prepare(REPS, TRAVELLING, deadline_in=12)  # steps fall due around the kill
    fake = FakeTelegram(token=TOKEN)
    people = {uid: fake.user(uid, "Failover") for uid in (1, MANAGER, OFFICER, *REPS)}
    for user in people.values():
        user.started = True
    async with serve(fake) as base_url:
        rig.base_url = base_url
        first = await rig.launch()
        await until(lambda: first.role == "leader", 60, "leader")
        second = await rig.launch()
        try:
            await until(lambda: second.role == "standby", 60, "standby")
            traveller = people[TRAVELLER]
            await traveller.send("/trip")
            await traveller.wait_for_message(1, 30)
            assert "Where are you going?" in traveller.last.body
            asked = await rig.state_of(TRAVELLER)
            await traveller.send("Berlin")
            await fake.wait_for(lambda: "When do you arrive" in traveller.last.body, 30)
            await until_persisted(rig, TRAVELLER, asked)

            for uid in SOS_BEFORE:
                await people[uid].send("/sos")
            await fake.wait_for(lambda: len(sos_senders(fake)) >= 3, 30)
            polls = len(fake.calls_to("getUpdates"))
            killed = time.monotonic()
            await first.kill()  # mid-burst: some SOS sent, some claimed, some not yet read
            for uid in SOS_DURING:  # Telegram keeps these until someone polls
                await people[uid].send("/sos")
            # Taken over: the standby leads and polls Telegram again, within the promise.
            await fake.wait_for(lambda: len(fake.calls_to("getUpdates")) > polls, TAKEOVER)
            assert second.role == "leader"
            assert time.monotonic() - killed <= TAKEOVER

            await traveller.press(traveller.last.buttons[0][0])  # the arrival day
            await fake.wait_for(lambda: "When do you leave?" in traveller.last.body, 30)

            sent_sos = set(SOS_BEFORE) | set(SOS_DURING)
            await fake.wait_for(lambda: sent_sos <= sos_senders(fake)
                                and complete(reached(fake, "SOS")) >= len(sent_sos)
                                and complete(reached(fake, "Alert")) >= len(TRAVELLING), 90)
        finally:
            await second.stop()
            await first.kill()
    assert max(copies(fake).values()) <= 2  # one failover: at most one copy
    # No living instance met Telegram's 409 Conflict (PTB logs it as "Conflict"). The killed
    # leader's own long poll is answered 409 when the new leader polls, as Telegram does, but
    # nobody is left to read it. (Not a bare "409": timestamps contain it.)
    log = rig.log.read_text(encoding="utf-8", errors="replace")
    assert "Conflict" not in log


async def until_persisted(rig: Rig, owner: int, before: str) -> None:
    """The leader writes conversation state every few seconds: wait until it has."""
    started = time.monotonic()
    while await rig.state_of(owner) == before:
        assert time.monotonic() - started < 30, "the conversation state was never written"
        await asyncio.sleep(0.1)


async def test_behind_a_load_balancer_the_standby_passes_updates_to_the_leader(
    tmp_path: Path, pg_server: PgServer,
) -> None:
    """Webhook mode: Telegram's updates land on the standby (the balancer sends them there);
    it keeps them in the shared inbox and the leader handles them. The leader dies: the
    standby leads and handles them itself."""
    rig = Rig(tmp_path, pg_server.fresh(), "")
    await rig.prepare(REPS, [], deadline_in=3600)
    fake = FakeTelegram(token=TOKEN)
    fake.deliver_webhooks = True
    people = {uid: fake.user(uid, "Failover") for uid in (1, MANAGER, OFFICER, *REPS)}
    for user in people.values():
        user.started = True
    port_a, port_b = free_port(), free_port()
    balancer = f"http://127.0.0.1:{port_b}/telegram"  # everything goes to the second one
    async with serve(fake) as base_url:
        rig.base_url = base_url
        first = await rig.launch((balancer, port_a))
        await until(lambda: first.role == "leader", 60, "leader")
        await fake.wait_for(lambda: fake.webhook is not None, 30)
        second = await rig.launch((balancer, port_b))
        try:
            await until(lambda: second.role == "standby", 60, "standby")
            await fake.wait_for(lambda: bool(fake.calls_to("setWebhook")), 30)
            await people[REPS[0]].send("/sos")  # POSTed to the standby
            await fake.wait_for(lambda: REPS[0] in sos_senders(fake), 30)
            assert first.role == "leader" and second.role == "standby"

            await first.kill()
            await until(lambda: second.role == "leader", TAKEOVER, "taken over")
            hooks = len(fake.calls_to("setWebhook"))
            await fake.wait_for(lambda: len(fake.calls_to("setWebhook")) > hooks, TAKEOVER)
            await people[REPS[1]].send("/sos")
            await fake.wait_for(lambda: {REPS[0], REPS[1]} <= sos_senders(fake), 30)
            await fake.wait_for(lambda: complete(reached(fake, "SOS")) >= 2, 30)
        finally:
            await second.stop()
            await first.kill()
    assert max(copies(fake).values()) <= 2


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
