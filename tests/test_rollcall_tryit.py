"""/rollcall tried as a new, a careless and a hostile user (TRY-IT.md), in both languages."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from faketelegram.users import FakeUser
from tests.builders import BERLIN, SPOT, enrol_south, plan_for, rows, said
from tests.harness import REP_ID, World
from tests.test_hardening_duress import REMINDER, run_both, seen
from tests.test_rollcall import PARIS

POTSDAM = (52.39, 13.06)
TODAY, LATER = date(2026, 12, 1), date(2026, 12, 4)


def _questions(user: FakeUser) -> list[str]:
    return [t for t in user.texts() if t.startswith("🔔")]


def _go_button(user: FakeUser) -> str:
    return next(b for row in user.last.buttons for b in row if b.startswith("📣"))


async def _place(user: FakeUser, typed: str, pick: str | None, radius: str) -> None:
    await user.press(user.last.buttons[0][0])  # 📍 A place / 📍 某个地点
    await user.send(typed)
    if pick is not None:
        await user.press(pick)
    await user.press(radius)


async def test_an_old_ask_now_button_never_asks_the_newer_draft(team: World) -> None:
    """Careless: Berlin prepared, then Paris; "Ask 1 people now" pressed under Berlin's count
    used to ask Paris (and turn the Berlin message into the Paris tally)."""
    await plan_for(team, team.rep, PARIS, TODAY, LATER)
    sol, _ = await enrol_south(team)
    await sol.share_location(*POTSDAM)
    officer = team.officer
    await officer.send("/rollcall")
    await _place(officer, "Berlin", None, "50 km")
    berlin = officer.last
    await officer.send("/rollcall")
    await _place(officer, "Paris", "Paris, France", "200 km")
    paris = officer.last
    toast = await officer.press(_go_button(officer), berlin)
    assert toast is not None and toast.text == said("guard.stale_button")
    assert not _questions(team.rep) and not _questions(sol)
    await officer.press(_go_button(officer), paris)  # the current one still works
    assert len(_questions(team.rep)) == 1 and not _questions(sol)
    assert "Paris, France" in paris.body and "Roll-call R-1" in paris.body


async def test_a_chinese_officer_reads_the_place_in_chinese_everywhere(team: World) -> None:
    """The place was picked as 柏林，德国 but the radius question, the count, the tally and a
    Chinese rep's question named it "Berlin, Germany"."""
    await plan_for(team, team.rep, BERLIN, TODAY, LATER)
    li = team.fake.user(5005, "Li", "zh-hans")
    await team.enrol(li, "officer")
    wang = team.fake.user(5006, "Wang", "zh-hans")
    await team.enrol(wang, "staff", "north")
    await wang.share_location(*POTSDAM)
    await li.send("/rollcall")
    await _place(li, "柏林，德国", None, "50 公里")
    shown = [m.body for m in li.messages[-3:]]
    assert "📍 柏林，德国" in shown
    assert "柏林，德国周边 50 公里内的所有人" in li.last.body
    await li.press(_go_button(li))
    assert "柏林，德国周边" in li.last.body and "Berlin" not in li.last.body
    assert "柏林，德国周边" in _questions(wang)[0] and "Berlin" not in _questions(wang)[0]
    assert "Berlin, Germany" in _questions(team.rep)[0]  # each reads it in their language


async def test_a_country_reads_in_the_readers_language(team: World) -> None:
    await plan_for(team, team.rep, BERLIN, TODAY, LATER)
    li = team.fake.user(5005, "Li", "zh-hans")
    await team.enrol(li, "officer")
    await li.send("/rollcall")
    await li.press("🏳 某个国家")
    await li.send("德国")
    assert "德国" in li.last.body and "Germany" not in li.last.body
    await li.press(_go_button(li))
    assert "Germany" in _questions(team.rep)[0]


async def test_another_officer_closing_from_her_own_copy_sees_it_closed(team: World) -> None:
    """Olga closed Olu's roll-call from her /rollcall copy; when her copy's message id happened
    to equal Olu's tally's (ids are per chat), her copy kept "Yes, close it / Keep it open"."""
    await plan_for(team, team.rep, BERLIN, TODAY, LATER)
    olga = team.fake.user(3013, "Olga")
    await team.enrol(olga, "officer")
    officer = team.officer
    await officer.send("/rollcall")
    await _place(officer, "Berlin", None, "50 km")
    await officer.press(_go_button(officer))
    tally = officer.last
    gap = tally.message_id - 2 - olga.chat.last_message_id  # /rollcall: her copy is id + 2
    if gap % 2:
        await olga.send("/rollcall")  # three messages: hers, the copy, "Open roll-calls: 1"
        gap -= 3
    for _ in range(gap // 2):
        await olga.send("/help")
    await olga.send("/rollcall")
    copy = olga.messages[-2]
    assert copy.message_id == tally.message_id and "Roll-call R-1" in copy.body
    await olga.press("⏹ Close", copy)
    await olga.press("⏹ Yes, close it", copy)
    assert copy.buttons == [["👥 Names"]] and "Closed" in copy.body
    assert tally.buttons == [["👥 Names"]] and "Closed" in tally.body


async def test_after_a_duress_check_in_the_roll_call_looks_ordinary(tmp_path: Path) -> None:
    """Whoever holds the phone after a duress check-in sees the roll-call, 🆘 and ✅ exactly
    as after an ordinary one."""

    async def act(world: World, word: str) -> None:
        await world.rep.send(f"/checkin {word}".strip())
        officer = world.officer
        await officer.send("/rollcall")
        await _place(officer, "Berlin", None, "50 km")
        await officer.press(_go_button(officer))
        await world.rep.press("🆘 I need help")
        await world.rep.press("✅ I'm safe")
        await world.rep.send("/rollcall")

    out = await run_both(tmp_path, act, when=REMINDER, after=timedelta(minutes=30))
    assert seen(out["normal"]["rep"]) == seen(out["duress"]["rep"])
    assert any("You answered roll-call R-1" in (m.html or "") for m in out["duress"]["rep"])


async def test_erasing_yourself_in_the_middle_of_a_roll_call_leaves_no_id_and_no_blank_name(
        team: World) -> None:
    """/forgetme during a roll-call kept the person's Telegram id in the roll-call's rows, and
    the officer's names and summary then showed a blank bullet where she had been."""
    await plan_for(team, team.rep, BERLIN, TODAY, LATER)
    sol, sven = await enrol_south(team)
    await sven.share_location(*POTSDAM)
    officer = team.officer
    await officer.send("/rollcall")
    await _place(officer, "Berlin", None, "50 km")
    await officer.press(_go_button(officer))
    await team.rep.send("/forgetme")
    await team.rep.press("🗑 Erase")
    assert "Your personal data has been erased" in team.rep.last.body
    assert not await rows(team, "SELECT 1 FROM rollcall_people WHERE user_id = ?", REP_ID)
    await team.advance(timedelta(hours=1))
    assert not [t for t in team.manager.texts() if "has not answered" in t]
    await officer.press("👥 Names")
    names = officer.last.body
    assert "• \n" not in names + "\n" and said("rollcall.names.erased") in names
    await officer.press("⏹ Close")
    await officer.press("⏹ Yes, close it")
    assert said("rollcall.names.erased") in officer.last.body
    assert "No answer: , " not in officer.last.body and "Sven" in officer.last.body


async def test_a_rep_on_a_client_visit_pinned_inside_the_area_is_asked(team: World) -> None:
    """A rep at home (no trip) visiting a client she pinned in Berlin was not asked by a
    Berlin roll-call: the visit's place was not counted as where she is."""
    await team.rep.send("/visit")
    await team.rep.share_location(*SPOT)
    await team.rep.send("Some shop")
    await team.rep.press("Alone")
    await team.rep.press("+1 h")
    await team.rep.press("▶️ Start")
    officer = team.officer
    await officer.send("/rollcall")
    await _place(officer, "Berlin", None, "10 km")
    assert 'People to ask "Are you safe?": <b>1</b>' in officer.last.html
    await officer.press(_go_button(officer))
    assert len(_questions(team.rep)) == 1


async def test_a_country_code_typed_in_full_width_is_understood(team: World) -> None:
    """A Chinese keyboard in full-width mode types ＤＥ; the bot said it did not know that
    country and asked for "its two-letter code (DE)"."""
    await plan_for(team, team.rep, BERLIN, TODAY, LATER)
    await team.officer.send("/rollcall")
    await team.officer.press("🏳 A country")
    await team.officer.send("ＤＥ")
    assert "everyone in Germany" in team.officer.last.body


async def test_one_person_is_never_one_people(team: World) -> None:
    """"This asks 1 people", "📣 Ask 1 people now", "Asking 1 people now." for one rep."""
    await plan_for(team, team.rep, BERLIN, TODAY, LATER)
    officer = team.officer
    await officer.send("/rollcall")
    await _place(officer, "Berlin", None, "50 km")
    assert "1 people" not in officer.last.body
    assert not any("1 people" in b for row in officer.last.buttons for b in row)
    toast = await officer.press(_go_button(officer))
    assert toast is not None and "1 people" not in toast.text


async def test_an_initiator_who_erases_herself_gets_nothing_more_and_stays_erased(
        team: World) -> None:
    """Olu started a roll-call, then /forgetme: answers went on editing a tally for him, and a
    message to his stand-in that could not go made the stand-in an ordinary member again."""
    await plan_for(team, team.rep, BERLIN, TODAY, LATER)
    olga = team.fake.user(3013, "Olga")
    await team.enrol(olga, "officer")
    officer = team.officer
    await officer.send("/rollcall")
    await _place(officer, "Berlin", None, "50 km")
    await officer.press(_go_button(officer))
    tally = officer.last
    await officer.send("/forgetme")
    await officer.press("🗑 Erase")
    gone, edits = officer.mark(), len(tally.history)
    await team.rep.press("✅ I'm safe")
    await team.advance(timedelta(minutes=1))
    await olga.send("/rollcall")
    await olga.press("⏹ Close", olga.messages[-2])
    await olga.press("⏹ Yes, close it", olga.messages[-2])
    await team.advance(timedelta(minutes=1))
    assert officer.since(gone) == [] and len(tally.history) == edits
    assert "Roll-call R-1 closed by Olga" in olga.last.body
    assert not await rows(team, "SELECT 1 FROM users WHERE id < 0 AND unreachable IS NOT"
                                " 'erased'")


async def test_who_counts_trip_elsewhere_location_here_tomorrow_yesterday(team: World) -> None:
    """Checked fine: a trip elsewhere with a fresh pin here counts (by location), a trip here
    with a pin elsewhere counts (by trip), a trip from tomorrow or one ended yesterday does
    not; the count the initiator confirms is who is asked."""
    await plan_for(team, team.rep, PARIS, TODAY, LATER)
    await team.rep.share_location(*POTSDAM)  # trip in Paris, phone near Berlin
    _, sven = await enrol_south(team)
    await plan_for(team, sven, BERLIN, TODAY, LATER)
    await sven.share_location(48.85, 2.35)  # trip in Berlin, pin in Paris
    tom = team.fake.user(5006, "Tom")
    await team.enrol(tom, "staff", "north")
    await plan_for(team, tom, BERLIN, TODAY + timedelta(days=2), LATER)  # from tomorrow (2 Dec)
    hana = team.fake.user(5005, "Hana")
    await team.enrol(hana, "staff", "north")
    await plan_for(team, hana, BERLIN, TODAY, TODAY)
    team.clock.advance(timedelta(hours=15))  # 00:00 on 2 Dec in Berlin: Hana's trip is over
    officer = team.officer
    await officer.send("/rollcall")
    await _place(officer, "Berlin", None, "50 km")
    assert 'People to ask "Are you safe?": 2 ' in officer.last.body
    assert "1 by their trip under way, 1 by the location" in officer.last.body
    await officer.press(_go_button(officer))
    assert "Asked 2 " in officer.last.body
    assert _questions(team.rep) and _questions(sven)
    assert not _questions(tom) and not _questions(hana)


async def test_a_rep_who_unblocks_the_bot_is_asked_again_and_can_answer(team: World) -> None:
    """Rita had blocked the bot when the roll-call went out; she unblocked it and pressed
    Restart, but no question ever came: she could not answer and stayed 'no answer'."""
    await plan_for(team, team.rep, BERLIN, TODAY, LATER)
    await team.rep.block()
    officer = team.officer
    await officer.send("/rollcall")
    await _place(officer, "Berlin", None, "50 km")
    await officer.press(_go_button(officer))
    tally = officer.last
    await team.advance(timedelta(minutes=5))
    await team.rep.unblock()
    await team.rep.send("/start")
    await team.advance(timedelta(seconds=5))
    assert len(_questions(team.rep)) == 1
    await team.rep.press("✅ I'm safe")
    await team.advance(timedelta(seconds=5))
    assert "✅ 1 safe" in tally.body
    mark = team.rep.mark()
    await team.rep.block()  # answered: blocking and unblocking again asks nothing more
    await team.rep.unblock()
    await team.advance(timedelta(minutes=5))
    assert team.rep.since(mark) == []


async def test_a_manager_of_many_silent_people_gets_one_bounded_notice(team: World) -> None:
    """Forty silent reps of team north: their manager got forty separate "has not answered"
    messages at once (a flood on the worst night) instead of one list."""
    people = []
    for i in range(40):
        person = team.fake.user(6000 + i, f"Person{i:02d}" + "x" * 56)
        await team.enrol(person, "staff", "north")
        await person.share_location(*POTSDAM)
        people.append(person)
    officer = team.officer
    await officer.send("/rollcall")
    await _place(officer, "Berlin", None, "50 km")
    await officer.press(_go_button(officer))
    await people[0].press("✅ I'm safe")
    mark = team.manager.mark()
    await team.advance(timedelta(minutes=15))
    await team.advance(timedelta(minutes=15))
    told = [m.body for m in team.manager.since(mark) if "Roll-call R-1" in m.body]
    assert len(told) == 1 and len(told[0]) < 4096, told
    assert "Person01" in told[0] and "Person00" not in told[0] and "more" in told[0]
    await team.advance(timedelta(hours=2))
    assert len([m for m in team.manager.since(mark) if "Roll-call R-1" in m.body]) == 1


async def test_a_chinese_summary_lists_names_the_chinese_way(team: World) -> None:
    """The closing summary read "⏳ 未回复：Person00, Person01" with an English comma."""
    li = team.fake.user(5005, "Li", "zh-hans")
    await team.enrol(li, "officer")
    for i in range(2):
        person = team.fake.user(6000 + i, f"Person{i:02d}")
        await team.enrol(person, "staff", "north")
        await person.share_location(*POTSDAM)
    await li.send("/rollcall")
    await _place(li, "柏林", "柏林，德国", "50 公里")
    await li.press(_go_button(li))
    await li.press("⏹ 结束点名")
    await li.press("⏹ 确定结束")
    assert "未回复：Person00、Person01" in li.last.body


async def test_a_country_roll_call_asks_people_whose_last_location_is_in_it(team: World) -> None:
    """A "Germany" roll-call left out a colleague at home in Potsdam with no trip (her fresh
    location placed her there), while "Berlin, 50 km" asked her; and it said "no location
    shared there" as if locations counted."""
    await plan_for(team, team.rep, BERLIN, TODAY, LATER)
    sol, sven = await enrol_south(team)
    await sven.share_location(*POTSDAM)
    await sol.share_location(48.85, 2.35)  # Paris: not in Germany
    officer = team.officer
    await officer.send("/rollcall")
    await officer.press("🏳 A country")
    await officer.send("Germany")
    assert 'People to ask "Are you safe?": 2 ' in officer.last.body
    assert "1 by their trip under way, 1 by the location" in officer.last.body
    await officer.press(_go_button(officer))
    assert _questions(team.rep) and _questions(sven) and not _questions(sol)


async def test_nobody_to_ask_says_why_for_a_team_and_for_everyone(team: World) -> None:
    """A team with nobody else, or nobody travelling, was explained as "no trip under way
    there, no location shared there", which a team or "everyone" has no "there" for."""
    await team.officer.send("/rollcall")
    await team.officer.press("🌍 Everyone travelling")
    assert team.officer.last.body == said("rollcall.nobody.everyone")
    sol = team.fake.user(2012, "Sol", "zh-hans")
    await team.enrol(sol, "manager", "south")
    await sol.send("/rollcall")
    await sol.press("👥 某个团队")
    await sol.press("south")
    assert sol.last.body == said("rollcall.nobody.team", "zh", team="south")


async def test_three_hundred_people_with_long_names_keep_every_message_bounded(
        team: World) -> None:
    """Checked fine: 300 people in scope, names of 64 characters: the tally, a names page
    and the closing summary all stay well under Telegram's 4,096 characters."""
    people = []
    for i in range(300):
        person = team.fake.user(7000 + i, f"{i:03d}" + "Ŵ" * 61)
        await team.enrol(person, "staff", "north")
        await person.share_location(*POTSDAM)
        people.append(person)
    officer = team.officer
    await officer.send("/rollcall")
    await _place(officer, "Berlin", None, "50 km")
    await officer.press(_go_button(officer))
    tally = officer.last
    for person in people[:150]:
        await person.press("✅ I'm safe")
    await team.advance(timedelta(seconds=5))
    assert "Asked 300 · ✅ 150 safe" in tally.body
    await officer.press("👥 Names", tally)
    await officer.press("⏳ 150", officer.last)
    assert officer.last.body.count("• ") == 25 and "page 1 of 6" in officer.last.body
    await officer.press("⏹ Close", tally)
    await officer.press("⏹ Yes, close it", tally)
    assert "and 1" in officer.last.body and "more" in officer.last.body
    assert max(len(m.body or "") for m in officer.messages) < 3000


async def test_a_managers_roll_call_says_who_is_asking(team: World) -> None:
    """Mia's roll-call of her own team told her reps "The safety officers are checking on
    everyone travelling"; it was their manager, and only her team."""
    await plan_for(team, team.rep, BERLIN, TODAY, LATER)
    await team.manager.send("/rollcall")
    await team.manager.press("🌍 Everyone travelling")
    await team.manager.press(_go_button(team.manager))
    [question] = _questions(team.rep)
    assert "Your manager Mia is checking on everyone travelling in your team" in question
    assert "safety officers are checking" not in question


async def test_two_receipts_say_which_roll_call_each_answered(team: World) -> None:
    """Asked by two roll-calls at once, Rita's two answered questions both turned into the
    same "You answered the roll-call: I'm safe", with nothing to tell them apart."""
    await plan_for(team, team.rep, BERLIN, TODAY, LATER)
    officer = team.officer
    await officer.send("/rollcall")
    await _place(officer, "Berlin", None, "50 km")
    await officer.press(_go_button(officer))
    await officer.send("/rollcall")
    await officer.press("📋 New roll-call")
    await _place(officer, "Berlin", None, "200 km")
    await officer.press(_go_button(officer))
    first, second = [m for m in team.rep.messages if m.body.startswith("🔔")]
    await team.rep.press("✅ I'm safe", second)
    await team.rep.press("✅ I'm safe", first)
    assert "R-1" in first.body and "R-2" in second.body


async def test_a_manager_told_of_silence_hears_when_the_person_answers(team: World) -> None:
    """Mia was told "Rita has not answered, try to reach her by phone"; Rita answered safe five
    minutes later and Mia never heard, so she kept trying to reach her."""
    await plan_for(team, team.rep, BERLIN, TODAY, LATER)
    officer = team.officer
    await officer.send("/rollcall")
    await _place(officer, "Berlin", None, "50 km")
    await officer.press(_go_button(officer))
    await team.advance(timedelta(minutes=15))
    await team.advance(timedelta(minutes=15))
    assert "has not answered" in team.manager.last.body
    await team.advance(timedelta(minutes=5))
    await team.rep.press("✅ I'm safe")
    await team.advance(timedelta(seconds=5))
    assert team.manager.last.body == said("rollcall.answered_after.safe", rollcall="R-1",
                                          name="Rita")
    told = [m for m in team.manager.texts() if "Rita" in m and "Roll-call R-1" in m]
    assert len(told) == 2
