"""A client visit's lifecycle and its notes: pure rules, no database, no Telegram."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fieldbot.domain import alerts, visits
from fieldbot.domain.alerts import Ladder, People, Send
from fieldbot.domain.ladder import AlertKind, Tier
from fieldbot.domain.policy import DEFAULT_POLICY, VisitPolicy
from fieldbot.domain.roles import Role
from fieldbot.domain.visits import (
    EndProblem,
    ExtendRefusal,
    FinishStatus,
    NoteCategory,
    VisitEffect,
    VisitState,
)

POLICY = VisitPolicy()
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)
RITA, MIA, OLU = 4004, 2002, 3003


@dataclass(frozen=True)
class V:
    state: VisitState = VisitState.ACTIVE
    started_at: datetime = NOW
    ends_at: datetime = NOW + timedelta(hours=1)
    due_at: datetime | None = NOW + 50 * MIN
    extensions: int = 0


@dataclass(frozen=True)
class N:
    client: str = "ACME Ltd."
    point: tuple[float, float] | None = None
    expires_at: datetime = NOW + timedelta(days=365)
    removed: bool = False


def test_the_rep_is_asked_before_the_end_then_an_alert_opens_at_the_end() -> None:
    v = V()
    assert visits.on_due(POLICY, v, NOW + 49 * MIN) is None
    asked = visits.on_due(POLICY, v, NOW + 50 * MIN)
    assert asked == visits.VisitMove(VisitState.REMINDED, v.ends_at, VisitEffect.REMIND)
    reminded = replace(v, state=VisitState.REMINDED, due_at=v.ends_at)
    overdue = visits.on_due(POLICY, reminded, v.ends_at)
    assert overdue == visits.VisitMove(VisitState.OVERDUE, None, VisitEffect.OPEN_ALERT)


def test_a_visit_shorter_than_remind_before_is_first_due_at_once() -> None:
    assert visits.first_due(POLICY, NOW, NOW + 5 * MIN) == NOW


def test_after_downtime_an_overdue_visit_opens_its_alert_without_a_reminder() -> None:
    move = visits.on_due(POLICY, V(), NOW + timedelta(hours=5))
    assert move is not None and move.effect is VisitEffect.OPEN_ALERT


def test_finishing_on_time_late_and_with_nothing_open() -> None:
    assert visits.finish(V()) is FinishStatus.ON_TIME
    assert visits.finish(V(state=VisitState.OVERDUE)) is FinishStatus.LATE
    assert visits.finish(V(state=VisitState.ENDED)) is FinishStatus.NONE_OPEN
    assert visits.finish(None) is FinishStatus.NONE_OPEN


def test_extending_is_limited_in_number_and_length() -> None:
    moved = visits.extend(POLICY, V(), NOW + 50 * MIN)
    assert isinstance(moved, visits.Extension)
    assert moved.ends_at == NOW + 90 * MIN and moved.due_at == NOW + 80 * MIN
    assert visits.extend(POLICY, V(extensions=3), NOW) is ExtendRefusal.TOO_MANY
    long = V(ends_at=NOW + timedelta(hours=7, minutes=45))
    assert visits.extend(POLICY, long, NOW) is ExtendRefusal.TOO_LONG
    late = visits.extend(POLICY, V(state=VisitState.OVERDUE), NOW + 70 * MIN)
    assert isinstance(late, visits.Extension) and late.was_overdue
    assert late.ends_at == NOW + 100 * MIN  # from now, not from the end already missed


@pytest.mark.parametrize(("typed", "expected"), [
    ("22:30", datetime(2026, 12, 1, 21, 30, tzinfo=UTC)),  # Berlin is UTC+1 in December
    ("22:30:15", datetime(2026, 12, 1, 21, 30, 15, tzinfo=UTC)),
    ("２２：３０", datetime(2026, 12, 1, 21, 30, tzinfo=UTC)),  # full-width, as phones type
    ("01:00", datetime(2026, 12, 2, 0, 0, tzinfo=UTC)),  # after midnight, tonight
    ("10:30", EndProblem.PAST),  # 10:30 local is 09:30 UTC: earlier today
    ("25:00", EndProblem.NOT_A_TIME),
    ("soon", EndProblem.NOT_A_TIME),
    ("晚上9点半", datetime(2026, 12, 1, 20, 30, tzinfo=UTC)),
    ("晚上12点", datetime(2026, 12, 1, 23, 0, tzinfo=UTC)),  # midnight, not noon
    ("凌晨12点", datetime(2026, 12, 1, 23, 0, tzinfo=UTC)),
    ("深夜11点", datetime(2026, 12, 1, 22, 0, tzinfo=UTC)),
    ("半夜12点半", datetime(2026, 12, 1, 23, 30, tzinfo=UTC)),
    ("中午12点", EndProblem.PAST),  # noon: earlier today
    ("下午6点", datetime(2026, 12, 1, 17, 0, tzinfo=UTC)),  # 18:00 in Berlin
])
def test_a_typed_end_is_local_time_at_the_visit_place(
    typed: str, expected: datetime | EndProblem
) -> None:
    now = datetime(2026, 12, 1, 16, 0, tzinfo=UTC)  # 17:00 in Berlin
    assert visits.parse_end(POLICY, typed, now, "Europe/Berlin") == expected


def test_a_typed_end_beyond_max_length_is_refused() -> None:
    assert visits.parse_end(POLICY, "18:00", NOW, "UTC") is EndProblem.TOO_LONG
    assert visits.end_after(POLICY, NOW, 9 * 60) is EndProblem.TOO_LONG


def test_a_typed_end_in_a_dst_gap_moves_forward_like_a_phone() -> None:
    now = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)  # 01:30 CET, the night clocks go forward
    ends = visits.parse_end(POLICY, "02:30", now, "Europe/Berlin")  # never happens locally
    assert ends == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)  # 03:30 CEST


def test_a_typed_end_in_the_hour_that_comes_twice_is_the_one_still_ahead() -> None:
    """Found by a hostile review: at the second 02:40 of the night clocks go back, "02:50"
    was read as the first 02:50 (an hour ago) and refused as past."""
    first_0240 = datetime(2026, 10, 25, 0, 40, tzinfo=UTC)  # 02:40 CEST
    second_0240 = datetime(2026, 10, 25, 1, 40, tzinfo=UTC)  # 02:40 CET, an hour later
    assert visits.parse_end(POLICY, "02:50", first_0240, "Europe/Berlin") == datetime(
        2026, 10, 25, 0, 50, tzinfo=UTC)  # the earlier of the two, the safer one
    assert visits.parse_end(POLICY, "02:50", second_0240, "Europe/Berlin") == datetime(
        2026, 10, 25, 1, 50, tzinfo=UTC)
    assert visits.parse_end(POLICY, "02:30", second_0240,
                            "Europe/Berlin") is EndProblem.PAST  # both are past: not tomorrow
    # At the first pass, ten minutes ago is past: never its second pass, 50 minutes ahead.
    assert visits.parse_end(POLICY, "02:30", first_0240, "Europe/Berlin") is EndProblem.PAST


@pytest.mark.parametrize(("start", "hours", "tz", "dark"), [
    (datetime(2026, 12, 1, 10, 0, tzinfo=UTC), 2, "UTC", False),
    (datetime(2026, 12, 1, 18, 30, tzinfo=UTC), 1, "UTC", True),  # runs past 19:00
    (datetime(2026, 12, 1, 18, 30, tzinfo=UTC), 1, "Europe/Berlin", True),  # 19:30 there
    (datetime(2026, 12, 1, 5, 0, tzinfo=UTC), 3, "UTC", True),  # starts before 06:00
    (datetime(2026, 12, 1, 4, 0, tzinfo=UTC), 1, "Asia/Shanghai", False),  # 12:00 in Beijing
])
def test_after_dark_is_local_time_at_the_visit_place(
    start: datetime, hours: int, tz: str, dark: bool
) -> None:
    assert visits.is_after_dark(POLICY, start, start + timedelta(hours=hours), tz) is dark


def test_a_dark_window_within_one_day_works_too() -> None:
    policy = VisitPolicy(after_dark=(time(1, 0), time(5, 0)))
    assert visits.is_after_dark(policy, NOW.replace(hour=2), NOW.replace(hour=3), "UTC")
    assert not visits.is_after_dark(policy, NOW.replace(hour=6), NOW.replace(hour=9), "UTC")


@pytest.mark.parametrize(("a", "b"), [
    ("ACME Ltd", "Acme"), ("Acme, Inc.", "ACME"), ("Müller GmbH", "müller"),
    ("ＡＣＭＥ", "acme"), ("华为技术有限公司", "华为技术"), ("阿里巴巴集团", "阿里巴巴"),
    ("O'Brien & Sons Ltd.", "obrien sons"),
])
def test_client_names_compare_after_normalisation(a: str, b: str) -> None:
    assert visits.client_key(a).replace(" ", "") == visits.client_key(b).replace(" ", "")


def test_a_name_that_is_only_a_company_form_is_kept() -> None:
    assert visits.client_key("Ltd") == "ltd"
    assert visits.client_key("有限公司") == "有限公司"


def test_a_note_applies_to_the_same_client_or_within_300_metres_while_live() -> None:
    assert visits.note_applies(N(), "acme", None, NOW)
    assert not visits.note_applies(N(), "Acne", None, NOW)
    near = N(client="x", point=(52.52, 13.405))
    assert visits.note_applies(near, "", (52.522, 13.405), NOW)  # ~220 m
    assert not visits.note_applies(near, "", (52.525, 13.405), NOW)  # ~560 m
    assert not visits.note_applies(N(removed=True), "acme", None, NOW)
    assert not visits.note_applies(N(expires_at=NOW), "acme", None, NOW)


def test_a_note_is_bounded() -> None:
    assert visits.check_note("  ok  ") == "ok"
    assert visits.check_note(" ") is None
    assert visits.check_note("x" * (visits.MAX_NOTE + 1)) is None
    assert {c.value for c in NoteCategory} == {"aggressive", "harassment", "unsafe_premises",
                                              "other"}


def test_the_visit_policy_refuses_nonsense() -> None:
    with pytest.raises(ValueError, match="manager_after"):
        VisitPolicy(manager_after=timedelta(minutes=30), officers_after=timedelta(minutes=20))
    with pytest.raises(ValueError, match="max_length"):
        VisitPolicy(max_length=timedelta(0))


# --- the visit's ladder ----------------------------------------------------------------------

PEOPLE = People(RITA, team={Role.MANAGER: (MIA,)}, everyone={Role.OFFICER: (OLU,)})


def _tiers_reached(run_at: list[timedelta]) -> list[Tier]:
    """Run a fresh VISIT alert's ladder at each offset from the missed end; the tiers sent."""
    end = NOW + timedelta(hours=1)
    state = Ladder(AlertKind.VISIT, 0, end, -1, False, end)
    reached = []
    for offset in run_at:
        done = alerts.run(DEFAULT_POLICY, state, PEOPLE, end + offset)
        reached += [e.step.tier for e in done.effects if isinstance(e, Send)]
        if done.changed:
            state = replace(state, step_index=done.step_index, next_due_at=done.next_due_at,
                            skip_tier=done.skip_tier)
    return reached


def test_the_visit_ladder_is_the_policys_visit_section() -> None:
    offsets = [timedelta(0), 5 * MIN, 10 * MIN, 20 * MIN, 30 * MIN]
    assert _tiers_reached(offsets) == [Tier.REP, Tier.REP, Tier.MANAGER, Tier.OFFICERS,
                                       Tier.OFFICERS]


@given(st.lists(st.integers(0, 120), min_size=1, max_size=12), st.integers(20, 600))
def test_an_unacknowledged_missed_visit_end_always_reaches_the_next_tier(
    sweeps: list[int], late: int
) -> None:
    """Whenever the sweep happens to run (a restart, a missed tick, hours of downtime), an
    unacknowledged missed end has reached the officers once officers_after has passed."""
    offsets = sorted(timedelta(minutes=m) for m in sweeps)
    offsets.append(POLICY.officers_after + timedelta(minutes=late % 40))
    reached = _tiers_reached(offsets)
    assert reached and reached[-1] is Tier.OFFICERS
    assert reached == sorted(reached)  # never back down
