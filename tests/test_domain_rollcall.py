"""The roll-call's pure rules: who is in scope, what silence causes, how answers count, when the
tally may be edited, and the [rollcall] policy."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from fieldbot.domain import rollcall as rc
from fieldbot.domain.members import Member
from fieldbot.domain.places import Place
from fieldbot.domain.policy import RollcallPolicy
from fieldbot.domain.roles import Role
from fieldbot.domain.rollcall import (
    Answer,
    AnswerStatus,
    Candidate,
    Effect,
    Reason,
    Scope,
    ScopeKind,
    Stage,
)
from fieldbot.domain.trips import Leg, Trip, TripStatus
from fieldbot.policy_file import PolicyError, load_policy
from tests.builders import BERLIN

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
OLU = Member(3, "Olu", Role.OFFICER, "", "en")
MIA = Member(2, "Mia", Role.MANAGER, "north", "en")
RITA = Member(4, "Rita", Role.STAFF, "north", "en")
SVEN = Member(14, "Sven", Role.STAFF, "south", "en")
NEAR_BERLIN = Scope(ScopeKind.PLACE, "Berlin", BERLIN.lat, BERLIN.lon, 50)
POLICY = RollcallPolicy()


def _east_of_berlin(km: float) -> tuple[float, float]:
    """A point `km` due east of Berlin's centre (a degree of longitude there is ~67.8 km)."""
    degree = rc.distance_km(BERLIN.lat, BERLIN.lon, BERLIN.lat, BERLIN.lon + 1)
    return BERLIN.lat, BERLIN.lon + km / degree


def _trip(member: Member, place: Place, start: date, end: date) -> Trip:
    return Trip(1, member.id, (Leg(place, start, end),), TripStatus.APPROVED)


@pytest.mark.parametrize(("km", "inside"), [(49.9, True), (50.1, False)])
def test_a_last_location_counts_up_to_the_radius_and_no_further(km: float, inside: bool) -> None:
    lat, lon = _east_of_berlin(km)
    chosen = rc.select(NEAR_BERLIN, OLU, [Candidate(RITA, (), (lat, lon, NOW))], NOW)
    assert chosen == ([(RITA.id, Reason.LOCATION)] if inside else [])


def test_a_last_location_counts_for_24_hours() -> None:
    here = (BERLIN.lat, BERLIN.lon)
    fresh = Candidate(RITA, (), (*here, NOW - timedelta(hours=24)))
    stale = Candidate(SVEN, (), (*here, NOW - timedelta(hours=24, seconds=1)))
    assert rc.select(NEAR_BERLIN, OLU, [fresh, stale], NOW) == [(RITA.id, Reason.LOCATION)]


def test_a_trip_leg_under_way_counts_before_the_location_and_a_future_one_does_not() -> None:
    far_pin = (*_east_of_berlin(500), NOW)
    under_way = Candidate(RITA, (_trip(RITA, BERLIN, date(2026, 11, 30), date(2026, 12, 2)),),
                          far_pin)
    next_week = Candidate(SVEN, (_trip(SVEN, BERLIN, date(2026, 12, 8), date(2026, 12, 9)),))
    assert rc.select(NEAR_BERLIN, OLU, [under_way, next_week], NOW) == [(RITA.id, Reason.TRIP)]


def test_a_manager_asks_her_own_team_only_and_nobody_asks_themselves() -> None:
    here = (BERLIN.lat, BERLIN.lon, NOW)
    people = [Candidate(m, (), here) for m in (MIA, RITA, SVEN)]
    assert [uid for uid, _ in rc.select(NEAR_BERLIN, MIA, people, NOW)] == [RITA.id]
    assert [uid for uid, _ in rc.select(NEAR_BERLIN, OLU, people, NOW)] == [
        MIA.id, RITA.id, SVEN.id]
    assert rc.may_start(MIA) and rc.may_start(OLU) and not rc.may_start(RITA)
    assert rc.may_manage(MIA, OLU.id, "north") and not rc.may_manage(MIA, OLU.id, None)
    assert not rc.may_manage(RITA, RITA.id, "north")


def test_country_team_and_everyone_scopes() -> None:
    trip = _trip(RITA, BERLIN, date(2026, 11, 30), date(2026, 12, 2))
    people = [Candidate(RITA, (trip,)), Candidate(SVEN)]
    assert rc.select(Scope(ScopeKind.COUNTRY, "Germany", country_code="DE"), OLU, people,
                     NOW) == [(RITA.id, Reason.TRIP)]
    assert rc.select(Scope(ScopeKind.TEAM, team="South"), OLU, people, NOW) == [
        (SVEN.id, Reason.MEMBER)]
    assert rc.select(Scope(ScopeKind.EVERYONE), OLU, people, NOW) == [(RITA.id, Reason.TRIP)]


def test_only_the_offered_radii_and_real_coordinates_make_a_scope() -> None:
    with pytest.raises(ValueError, match="radius"):
        Scope(ScopeKind.PLACE, "x", 0, 0, 75)
    with pytest.raises(ValueError, match="coordinates"):
        Scope(ScopeKind.PLACE, "x", 91, 0, 50)


def test_area_questions_go_before_routine_traffic_and_never_before_an_sos() -> None:
    assert rc.question_priority(NEAR_BERLIN) > rc.question_priority(Scope(ScopeKind.TEAM))
    assert rc.TALLY_PRIORITY < 50 < 100  # below alerts and SOS
    assert rc.question_priority(Scope(ScopeKind.EVERYONE)) > 10  # above check-in reminders


def test_silence_is_met_with_a_second_question_then_the_manager() -> None:
    start = NOW
    first = rc.first_due(POLICY, start)
    assert first == start + timedelta(minutes=15)
    assert rc.on_due(POLICY, Stage.ASKED, first, start, first - timedelta(seconds=1)) is None
    reminded = rc.on_due(POLICY, Stage.ASKED, first, start, first)
    assert reminded == rc.PersonMove(Stage.REMINDED, start + timedelta(minutes=30),
                                     (Effect.REMIND,))
    assert reminded is not None and reminded.due_at is not None
    told = rc.on_due(POLICY, Stage.REMINDED, reminded.due_at, start, reminded.due_at)
    assert told == rc.PersonMove(Stage.MANAGER_TOLD, None, (Effect.TELL_MANAGER,))


def test_after_downtime_the_late_steps_are_taken_once_each() -> None:
    late = NOW + timedelta(hours=6)
    move = rc.on_due(POLICY, Stage.ASKED, NOW + timedelta(minutes=15), NOW, late)
    assert move == rc.PersonMove(Stage.MANAGER_TOLD, None, (Effect.REMIND, Effect.TELL_MANAGER))


def test_how_answers_count() -> None:
    assert rc.answer(False, False, None, Answer.SAFE) is AnswerStatus.NOT_ASKED
    assert rc.answer(True, False, None, Answer.SAFE) is AnswerStatus.RECORDED
    assert rc.answer(True, False, Answer.SAFE, Answer.SAFE) is AnswerStatus.ALREADY
    assert rc.answer(True, False, Answer.SAFE, Answer.HELP) is AnswerStatus.CHANGED
    assert rc.answer(True, True, None, Answer.SAFE) is AnswerStatus.LATE


def test_the_tally_is_edited_at_once_then_at_most_every_three_seconds() -> None:
    assert rc.next_edit(None, NOW) == NOW
    assert rc.next_edit(NOW, NOW + timedelta(seconds=1)) == NOW + timedelta(seconds=3)
    assert rc.next_edit(NOW, NOW + timedelta(seconds=9)) == NOW + timedelta(seconds=9)
    assert rc.tally([Answer.SAFE, None, Answer.HELP, None]).silent == 2


def test_the_policy_file_sets_the_rollcall_delays(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    path.write_text('[rollcall]\nremind_after = "5m"\nmanager_after = "10m"\n')
    policy = load_policy(path).rollcall
    assert (policy.remind_after, policy.manager_after) == (timedelta(minutes=5),
                                                           timedelta(minutes=10))
    path.write_text('[rollcall]\nremind_after = "30m"\nmanager_after = "10m"\n')
    with pytest.raises(PolicyError, match="rollcall: manager_after"):
        load_policy(path)
    path.write_text('[rollcall]\nremind_every = "5m"\n')
    with pytest.raises(PolicyError, match="rollcall.remind_every: unknown key"):
        load_policy(path)
