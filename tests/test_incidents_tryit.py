"""Incidents, reviews and lessons tried as careless and hostile people would (TRY-IT.md):
names in free text, odd searches, old buttons — through the real bot and the fake Telegram.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from faketelegram.users import FakeUser
from tests.builders import BERLIN, DEADLINE, at, fieldbot, plan_trip, rows, said
from tests.harness import World
from tests.test_incidents import seven_lessons

RED = "🔴 Red (level one)"
RECORD = "✅ Record the incident"
EXECUTION = "Execution (how the rules were carried out)"


async def record_and_close(world: World, *, place: str = "Bangkok", people: str = "",
                           cause: str = "Phone held at the kerb",
                           measures: str = "Keep phones away from the kerb") -> None:
    """The manager records an incident and closes it with one why and the measures."""
    await world.manager.send("/incident")
    await world.manager.press(RED)
    await world.manager.send(place)
    if people:
        await world.manager.send(people)
    else:
        await world.manager.press("Nobody in particular")
    await world.manager.send("Bag snatched by a scooter")
    await world.manager.press(RECORD)
    await world.manager.press("📝 Write the review")
    await world.manager.send("Bag snatched")
    await world.manager.send("A phone")
    await world.manager.send(cause)
    await world.manager.press("✅ That is the root cause")
    await world.manager.press(EXECUTION)
    await world.manager.send(measures)
    await world.manager.press("✅ Close the incident")


async def test_a_lesson_keeps_words_that_merely_contain_a_name(team: World) -> None:
    await record_and_close(team, people="Ann Lee",
                           cause="Planning had no sleep time; Ann walked alone",
                           measures="Annual training; Lee and Ann plan sleep before driving")
    await team.rep.send("/lessons")
    body = team.rep.last.body
    assert "Planning had no sleep time; … walked alone" in body
    assert "Annual training; … and … plan sleep before driving" in body


async def test_a_lesson_never_shows_the_name_of_a_colleague_typed_in_the_measures(
    team: World,
) -> None:
    # Nobody named as involved, but the rep's and the manager's names typed in free text.
    await record_and_close(team, cause="Rita took the night bus alone",
                           measures="Mia books a taxi for anyone back after 19:00")
    await team.rep.send("/lessons")
    body = team.rep.last.body
    assert "Rita" not in body and "Mia" not in body
    assert "… took the night bus alone" in body and "… books a taxi" in body


async def test_an_old_hand_over_button_on_a_closed_incident_offers_nobody(team: World) -> None:
    await record_and_close(team)
    seen = len(team.officer.messages)
    toast = await team.officer.press_data("incidents:handover:1")  # yesterday's card
    assert toast is not None and toast.text == said("incident.err.closed")
    toast = await team.manager.press_data("incidents:handover:1")  # a manager forging it
    assert toast is not None and toast.text == said("incident.err.not_allowed")
    toast = await team.officer.press_data("incidents:handover:999999")
    assert toast is not None and toast.text == said("incident.err.unknown")
    assert len(team.officer.messages) == seen  # no list of officers to press
    assert not [t for t in team.manager.texts() if t == said("incident.handover.ask")]


async def test_deadlines_read_in_the_desks_own_time_zone(tmp_path: Path) -> None:
    world = World(tmp_path, default_tz="Asia/Shanghai")
    await world.start()
    try:
        await world.enrol_team()
        await world.manager.send("/incident")
        await world.manager.press(RED)
        await world.manager.send("Bangkok")
        await world.manager.press("Nobody in particular")
        await world.manager.send("Bag snatched by a scooter")
        await world.manager.press(RECORD)
        # Opened 09:00 UTC = 17:00 in Shanghai; red: the first report within 24 hours.
        assert "First report due by 17:00 Wed 2 Dec (Shanghai time)" in world.manager.last.body
        await world.advance(timedelta(hours=20))
        assert "due by 17:00 Wed 2 Dec (Shanghai time)" in world.manager.last.body
        assert "UTC" not in world.manager.last.body
    finally:
        await world.stop()


async def test_an_erased_owners_incident_card_says_nobody_holds_it(team: World) -> None:
    await record_and_close(team)  # a closed one, and an open one whose owner is erased
    await team.manager.send("/incident")  # none open: a new record at once
    await team.manager.press(RED)
    await team.manager.send("Berlin")
    await team.manager.press("Nobody in particular")
    await team.manager.send("Followed to the hotel")
    await team.manager.press(RECORD)
    await team.manager.press("📝 Write the review")
    await team.manager.send("What happened")  # mid-review, the manager is erased
    await team.admin.send(f"/forgetme {team.manager.id}")
    await team.admin.press("🗑 Erase")
    await team.officer.send("/incident")
    await team.officer.press("🔴 I-2 Berlin, Germany")
    card = team.officer.last.body
    assert said("incident.card.no_owner") in card and "In the hands of: \n" not in card
    await team.officer.press("👤 Hand over to another safety officer")
    await team.officer.press("Olu")
    await team.officer.send("/incident")
    await team.officer.press("🔴 I-2 Berlin, Germany")
    assert "In the hands of: Olu" in team.officer.last.body


async def test_an_old_lessons_page_button_never_shows_a_newer_search(team: World) -> None:
    await seven_lessons(team)
    await team.rep.send("/lessons measure")
    old = team.rep.last
    await team.rep.send("/lessons flood")
    toast = await team.rep.press("▶", old)
    assert toast is not None and toast.text == said("lessons.stale")
    assert "measure number" in old.body  # the old list still reads as it did
    toast = await team.rep.press_data("lessons:page:1")  # a button from before the tags
    assert toast is not None and toast.text == said("lessons.stale")
    await team.rep.send("/lessons measure")
    await team.rep.press("▶")
    assert "page 2 of 2" in team.rep.last.body


async def chinese(user: FakeUser) -> None:
    user.language_code = "zh-hans"
    await user.send("/language")
    await user.press("中文")


async def test_a_chinese_reader_sees_the_place_in_chinese_and_finds_it_both_ways(
    team: World,
) -> None:
    await chinese(team.manager)
    await team.manager.send("/incident")
    await team.manager.press("🔴 红色（一级）")
    await team.manager.send("曼谷")
    assert said("incident.place.set", "zh", place="曼谷，泰国") in team.manager.texts()
    await team.manager.press("无特定人员")
    await team.manager.send("摩托车抢包")
    assert "地点：曼谷，泰国" in team.manager.last.body
    await team.manager.press("✅ 记录事件")
    await team.manager.press("📝 填写复盘")
    for answer in ("包被抢", "一部手机", "手机拿在靠马路一侧"):
        await team.manager.send(answer)
    await team.manager.press("✅ 这就是根本原因")
    await team.manager.press(team.manager.last.buttons[1][0])
    await team.manager.send("手机不要拿在靠马路一侧")
    await team.manager.press("✅ 结案")

    await team.manager.send("/lessons 泰国")  # the Chinese country name finds it too
    assert "曼谷，泰国" in team.manager.last.body and "Bangkok" not in team.manager.last.body
    await team.rep.send("/lessons Bangkok")  # an English reader: the English name
    assert "Bangkok, Thailand" in team.rep.last.body and "手机不要" in team.rep.last.body

    await team.stop()  # a new key: the Chinese names are re-encrypted with the rest
    assert fieldbot(team.tmp, "rotate-key", FIELDBOT_DB=str(team.settings.db)).returncode == 0
    await team.start()
    await team.manager.send("/lessons 曼谷")
    assert "曼谷，泰国" in team.manager.last.body


async def test_the_owner_an_incident_is_taken_from_is_told(team: World) -> None:
    await team.manager.send("/incident")
    await team.manager.press(RED)
    await team.manager.send("Berlin")
    await team.manager.press("Nobody in particular")
    await team.manager.send("Followed to the hotel")
    await team.manager.press(RECORD)
    await team.manager.press("📝 Write the review")  # Mia is writing it...
    await team.officer.send("/incident")
    await team.officer.press("🔴 I-1 Berlin, Germany")
    await team.officer.press("👤 Hand over to another safety officer")
    await team.officer.press("Olu")  # ...when Olu takes it over
    assert said("incident.event.taken", incident="I-1", grade="🔴 Red (level one)",
                by_name="Olu", to_name="Olu", place="Berlin, Germany") in team.manager.texts()


async def test_names_typed_with_markup_or_invisible_marks_are_still_kept_out(
    team: World,
) -> None:
    await record_and_close(team, people="<b>Rita</b> & \u202eTom, Z\u200bara",
                           cause="Tom and Zara walked back alone",
                           measures="Ri\u200bta books a taxi; T\u202eom never walks alone")
    await team.rep.send("/lessons")
    body = team.rep.last.body
    for name in ("Rita", "Tom", "Zara", "Ri\u200bta"):
        assert name not in body
    assert "… and … walked back alone" in body


async def test_the_list_of_open_incidents_counts_them_all(team: World) -> None:
    from fieldbot.domain.crisis_policy import Grade
    from fieldbot.services.incidents import IncidentDraft

    officer = await team.services.enrolment.member(team.officer.id)
    assert officer is not None
    for n in range(13):
        await team.services.incidents.open(officer, IncidentDraft(
            Grade.BLUE, "Berlin, Germany", "DE", 52.52, 13.405, "", f"Case {n}"))
    await team.officer.send("/incident")
    assert said("incident.list.head", count=13) in team.officer.last.body
    assert said("incident.list.more", shown=10) in team.officer.last.body
    assert len(team.officer.last.buttons) == 11  # ten incidents and "record a new one"


async def test_an_alert_resolved_as_incident_whose_record_was_cancelled_is_offered_again(
    team: World,
) -> None:
    await plan_trip(team, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
    await at(team, DEADLINE + timedelta(minutes=30))
    await team.manager.press("Resolve")
    await team.manager.press("Incident – handled")
    await team.manager.send("/cancel")  # careless: the alert is resolved, nothing recorded
    await team.manager.send("/incident")
    assert said("incident.list.unrecorded", alerts="A-1") in team.manager.last.body
    await team.manager.press("📋 Record the incident behind A-1")
    assert said("incident.from_alert", alert="A-1") in team.manager.last.body
    await team.manager.press("🟠 Orange (level two)")  # place and people known from A-1
    await team.manager.send("Followed from the client's office")
    await team.manager.press(RECORD)
    [incident] = await rows(team, "SELECT alert_id, owner_id FROM incidents")
    assert (incident["alert_id"], incident["owner_id"]) == (1, team.manager.id)
    await team.manager.send("/incident")  # recorded: no longer offered
    assert said("incident.list.unrecorded", alerts="A-1") not in team.manager.last.body
    # Nobody else may record it from a forged button, nor twice.
    toast = await team.officer.press_data("incident:alert:1")
    assert toast is not None and toast.text == said("incident.err.unknown")
    toast = await team.manager.press_data("incident:alert:1")
    assert toast is not None and toast.text == said("incident.err.unknown")
