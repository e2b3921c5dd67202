"""Client visits tried as a new, a careless and a hostile user (TRY-IT.md): each test here is a
defect someone saw once."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime

from conversations.i18n import plain
from faketelegram.users import FakeMessage
from tests.builders import BERLIN, alerts_in, plan_trip, rows, said
from tests.harness import World
from tests.test_visit_flow import MIN, START, visit


async def test_a_client_name_with_an_ampersand_reads_as_typed_in_every_notice(
    team: World,
) -> None:
    await visit(team.rep, client="Smith & Sons")
    await team.rep.send("/done")
    await team.rep.press("😠 Aggressive")
    await team.rep.send("Threw a <b>chair</b> & shouted")
    notice = team.manager.last
    assert "Smith & Sons" in notice.body
    assert "😠 Aggressive: Threw a <b>chair</b> & shouted" in notice.body  # no tags shown
    await team.rep.send("/visit")
    await team.rep.send("/cancel")
    team.clock.set(datetime(2026, 12, 1, 18, 30, tzinfo=UTC))
    await visit(team.rep, client="Smith & Sons")
    assert "Smith & Sons" in team.manager.last.body  # the alone-after-dark notice
    await team.rep.send("/visit")
    assert "Smith & Sons" in team.rep.last.body  # "a visit under way"
    await team.rep.press("Keep it running")
    await team.advance(70 * MIN)
    [alert] = alerts_in(team.manager.texts(), "has not ended a client visit")
    assert "Smith & Sons" in alert and "&amp;" not in alert


async def test_typing_ones_own_name_as_the_companion_is_still_alone(team: World) -> None:
    team.clock.set(datetime(2026, 12, 1, 18, 30, tzinfo=UTC))
    await team.rep.send("/visit")
    await team.rep.send("Night Client")
    await team.rep.send("ＲＩＴＡ")  # her own name, typed full-width
    assert said("visit.companion.self") in team.rep.last.body
    assert team.rep.last.buttons == [["Alone"]]
    await team.rep.press("Alone")
    await team.rep.press("+1 h")
    await team.rep.press(START)
    assert "alone after dark" in team.manager.last.body
    [row] = await rows(team, "SELECT alone, companion_id FROM visits")
    assert row == {"alone": 1, "companion_id": None}


async def test_a_visit_plan_put_aside_reads_as_a_sentence_in_both_languages(
    team: World,
) -> None:
    await team.rep.send("/visit")
    await team.rep.send("Acme")
    await team.rep.send("/done")  # a command in the middle of the questions
    assert "⏸ Your unfinished client visit plan was put aside." in team.rep.texts()[-2]
    lin = team.fake.user(4006, "Lin", "zh")
    await team.enrol(lin, "staff", "north")
    await lin.send("/visit")
    await lin.send("华为")
    await lin.send("/done")
    assert "⏸ 您未完成的客户拜访计划已暂时搁置" in lin.texts()[-2]


async def test_an_old_visit_questions_buttons_answer_instead_of_spinning(team: World) -> None:
    await team.rep.send("/visit")
    await team.rep.send("Acme")
    question = team.rep.last  # Alone / colleagues
    await team.rep.send("/risk")  # another flow puts the plan aside
    toast = await team.rep.press("Alone", question)
    assert toast is not None and toast.text == plain(said("guard.stale_button"))
    await team.rep.send("/cancel")  # outside any question: drops the plan put aside
    assert team.rep.last.body == said("cancel.done")
    await team.rep.send("/visit")  # so a new one begins
    await team.rep.send("Acme")
    await team.rep.press("Alone")
    await team.rep.press("+1 h")
    summary = team.rep.last
    start = summary_start(summary)
    await team.rep.press(START)
    toast = await team.rep.press_data(start, summary)  # Start tapped twice
    assert toast is not None and toast.text == plain(said("visit.already_saved"))
    assert len(await rows(team, "SELECT id FROM visits")) == 1


def summary_start(summary: FakeMessage) -> str:
    return str(summary.inline_keyboard[0][0]["callback_data"])


async def test_a_lone_visit_extended_into_the_dark_tells_the_manager(team: World) -> None:
    team.clock.set(datetime(2026, 12, 1, 17, 30, tzinfo=UTC))
    await visit(team.rep, client="Late Client")  # 17:30 to 18:30: daylight, nobody told
    before = len(team.manager.messages)
    await team.advance(50 * MIN)
    await team.rep.press("⏱ +30 min")  # until 19:00: still not after dark
    assert len(team.manager.messages) == before
    await team.advance(30 * MIN)
    await team.rep.press("⏱ +30 min")  # until 19:30: alone after dark now
    assert "pairs" in team.rep.last.body
    notice = team.manager.last
    assert "alone after dark" in notice.body and "Late Client" in notice.body
    assert "19:30" in notice.body
    await team.advance(30 * MIN)
    await team.rep.press("⏱ +30 min")  # told once
    assert len(alerts_in(team.manager.texts(), "alone after dark")) == 1
    [row] = await rows(team, "SELECT after_dark FROM visits")
    assert row["after_dark"] == 1


async def test_a_manager_alone_after_dark_is_told_about_to_the_officers(team: World) -> None:
    team.clock.set(datetime(2026, 12, 1, 18, 30, tzinfo=UTC))
    await visit(team.manager, client="Night Client")
    assert "have been told where you are" in team.manager.last.body
    assert "Your manager has been told" not in team.manager.last.body
    notice = team.officer.last
    assert "Mia is on a client visit alone after dark" in notice.body
    assert "Night Client" in notice.body


async def test_an_old_visits_extend_button_does_not_say_no_visit_is_under_way(
    team: World,
) -> None:
    await visit(team.rep)
    await team.advance(50 * MIN)
    old_reminder = team.rep.last
    await team.rep.send("/done")
    await visit(team.rep, client="Next client")
    await team.rep.press("⏱ +30 min", old_reminder)
    assert team.rep.last.body == plain(said("visit.done.other"))
    [_, current] = await rows(team, "SELECT ends_at, extensions FROM visits ORDER BY id")
    assert current["extensions"] == 0


async def test_a_note_about_a_client_named_only_in_emoji_reaches_colleagues(
    team: World,
) -> None:
    tom = team.fake.user(4005, "Tom", "en")
    await team.enrol(tom, "staff", "north")
    await visit(team.rep, client="🍕🍕")  # the pizzeria everybody calls by its sign
    await team.rep.send("/done")
    await team.rep.press("😠 Aggressive")
    await team.rep.send("The owner threatens reps")
    await tom.send("/visit")
    await tom.send("🍕🍕")
    await tom.press("Alone")
    await tom.press("+1 h")
    assert "The owner threatens reps" in tom.last.body
    await tom.send("/cancel")
    await tom.send("/visit")
    await tom.send("🍣")  # another emoji is another client
    await tom.press("Alone")
    await tom.press("+1 h")
    assert "The owner threatens reps" not in tom.last.body


async def test_an_old_keep_it_running_button_does_not_claim_a_visit_goes_on(
    team: World,
) -> None:
    await visit(team.rep)
    await team.rep.send("/visit")
    offer = team.rep.last  # "End it now" / "Keep it running"
    await team.rep.send("/done")
    await team.rep.press("Keep it running", offer)  # pressed later, by mistake
    assert team.rep.last.body == plain(said("visit.done.none_open"))


async def test_forged_or_out_of_range_visit_buttons_get_an_answer(team: World) -> None:
    await visit(team.rep)
    for data in ("visit:extend:" + "9" * 25, "visit:note:1:bogus", "visit:rmnote:x"):
        toast = await team.rep.press_data(data)
        assert toast is not None and toast.text == plain(said("guard.stale_button"))
    [row] = await rows(team, "SELECT state, extensions FROM visits")
    assert row == {"state": "active", "extensions": 0}


async def test_ending_a_visit_after_the_nightly_deadline_says_the_check_in_is_still_due(
    team: World,
) -> None:
    await plan_trip(team, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
    team.clock.set(datetime(2026, 12, 1, 18, 30, tzinfo=UTC))  # 19:30 in Berlin
    await visit(team.rep, client="Late Client", end="+3 h")
    for _ in range(12):  # past the 21:00 check-in deadline (Berlin): that alert climbs
        await team.advance(10 * MIN)
    assert alerts_in(team.manager.texts(), "missed tonight's check-in")
    await team.rep.send("/done")
    ended = next(m for m in reversed(team.rep.messages) if "Visit ended" in m.body)
    assert "not checked in yet" in ended.body and "/checkin" in ended.body
    await team.rep.send("/checkin")
    await team.rep.send("/visit")
    await team.rep.send("/cancel")
    await visit(team.rep, client="Next Client")
    await team.rep.send("/done")  # checked in now: no such line
    assert not any("not checked in yet" in m for m in team.rep.texts()[-3:])


async def test_a_double_tapped_start_starts_one_visit_and_says_so_once(team: World) -> None:
    await team.rep.send("/visit")
    await team.rep.send("Acme")
    await team.rep.press("Alone")
    await team.rep.press("+1 h")
    summary = team.rep.last
    start = summary_start(summary)
    mark = team.rep.mark()
    await asyncio.gather(team.rep.press_data(start, summary), team.rep.press_data(start, summary))
    replies = [m.body for m in team.rep.since(mark)]
    assert sum("Visit started" in r for r in replies) == 1
    assert not any("already have a visit under way" in r for r in replies)
    assert len(await rows(team, "SELECT id FROM visits")) == 1


async def test_the_visit_alert_names_the_place_once(team: World) -> None:
    await visit(team.rep, client="Acme GmbH")
    await team.advance(70 * MIN)
    [alert] = alerts_in(team.manager.texts(), "has not ended a client visit")
    assert "\n🧭 Client / place: Acme GmbH\n" in alert
    assert "Visit: Client / place" not in alert


async def test_privacy_counts_every_note_its_author_left(team: World) -> None:
    for n in range(7):
        await visit(team.rep, client=f"Client {n}")
        await team.rep.send("/done")
        await team.rep.press("Other")
        await team.rep.send(f"Note number {n}")
    await team.rep.send("/privacy")
    assert "colleagues still see: 7" in team.rep.last.body


async def test_a_resolved_visit_alert_ends_the_visit(team: World) -> None:
    await visit(team.rep)
    for _ in range(3):
        await team.advance(5 * MIN)
    await team.advance(55 * MIN)  # end + 10 min: the manager is alerted
    await team.manager.press("Resolve")
    await team.manager.press("Reached by phone")
    await team.advance(2 * 60 * MIN)
    await team.manager.send("/team")
    assert "On a client visit" not in team.manager.last.body
    await team.rep.send("/visit")
    assert "visit under way" not in team.rep.last.body
    [row] = await rows(team, "SELECT state, due_at FROM visits")
    assert row == {"state": "ended", "due_at": None}


DUSK = datetime(2026, 12, 1, 18, 30, tzinfo=UTC)


async def test_alone_after_dark_with_the_manager_gone_the_officers_are_told_and_so_is_she(
    team: World,
) -> None:
    """Mia's account is gone and no update said so (only a send finds out): Rita reads that
    her manager was told. Then the notice fails: the officers are told, and Rita learns it."""
    team.manager.blocked = True  # 403 to every send, and no my_chat_member update
    team.clock.set(DUSK)
    await visit(team.rep, client="Night Client")
    assert any(said("visit.pairs_rule") in t for t in team.rep.texts())
    notice = [t for t in team.officer.texts() if "Rita is on a client visit alone after dark" in t]
    assert notice and "Night Client" in notice[0]
    assert said("visit.alone_rerouted.officers") in team.rep.texts()
    assert said("visit.pairs_rule.officers") not in " ".join(team.rep.texts())
    # The next lone visit after dark knows Mia cannot be reached: it says so at once.
    await team.rep.send("/done")
    await team.rep.send("/cancel")
    await visit(team.rep, client="Second Client")
    assert said("visit.pairs_rule.officers") in " ".join(team.rep.texts()[-2:])
    assert [t for t in team.officer.texts() if "Second Client" in t]


async def test_alone_after_dark_with_nobody_to_tell_she_is_asked_to_call(team: World) -> None:
    team.manager.blocked = True  # gone without a word: found out at the first send
    await team.officer.block()  # known at once
    team.clock.set(DUSK)
    await visit(team.rep, client="Night Client")
    assert said("visit.alone_rerouted.nobody") in team.rep.texts()
    await team.rep.send("/done")
    await team.rep.send("/cancel")
    await visit(team.rep, client="Second Client")  # both are known unreachable now
    assert said("visit.pairs_rule.nobody") in " ".join(team.rep.texts()[-2:])


async def test_alone_after_dark_with_the_manager_known_blocked_the_officers_are_told_at_once(
    team: World,
) -> None:
    await team.manager.block()  # Telegram tells the bot at once
    team.clock.set(DUSK)
    await visit(team.rep, client="Night Client")
    assert said("visit.pairs_rule.officers") in " ".join(team.rep.texts()[-2:])
    assert [t for t in team.officer.texts() if "Night Client" in t and "after dark" in t]
    assert said("visit.alone_rerouted.officers") not in team.rep.texts()


async def test_extended_into_the_dark_with_the_manager_unreachable_the_officers_are_told(
    team: World,
) -> None:
    team.clock.set(datetime(2026, 12, 1, 17, 30, tzinfo=UTC))
    await visit(team.rep, client="Late Client")  # daylight: nobody told
    await team.manager.block()
    await team.advance(50 * MIN)
    await team.rep.press("⏱ +30 min")
    await team.advance(30 * MIN)
    await team.rep.press("⏱ +30 min")  # until 19:30: alone after dark now
    assert said("visit.pairs_rule.officers") in team.rep.last.body
    assert [t for t in team.officer.texts() if "Late Client" in t and "after dark" in t]


async def test_alone_after_dark_with_one_of_two_managers_gone_the_other_is_enough(
    team: World,
) -> None:
    max_ = team.fake.user(2022, "Max", "en")
    await team.enrol(max_, "manager", "north")
    team.manager.blocked = True  # Mia's account is gone; Max reads the notice
    team.clock.set(DUSK)
    await visit(team.rep, client="Night Client")
    assert [t for t in max_.texts() if "Night Client" in t and "after dark" in t]
    assert not [t for t in team.officer.texts() if "Night Client" in t]
    assert said("visit.alone_rerouted.officers") not in team.rep.texts()
