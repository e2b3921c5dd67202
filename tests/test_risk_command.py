"""/risk <place>: the level, why (source and date), the local time there and the guidance.
The advisory feeds are the made-up FIXTURE files; the register is a file written here."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from fieldbot.geo.advisories import CANADA_SOURCE, US_SOURCE, import_file
from tests.builders import said
from tests.harness import World

FIXTURES = Path(__file__).parent / "fixtures"

REGISTER = """
[[entry]]
country = "NG"
city = "Lagos"
level = 4
note = "Kidnappings of business travellers reported"
expires = "2027-06-30"
"""


@pytest.fixture
async def registered(tmp_path: Path) -> AsyncIterator[World]:
    """The team, with a risk register file the safety officer keeps."""
    register = tmp_path / "register.toml"
    register.write_text(REGISTER, encoding="utf-8")
    world = World(tmp_path, risk_register=register)
    await world.start()
    await world.enrol_team()
    yield world
    await world.stop()


async def import_fixture_feeds(world: World) -> None:
    now = world.clock.now()
    us = import_file(FIXTURES / "us_state_advisories.FIXTURE.xml")
    canada = import_file(FIXTURES / "canada_advisories.FIXTURE.json")
    await world.services.advisories.replace(US_SOURCE, us, now)
    await world.services.advisories.replace(CANADA_SOURCE, canada, now)


async def test_a_register_entry_makes_lagos_red_with_its_note_and_guidance(
    registered: World,
) -> None:
    rep = registered.rep
    await rep.send("/risk Lagos, Nigeria")
    lines = rep.last.body.splitlines()
    assert lines[:4] == [
        "Lagos, Nigeria",
        "Risk: 🔴 Red: do not travel",
        "🕒 Local time there: 10:00 Tue 1 Dec (Lagos time)",
        "Why",
    ]
    assert lines[4] == ("🔴 Company risk assessment: Lagos, NG: "
                        "Kidnappings of business travellers reported")
    assert lines[5].startswith(
        "What to do: do not travel unless your manager and a safety officer")
    assert "Night client visits only in pairs, in public places" in lines[5]
    assert "first-aid kit" in lines[5]
    assert "<b>Red: do not travel</b>" in (rep.last.html or "")


async def test_the_register_is_reloaded_without_a_restart(registered: World) -> None:
    register = registered.tmp / "register.toml"
    register.write_text(REGISTER.replace("level = 4", "level = 2"), encoding="utf-8")
    stat = register.stat()
    os.utime(register, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    await registered.rep.send("/risk Lagos, Nigeria")
    assert "Risk: 🟡 Yellow: increased caution" in registered.rep.last.body


async def test_an_advisory_from_the_fixture_feed_gives_its_source_and_date(team: World) -> None:
    await import_fixture_feeds(team)
    await team.rep.send("/risk Abidjan")
    body = team.rep.last.body
    assert "Abidjan, Ivory Coast\nRisk: 🟠 Orange: reconsider travel" in body
    assert ("🟠 US State Department (2 Feb 2099): Cote d'Ivoire - Level 3: Reconsider Travel"
            in body)
    assert "🕒 Local time there: 09:00 Tue 1 Dec (Abidjan time)" in body
    assert "it needs your manager's approval" in body


async def test_the_highest_of_two_advisories_wins_and_both_are_shown(team: World) -> None:
    await import_fixture_feeds(team)
    await team.rep.send("/risk Berlin")
    body = team.rep.last.body
    assert "Risk: 🟡 Yellow: increased caution" in body
    why = body.split("Why\n", 1)[1].splitlines()
    assert why[0].startswith("🟡 US State Department (2 Feb 2099): Germany - Level 2")
    assert why[1].startswith("🔵 Government of Canada (15 Jan 2099): Germany")


async def test_a_place_nobody_rated_is_grey_and_never_shown_as_safe(team: World) -> None:
    await team.rep.send("/risk Tokyo")
    body = team.rep.last.body
    assert "Risk: ❔ Grey – unknown: no risk data (this does not mean safe)" in body
    assert ("No travel advisory, company risk assessment or verified hazard report "
            "covers this place.") in body
    assert "that is not the same as safe" in body
    for safe_word in ("Blue", "🔵", "🟢", "normal precautions"):
        assert safe_word not in body


async def test_risk_without_a_place_asks_for_one_and_takes_a_pin(registered: World) -> None:
    rep = registered.rep
    await rep.send("/risk")
    assert rep.last.body == "Which place? Type a city (e.g. Shanghai) or share a location."
    assert rep.keyboard == [[{"text": "📍 Send my current location", "request_location": True}]]
    await rep.share_location(6.45, 3.39)
    assert rep.last.body.startswith("Lagos, Nigeria\nRisk: 🔴 Red")
    assert rep.keyboard is None
    await rep.send("Tokyo")  # the question is over: not looked up again
    assert rep.last.body.startswith("I only act on commands.")


async def test_several_matches_are_offered_and_the_pick_is_answered_in_place(
    registered: World,
) -> None:
    rep = registered.rep
    await rep.send("/risk Lagos")
    choice = rep.last
    assert choice.body == "Several places have that name. Which one?"
    assert choice.buttons == [["Lagos, Nigeria"], ["Lagos, Portugal"]]
    await rep.press("Lagos, Portugal")
    assert choice.body.startswith("Lagos, Portugal\nRisk: ❔ Grey – unknown")
    assert choice.inline_keyboard == []
    await rep.send("/risk Lagos")
    await rep.press("Lagos, Nigeria")
    assert rep.last.body.startswith("Lagos, Nigeria\nRisk: 🔴 Red")


async def test_unknown_names_and_bad_pins_get_a_clear_reply_and_another_try(team: World) -> None:
    rep = team.rep
    await rep.send("/risk Qxzzyqv")
    assert rep.last.body.startswith("I could not find “Qxzzyqv”.")
    await rep.send("x" * 4000)
    assert rep.last.body == ("Please type a place name (at most 200 characters) "
                             "or share a location.")
    await rep.send_update({"message": {
        "message_id": 9002, "date": int(team.clock.now().timestamp()),
        "chat": team.fake.chat_json(rep.chat), "from": rep.json(),
        "location": {"latitude": 123.0, "longitude": 45.0},
    }})
    assert rep.last.body.startswith("That location is not valid")
    await rep.send("Tokyo")
    assert rep.last.body.startswith("Tokyo, Japan\nRisk: ❔")
    await rep.send("/risk")
    await rep.send("/cancel")
    assert rep.last.body == said("cancel.done")


async def test_risk_answers_in_chinese_with_the_policy_wording(registered: World) -> None:
    li = registered.fake.user(5005, "Li", "zh-hans")
    await registered.enrol(li, "staff", "north")
    await li.send("/risk 上海")
    grey = "风险：❔ 灰色·未知：暂无风险数据（不代表安全）"
    assert li.last.body.startswith(f"上海，中国\n{grey}")
    await li.send("/risk Lagos, Nigeria")
    body = li.last.body
    assert "风险：🔴 红色（一级）：请勿前往" in body
    assert "🔴 公司风险评估：Lagos, NG: Kidnappings of business travellers reported" in body
    assert "夜间拜访客户必须两人同行，选择公共场所，并告知部门负责人行踪" in body
    assert "急救包" in body


async def test_a_trip_to_a_register_city_waits_for_approval(registered: World) -> None:
    rep = registered.rep
    await rep.send("/trip")
    await rep.send("Lagos")
    await rep.press("Lagos, Nigeria")
    await rep.send("2026-12-02")
    await rep.send("2026-12-03")
    await rep.press("No, that's all")
    await rep.send("Eko Hotel, Victoria Island")
    await rep.send("Ade Bello +234 803 123 4567")
    await rep.press("No")
    assert "🔴 Company risk assessment: Lagos, NG" in rep.last.body
    await rep.press("✅ Confirm")
    assert rep.last.body.startswith(said("trip.awaiting"))
    assert "Destination risk: 🔴 Red: do not travel" in registered.manager.last.body
