"""/rollcall end to end: who is asked (trip leg vs last location, radius edges), the tally edited
at most every few seconds, reminders and manager notices on the fake clock, 🆘 as an SOS,
closing with the summary, a manager's own team only, a field rep refused, hostile input."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from faketelegram.users import FakeUser
from fieldbot.domain.places import Place
from fieldbot.storage import audit
from tests.builders import BERLIN, enrol_south, plan_for, raw_bytes, rows, said
from tests.harness import World

HAMBURG = Place("Hamburg", "DE", "Germany", "Hamburg", 53.55, 9.99, "Europe/Berlin")
PARIS = Place("Paris", "FR", "France", "Île-de-France", 48.8566, 2.3522, "Europe/Paris")
POTSDAM = (52.39, 13.06)  # about 27 km from Berlin's centre
FIFTY_FIVE_KM_EAST = (52.52, 14.215)  # outside 50 km, inside 200 km

TODAY, LATER = date(2026, 12, 1), date(2026, 12, 4)


async def _officer_asks_berlin(world: World, radius: str = "50 km",
                               message: str | None = None) -> None:
    officer = world.officer
    await officer.send("/rollcall")
    await officer.press("📍 A place")
    await officer.send("Berlin")
    await officer.press(radius)
    if message is not None:
        await officer.press("💬 Add a message")
        await officer.send(message)


def _asks(count: int) -> str:
    return f'People to ask "Are you safe?": {count} '


async def _actions(world: World) -> list[str]:
    async with world.services.db.read() as conn:
        return [e.action for e in await audit.since(conn, world.clock.now() - timedelta(days=9))]


async def _go(user: FakeUser) -> None:
    go = next(b for row in user.last.buttons for b in row if b.startswith("📣"))
    await user.press(go)


def _questions(user: FakeUser) -> list[str]:
    return [t for t in user.texts() if "are you safe?" in t]


async def _south_in_berlin(world: World) -> tuple[FakeUser, FakeUser]:
    sol, sven = await enrol_south(world)
    await sven.share_location(*POTSDAM)
    return sol, sven


async def test_the_officer_asks_everyone_near_berlin_by_trip_or_last_location(
        team: World) -> None:
    await plan_for(team, team.rep, BERLIN, TODAY, LATER)
    _, sven = await _south_in_berlin(team)
    far = team.fake.user(5005, "Hana")
    await team.enrol(far, "staff", "north")
    await far.share_location(*FIFTY_FIVE_KM_EAST)
    await _officer_asks_berlin(team)
    assert _asks(2) in team.officer.last.body
    assert "1 by their trip under way, 1 by the location they last shared" in (
        team.officer.last.body)

    await _go(team.officer)
    tally = team.officer.last
    assert "Roll-call R-1" in tally.body and "Asked 2 · ✅ 0 safe" in tally.body
    assert tally.buttons == [["👥 Names", "⏹ Close"]]
    assert len(_questions(team.rep)) == 1 and len(_questions(sven)) == 1
    assert not _questions(far)
    assert team.rep.last.buttons == [["✅ I'm safe", "🆘 I need help"]]
    assert "rollcall_start" in await _actions(team)


async def test_radius_edges_and_a_location_older_than_a_day(team: World) -> None:
    far = team.fake.user(5005, "Hana")
    await team.enrol(far, "staff", "north")
    await far.share_location(*FIFTY_FIVE_KM_EAST)
    await team.rep.share_location(*POTSDAM)
    team.clock.advance(timedelta(hours=24, minutes=1))  # Rita's pin is now too old
    await far.share_location(*FIFTY_FIVE_KM_EAST)
    await _officer_asks_berlin(team, "200 km")
    assert _asks(1) in team.officer.last.body  # Hana 55 km out; Rita's pin stale
    await team.officer.send("/cancel")
    await _officer_asks_berlin(team, "50 km")
    assert team.officer.last.body == said("rollcall.nobody", scope=said(
        "rollcall.scope.place", radius=50, place="Berlin, Germany"))


async def test_the_tally_is_edited_at_most_every_few_seconds_and_ends_current(
        team: World) -> None:
    await plan_for(team, team.rep, BERLIN, TODAY, LATER)
    _, sven = await _south_in_berlin(team)
    await _officer_asks_berlin(team)
    await _go(team.officer)
    tally = team.officer.last
    edits = len(tally.history)

    await team.rep.press("✅ I'm safe")
    assert team.rep.toasts[-1].text == said("rollcall.answered.recorded")
    assert "✅ 1 safe" in tally.body and len(tally.history) == edits + 1
    assert "You answered roll-call R-1" in team.rep.last.body  # the question became a receipt

    team.clock.advance(timedelta(seconds=1))
    await sven.press("✅ I'm safe")
    assert "✅ 1 safe" in tally.body  # throttled: not edited again within 3 seconds
    await team.advance(timedelta(seconds=2))
    assert "✅ 2 safe" in tally.body and "⏳ 0 no answer" in tally.body
    assert len(tally.history) == edits + 2


async def test_the_silent_are_asked_again_then_their_managers_told_across_a_restart(
        team: World) -> None:
    await plan_for(team, team.rep, BERLIN, TODAY, LATER)
    sol, sven = await _south_in_berlin(team)
    await _officer_asks_berlin(team)
    await _go(team.officer)
    await sven.press("✅ I'm safe")

    await team.advance(timedelta(minutes=14))
    assert len(_questions(team.rep)) == 1
    await team.restart()  # the state is in the database, not in memory
    await team.advance(timedelta(minutes=1))
    assert "asking again" in team.rep.last.body
    assert not [t for t in sven.texts() if "asking again" in t]  # he answered: not again
    assert not [t for t in team.manager.texts() if "has not answered" in t]

    await team.advance(timedelta(minutes=15))
    told = [t for t in team.manager.texts() if "has not answered" in t]
    assert len(told) == 1 and "Rita" in told[0]
    assert not [t for t in sol.texts() if "has not answered" in t]
    await team.advance(timedelta(hours=2))
    assert len([t for t in team.manager.texts() if "has not answered" in t]) == 1


async def test_i_need_help_raises_an_sos(team: World) -> None:
    await plan_for(team, team.rep, BERLIN, TODAY, LATER)
    await _officer_asks_berlin(team)
    await _go(team.officer)
    tally = team.officer.last
    await team.rep.press("🆘 I need help")
    sos = said("alert.head.sos", alert="A-1", attempt=1, name="Rita").split("\n")[0]
    assert any(sos in t for t in team.manager.texts())
    assert any(sos in t for t in team.officer.texts())
    assert said("sos.sent.leads").split("\n")[0] in team.rep.messages[-2].body
    assert "🆘 1 need help" in tally.body
    kinds = await rows(team, "SELECT kind FROM alerts")
    assert [r["kind"] for r in kinds] == ["sos"]


async def test_close_sends_the_summary_and_later_answers_are_kept_and_passed_on(
        team: World) -> None:
    await plan_for(team, team.rep, BERLIN, TODAY, LATER)
    _, sven = await _south_in_berlin(team)
    await _officer_asks_berlin(team)
    await _go(team.officer)
    await sven.press("✅ I'm safe")
    tally = team.officer.last

    await team.officer.press("⏹ Close", tally)
    assert tally.buttons == [["⏹ Yes, close it", "↩ Keep it open"]]
    await team.officer.press("↩ Keep it open", tally)
    assert tally.buttons == [["👥 Names", "⏹ Close"]]
    await team.officer.press("⏹ Close", tally)
    await team.officer.press("⏹ Yes, close it", tally)
    summary = team.officer.last.body
    assert "Roll-call R-1 closed by Olu" in summary and "No answer: Rita" in summary
    assert "Closed" in tally.body and tally.buttons == [["👥 Names"]]
    assert "rollcall_close" in await _actions(team)
    again = await team.officer.press_data("rollcall:closeyes:1", tally)  # an old Close button
    assert again is not None and again.text == said("rollcall.refused.closed", rollcall="R-1")

    await team.advance(timedelta(hours=1))
    assert len(_questions(team.rep)) == 1  # nobody is chased after the close
    question = next(m for m in team.rep.messages if m.body and "are you safe?" in m.body)
    await team.rep.press("✅ I'm safe", question)
    assert team.rep.toasts[-1].text == said("rollcall.answered.late")
    assert "Rita answered late: safe" in team.officer.last.body


async def test_names_per_state_are_listed_in_pages(team: World) -> None:
    people = []
    for i in range(27):
        person = team.fake.user(6000 + i, f"Person{i:02d}")
        await team.enrol(person, "staff", "north")
        await person.share_location(*POTSDAM)
        people.append(person)
    await _officer_asks_berlin(team)
    await _go(team.officer)
    await people[0].press("✅ I'm safe")
    await team.officer.press("👥 Names")
    names = team.officer.last
    assert names.protect_content
    assert "no answer yet (26)" in names.body and "page 1 of 2" in names.body
    assert names.body.count("• ") == 25
    await team.officer.press("▶", names)
    assert "page 2 of 2" in names.body and names.body.count("• ") == 1
    await team.officer.press("✅ 1", names)
    assert "Person00" in names.body
    await team.officer.press("⏹ Close")
    await team.officer.press("⏹ Yes, close it")
    summary = team.officer.last.body
    assert "No answer: Person01" in summary and summary.endswith("and 6 more")


async def test_a_manager_asks_only_her_own_team_and_cannot_close_anothers(
        team: World) -> None:
    await plan_for(team, team.rep, BERLIN, TODAY, LATER)
    sol, sven = await _south_in_berlin(team)
    await team.manager.send("/rollcall")
    await team.manager.press("📍 A place")
    await team.manager.send("Berlin")
    await team.manager.press("50 km")
    assert _asks(1) in team.manager.last.body
    await _go(team.manager)
    assert _questions(team.rep) and not _questions(sven)

    await sol.send("/rollcall")  # Mia's roll-call is not Sol's to see
    assert "Roll-call R-1" not in sol.last.body
    toast = await sol.press_data("rollcall:closeyes:1", sol.last)
    assert toast is not None and toast.text == said("rollcall.refused.not_allowed")


async def test_a_field_rep_is_refused(team: World) -> None:
    await team.rep.send("/rollcall")
    assert team.rep.last.body == said("guard.leads_only")
    toast = await team.rep.press_data("rollcall:closeyes:1", team.rep.last)
    assert toast is not None and toast.text == said("guard.stale_button")


async def test_rollcall_again_shows_the_open_one(team: World) -> None:
    await plan_for(team, team.rep, BERLIN, TODAY, LATER)
    await _officer_asks_berlin(team)
    await _go(team.officer)
    await team.officer.send("/rollcall")
    shown = team.officer.messages[-2]
    assert "Roll-call R-1" in shown.body and shown.buttons == [["👥 Names", "⏹ Close"]]
    assert team.officer.last.buttons == [["📋 New roll-call"]]


async def test_country_team_and_everyone_scopes(team: World) -> None:
    await plan_for(team, team.rep, PARIS, TODAY, LATER)
    _, sven = await _south_in_berlin(team)
    officer = team.officer
    await officer.send("/rollcall")
    await officer.send("France")  # typed where a button is asked for: asked again
    assert officer.last.body == said("rollcall.press_button")
    await officer.press("🏳 A country")
    await officer.send("Atlantis")
    assert officer.last.body == said("rollcall.country.none")
    await officer.send("France")
    assert _asks(1) in officer.last.body
    await officer.send("/rollcall")
    await officer.press("👥 A team")
    await officer.press("south")
    assert _asks(2) in officer.last.body  # Sol and Sven, travelling or not
    await officer.send("/rollcall")
    await officer.press("👥 A team")
    await officer.send("Atlantis")
    assert officer.last.body == said("rollcall.team.unknown")
    await officer.send("SOUTH")  # typed instead of pressed
    assert _asks(2) in officer.last.body
    await officer.send("/rollcall")
    await officer.press("🌍 Everyone travelling")
    assert _asks(1) in officer.last.body  # Rita's trip; Sven has none


async def test_hostile_message_old_buttons_and_two_officers_at_once(team: World) -> None:
    await plan_for(team, team.rep, BERLIN, TODAY, LATER)
    olga = team.fake.user(3013, "Olga")
    await team.enrol(olga, "officer")
    await _officer_asks_berlin(team, message="x" * 4096)
    assert team.officer.last.body == said("rollcall.message.too_long", length=4096, max=300)
    await team.officer.send("   ")
    assert team.officer.last.body == said("rollcall.message.empty")
    await team.officer.send("<b>Flood</b> & <script>stay</script> \u202einside")
    assert "💬 <b>Flood</b> & <script>" in team.officer.last.body

    await olga.send("/rollcall")  # both prepare the same roll-call at once
    await olga.press("📍 A place")
    await olga.send("Berlin")
    await olga.press("50 km")
    await _go(team.officer)
    assert "<script>" in team.rep.last.body
    toast = await olga.press(next(b for r in olga.last.buttons for b in r if b.startswith("📣")))
    assert toast is not None and toast.text == said("rollcall.refused.duplicate",
                                                    rollcall="R-1")
    assert len(_questions(team.rep)) == 1

    forged = await team.rep.press_data("rc:999:ok", team.rep.last)
    assert forged is not None and forged.text == said("rollcall.answered.not_asked")
    stale = await team.officer.press_data("rollcall:names:999:-:0", team.officer.last)
    assert stale is not None and stale.text == said("rollcall.refused.gone")
    # the scope question's buttons are gone once pressed; a forged or replayed press is stale
    stale_scope = await team.officer.press_data("rollcall:scope:place", team.officer.last)
    assert stale_scope is not None and stale_scope.text == said("guard.stale_button")
    await team.rep.press("✅ I'm safe")
    again = await team.rep.press_data("rc:1:ok", team.rep.last)
    assert again is not None and again.text == said("rollcall.answered.already")


async def test_a_person_the_question_cannot_reach_is_told_to_her_manager_at_once(
        team: World) -> None:
    await plan_for(team, team.rep, BERLIN, TODAY, LATER)
    await team.rep.block()
    await _officer_asks_berlin(team)
    await _go(team.officer)
    told = [t for t in team.manager.texts() if "cannot be reached" in t]
    assert len(told) == 1 and "Rita" in told[0]
    await team.advance(timedelta(hours=1))
    assert len([t for t in team.manager.texts() if "Rita" in t and "Roll-call" in t]) == 1


async def test_a_chinese_rep_is_asked_in_chinese_and_her_answer_counts(team: World) -> None:
    li = team.fake.user(5005, "Li", "zh-hans")
    await team.enrol(li, "staff", "north")
    await li.share_location(*POTSDAM)
    await _officer_asks_berlin(team)
    await _go(team.officer)
    assert "您平安吗？" in li.last.body
    assert li.last.buttons == [["✅ 我平安", "🆘 紧急求助"]]
    await li.press("✅ 我平安")
    assert li.toasts[-1].text == said("rollcall.answered.recorded", "zh")
    assert "✅ 1 safe" in team.officer.messages[-1].body


async def test_the_message_is_stored_encrypted(team: World) -> None:
    await plan_for(team, team.rep, BERLIN, TODAY, LATER)
    await _officer_asks_berlin(team, message="ZQROLLCALLMARKER stay indoors")
    await _go(team.officer)
    assert "ZQROLLCALLMARKER" in team.rep.last.body
    await team.stop()
    assert b"ZQROLLCALLMARKER" not in raw_bytes(team)
    await team.start()


async def test_a_roll_calls_times_read_in_the_organisations_own_zone(tmp_path: Path) -> None:
    """FIELDBOT_DEFAULT_TZ=Asia/Shanghai: the tally and the silence notice say when in
    Beijing time (as incident deadlines do), not in UTC."""
    async with World(tmp_path, default_tz="Asia/Shanghai").running() as world:
        await world.enrol_team()
        await plan_for(world, world.rep, BERLIN, TODAY, LATER)
        await _officer_asks_berlin(world)
        await _go(world.officer)
        started = world.clock.now().astimezone(ZoneInfo("Asia/Shanghai")).strftime("%H:%M")
        assert f"at {started} " in world.officer.last.body
        assert "(Shanghai time)" in world.officer.last.body
        assert "(UTC)" not in world.officer.last.body
