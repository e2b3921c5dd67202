"""The desk page's people on a client visit and its live roll-call tally, without a browser:
where a visitor is put on the map, what a tap shows, whose roll-calls a viewer sees."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from conversations.render.formatting import local_time
from conversations.web.desk.view import snapshot
from faketelegram.users import FakeUser
from fieldbot.domain import board
from fieldbot.domain.board import BoardState, Entry, OnVisit
from fieldbot.domain.members import Member
from tests.builders import (
    BERLIN,
    SPOT,
    enrol_south,
    lone_visit,
    plan_for,
    rollcall_near_berlin,
    said,
)
from tests.harness import World

MIN = timedelta(minutes=1)
POTSDAM = (52.39, 13.06)


async def member(world: World, user: FakeUser) -> Member:
    found = await world.services.enrolment.member(user.id)
    assert found is not None
    return found


async def person(world: World, viewer: FakeUser, name: str) -> dict[str, Any]:
    shown = await snapshot(world.services, await member(world, viewer), None)
    return next(p for p in shown.data["people"] if p["name"] == name)


# --- where a person is put on the map (the rule, pure) -----------------------------------------


def _entry(visit: OnVisit | None, last: tuple[float, float, datetime] | None) -> Entry:
    return Entry(member_id=1, name="Rita", state=BoardState.OK, trip=None, leg=None,
                 next_deadline=None, next_deadline_tz=None, last_checkin=None,
                 last_location=last, visit=visit)


def test_a_visitor_is_at_her_live_location_else_at_the_visits_pin() -> None:
    began = datetime.fromisoformat("2026-12-01T09:00:00+00:00")
    visit = OnVisit(began + timedelta(hours=1), "Europe/Berlin", "", SPOT, began)
    before, during = (*POTSDAM, began - MIN), (52.51, 13.41, began + MIN)
    assert board.position(_entry(visit, during)) == (52.51, 13.41, board.Placed.LAST)
    assert board.position(_entry(visit, before)) == (*SPOT, board.Placed.VISIT)
    unpinned = OnVisit(began + timedelta(hours=1), "Europe/Berlin", "", None, began)
    assert board.position(_entry(unpinned, before)) == (*POTSDAM, board.Placed.LAST)
    assert board.position(_entry(unpinned, None)) is None


# --- people on a visit, through the chat ------------------------------------------------------


async def test_a_rep_on_a_pinned_visit_is_at_its_pin_with_what_team_shows(team: World) -> None:
    await team.rep.share_location(*POTSDAM)  # an older location: the visit's pin wins
    team.clock.advance(5 * MIN)
    await lone_visit(team.rep, pin=SPOT)

    rita = await person(team, team.manager, "Rita")
    assert (rita["lat"], rita["lon"]) == SPOT and rita["state"] == "ok"
    assert rita["placed"] == said("desk.placed.visit")
    visit = await team.services.visits.current(team.rep.id)
    assert visit is not None
    until = said("team.visit", ends=local_time(visit.ends_at, visit.tz_name, "en"),
                 who=said("team.visit.alone"))
    assert until in rita["details"]
    # The client's name stays in the chat's alert, as on /team: not on the board.
    assert not any("Acme" in line for line in rita["details"])

    team.clock.advance(5 * MIN)
    await team.rep.share_location(52.5101, 13.4102)  # during the visit: she is here now
    rita = await person(team, team.manager, "Rita")
    assert (rita["lat"], rita["lon"], rita["placed"]) == (52.5101, 13.4102,
                                                          said("desk.placed.last"))


async def test_a_missed_visit_end_is_an_alert_on_the_desk_as_on_team(team: World) -> None:
    await lone_visit(team.rep)
    await team.advance(60 * MIN)  # the end: only she is asked
    assert (await person(team, team.officer, "Rita"))["state"] == BoardState.OVERDUE.value
    await team.advance(10 * MIN)  # her manager is alerted
    rita = await person(team, team.officer, "Rita")
    assert rita["state"] == BoardState.ALERT.value
    assert rita["state_label"] == said("team.state.alert")
    shown = await snapshot(team.services, await member(team, team.officer), None)
    assert [a["kind"] for a in shown.data["alerts"]] == ["visit"]


async def test_a_traveller_on_a_visit_without_a_pin_is_at_her_destination(team: World) -> None:
    await plan_for(team, team.rep, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
    await lone_visit(team.rep)
    rita = await person(team, team.manager, "Rita")
    assert (rita["lat"], rita["lon"]) == (BERLIN.lat, BERLIN.lon)
    assert rita["placed"] == said("desk.placed.destination")
    assert any(line.startswith("🧭") for line in rita["details"])


# --- the roll-call tally ----------------------------------------------------------------------


async def _tallies(world: World, viewer: FakeUser, team: str | None = None
                   ) -> list[dict[str, Any]]:
    shown = await snapshot(world.services, await member(world, viewer), team)
    return list(shown.data["rollcalls"])


async def test_the_tally_follows_the_answers_for_whoever_may_see_it(team: World) -> None:
    sol, sven = await enrol_south(team)
    await plan_for(team, team.rep, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
    await sven.share_location(*POTSDAM)
    assert await _tallies(team, team.officer) == []

    await rollcall_near_berlin(team.officer)

    [tally] = await _tallies(team, team.officer)
    assert (tally["asked"], tally["safe"], tally["need_help"], tally["no_answer"]) == (2, 0, 0, 2)
    assert tally["lines"][0].startswith("📋 Roll-call R-1")
    assert tally["lines"][1] == said("rollcall.tally.counts", asked=2, safe=0, help=0, silent=2)
    # The officer's roll-call is not a manager's to see (as with /rollcall's names and Close).
    assert await _tallies(team, team.manager) == [] and await _tallies(team, sol) == []

    await team.rep.press("✅ I'm safe")

    [tally] = await _tallies(team, team.officer)
    assert (tally["asked"], tally["safe"], tally["no_answer"]) == (2, 1, 1)


async def test_managers_of_the_team_see_its_roll_call_in_their_language(team: World) -> None:
    mei = team.fake.user(2022, "梅", "zh")
    await team.enrol(mei, "manager", "north")
    sol, _ = await enrol_south(team)
    await plan_for(team, team.rep, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
    await rollcall_near_berlin(team.manager)

    [tally] = await _tallies(team, mei)  # Mia asked her own team: north's managers see it
    assert tally["lines"][1] == said("rollcall.tally.counts", "zh", asked=1, safe=0, help=0,
                                     silent=1)
    assert "（UTC）" in tally["lines"][2] and "Mia" in tally["lines"][2]
    assert len(await _tallies(team, team.officer)) == 1
    assert await _tallies(team, sol) == []
    # An officer's team filter: north's roll-call under north, not under south.
    assert len(await _tallies(team, team.officer, "north")) == 1
    assert await _tallies(team, team.officer, "south") == []


async def test_the_page_reads_times_in_the_organisations_zone_as_the_chat_does(
    tmp_path: Path,
) -> None:
    """FIELDBOT_DEFAULT_TZ=Asia/Shanghai: the roll-call's tally on the page says when it began
    in Beijing time, word for word as the officer's tally message in Telegram."""
    async with World(tmp_path, default_tz="Asia/Shanghai").running() as world:
        await world.enrol_team()
        await plan_for(world, world.rep, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
        await rollcall_near_berlin(world.officer)
        [tally] = await _tallies(world, world.officer)
        started = tally["lines"][2]
        assert "(Shanghai time)" in started and "UTC" not in started
        assert started in world.officer.last.body
        shown = await snapshot(world.services, await member(world, world.officer), None)
        assert "(Shanghai time)" in shown.data["updated"]
