"""Issue 10, item 4: a duress signal stays silent. Whatever the rep writes with the duress word,
she sees exactly what a normal check-in shows (compared byte for byte with a second, identical
world where she writes without it); the people alerted never read "safe"; and a later /sos of
hers looks like a fresh one."""

from __future__ import annotations

from datetime import date, time, timedelta
from pathlib import Path
from typing import Any

import pytest

from fieldbot.domain.policy import CheckinPolicy
from tests.builders import BERLIN, DEADLINE, REMINDER, at, plan_for, plan_trip, rows, said
from tests.harness import World

WORD = "bluebird"


def policy_file(tmp: Path) -> Path:
    tmp.mkdir(parents=True, exist_ok=True)
    policy = tmp / "policy.toml"
    policy.write_text(f'[checkin]\nduress_word = "{WORD}"\n', encoding="utf-8")
    return policy


async def duress_world(tmp: Path) -> World:
    world = World(tmp, policy=policy_file(tmp))
    await world.start()
    await world.enrol_team()
    await plan_trip(world, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
    return world


def seen(messages: list[Any]) -> list[tuple[str, Any]]:
    """What a person sees of each message: its HTML and its keyboard, byte for byte."""
    return [(m.html, m.reply_markup) for m in messages]


async def run_both(tmp: Path, act: Any, *, when: Any, after: timedelta = timedelta(hours=3)
                   ) -> dict[str, dict[str, list[Any]]]:
    """Play the same evening twice, with and without the duress word; return what the rep,
    the manager and the officer received from the rep's act on, until `after` later."""
    out: dict[str, dict[str, list[Any]]] = {}
    for name, word in (("normal", ""), ("duress", WORD)):
        world = await duress_world(tmp / name)
        try:
            await at(world, when)
            marks = {p: getattr(world, p).mark() for p in ("rep", "manager", "officer")}
            await act(world, word)
            end = world.clock.now() + after
            while world.clock.now() < end:
                await world.advance(timedelta(minutes=5))
            out[name] = {p: getattr(world, p).since(m) for p, m in marks.items()}
        finally:
            await world.stop()
    return out


@pytest.mark.parametrize("late", [timedelta(minutes=5), timedelta(minutes=35)])
async def test_a_duress_check_in_with_a_missed_alert_open_looks_normal_and_sends_no_all_clear(
    tmp_path: Path, late: timedelta
) -> None:
    async def check_in(world: World, word: str) -> None:
        await world.rep.send(f"/checkin all fine {word}".strip())

    got = await run_both(tmp_path, check_in, when=DEADLINE + late)
    assert seen(got["duress"]["rep"]) == seen(got["normal"]["rep"])
    assert got["normal"]["rep"][0].body.startswith("✅ Thanks — you are checked in.")
    manager = [m.body for m in got["duress"]["manager"]]
    assert not any("All clear" in text or "safe" in text for text in manager)
    assert any("DURESS" in text for text in manager)
    assert any("DURESS" in m.body for m in got["duress"]["officer"])
    # the missed-check-in alert was folded into the duress alert: it climbs no further
    assert not any("Alert A-1" in text for text in manager)
    if late > timedelta(minutes=30):  # the manager had the alert: the normal world clears it
        assert any("All clear" in m.body for m in got["normal"]["manager"])


async def test_a_plain_reply_to_the_reminder_is_a_check_in_and_hears_the_word(
    tmp_path: Path,
) -> None:
    async def reply(world: World, word: str) -> None:
        reminder = world.rep.last
        assert "Evening check-in" in reminder.body
        await world.rep.send(f"All good here {word}".strip(), reply_to=reminder)

    got = await run_both(tmp_path, reply, when=REMINDER)
    assert seen(got["duress"]["rep"]) == seen(got["normal"]["rep"])
    assert got["normal"]["rep"][0].body.startswith(said("checkin.done.on_time"))
    assert any("DURESS" in m.body for m in got["duress"]["manager"])
    assert not any("DURESS" in m.body for m in got["normal"]["manager"])


async def test_a_skip_reason_with_the_word_skips_as_usual_and_raises_the_duress_alert(
    tmp_path: Path,
) -> None:
    async def skip(world: World, word: str) -> None:
        await world.rep.press("Skip tonight")
        await world.rep.send(f"Dinner with the client {word}".strip())

    got = await run_both(tmp_path, skip, when=REMINDER)
    assert seen(got["duress"]["rep"]) == seen(got["normal"]["rep"])
    assert "tonight is skipped" in got["normal"]["rep"][-1].body
    assert any("DURESS" in m.body for m in got["duress"]["officer"])


async def test_a_later_sos_looks_fresh_to_the_rep_and_reaches_the_managers(
    tmp_path: Path,
) -> None:
    async def checkin_then_sos(world: World, word: str) -> None:
        await world.rep.send(f"/checkin fine {word}".strip())
        await world.advance(timedelta(minutes=10))
        await world.rep.send("/sos")

    got = await run_both(tmp_path, checkin_then_sos, when=REMINDER,
                         after=timedelta(minutes=20))
    assert seen(got["duress"]["rep"]) == seen(got["normal"]["rep"])
    assert not any("already active" in m.body for m in got["duress"]["rep"])
    duress_manager = [m.body for m in got["duress"]["manager"]]
    # a real SOS of its own, next to the duress alert
    assert any("SOS A-2" in text and "DURESS" not in text for text in duress_manager)


async def test_full_width_and_upper_case_words_are_heard(tmp_path: Path) -> None:
    world = await duress_world(tmp_path)
    try:
        await at(world, REMINDER)
        await world.rep.send("/checkin ＢＬＵＥ\u200bＢＩＲＤ")  # full width, a zero-width space
        assert "DURESS" in world.manager.last.body
        assert world.rep.last.body.startswith(said("checkin.done.on_time"))
    finally:
        await world.stop()


@pytest.mark.parametrize(
    "text", ["BLUEBIRD", "ｂｌｕｅｂｉｒｄ", "Blue\u200bbird", "我很好ＢＬＵＥＢＩＲＤ。"])
def test_the_word_is_found_whatever_the_keyboard(text: str) -> None:
    policy = CheckinPolicy(reminder=time(20), deadline=time(21), duress_word=WORD)
    assert policy.is_duress(text)
    assert not policy.is_duress("blue bird")


async def test_privacy_and_forgetme_never_reveal_a_duress_alert(tmp_path: Path) -> None:
    async def look(world: World, word: str) -> None:
        await world.rep.send(f"/checkin all fine {word}".strip())
        await world.rep.send("/privacy")
        await world.rep.send("/forgetme")

    got = await run_both(tmp_path, look, when=REMINDER + timedelta(minutes=5),
                         after=timedelta(0))

    assert seen(got["duress"]["rep"]) == seen(got["normal"]["rep"])


async def test_erasing_oneself_under_duress_is_refused_in_general_words(tmp_path: Path) -> None:
    world = await duress_world(tmp_path)
    try:
        await at(world, REMINDER + timedelta(minutes=5))
        await world.rep.send(f"/checkin all fine {WORD}")
        await world.rep.send("/forgetme")
        await world.rep.press("🗑 Erase")
        told = world.rep.last.body or ""
        assert "try again later" in told
        assert "A-" not in told and "alert" not in told.lower()
        assert await world.services.enrolment.member(world.rep.id) is not None  # kept
    finally:
        await world.stop()


# --- a travelling manager under duress: her own desk and reports (found by a review of the
# desk as a hostile outsider would use it) ---------------------------------------------------


async def _manager_checks_in(tmp: Path, word: str) -> World:
    """Mia (a manager, with Max managing north too) travels; tonight she checks in, with or
    without the duress word."""
    world = World(tmp, policy=policy_file(tmp))
    await world.start()
    await world.enrol_team()
    await world.enrol(world.fake.user(2022, "Max"), "manager", "north")
    await plan_for(world, world.manager, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
    await at(world, DEADLINE - timedelta(minutes=30))
    await world.manager.send(f"/checkin all fine {word}".strip())
    await world.advance(timedelta(minutes=5))
    return world


async def test_her_own_desk_chart_and_monthly_summary_read_as_after_an_ordinary_check_in(
    tmp_path: Path,
) -> None:
    shown: dict[str, tuple[Any, ...]] = {}
    for name, word in (("normal", ""), ("duress", WORD)):
        world = await _manager_checks_in(tmp_path / name, word)
        try:
            mia = await world.services.enrolment.member(world.manager.id)
            assert mia is not None
            reports, month = world.services.reports, world.services.reports.current_month()
            summary = await reports.for_member(mia, month)
            chart = await reports.chart(mia, month)
            await world.manager.send("/report")
            shown[name] = (summary, chart, world.manager.last.html)
            if word:  # Max, her fellow manager, counts the SOS
                max_ = await world.services.enrolment.member(2022)
                assert max_ is not None
                assert (await reports.for_member(max_, month)).sos == 1
        finally:
            await world.stop()
    assert shown["duress"] == shown["normal"]


async def test_trying_alert_numbers_from_her_phone_finds_no_duress_alert(tmp_path: Path) -> None:
    """Whoever holds Mia's phone presses forged Acknowledge buttons for alert numbers: the
    duress alert about her answers as a number that does not exist."""
    world = await _manager_checks_in(tmp_path, WORD)
    try:
        [row] = await rows(world, "SELECT id, kind FROM alerts")
        assert row["kind"] == "duress"
        real = await world.manager.press_data(f"escalation:ack:{row['id']}")
        none = await world.manager.press_data("escalation:ack:999")
        assert real is not None and none is not None and real.text == none.text
        [still] = await rows(world, "SELECT state FROM alerts")
        assert still["state"] == "open"
    finally:
        await world.stop()
