"""Incidents end to end (DESIGN.md §12): from a resolved alert or /incident, graded deadlines
reminding the owner then the safety officers, the review with its five whys, closing into a
lesson that /risk shows near the place — through the real bot, the fake Telegram, a fake clock.
"""

from __future__ import annotations

from datetime import date, timedelta

from fieldbot.domain.places import Place
from tests.builders import BERLIN, DEADLINE, at, plan, plan_trip, raw_bytes, rows, said
from tests.harness import World

BANGKOK = Place("Bangkok", "TH", "Thailand", "Bangkok", 13.7563, 100.5018, "Asia/Bangkok")
ORANGE, RED = "🟠 Orange (level two)", "🔴 Red (level one)"
RECORD = "✅ Record the incident"
DESCRIPTION = "Rita was followed from the client's office to the hotel FIXTURE-DESC-7781"


async def open_incident(world: World, *, grade: str = RED, place: str = "Berlin",
                        people: str = "Rita Fixture", description: str = DESCRIPTION) -> None:
    """The manager records an incident through /incident."""
    await world.manager.send("/incident")
    await world.manager.press(grade)
    await world.manager.send(place)
    await world.manager.send(people)
    await world.manager.send(description)
    await world.manager.press(RECORD)


async def test_resolving_an_alert_as_incident_opens_an_incident_owned_by_the_resolver(
    team: World,
) -> None:
    await plan_trip(team, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
    await at(team, DEADLINE + timedelta(minutes=30))
    assert "Alert A-1" in team.manager.last.body

    await team.manager.press("Resolve")
    await team.manager.press("Incident – handled")
    assert said("incident.from_alert", alert="A-1") in team.manager.last.body
    await team.manager.press(ORANGE)  # place and people come from the alert: Berlin, Rita
    assert team.manager.last.body == said("incident.ask.description")
    await team.manager.send(DESCRIPTION)
    summary = team.manager.last.body
    assert "Berlin" in summary and "Rita" in summary and "From alert A-1" in summary
    await team.manager.press(RECORD)

    assert said("incident.opened", incident="I-1", grade="🟠 Orange (level two)") \
        in team.manager.last.body
    [incident] = await rows(team, "SELECT * FROM incidents")
    assert (incident["alert_id"], incident["owner_id"], incident["grade"]) == (
        1, team.manager.id, "orange")
    [alert] = await rows(team, "SELECT state, resolution FROM alerts WHERE id = 1")
    assert (alert["state"], alert["resolution"]) == ("resolved", "incident")
    assert "Incident I-1" in team.officer.last.body  # the safety officers are told
    assert b"FIXTURE-DESC-7781" not in raw_bytes(team)  # the description is encrypted
    actions = [r["action"] for r in await rows(team, "SELECT action FROM audit")]
    assert "incident_open" in actions


async def test_deadlines_remind_the_owner_then_the_safety_officers(team: World) -> None:
    opened = team.clock.now()
    await open_incident(team, grade=RED)  # red: first report 24 h, review 7 days
    before = len(team.manager.messages)
    await team.advance(timedelta(hours=19))
    assert len(team.manager.messages) == before  # nothing yet

    await at(team, opened + timedelta(hours=20))  # remind_before 4 h
    assert "— First report due by" in team.manager.last.body
    officer_seen = len(team.officer.texts())

    await at(team, opened + timedelta(hours=24))  # the deadline passes: the owner again
    assert "was due" in team.manager.last.body
    assert len(team.officer.texts()) == officer_seen

    await at(team, opened + timedelta(hours=26))  # officers_after 2 h: the officers too
    assert "was due" in team.officer.last.body and "I-1" in team.officer.last.body
    assert said("incident.due.officers") in team.officer.last.body

    await team.restart()  # state is in the database: the next repeat still comes
    await at(team, opened + timedelta(hours=38))
    assert len([t for t in team.officer.texts() if "was due" in t]) == 2
    actions = [r["action"] for r in await rows(team, "SELECT action FROM audit")]
    assert actions.count("incident_step") >= 4


async def test_the_first_report_stops_its_reminders(team: World) -> None:
    opened = team.clock.now()
    await open_incident(team, grade=RED)
    await team.manager.press("📝 Write the review")
    await team.manager.send("We were followed.")
    await team.manager.send("Nobody hurt; one evening lost.")
    assert said("review.reported", incident="I-1") in team.manager.texts()[-2]
    await team.manager.send("/cancel")
    await at(team, opened + timedelta(hours=30))
    assert not [t for t in team.manager.texts() if "— First report" in t]


async def test_the_five_whys_each_quote_the_answer_before(team: World) -> None:
    await open_incident(team)
    await team.manager.press("📝 Write the review")
    await team.manager.send("A car followed Rita from the client to the hotel.")
    await team.manager.send("No harm, one cancelled meeting.")
    assert "«A car followed Rita from the client to the hotel.»" in team.manager.last.body
    answers = ["She walked alone at night", "The meeting ran late FIXTURE-WHY-5521",
               "The client was late", "No buffer was planned", "Plans have no night rule"]
    for n, answer in enumerate(answers, start=1):
        if n > 1:
            assert f"«{answers[n - 2]}»" in team.manager.last.body
            assert f"({n} of at most 5)" in team.manager.last.body
        await team.manager.send(answer)
    assert team.manager.last.body == said("review.ask.responsibility")  # five: no sixth why
    await team.manager.press("Management (rules, planning, resources)")
    await team.manager.send("Plan a taxi back after 19:00; Rita never walks alone. FIXTURE-M-33")
    await team.manager.press("✅ Close the incident")
    assert said("review.closed", incident="I-1") == team.manager.last.body
    secrets = raw_bytes(team)  # review answers and the lesson are encrypted at rest
    assert b"FIXTURE-WHY-5521" not in secrets and b"FIXTURE-M-33" not in secrets

    [incident] = await rows(team, "SELECT state, responsibility FROM incidents")
    assert (incident["state"], incident["responsibility"]) == ("closed", "management")
    lesson = (await team.services.lessons.search("")).lessons[0]
    assert lesson.cause == "Plans have no night rule"
    assert "Rita" not in lesson.measures and "taxi" in lesson.measures  # anonymised
    assert await rows(team, "SELECT * FROM incident_deadlines WHERE next_due_at IS NOT NULL") \
        == []


async def test_root_cause_found_early_ends_the_whys(team: World) -> None:
    await open_incident(team)
    await team.manager.press("📝 Write the review")
    await team.manager.send("What happened")
    await team.manager.send("The loss")
    await team.manager.send("Because of the first reason")
    await team.manager.press("✅ That is the root cause")
    assert team.manager.last.body == said("review.ask.responsibility")


async def test_a_closed_incident_becomes_a_lesson_shown_in_risk_near_the_place(
    team: World,
) -> None:
    await open_incident(team, place="Bangkok", people="Rita Fixture")
    await team.manager.press("📝 Write the review")
    for answer in ("Bag snatched by a scooter", "A phone", "Phone held at the kerb"):
        await team.manager.send(answer)
    await team.manager.press("✅ That is the root cause")
    await team.manager.press("Execution (how the rules were carried out)")
    await team.manager.send("Keep phones away from the kerb side in Bangkok")
    await team.manager.press("✅ Close the incident")

    await team.rep.send("/risk Bangkok")
    assert said("lessons.near", count=1, query="Bangkok") in team.rep.last.body
    await team.rep.send("/risk Berlin")
    assert "lesson" not in team.rep.last.body
    await team.rep.send("/lessons Bangkok")
    assert "Keep phones away from the kerb" in team.rep.last.body
    assert "Rita" not in team.rep.last.body

    await plan(team.rep, destination="Bangkok", end="2026-12-03")  # the /trip summary too
    assert said("lessons.near", count=1, query="Bangkok") in "\n".join(team.rep.texts()[-2:])
    await team.manager.send("/privacy")  # the author sees what they wrote is kept
    assert said("privacy.incidents", incidents=1, lessons=1) in team.manager.last.body


async def test_only_a_safety_officer_hands_over_and_only_to_a_safety_officer(
    team: World,
) -> None:
    await open_incident(team)
    [incident] = await rows(team, "SELECT id FROM incidents")
    # A manager forging the hand-over, and an officer handing it to a field rep: refused.
    toast = await team.manager.press_data(f"incidents:owner:{incident['id']}:{team.officer.id}")
    assert toast is not None and toast.text == said("incident.err.not_allowed")
    await team.officer.send("/incident")
    await team.officer.press("🔴 I-1 Berlin, Germany")
    toast = await team.officer.press_data(f"incidents:owner:{incident['id']}:{team.rep.id}")
    assert toast is not None and toast.text == said("incident.err.not_officer")
    await team.officer.press("👤 Hand over to another safety officer")
    await team.officer.press("Olu")
    [row] = await rows(team, "SELECT owner_id FROM incidents")
    assert row["owner_id"] == team.officer.id
    # The old owner can no longer write the review from an old button.
    toast = await team.manager.press("📝 Write the review")
    assert toast is not None and toast.text == said("incident.err.not_owner")


async def test_careless_and_hostile_input_loses_nothing(team: World) -> None:
    await team.rep.send("/incident")
    assert team.rep.last.body == said("guard.leads_only")
    await team.manager.send("/incident")
    await team.manager.press(RED)
    await team.manager.send("Berlin")
    await team.manager.send("Rita")
    await team.manager.send("x" * 4000)
    assert team.manager.last.body == said("incident.text.too_long", length=4000, max=500)
    await team.manager.send("   ")
    assert team.manager.last.body == said("incident.text.empty", length=0, max=500)
    await team.manager.send("<b>Tom & Jerry</b> <script>")
    assert "&lt;b&gt;Tom &amp; Jerry&lt;/b&gt; &lt;script&gt;" in team.manager.last.html
    assert "What happened: <b>Tom & Jerry</b> <script>" in team.manager.last.body
    summary = team.manager.last
    confirm_data = summary.inline_keyboard[0][0]["callback_data"]
    await team.manager.press(RECORD)
    stale = await team.manager.press_data(confirm_data, summary)  # a double tap
    assert stale is not None and stale.text == said("incident.already_saved")
    assert len(await rows(team, "SELECT id FROM incidents")) == 1

    await team.manager.press("📝 Write the review")
    await team.manager.send("y" * 4000)
    assert team.manager.last.body == said("incident.text.too_long", length=4000, max=1000)
    await team.manager.send("What happened, short")
    assert team.manager.last.body == said("review.ask.loss")
    toast = await team.manager.press_data("review:close:1")
    assert toast is not None and toast.text == said("guard.stale_button")


async def test_an_erased_owner_gets_nothing_and_the_safety_officers_are_told(
    team: World,
) -> None:
    opened = team.clock.now()
    await open_incident(team, grade=RED)
    await team.admin.send(f"/forgetme {team.manager.id}")
    await team.admin.press("🗑 Erase")
    await at(team, opened + timedelta(hours=20))  # the owner's reminder: the officers instead
    assert "— First report due by" in team.officer.last.body
    chats = [str(c.params.get("chat_id", "")) for c in team.fake.calls]
    assert not [chat for chat in chats if chat.startswith("-")]  # no stand-in is messaged
    [row] = await rows(team, "SELECT owner_id FROM incidents")
    assert row["owner_id"] < 0  # kept for the record, under the stand-in


async def test_an_owner_who_blocked_the_bot_leaves_the_reminders_to_the_safety_officers(
    team: World,
) -> None:
    opened = team.clock.now()
    await open_incident(team, grade=RED)
    await team.manager.block()
    await at(team, opened + timedelta(hours=20))  # the owner's reminder: the officers now
    assert "— First report due by" in team.officer.last.body  # not 6 hours later
    await team.manager.unblock()
    await team.manager.send("/help")  # she is back: reachable again
    await at(team, opened + timedelta(hours=24))
    assert "was due" in team.manager.last.body


async def test_a_review_of_the_longest_answers_still_fits_telegrams_limits(team: World) -> None:
    await open_incident(team, people="P" * 300, description="D" * 500,
                        place="Berlin")
    await team.manager.press("📝 Write the review")
    for n in range(7):  # what, loss, five whys: each the longest answer taken
        await team.manager.send(str(n) * 1000)
    await team.manager.press("Execution (how the rules were carried out)")
    await team.manager.send("M" * 1000)
    assert team.manager.last.buttons == [["✅ Close the incident"], ["✖️ Cancel"]]
    await team.manager.press("✅ Close the incident")
    assert said("review.closed", incident="I-1") == team.manager.last.body
    await team.rep.send("/lessons")
    assert len(team.rep.last.body) < 4096


async def test_a_broken_deadline_never_holds_up_a_missed_check_in(team: World) -> None:
    await open_incident(team)
    async with team.services.db.transaction() as tx:  # a row no code could have written
        await tx.execute("UPDATE incident_deadlines SET due_at = 'garbage',"
                         " next_due_at = '2026-12-01T10:00:00.000000+00:00'")
    await plan_trip(team, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
    await at(team, DEADLINE + timedelta(minutes=30))
    assert "Alert A-1" in team.manager.last.body  # the ladder went on
    pushed = await rows(team, "SELECT next_due_at FROM incident_deadlines")
    assert all(r["next_due_at"] > "2026-12-01T20:30" for r in pushed)  # tried again later


async def test_lessons_before_any_and_a_search_that_finds_none(team: World) -> None:
    await team.rep.send("/lessons")
    assert team.rep.last.body == said("lessons.empty")
    await team.rep.send("/lessons <b>flood</b>")
    assert team.rep.last.body == said("lessons.none", query="<b>flood</b>")


async def seven_lessons(team: World) -> None:
    """Seven closed incidents in Berlin, lessons "measure number 0" to "6" (made up)."""
    from fieldbot.domain.crisis_policy import Grade
    from fieldbot.domain.incidents import Responsibility, Review
    from fieldbot.services.incidents import IncidentDraft

    officer = await team.services.enrolment.member(team.officer.id)
    assert officer is not None
    for n in range(7):
        incident = await team.services.incidents.open(officer, IncidentDraft(
            Grade.BLUE, "Berlin, Germany", "DE", 52.52, 13.405, "", f"Case {n}"))
        await team.services.incidents.close(incident.id, officer, Review(
            "what", "loss", (f"cause {n}",), Responsibility.EXECUTION, f"measure number {n}"))


async def test_lessons_come_in_pages(team: World) -> None:
    await seven_lessons(team)
    await team.rep.send("/lessons measure")
    first = team.rep.last
    assert "page 1 of 2" in first.body and first.body.count("measure number") == 5
    assert first.buttons == [["▶"]]
    await team.rep.press("▶")
    assert "page 2 of 2" in team.rep.last.body and team.rep.last.body.count("measure number") == 2
    assert team.rep.last.buttons == [["◀"]]


async def test_the_place_may_be_the_phones_own_location(team: World) -> None:
    await team.manager.send("/incident")
    await team.manager.press(RED)
    assert team.manager.keyboard is not None  # one tap shares where I am
    await team.manager.share_location(52.5205, 13.4095)
    assert "Berlin" in team.manager.messages[-2].body and team.manager.keyboard is None
    assert team.manager.last.body == said("incident.ask.people")
