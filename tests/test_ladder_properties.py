"""Property-based: whatever people, restarts, Telegram and the clock do, the ladder holds.

Each example is a random sequence of actions played against a fresh World (real Application,
fake Telegram, fake clock, a new SQLite file). After every action the database and what the
chats received are checked:

(a) an unacknowledged missed night reaches the officers once its time has come, and an alert's
    tier never goes backwards;
(b) a night checked in before its deadline never raises an alert;
(c) once an alert is acknowledged or closed, its ladder sends nothing more (notices only).
"""

from __future__ import annotations

import asyncio
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conversations.runtime.bootstrap import FieldbotApp, build_application
from faketelegram.errors import Flood, ServerError
from fieldbot.domain import ladder
from fieldbot.domain.ladder import AlertKind
from fieldbot.geo.gazetteer import OfflineGeocoder
from fieldbot.storage.codec import parse_ts
from tests.builders import BERLIN, plan_trip
from tests.harness import World

# Any retry backoff (2 s doubling, capped at 5 min; retry_after up to 60 s) fits in this.
SLACK = timedelta(minutes=10)

seconds = st.integers(1, 120)
minutes = st.integers(2, 90).map(lambda m: m * 60)
hours = st.integers(2, 30).map(lambda h: h * 3600)
actions = st.one_of(
    st.tuples(st.just("advance"), st.one_of(seconds, minutes, minutes, hours)),
    st.tuples(st.just("checkin"), st.just(0)),
    st.tuples(st.just("ack"), st.sampled_from(["manager", "officer"])),
    st.tuples(st.just("restart"), st.just(0)),
    st.tuples(st.just("flood"), st.integers(1, 60)),
    st.tuples(st.just("server_error"), st.just(0)),
)


# Building the city index takes seconds and every start builds its own; an example restarts
# several times, so all of them share one real, already-built (read-only) index.
GAZETTEER = OfflineGeocoder()


class QuickWorld(World):
    async def start(self) -> FieldbotApp:
        app = build_application(
            self.settings, self.clock, request=self._request(),
            get_updates_request=self._request(), rate_limit=False,
        )
        app.bot_data.services.resolver._gazetteer = GAZETTEER  # noqa: SLF001 - see GAZETTEER
        self.app = app
        await app.initialize()
        if app.post_init:
            await app.post_init(app)
        return app


@dataclass
class Observed:
    last_tick: datetime
    tiers: dict[int, int] = field(default_factory=dict)  # alert id -> highest tier seen
    steps: dict[int, int] = field(default_factory=dict)  # alert id -> step index seen
    frozen: dict[int, int] = field(default_factory=dict)  # alert id -> ladder sends at its end
    due_since: dict[int, datetime] = field(default_factory=dict)  # first tick officers were due
    last_failure: datetime = datetime.min.replace(tzinfo=UTC)  # an injected fault was hit
    failures: int = 0


async def ladder_sends(world: World) -> dict[int, int]:
    async with world.services.db.read() as conn, conn.execute(
        "SELECT alert_id, COUNT(*) FROM outbox WHERE state = 'sent' AND alert_id IS NOT NULL"
        " AND kind IN ('alert', 'alert_rep') GROUP BY alert_id") as cur:
        return {row[0]: row[1] for row in await cur.fetchall()}


async def check(world: World, seen: Observed) -> None:
    policy = world.services.policy
    now = world.clock.now()
    officer_texts = world.officer.texts()
    async with world.services.db.read() as conn:
        async with conn.execute(
            "SELECT a.id, a.kind, a.state, a.step_index, a.anchor, a.risk_level, n.state"
            " FROM alerts a LEFT JOIN nights n ON n.id = a.night_id") as cur:
            rows = list(await cur.fetchall())
        async with conn.execute(
            "SELECT n.id, n.checked_in_at, n.deadline FROM nights n JOIN alerts a"
            " ON a.night_id = n.id WHERE n.checked_in_at IS NOT NULL") as cur:
            checked_with_alert = list(await cur.fetchall())
    for alert_id, kind_name, state, step_index, anchor_text, level, night_state in rows:
        kind = AlertKind(kind_name)
        esc = policy.escalation_for(level)
        anchor = parse_ts(anchor_text)
        # (a) tiers and steps only ever go up.
        assert step_index >= seen.steps.get(alert_id, -1), f"A-{alert_id} step went back"
        seen.steps[alert_id] = step_index
        if step_index >= 0:
            tier = int(ladder.step_at(kind, esc, policy.sos, anchor, step_index).tier)
            assert tier >= seen.tiers.get(alert_id, 0), f"A-{alert_id} tier went back"
            seen.tiers[alert_id] = tier
        # (a) an unacknowledged missed night has reached the officers by now.
        officers_at = anchor if kind is AlertKind.EMERGENCY else anchor + esc.officers_after
        if state == "open" and night_state == "missed" and seen.last_tick >= officers_at:
            # After a clock jump the step is first tried at this tick; a retry may follow.
            seen.due_since.setdefault(alert_id, seen.last_tick)
        if (state == "open" and night_state == "missed"
                and seen.last_tick >= max(seen.due_since.get(alert_id, now),
                                          seen.last_failure) + SLACK):
            name = "EMERGENCY" if kind is AlertKind.EMERGENCY else "Alert"
            label = f"{name} A-{alert_id}"
            assert any(label in t for t in officer_texts), (
                f"{label} (anchor {anchor}) not with the officer at {now}")
    # (b) a check-in before the deadline never comes with an alert for that night.
    for night_id, checked_in_at, deadline in checked_with_alert:
        assert parse_ts(checked_in_at) >= parse_ts(deadline), (
            f"night {night_id} was checked in on time, yet has an alert")
    # (c) the ladder of an acknowledged or closed alert sends nothing more.
    sends = await ladder_sends(world)
    for alert_id, count in seen.frozen.items():
        assert sends.get(alert_id, 0) == count, f"A-{alert_id} ladder message after its end"


async def ended_alerts(world: World) -> set[int]:
    async with world.services.db.read() as conn, conn.execute(
        "SELECT id FROM alerts WHERE state != 'open'") as cur:
        return {row[0] for row in await cur.fetchall()}


async def play(tmp: Path, steps: list[tuple[str, int]]) -> None:
    world = QuickWorld(tmp)
    await world.start()
    try:
        await world.enrol_team()
        await plan_trip(world, BERLIN, date(2026, 12, 1), date(2026, 12, 4))
        world.clock.set(datetime(2026, 12, 1, 18, 30, tzinfo=UTC))  # 19:30 in Berlin
        await world.tick()
        seen = Observed(last_tick=world.clock.now())
        # A final long stretch of plain ticking, so that every example ends with a checkable
        # ladder: the last night's officers tier is due long before this is over.
        tail = [("advance", 20 * 60)] * 12
        for action, arg in [*steps, *tail]:
            before = await ended_alerts(world)
            snapshot = await ladder_sends(world)
            await act(world, action, arg)
            if action == "advance":
                seen.last_tick = world.clock.now()
            # A retry only goes out at a tick after its backoff: time counts from the fault.
            failures = sum(c.status not in (None, 200) for c in world.fake.calls)
            if failures > seen.failures:
                seen.failures, seen.last_failure = failures, world.clock.now()
            for alert_id in await ended_alerts(world) - before:
                seen.frozen.setdefault(alert_id, snapshot.get(alert_id, 0))
            await check(world, seen)
    finally:
        await world.stop()


async def act(world: World, action: str, arg: int) -> None:
    if action == "advance":
        await world.advance(timedelta(seconds=arg))
    elif action == "checkin":
        await world.rep.send("/checkin")
    elif action == "ack":
        user = world.manager if arg == "manager" else world.officer
        if any(b == "Acknowledge" for m in user.messages for row in m.buttons for b in row):
            await user.press("Acknowledge")
    elif action == "restart":
        await world.restart()
    elif action == "flood":
        world.fake.fail_next("sendMessage", Flood(retry_after=arg))
    else:
        world.fake.fail_next("sendMessage", ServerError(502))


@settings(max_examples=40, deadline=None, derandomize=False,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(steps=st.lists(actions, max_size=30))
def test_an_unacknowledged_missed_night_always_reaches_the_officers(
    steps: list[tuple[str, int]],
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(play(Path(tmp), steps))
