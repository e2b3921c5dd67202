"""The escalation ladder end to end: the real bot, the fake Telegram, a fake clock."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from faketelegram.errors import Flood
from fieldbot.domain.places import Place
from tests.builders import BERLIN, DEADLINE, REMINDER, alerts_in, at, plan_trip, said
from tests.harness import World
from tests.pg import BACKENDS

pytestmark = pytest.mark.parametrize("backend", BACKENDS, indirect=True)

KATHMANDU = Place("Kathmandu", "NP", "Nepal", "Bagmati", 27.7017, 85.3206, "Asia/Kathmandu")
NEW_YORK = Place("New York", "US", "United States", "New York", 40.71, -74.01, "America/New_York")


async def test_the_whole_ladder_for_one_missed_night(team: World) -> None:
    await plan_trip(team, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
    await at(team, REMINDER)
    assert "before <b>21:00" in team.rep.last.html
    assert team.rep.last.buttons == [
        ["✅ I'm safe"],  # Need help is rows away from I'm safe: no mis-tap raises an SOS
        ["⏰ +30 min", "Skip tonight"],
        ["🆘 Need help"],
    ]

    await at(team, DEADLINE)
    assert "Alert A-1" in team.rep.last.body and "reminder 1" in team.rep.last.body
    assert not alerts_in(team.manager.texts(), "A-1")

    await at(team, DEADLINE + timedelta(minutes=15))
    assert "reminder 2" in team.rep.last.body
    assert not alerts_in(team.manager.texts(), "A-1")

    await at(team, DEADLINE + timedelta(minutes=30))
    manager_alert = team.manager.last
    assert (
        "Alert A-1" in manager_alert.body
        and "Rita missed tonight's check-in" in manager_alert.body
    )
    assert "Hotel Fixture, Room 12" in manager_alert.body
    assert "Sam Fixture, +4917000000" in manager_alert.body
    assert manager_alert.buttons == [["Acknowledge", "Resolve"]]
    assert not alerts_in(team.officer.texts(), "A-1")

    await at(team, DEADLINE + timedelta(minutes=60))
    assert "Alert A-1" in team.officer.last.body
    assert len(alerts_in(team.manager.texts(), "Alert A-1")) == 2  # manager again, with officers
    # Numbered per person: the manager's second message says so, not "message 1" again.
    assert "(message 2)" in team.manager.last.body and "(message 1)" in team.officer.last.body

    await at(team, DEADLINE + timedelta(minutes=90))
    assert len(alerts_in(team.officer.texts(), "Alert A-1")) == 2  # repeated until acknowledged

    await team.officer.press("Acknowledge")
    assert "Olu has acknowledged" in team.manager.last.body
    before = len(team.manager.messages) + len(team.officer.messages)
    await at(team, DEADLINE + timedelta(hours=3))
    assert len(team.manager.messages) + len(team.officer.messages) == before


async def test_a_late_check_in_sends_the_all_clear_to_everyone_alerted(team: World) -> None:
    await plan_trip(team, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
    await at(team, DEADLINE + timedelta(minutes=61))
    await team.rep.send("/checkin")
    assert "Everyone who was alerted has been told" in team.rep.last.body
    assert (
        "All clear" in team.manager.last.body and "Rita has checked in" in team.manager.last.body
    )
    assert "All clear" in team.officer.last.body
    before = len(team.manager.messages)
    await at(team, DEADLINE + timedelta(hours=4))
    assert len(team.manager.messages) == before


async def test_a_late_press_of_im_safe_sends_the_all_clear_at_once(team: World) -> None:
    await plan_trip(team, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
    for when in (REMINDER, DEADLINE, DEADLINE + timedelta(minutes=15),
                 DEADLINE + timedelta(minutes=30)):
        await at(team, when)
    assert "Rita missed tonight's check-in" in team.manager.last.body
    await team.rep.press("✅ I'm safe")  # on the last reminder; no sweep runs after it
    told = team.manager.last.body
    assert "All clear" in told and "Rita has checked in" in told


async def test_checking_in_on_time_raises_nothing(team: World) -> None:
    await plan_trip(team, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
    await at(team, REMINDER)
    received = len(team.rep.messages)
    await team.rep.press("✅ I'm safe")
    assert "checked in for tonight" in team.rep.last.body
    assert len(team.rep.messages) == received  # the reminder became the receipt
    assert team.rep.last.buttons == []
    await at(team, DEADLINE + timedelta(hours=2))
    assert not alerts_in(team.manager.texts(), "Alert")


async def test_acknowledging_twice_and_acknowledging_yourself(team: World) -> None:
    await plan_trip(team, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
    await at(team, DEADLINE + timedelta(minutes=60))
    alert_message = team.officer.last
    await team.manager.press("Acknowledge")
    toast = await team.officer.press("Acknowledge", alert_message)
    assert toast is not None and "Mia is already handling" in toast.text


async def test_resolve_with_a_reason_tells_everyone(team: World) -> None:
    await plan_trip(team, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
    await at(team, DEADLINE + timedelta(minutes=60))
    await team.manager.press("Resolve")
    await team.manager.press("Reached by phone")
    assert "resolved by Mia: Reached by phone" in team.officer.last.body
    async with (
        team.services.db.read() as conn,
        conn.execute("SELECT state, resolution FROM alerts") as cur,
    ):
        assert tuple(await cur.fetchone()) == ("resolved", "phone")


async def test_three_missed_nights_in_a_row_are_an_emergency(team: World) -> None:
    await plan_trip(team, BERLIN, date(2026, 12, 1), date(2026, 12, 5))
    for night in range(3):
        await at(team, DEADLINE + timedelta(days=night, minutes=1))
    # The EMERGENCY goes first (by severity), the earlier nights' repeats after it.
    emergency = next(t for t in reversed(team.officer.texts()) if "A-3" in t)
    assert "Alert A-3" in team.rep.last.body  # the rep is urged at the same moment
    assert "EMERGENCY A-3" in emergency
    assert "Emergency-contact procedure" in emergency
    assert any("EMERGENCY A-3" in t for t in team.manager.texts())


async def test_skip_tonight_informs_the_manager_without_an_alert(team: World) -> None:
    await plan_trip(team, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
    await at(team, REMINDER)
    await team.rep.press("Skip tonight")
    await team.rep.send("Dinner with the client runs late, will be fine")
    assert "your manager has been informed" in team.rep.last.body
    assert (
        "Rita is skipping" in team.manager.last.body
        and "Dinner with the client" in team.manager.last.body
    )
    await at(team, DEADLINE + timedelta(hours=2))
    assert not alerts_in(team.manager.texts(), "Alert")


async def test_plus_thirty_minutes_moves_the_deadline(team: World) -> None:
    await plan_trip(team, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
    await at(team, REMINDER)
    await team.rep.press("⏰ +30 min")
    assert "21:30" in team.rep.last.body
    await at(team, DEADLINE + timedelta(minutes=1))
    assert not alerts_in(team.rep.texts(), "Alert A-")
    await at(team, DEADLINE + timedelta(minutes=31))
    assert "Alert A-1" in team.rep.last.body


async def test_sos_alerts_manager_and_officer_at_once_and_repeats(team: World) -> None:
    await plan_trip(team, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
    await team.rep.send("/sos")
    assert "being alerted now" in team.rep.messages[-2].body
    assert "SOS A-1" in team.manager.last.body and "Rita asked for help" in team.manager.last.body
    assert "SOS A-1" in team.officer.last.body
    assert team.fake.sent_to(team.manager.id)[-1].protect_content
    await team.rep.send("/sos")
    assert "already active" in team.rep.messages[-2].body
    await team.advance(timedelta(minutes=5))
    assert len(alerts_in(team.officer.texts(), "SOS A-1")) == 2
    await team.manager.press("Acknowledge")
    await team.advance(timedelta(minutes=15))
    assert len(alerts_in(team.officer.texts(), "SOS A-1")) == 2


async def test_need_help_button_raises_an_sos(team: World) -> None:
    await plan_trip(team, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
    await at(team, REMINDER)
    await team.rep.share_location(52.5, 13.4)
    await team.rep.press("🆘 Need help")
    assert "SOS A-1" in team.manager.last.body
    assert "openstreetmap.org/?mlat=52.50000" in team.manager.last.body


async def test_a_duress_check_in_looks_normal_and_silently_raises_an_sos(tmp_path: Path) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text('[checkin]\nduress_word = "bluebird"\n', encoding="utf-8")
    world = World(tmp_path, policy=policy)
    await world.start()
    try:
        await world.enrol_team()
        await plan_trip(world, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
        await at(world, REMINDER)
        await world.rep.send("/checkin all fine bluebird")
        assert world.rep.last.body.startswith(said("checkin.done.on_time"))
        assert "DURESS" in world.manager.last.body and "DURESS" in world.officer.last.body
        assert not any("DURESS" in t or "SOS" in t for t in world.rep.texts())
    finally:
        await world.stop()


async def test_a_blocked_manager_is_skipped_and_the_admin_told(team: World) -> None:
    await plan_trip(team, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
    await team.manager.block()
    await at(team, DEADLINE + timedelta(minutes=30))
    assert "Alert A-1" in team.officer.last.body  # went to the officers at once, not at +60
    assert any(f"User {team.manager.id} could not be reached" in t for t in team.admin.texts())


async def test_a_rep_who_blocked_the_bot_goes_straight_to_the_manager(team: World) -> None:
    await plan_trip(team, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
    await team.rep.block()
    await at(team, DEADLINE)
    assert "Alert A-1" in team.manager.last.body


async def test_restart_after_six_hours_down_catches_up_once_marked_late(team: World) -> None:
    await plan_trip(team, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
    await at(team, REMINDER)
    await team.stop()
    team.clock.set(DEADLINE + timedelta(hours=6))
    await team.start()
    await team.tick()
    officer_alerts = alerts_in(team.officer.texts(), "Alert A-1")
    assert len(officer_alerts) == 1  # one catch-up message, not twelve repeats
    assert "This message is late" in officer_alerts[0]


async def test_a_flood_429_is_retried_after_retry_after(team: World) -> None:
    await plan_trip(team, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
    team.fake.fail_next("sendMessage", Flood(retry_after=40), chat_id=team.rep.id)
    await at(team, REMINDER)
    assert not any("Evening check-in" in t for t in team.rep.texts())
    await team.advance(timedelta(seconds=20))
    assert not any("Evening check-in" in t for t in team.rep.texts())
    await team.advance(timedelta(seconds=25))
    assert any("Evening check-in" in t for t in team.rep.texts())


async def test_a_repeated_update_does_not_check_in_twice(team: World) -> None:
    await plan_trip(team, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
    await at(team, REMINDER)
    await team.rep.send("/checkin")
    await team.rep.resend_last_update()
    assert "already checked in" in team.rep.last.body
    async with (
        team.services.db.read() as conn,
        conn.execute("SELECT COUNT(*) FROM nights WHERE state = 'checked_in'") as cur,
    ):
        assert (await cur.fetchone())[0] == 1


@pytest.mark.parametrize(
    ("place", "day", "deadline_utc"),
    [
        # Kathmandu is UTC+5:45 all year: 21:00 local is 15:15 UTC.
        (KATHMANDU, date(2026, 12, 2), datetime(2026, 12, 2, 15, 15, tzinfo=UTC)),
        # New York leaves DST on 2026-11-01: 21:00 EST is 02:00 UTC the next day.
        (NEW_YORK, date(2026, 11, 1), datetime(2026, 11, 2, 2, 0, tzinfo=UTC)),
        # ...and the night before, still EDT: 01:00 UTC.
        (NEW_YORK, date(2026, 10, 31), datetime(2026, 11, 1, 1, 0, tzinfo=UTC)),
    ],
)
async def test_the_deadline_follows_the_destination_zone(
    tmp_path: Path, place: Place, day: date, deadline_utc: datetime
) -> None:
    world = World(
        tmp_path, start=datetime.combine(day, datetime.min.time(), UTC) - timedelta(hours=12)
    )
    await world.start()
    try:
        await world.enrol_team()
        await plan_trip(world, place, day, day)
        await at(world, deadline_utc - timedelta(seconds=1))
        assert not alerts_in(world.rep.texts(), "Alert A-")
        await at(world, deadline_utc)
        assert "Alert A-1" in world.rep.last.body
    finally:
        await world.stop()
