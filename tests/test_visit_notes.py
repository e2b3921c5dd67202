"""Client safety notes after a visit, restarts mid-visit, and bad input to /visit."""

from __future__ import annotations

from datetime import timedelta

from faketelegram.users import FakeUser
from tests.builders import SPOT, raw_bytes, rows, said
from tests.harness import World
from tests.test_visit_flow import DONE, MIN, START, visit

NOTE = "Shouted at me and blocked the door when I tried to leave"


async def colleague(world: World) -> FakeUser:
    tom = world.fake.user(4005, "Tom", "en")
    await world.enrol(tom, "staff", "north")
    return tom


async def leave_note(user: FakeUser, client: str = "ACME Ltd", text: str = NOTE) -> None:
    await visit(user, client=client)
    await user.send("/done")
    await user.press("😠 Aggressive")
    await user.send(text)


async def test_a_note_is_shown_to_a_colleague_planning_a_visit_to_the_same_client(
    team: World,
) -> None:
    tom = await colleague(team)
    await leave_note(team.rep, client="ACME Ltd")
    assert "Colleagues who plan a visit" in team.rep.last.body
    assert NOTE in team.manager.last.body and "Remove note" in str(team.manager.last.buttons)

    await tom.send("/visit")
    await tom.send("Acme")  # typed differently: no "Ltd", other case
    await tom.press("Alone")
    await tom.press("+1 h")
    summary = tom.last
    assert "safety notes" in summary.body and NOTE in summary.body
    assert "Aggressive" in summary.body
    # Encrypted at rest: the note is nowhere in the database file in clear.
    assert NOTE.encode() not in raw_bytes(team)


async def test_a_note_in_chinese_matches_without_the_company_form(team: World) -> None:
    tom = await colleague(team)
    await leave_note(team.rep, client="华为技术有限公司")
    await tom.send("/visit")
    await tom.send("华为技术")
    await tom.press("Alone")
    await tom.press("+1 h")
    assert NOTE in tom.last.body


async def test_a_note_near_the_place_is_shown_and_in_risk(team: World) -> None:
    tom = await colleague(team)
    await team.rep.send("/visit")
    await team.rep.share_location(*SPOT)
    await team.rep.send("Some shop")
    await team.rep.press("Alone")
    await team.rep.press("+1 h")
    await team.rep.press(START)
    await team.rep.send("/done")
    await team.rep.press("⚠️ Unsafe premises")
    await team.rep.send("Broken stairs at the back entrance")

    await tom.send("/visit")
    await tom.share_location(SPOT[0] + 0.001, SPOT[1])  # about 110 m away
    await tom.send("Another client")
    await tom.press("Alone")
    await tom.press("+1 h")
    assert "Broken stairs" in tom.last.body

    await tom.send("/cancel")
    await tom.send("/risk")
    await tom.share_location(SPOT[0] + 0.0005, SPOT[1])
    assert "Broken stairs" in tom.last.body


async def test_a_manager_removes_a_note_and_colleagues_no_longer_see_it(team: World) -> None:
    tom = await colleague(team)
    await leave_note(team.rep)
    await team.manager.press("🗑 Remove note")
    assert "Note removed" in team.manager.last.body
    await tom.send("/visit")
    await tom.send("Acme")
    await tom.press("Alone")
    await tom.press("+1 h")
    assert NOTE not in tom.last.body
    [row] = await rows(team, "SELECT body, removed_by FROM visit_notes")
    assert row == {"body": "", "removed_by": team.manager.id}


async def test_a_rep_cannot_remove_a_note(team: World) -> None:
    tom = await colleague(team)
    await leave_note(team.rep)
    [row] = await rows(team, "SELECT id FROM visit_notes")
    toast = await tom.press_data(f"visit:rmnote:{row['id']}")
    assert toast is not None and "not yours to remove" in toast.text
    [row] = await rows(team, "SELECT removed_at FROM visit_notes")
    assert row["removed_at"] is None


async def test_notes_expire(team: World) -> None:
    tom = await colleague(team)
    await leave_note(team.rep)
    await team.advance(timedelta(days=366))
    await tom.send("/visit")
    await tom.send("Acme")
    await tom.press("Alone")
    await tom.press("+1 h")
    assert NOTE not in tom.last.body


async def test_a_4000_character_note_is_refused_kindly_and_a_short_one_kept(team: World) -> None:
    await visit(team.rep)
    await team.rep.press_data("visit:done:1")
    await team.rep.press("Other")
    await team.rep.send("x" * 4000)
    assert said("visit.note.bad", max=500, length=4000) in team.rep.last.body
    await team.rep.send("Dog in the yard")
    assert "Colleagues who plan a visit" in team.rep.last.body


async def test_restart_in_the_middle_of_a_visit_resumes_the_timer(team: World) -> None:
    await visit(team.rep)
    await team.restart()  # a new Application on the same database
    await team.advance(50 * MIN)
    assert "due to end at" in team.rep.last.body
    await team.restart()
    await team.advance(20 * MIN)  # end + 10 min
    assert "has not ended a client visit" in team.manager.last.body
    await team.rep.press(DONE)
    assert "All clear" in team.manager.last.body


async def test_a_second_visit_while_one_is_open_offers_to_end_it(team: World) -> None:
    await visit(team.rep)
    await team.rep.send("/visit")
    assert "visit under way" in team.rep.last.body
    await team.rep.press("Keep it running")
    [row] = await rows(team, "SELECT state FROM visits")
    assert row["state"] == "active"
    await team.rep.send("/visit")
    await team.rep.press("✅ End it now, I'm safe")
    assert "Anything colleagues should know" in team.rep.last.body
    await visit(team.rep, client="Second client")
    assert [r["state"] for r in await rows(team, "SELECT state FROM visits ORDER BY id")] == [
        "ended", "active"]


async def test_bad_ends_unknown_colleagues_and_pins_get_clear_answers(team: World) -> None:
    rep = team.rep
    await rep.send("/visit")
    await rep.share_location(95.0, 200.0)  # out of range
    assert said("trip.destination.bad_pin") in rep.last.body
    await rep.send("<b>Acme</b> & Co")
    await rep.send("Nobody We Know")
    assert "No colleague called" in rep.last.body
    await rep.press("Take the name anyway")
    await rep.send("25:99")
    assert "like 22:30" in rep.texts()[-2]
    await rep.send("08:30")  # START is 09:00 UTC: half an hour ago
    assert "already passed" in rep.texts()[-2]
    await rep.send("18:00:15")  # nine hours ahead: beyond max_length
    assert "at most 8 hours" in rep.texts()[-2]
    await rep.send("11:30:15")
    assert "11:30" in rep.last.body and "Nobody We Know" in rep.last.body
    assert "&lt;b&gt;Acme" in rep.last.html  # user text is escaped
    await rep.press(START)
    [row] = await rows(team, "SELECT alone, companion_id, state FROM visits")
    assert row == {"alone": 0, "companion_id": None, "state": "active"}
    assert b"Nobody We Know" not in raw_bytes(team)  # the companion is encrypted at rest


async def test_done_without_a_visit_and_a_visit_is_not_a_check_in(team: World) -> None:
    await team.rep.send("/done")
    assert "no visit under way" in team.rep.last.body
    await visit(team.rep)
    await team.rep.send("/done")
    assert await rows(team, "SELECT * FROM nights WHERE state = 'checked_in'") == []


async def test_privacy_shows_the_authors_visits_and_notes_and_forgetme_erases_them(
    team: World,
) -> None:
    tom = await colleague(team)
    await leave_note(team.rep)
    await visit(team.rep, client="Second client")  # under way when she erases herself
    await team.rep.send("/privacy")
    assert "Client visits:</b> 2" in team.rep.last.html
    assert NOTE in team.rep.last.body
    await team.rep.send("/forgetme")
    await team.rep.press("🗑 Erase")
    visits = await rows(team, "SELECT user_id, client, companion, state, due_at FROM visits")
    assert all(v["user_id"] < 0 and v["client"] == "" for v in visits)
    assert [v["state"] for v in visits] == ["ended", "cancelled"]
    assert all(v["due_at"] is None for v in visits)
    [note] = await rows(team, "SELECT author_id FROM visit_notes")
    assert note["author_id"] is None
    await team.advance(timedelta(hours=3))  # the cancelled visit's timer alerts nobody
    assert "has not ended a client visit" not in " ".join(team.manager.texts())
    await tom.send("/visit")  # the note stays for colleagues, without its author
    await tom.send("Acme")
    await tom.press("Alone")
    await tom.press("+1 h")
    assert NOTE in tom.last.body


async def test_an_old_visits_done_button_does_not_end_the_next_visit(team: World) -> None:
    await visit(team.rep)
    await team.advance(50 * MIN)
    old_reminder = team.rep.last
    await team.rep.send("/done")
    await visit(team.rep, client="Next client")
    await team.rep.press_data("visit:done:1", old_reminder)
    assert "earlier visit" in team.rep.last.body
    states = [r["state"] for r in await rows(team, "SELECT state FROM visits ORDER BY id")]
    assert states == ["ended", "active"]
