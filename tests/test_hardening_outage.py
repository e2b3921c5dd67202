"""After a Telegram outage each person gets each open alert once, as it stands now (issue 10,
item 13): not every repeat they missed, out of order, nor reminders whose deadline passed.

Rita's trip is to Berlin (UTC+1 in December): reminder 19:00 UTC, deadline 20:00 UTC.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from faketelegram.errors import ServerError
from tests.builders import BERLIN, plan_trip
from tests.harness import World

REMINDER = datetime(2026, 12, 1, 19, 0, tzinfo=UTC)
LABEL = re.compile(r"\b(SOS|Alert|EMERGENCY) A-(\d+)")


def labelled(texts: list[str], label: str) -> list[str]:
    return [t for t in texts if label in t]


async def outage(world: World, start: datetime, minutes: int, sos_at: int | None = None) -> None:
    """Telegram answers 502 from `start` for `minutes`, while the sweep runs every minute;
    Rita raises an SOS by another route (she phoned the desk) `sos_at` minutes in."""
    world.clock.set(start)
    await world.tick()
    world.fake.fail_always("sendMessage", ServerError(502))
    for minute in range(minutes):
        if minute == sos_at:
            await world.services.escalation.raise_sos(world.rep.id)
        await world.advance(timedelta(minutes=1))
    world.fake.clear_failures()


async def after_the_outage(world: World) -> None:
    for _ in range(10):  # the next retry is at most five minutes away (capped backoff)
        await world.advance(timedelta(minutes=1))


async def test_after_an_outage_each_person_gets_each_alert_once_marked_late(team: World) -> None:
    await plan_trip(team, BERLIN, date(2026, 12, 1), date(2026, 12, 4))
    # 18:55 to 21:35: the manager's repeats at 20:30, 21:00 and 21:30 (the next at 22:00).
    # An SOS half an hour before the end: its repeats every five minutes pile up too.
    await outage(team, REMINDER - timedelta(minutes=5), minutes=160, sos_at=130)
    before = {u.id: len(u.messages) for u in (team.rep, team.manager, team.officer)}
    await after_the_outage(team)
    for user in (team.manager, team.officer):
        got = [m.body or "" for m in user.messages[before[user.id]:]]
        missed = labelled(got, "Alert A-1")
        assert len(missed) == 1, got  # its current step once, not every repeat
        assert "This message is late" in missed[0]
        kinds = [LABEL.search(t).group(1) for t in got if LABEL.search(t)]  # type: ignore[union-attr]
        assert kinds[:2] == ["SOS", "Alert"], kinds  # one of each, by severity; then
        assert len(labelled(got, "SOS A-2")) <= 3, got  # the SOS's own repeats, 5 min apart
    rep_got = [m.body or "" for m in team.rep.messages[before[team.rep.id]:]]
    assert not [t for t in rep_got if "Evening check-in" in t]  # its deadline had passed
    assert len(labelled(rep_got, "Alert A-1")) == 1, rep_got


async def test_a_reminder_still_before_its_deadline_is_sent_after_an_outage(team: World) -> None:
    await plan_trip(team, BERLIN, date(2026, 12, 1), date(2026, 12, 4))
    team.clock.set(REMINDER - timedelta(minutes=1))
    await team.tick()
    team.fake.fail_always("sendMessage", ServerError(502))
    for _ in range(20):
        await team.advance(timedelta(minutes=1))
    team.fake.clear_failures()
    await after_the_outage(team)  # 19:29 at the latest: the deadline is 20:00
    assert len([t for t in team.rep.texts() if "Evening check-in" in t]) == 1
