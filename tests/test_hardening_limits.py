"""Messages that grow with data stay within Telegram's limits (issue 10, item 5).

Every list is bounded by design (the most important first, then "and K more", or pages), and
toasts are plain text of at most 200 characters. The fake Telegram refuses what the real API
refuses, so a message over 4096 characters or a toast over 200 fails these tests loudly.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest

from conversations.i18n import MAX_TOAST, Texts
from conversations.render.formatting import MAX_MESSAGE, bounded
from faketelegram.api import FakeTelegram
from faketelegram.users import FakeUser
from fieldbot.domain.hazards import Category, HazardReport, Severity
from fieldbot.domain.places import Place
from fieldbot.domain.trips import Leg
from fieldbot.services.trips import TripPlan
from tests.builders import ANA, make_bot, plan, trips_of
from tests.harness import World

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)  # the bare fake API's date

# Telegram allows 64 characters in a first name and 64 in a last name.
LONG_FIRST = ("Tom & Jerry <Longname> " * 3)[:64]
LONG_LAST = ("van der Achterberg-Oosterhuis " * 3)[:64]


def _long_name(user: FakeUser, n: int = 0) -> None:
    user.first_name = f"{n:02d} {LONG_FIRST}"[:64]
    user.last_name = LONG_LAST


def _long_place(n: int) -> Place:
    name = f"Sankt Leonhard im Pitztal Ober-Unterdorf Nummer {n:02d} " + "x" * 20
    return Place(name[:64], "DE", "Germany", ("Landkreis " + "y" * 60)[:64], 52.52 + n / 100,
                 13.405, "Europe/Berlin")


def _assert_fits(user: FakeUser) -> None:
    for message in user.messages:
        assert len(message.body or "") <= MAX_MESSAGE, message.body[:80]
        assert "something went wrong" not in (message.body or "")


@pytest.fixture
async def crowded(world: World) -> World:
    """The team with the longest names Telegram allows."""
    for n, user in enumerate((world.admin, world.manager, world.officer, world.rep)):
        _long_name(user, n)
    await world.enrol_team()
    return world


async def _fifty_verified_hazards_near_berlin(world: World) -> None:
    reporter = await world.services.enrolment.member(world.rep.id)
    lead = await world.services.enrolment.member(world.officer.id)
    assert reporter is not None and lead is not None
    for n in range(50):
        report = HazardReport(Category.CRIME, Severity.ORANGE, 52.52 + n / 10_000, 13.405,
                              "Berlin, Germany, Mitte, " + "Friedrichstraße " * 8, False,
                              f"Report {n}: " + "pickpockets working the station " * 30)
        reported = await world.services.hazards.report(reporter, report, f"limits-{n}")
        await world.services.hazards.decide(reported.hazard.id, lead, True)
    await world.tick()


async def test_risk_near_fifty_verified_hazards_is_one_message_with_and_k_more(
    crowded: World,
) -> None:
    await _fifty_verified_hazards_near_berlin(crowded)
    await crowded.rep.send("/risk Berlin")
    answer = crowded.rep.last.body
    assert answer.startswith("Berlin, Germany")
    assert len(answer) <= MAX_MESSAGE
    assert "… and " in answer and " more." in answer
    assert "What to do:" in answer  # the guidance is never the part that is cut
    _assert_fits(crowded.rep)


async def test_a_trip_near_fifty_hazards_can_still_be_confirmed(crowded: World) -> None:
    await _fifty_verified_hazards_near_berlin(crowded)
    await plan(crowded.rep, "Berlin", "today", "2026-12-03", lodging="H" * 500,
               contact="Sam " + "L" * 90 + " +49 170 1234567", companion="C" * 200)
    _assert_fits(crowded.rep)
    await crowded.rep.press("✅ Confirm")
    [trip] = await trips_of(crowded, crowded.rep)
    await crowded.tick()
    _assert_fits(crowded.rep)
    _assert_fits(crowded.manager)  # the approval request carries the summary
    assert trip.id > 0


async def _enrol_reps(world: World, count: int) -> list[FakeUser]:
    reps = []
    for n in range(count):
        rep = world.fake.user(50_000 + n, "x")
        _long_name(rep, n)
        await world.enrol(rep, "staff", "north")
        reps.append(rep)
    return reps


async def test_forty_open_alerts_and_a_big_team_fit_their_messages(crowded: World) -> None:
    reps = await _enrol_reps(crowded, 40)
    for rep in reps:
        await rep.send("/sos")
    await crowded.tick()
    await crowded.manager.send("/alerts")
    listing = crowded.manager.last.body
    assert "Open alerts: 40" in listing
    assert len(listing) <= MAX_MESSAGE
    assert "… and " in listing
    await crowded.manager.send("/team")
    assert "page 1 of 7" in crowded.manager.last.body  # 41 people, 6 a page
    await crowded.officer.send("/team")
    await crowded.manager.send("/hazards")
    for user in (crowded.manager, crowded.officer, *reps[:3]):
        _assert_fits(user)


async def test_five_long_trips_fit_privacy_and_the_escalation_alert(crowded: World) -> None:
    rep = await crowded.services.enrolment.member(crowded.rep.id)
    assert rep is not None
    for k in range(5):
        start = date(2026, 12, 1) + timedelta(days=10 * k)
        legs = tuple(Leg(_long_place(5 * k + n), start + timedelta(days=n),
                         start + timedelta(days=n)) for n in range(5))
        plan_ = TripPlan(legs=legs, lodging="Grand Hotel " + "L" * 488,
                         contact_name="Sam " + "F" * 96, contact_phone="+4917000000",
                         contact_user_id=None, night_visits=True, companion="C" * 200)
        submitted = await crowded.services.trips.submit(rep, plan_, f"limits-trip-{k}")
        assert submitted.trip is not None
    await crowded.tick()
    await crowded.rep.send("/privacy")
    answer = crowded.rep.last.body
    assert "Trip plans" in answer and "… and " in answer
    await crowded.rep.send("/sos")
    await crowded.tick()
    for user in (crowded.rep, crowded.manager, crowded.officer):
        _assert_fits(user)
    assert "SOS" in crowded.manager.last.body


async def test_toasts_are_plain_text_and_name_people_unescaped(crowded: World) -> None:
    await crowded.rep.send("/sos")
    await crowded.tick()
    await crowded.officer.press("Acknowledge")
    toast = await crowded.manager.press("Acknowledge")
    assert toast is not None and toast.text is not None
    assert "Tom & Jerry <Longname>" in toast.text
    assert "&amp;" not in toast.text and "&lt;" not in toast.text
    assert len(toast.text) <= MAX_TOAST


def test_a_toast_is_cut_to_200_characters_without_tags_or_entities() -> None:
    text = Texts("en").toast("alert.err.already", name="A & B " * 60)
    assert len(text) == MAX_TOAST and text.endswith("…")
    assert text.startswith("A & B A & B")


def test_bounded_keeps_the_first_items_and_counts_the_rest() -> None:
    items = [f"item {n} " + "x" * 90 for n in range(50)]
    kept = bounded(items, lambda k: f"and {k} more", most=10, budget=500)
    assert kept[-1] == f"and {50 - (len(kept) - 1)} more"
    assert kept[:-1] == items[: len(kept) - 1]
    assert len("\n".join(kept)) <= 500
    assert bounded(items[:3], lambda k: f"and {k} more", most=10) == items[:3]


@pytest.fixture
async def bot(fake: FakeTelegram) -> AsyncIterator[Bot]:
    async with make_bot(fake) as bot:
        yield bot


@pytest.fixture
def fake() -> FakeTelegram:
    return FakeTelegram(clock=lambda: NOW)


async def test_the_fake_refuses_toasts_over_200_characters_like_telegram(
    bot: Bot, fake: FakeTelegram
) -> None:
    ana = fake.user(ANA, "Ana")
    await ana.send("/start")
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("OK", callback_data="ok")]])
    await bot.send_message(ANA, "x", reply_markup=keyboard)
    await ana.press("OK")
    query = (await bot.get_updates())[-1].callback_query
    assert query is not None
    with pytest.raises(BadRequest, match="(?i)message_too_long"):
        await query.answer("x" * 201)
    await query.answer("x" * 200)
    assert [len(t.text or "") for t in ana.toasts] == [200]


def test_every_toast_in_the_handlers_goes_through_the_toast_helper() -> None:
    """A catalog text is HTML; a toast shows it as typed, so each goes through Texts.toast."""
    root = Path(__file__).resolve().parent.parent / "conversations"
    raw = re.compile(r"\.answer\(\s*(context\.)?t\(")
    offenders = [f"{path.name}:{n}" for path in sorted(root.glob("*.py"))
                 for n, line in enumerate(path.read_text().splitlines(), start=1)
                 if raw.search(line)]
    assert offenders == []
