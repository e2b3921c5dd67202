"""This session's changes tried as a new, a careless and a hostile user (TRY-IT.md): the SOS
handler's urgent-only delivery, persistence that skips unchanged user_data, the put-aside
draft's offer for free text, roll-call times in the organisation's zone, /report's chart and
place search with brackets and spaces."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from conversations.i18n import plain, text
from faketelegram.errors import ServerError
from fieldbot.geo.names import query_parts
from fieldbot.storage import outbox
from fieldbot.storage.codec import ts
from tests.builders import BERLIN, REMINDER, ROAD, at, jpeg, plan_for, rows, said
from tests.harness import GAZETTEER, MANAGER_ID, REP_ID, World
from tests.test_hardening_duress import run_both, seen
from tests.test_receipt import BusyEveningWorld
from tests.test_rollcall import _go, _officer_asks_berlin

PARIS_FR = 2988507  # GeoNames
MISTAKE = plain(text("en", "sos.button.mistake"))


async def _bulk(world: World, count: int) -> None:
    """`count` notices to the manager waiting in the outbox (a roll-call's worth of bulk)."""
    now = world.clock.now()
    async with world.services.db.transaction() as tx:
        for n in range(count):
            await outbox.enqueue(
                tx, dedupe=f"bulk:{n}", recipient=world.manager.id, kind="skip_notice",
                params={"subject_name": "Fixture Rep", "reason": "made-up", "day":
                        "2026-12-01", "tz": "Europe/Berlin"},
                priority=outbox.PRIORITY_NOTICE, now=now, cipher=world.services.cipher)


async def _waiting(world: World) -> list[dict[str, object]]:
    """The outbox rows due by now and not sent (nor withdrawn, nor given up)."""
    return await rows(world, "SELECT kind, state FROM outbox WHERE state NOT IN"
                             " ('sent', 'withdrawn', 'failed') AND due_at <= ?",
                      ts(world.clock.now()))


# -- 1. /sos: only the urgent rows before the receipt ------------------------------------------

async def test_the_bulk_an_sos_left_waiting_goes_out_at_the_next_sweep(team: World) -> None:
    await _bulk(team, 3)
    await team.rep.send("/sos")
    assert "SOS" in " ".join(team.manager.texts())
    assert await _waiting(team)  # the notices wait for the drain, not for the SOS handler
    await team.tick()
    assert await _waiting(team) == []
    assert len([t for t in team.manager.texts() if "made-up" in t]) == 3


async def test_sos_twice_then_by_mistake_then_again(team: World) -> None:
    """Twice quickly: one alert, 'already'; the newest offer withdraws it; a new SOS after
    is a new alert, and the old offer never closes it."""
    await team.rep.send("/sos")
    first_offer = team.rep.last
    await team.rep.send("/sos")
    second_offer = team.rep.last
    assert len(await rows(team, "SELECT id FROM alerts WHERE kind = 'sos'")) == 1
    toast = await team.rep.press(MISTAKE, first_offer)
    assert toast is not None and toast.show_alert  # an old offer: too late
    await team.rep.press(MISTAKE, second_offer)
    await team.rep.send("/sos")
    toast = await team.rep.press_data("sos:mistake", second_offer)  # withdrawn one's
    assert toast is not None and toast.show_alert
    open_ = await rows(team, "SELECT id FROM alerts WHERE kind = 'sos' AND state = 'open'")
    assert len(open_) == 1
    await team.tick()
    assert await _waiting(team) == []


async def test_by_mistake_is_answered_before_the_bulk(tmp_path: Path) -> None:
    """The "pressed it by mistake" handler drained the whole outbox before answering: ninety
    waiting notices went first (three seconds at Telegram's pace) while the rep's tap span."""
    async with BusyEveningWorld(tmp_path).running() as world:
        await world.enrol_team()
        await world.rep.send("/sos")
        await _bulk(world, 90)
        start = len(world.fake.calls)
        await world.rep.press(MISTAKE)
        calls = [c for c in world.fake.calls[start:] if c.status == 200]
        answered = next(i for i, c in enumerate(calls) if c.method == "answerCallbackQuery")
        notices = [i for i, c in enumerate(calls) if "made-up" in str(c.params.get("text"))]
        assert len([i for i in notices if i < answered]) < 30
        told = [i for i, c in enumerate(calls)
                if int(c.params.get("chat_id", 0)) == world.manager.id
                and "mistake" in str(c.params.get("text", ""))]
        assert told and told[0] < answered  # the manager learns it at once all the same


async def test_sos_while_a_rollcall_question_waits(team: World) -> None:
    """Rita has a roll-call's question open and presses SOS: the SOS goes out, and after the
    next sweep nothing is left in the outbox but what is planned for later."""
    await plan_for(team, team.rep, BERLIN, date(2026, 12, 1), date(2026, 12, 4))
    await _officer_asks_berlin(team)
    await _go(team.officer)
    assert any("are you safe?" in t for t in team.rep.texts())
    await team.rep.send("/sos")
    assert any("SOS" in t for t in team.manager.texts())
    await team.tick()
    assert await _waiting(team) == []


async def test_sos_and_by_mistake_after_a_duress_check_in_look_ordinary(
        tmp_path: Path) -> None:
    """Under duress, then /sos, then "I pressed it by mistake", then the sweeps: the rep's
    phone shows exactly what it shows without the word; the duress alert stays open."""
    async def act(world: World, word: str) -> None:
        await world.rep.send(f"/checkin {word}".strip())
        await world.rep.send("/sos")
        await world.rep.press(MISTAKE)
        await world.tick()

    got = await run_both(tmp_path, act, when=REMINDER)
    assert seen(got["duress"]["rep"]) == seen(got["normal"]["rep"])
    assert any("DURESS" in m.body for m in got["duress"]["manager"])
    assert any("mistake" in m.body for m in got["duress"]["manager"])


# -- 4. roll-call times in the organisation's zone --------------------------------------------

async def test_a_chinese_manager_reads_the_silence_notice_in_beijing_time(
        tmp_path: Path) -> None:
    world = World(tmp_path, default_tz="Asia/Shanghai")
    world.manager.language_code = "zh-hans"
    await world.start()
    try:
        await world.enrol_team()
        await plan_for(world, world.rep, BERLIN, date(2026, 12, 1), date(2026, 12, 4))
        await _officer_asks_berlin(world)
        await _go(world.officer)
        started = world.clock.now().astimezone(ZoneInfo("Asia/Shanghai")).strftime("%H:%M")
        await world.advance(timedelta(minutes=31))
        told = [t for t in world.manager.texts() if "北京时间" in t]
        assert told and started in told[-1] and "UTC" not in told[-1]
    finally:
        await world.stop()


def test_a_zone_that_is_no_zone_stops_the_start_with_its_reason(tmp_path: Path) -> None:
    for typed in ("Mars/Base", "北京", "Asia/Shanghai ", "../../etc/passwd", ""):
        with pytest.raises(ValidationError, match="IANA time zone"):
            World(tmp_path, default_tz=typed)


async def test_a_zone_at_the_prime_meridian_reads_utc_not_utc_minus_0(tmp_path: Path) -> None:
    async with World(tmp_path, default_tz="Etc/GMT+0").running() as world:
        await world.enrol_team()
        await plan_for(world, world.rep, BERLIN, date(2026, 12, 1), date(2026, 12, 4))
        await _officer_asks_berlin(world)
        await _go(world.officer)
        tally = world.officer.last.body or ""
        assert "(UTC)" in tally and "UTC-0" not in tally


# -- 2. persistence skips unchanged user_data ----------------------------------------------------

async def test_a_draft_changed_and_changed_back_survives_a_restart(team: World) -> None:
    await team.rep.send("/trip")
    await team.rep.send("Berlin")
    before = dict(team.app.user_data[REP_ID]) if team.app else {}
    await team.rep.send("/cancel")
    await team.rep.send("/trip")
    await team.rep.send("Berlin")
    await team.restart()
    assert team.app is not None
    assert "Berlin" in str(team.app.user_data[REP_ID])
    assert team.app.user_data[REP_ID].keys() == before.keys()


async def test_an_erased_persons_draft_never_comes_back(team: World) -> None:
    await team.rep.send("/trip")
    await team.rep.send("Berlin")
    await team.rep.send("/forgetme")
    await team.rep.press(team.rep.last.buttons[0][0])
    await team.restart()
    assert team.app is not None
    assert "Berlin" not in str(team.app.user_data.get(REP_ID, {}))
    await team.enrol(team.rep, "staff", "north")
    await team.rep.send("/trip")
    await team.rep.send("Paris")
    await team.restart()
    assert team.app is not None
    kept = str(team.app.user_data.get(REP_ID, {}))
    assert "Paris" in kept and "Berlin" not in kept


async def test_two_people_a_language_switch_and_a_restart_mid_flow(team: World) -> None:
    """Rita plans Berlin, Mia reports a hazard; Rita switches to Chinese (her draft is
    unchanged, so not written again) and back, the bot restarts: both drafts are there and
    each goes on where it stopped; a change made after the restart survives the next one."""
    await team.rep.send("/trip")
    await team.rep.send("Berlin")
    asked = team.rep.last.body
    await team.manager.send("/hazard")
    await team.manager.press("No photo")
    await team.rep.send("/language")
    await team.rep.send("中文")
    await team.rep.send("/language")
    await team.rep.send("English")
    await team.restart()
    await team.rep.send("/trip")
    await team.rep.press("Continue")
    assert team.rep.last.body == asked
    await team.manager.send("/hazard")
    await team.manager.press(team.manager.last.buttons[0][0])  # Continue it
    assert team.manager.last.body != said("hazard.ask.photos", max=5)
    await team.rep.send("/cancel")
    await team.restart()
    assert team.app is not None and "Berlin" not in str(team.app.user_data.get(REP_ID, {}))


# -- 3. free text while a draft is put aside ----------------------------------------------------

async def test_a_reply_to_tonights_reminder_is_a_check_in_with_a_draft_aside(
        team: World) -> None:
    await plan_for(team, team.rep, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
    await team.rep.send("/hazard")
    await team.rep.send("/help")  # the report is put aside
    await at(team, REMINDER)
    await team.rep.send("all good")
    nights = await rows(team, "SELECT state FROM nights WHERE user_id = ?", REP_ID)
    assert [n["state"] for n in nights].count("checked_in") == 1


async def test_chinese_typed_under_language_wins_over_the_draft(team: World) -> None:
    await team.rep.send("/trip")
    await team.rep.send("/help")
    await team.rep.send("/language")
    await team.rep.send("中文")
    assert team.rep.last.body != said("trip.open")
    await team.rep.send("随便")
    assert team.rep.last.body == plain(text("zh", "trip.open"))


async def test_a_sticker_with_two_drafts_aside_is_offered_one(team: World) -> None:
    await team.rep.send("/trip")
    await team.rep.send("/hazard")
    await team.rep.send("/help")
    await team.rep.send_update({"message": {
        "message_id": 9001, "date": 0, "chat": {"id": REP_ID, "type": "private"},
        "from": {"id": REP_ID, "is_bot": False, "first_name": "Rita"},
        "sticker": {"file_id": "x", "file_unique_id": "y", "width": 1, "height": 1,
                    "is_animated": False, "is_video": False, "type": "regular"}}})
    assert team.rep.last.body in (said("trip.open"), said("hazard.open"))


async def test_cancel_drops_the_draft_the_offer_keeps_showing(team: World) -> None:
    """Careless: a plan put aside, free text shows its offer, /cancel said 'There is nothing
    to cancel.' and the next text showed the offer again."""
    await team.rep.send("/trip")
    await team.rep.send("Berlin")
    await team.rep.send("/help")
    await team.rep.send("hello")
    offer = team.rep.last
    assert offer.body == said("trip.open")
    await team.rep.send("/cancel")
    assert team.rep.last.body == said("cancel.done")
    await team.rep.send("hello again")
    assert team.rep.last.body == said("fallback.staff")
    await team.rep.send("/cancel")
    assert team.rep.last.body == said("cancel.nothing")
    assert team.app is not None and "Berlin" not in str(team.app.user_data[REP_ID])


async def test_a_lead_sending_a_photo_with_a_report_aside_is_offered_it(team: World) -> None:
    """Mia's report (its category chosen) is put aside; a photo sent then dropped it without
    a word and began another: she is offered hers to continue or start over instead."""
    await team.manager.send("/hazard")
    await team.manager.press("No photo")
    await team.manager.press(ROAD)
    await team.manager.send("/team")  # the report is put aside
    await team.manager.send_photo(jpeg())
    assert team.manager.last.body == said("hazard.open")
    await team.manager.press(team.manager.last.buttons[0][0])  # Continue it
    assert team.manager.last.body != said("hazard.ask.photos", max=5)
    assert team.app is not None
    assert team.app.user_data[MANAGER_ID]["hazard_draft"]["category"] == "road"


# -- 6. place search with brackets and spaces ---------------------------------------------------

def test_query_parts_keep_latin_names_whole_and_split_mixed_ones() -> None:
    assert query_parts("New York") == ["New York"]
    assert query_parts("Springfield (Illinois)") == ["Springfield", "Illinois"]
    assert query_parts("巴黎 France") == ["巴黎", "France"]
    assert query_parts("Paris 法国") == ["Paris", "法国"]
    assert query_parts("巴黎（法国") == ["巴黎", "法国"]
    assert query_parts("Paris (France") == ["Paris", "France"]


def test_place_search_with_a_bracket_left_open_or_a_mixed_name() -> None:
    for typed in ("巴黎 France", "巴黎（法国", "Paris (France", "巴黎（）", "Paris 法国"):
        found = GAZETTEER.search(typed)
        assert found and found[0].raw["geonameid"] == PARIS_FR, typed
    assert GAZETTEER.search("()") == [] and GAZETTEER.search("((") == []


async def test_a_trip_to_paris_typed_with_the_bracket_left_open(team: World) -> None:
    await team.rep.send("/trip")
    await team.rep.send("Paris (France")
    assert team.rep.last.body != said("trip.destination.not_found", query="Paris (France")
    assert "Paris" in (team.rep.last.body or "")


# -- 5. /report's chart ---------------------------------------------------------------------------

async def test_report_numbers_come_even_when_the_chart_is_refused(team: World) -> None:
    """Telegram answering 502 to the chart: the numbers were never sent, the manager read
    'Sorry, something went wrong'."""
    team.fake.fail_next("sendPhoto", ServerError())
    await team.manager.send("/report")
    assert (team.manager.last.body or "").startswith("📊 Monthly safety summary")
    assert "Team north" in (team.manager.last.body or "")


async def test_report_of_an_empty_team_in_chinese_a_month_with_no_data(team: World) -> None:
    """Mia's team has nobody but Rita, who never travelled; in Chinese, a month long past:
    the chart (protected, its caption short) and then the numbers."""
    await team.manager.send("/language")
    await team.manager.send("中文")
    await team.manager.send("/report 2025-01")
    photos = [c for c in team.fake.calls if c.method == "sendPhoto" and c.status == 200]
    assert photos and str(photos[-1].params.get("protect_content")).lower() == "true"
    caption = str(photos[-1].params.get("caption"))
    assert "2025年1月" in caption and len(caption) <= 1024
    assert "2025年1月" in (team.manager.last.body or "")

