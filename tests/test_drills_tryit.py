"""Drills tried as careless and hostile people would (TRY-IT.md): a drill beside a real alert,
an answer at once, the drill in Chinese — through the real bot, the fake Telegram, a fake clock.
"""

from __future__ import annotations

from datetime import date, timedelta

from fieldbot.domain.members import Member
from fieldbot.domain.roles import Role
from fieldbot.storage import users
from tests.builders import BERLIN, DEADLINE, at, plan_trip, rows, said
from tests.harness import World

START = "🧪 Start the drill"
SAFE = "✅ I'm safe (drill)"


async def drill_rita(world: World) -> None:
    await world.officer.send("/drill Rita")
    await world.officer.press("Rita")
    await world.officer.press(START)


async def test_no_drill_reaches_a_person_while_a_real_alert_about_them_is_open(
    team: World,
) -> None:
    await plan_trip(team, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
    await at(team, DEADLINE + timedelta(minutes=30))  # Rita's real missed check-in: A-1
    seen = len(team.rep.messages)
    await team.officer.send("/drill Rita")
    await team.officer.press("Rita")
    toast = await team.officer.press(START)
    assert toast is not None and toast.text == said("drill.err.real_alert")
    assert len(team.rep.messages) == seen  # no "press I'm safe (drill)" beside the real one
    assert [r["kind"] for r in await rows(team, "SELECT kind FROM alerts")] == ["missed"]


async def test_a_team_drill_leaves_out_whoever_is_in_a_real_sos_and_says_so(
    team: World,
) -> None:
    await team.rep.send("/sos")
    await team.officer.send("/drill")
    await team.officer.press("north (1)")
    toast = await team.officer.press(START)
    assert toast is not None and toast.text == said("drill.err.real_alert")
    assert not [t for t in team.rep.texts() if "Drill" in t]
    await team.advance(timedelta(minutes=6))  # the SOS goes on repeating, undisturbed
    assert "SOS A-1 (message 2)" in team.manager.last.body


async def test_answering_the_drill_says_tonights_real_check_in_is_still_missing(
    team: World,
) -> None:
    await plan_trip(team, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
    await at(team, DEADLINE - timedelta(minutes=5))
    await drill_rita(team)  # the drill first, then the real deadline passes
    await at(team, DEADLINE + timedelta(minutes=30))
    assert [t for t in team.manager.texts() if "Alert A-2" in t]
    # The drill stood down for her when the real alert opened; her press says what counts.
    assert not [t for t in team.manager.texts() if "DRILL A-1" in t]
    toast = await team.rep.press(SAFE)
    assert toast is not None and toast.text == said("drill.err.over")
    assert team.rep.last.body == said("drill.real_still_open")
    [real] = await rows(team, "SELECT state FROM alerts WHERE kind = 'missed'")
    assert real["state"] == "open"  # the drill's answer never silences the real alert
    await team.advance(timedelta(minutes=30))
    assert [t for t in team.officer.texts() if "Alert A-2" in t]  # and it still climbs


async def test_an_answer_in_the_same_second_reads_as_a_time(team: World) -> None:
    await drill_rita(team)
    await team.rep.press(SAFE)  # at once: zero seconds after the start
    await team.tick()
    result = team.officer.last.body
    assert "Rita: safe, answered after 0 seconds" in result
    assert "median 0 seconds" in result


async def test_the_drill_reads_as_a_drill_in_chinese(team: World) -> None:
    team.rep.language_code = "zh-hans"
    await team.rep.send("/language")
    await team.rep.press("中文")
    await drill_rita(team)
    body = team.rep.last.body
    assert body.startswith("🧪 【演练 DRILL】这是应急演练，不是真实警报。")
    assert team.rep.last.buttons == [["✅ 报平安（演练）"]]
    await team.rep.press("✅ 报平安（演练）")
    toast = await team.rep.press_data("drillsafe:1")  # twice: told, nothing changes
    assert toast is not None and toast.text == said("drill.err.already", language="zh",
                                                    name="")


async def test_a_late_press_after_the_drill_ended_says_it_is_over(team: World) -> None:
    await drill_rita(team)
    await team.advance(timedelta(hours=2))  # ends_after: nobody answered
    assert "Rita: nobody answered" in team.officer.last.body
    toast = await team.rep.press(SAFE)
    assert toast is not None and toast.text == said("drill.err.over")
    [alert] = await rows(team, "SELECT resolution FROM alerts")
    assert alert["resolution"] == "drill_ended"  # a late press changes no result


async def test_pressing_i_am_safe_twice_is_told_once(team: World) -> None:
    await drill_rita(team)
    message = team.rep.last
    data = message.inline_keyboard[0][0]["callback_data"]
    await team.rep.press(SAFE)
    toast = await team.rep.press_data(data, message)
    assert toast is not None and toast.text == said("drill.err.already", name="")
    assert [t for t in team.rep.texts() if t == said("drill.safe_thanks")] != []
    assert len([t for t in team.rep.texts() if said("drill.safe_thanks") in t]) == 1


async def test_a_drill_for_one_person_reads_as_english(team: World) -> None:
    await drill_rita(team)
    assert "People asked: 1." in team.officer.last.body
    assert "1 people" not in team.officer.last.body


async def test_a_team_beyond_the_first_ten_can_still_be_drilled(team: World) -> None:
    async with team.services.db.transaction() as tx:
        for n in range(12):  # teams "east a" … "east l", one rep each; "north" comes 13th
            rep = Member(700000 + n, f"Rep {n}", Role.STAFF, f"east {chr(97 + n)}", "en")
            await users.upsert(tx, rep, team.clock.now(), cipher=team.services.cipher)
    await team.officer.send("/drill")
    assert said("drill.more_teams", count=3) in team.officer.last.body
    assert len(team.officer.last.buttons) == 10 and ["north (1)"] not in team.officer.last.buttons
    await team.officer.send("/drill north")
    await team.officer.press("north (1)")
    await team.officer.press(START)
    assert said("drill.started", drill="D-1", count=1, minutes=120) in team.officer.last.body
    assert "Drill A-1" in team.rep.last.body


async def test_the_result_of_a_drill_whose_officer_was_erased_reaches_the_other_officers(
    team: World,
) -> None:
    oma = team.fake.user(3013, "Oma", "en")
    await team.enrol(oma, "officer")
    await team.officer.send("/drill")
    await team.officer.press("north (1)")
    await team.officer.press(START)
    await team.admin.send(f"/forgetme {team.officer.id}")  # Olu leaves mid-drill
    await team.admin.press("🗑 Erase")
    await team.advance(timedelta(hours=2, minutes=1))
    assert "Rita: nobody answered" in oma.last.body
    assert not [t for t in team.admin.texts() if "User -" in t]  # no notice about a stand-in
    chats = [str(c.params.get("chat_id", "")) for c in team.fake.calls]
    assert not [chat for chat in chats if chat.startswith("-")]


async def test_a_real_sos_during_a_drill_stands_the_drill_down_for_that_person(
    team: World,
) -> None:
    await drill_rita(team)
    team.clock.advance(timedelta(minutes=5))
    await team.rep.send("/sos")  # a real emergency in the middle of the practice
    await team.advance(timedelta(minutes=40))
    await team.tick()
    assert [t for t in team.manager.texts() if "SOS A-2" in t]
    assert not [t for t in team.manager.texts() if "DRILL A-1" in t]  # no drill beside it
    assert not [t for t in team.rep.texts() if "Drill A-1 (message 2)" in t]
    [result] = [t for t in team.officer.texts() if "Result of drill D-1" in t]
    assert said("drill.result.stood_down", name="Rita") in result
    assert "0 of 0 answered" in result  # not counted as someone who never answered
    [sos] = await rows(team, "SELECT state FROM alerts WHERE kind = 'sos'")
    assert sos["state"] == "open"  # the SOS goes on until a person acknowledges it
    toast = await team.rep.press(SAFE)
    assert toast is not None and toast.text == said("drill.err.over")
