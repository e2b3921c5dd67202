"""The escalation ladder: an unacknowledged alert always climbs, on time, and never falls back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fieldbot.domain.ladder import (
    AlertKind,
    NightOutcome,
    Step,
    Tier,
    catch_up,
    consecutive_missed,
    first_step,
    is_emergency,
    next_step,
    skip_tier,
    step_at,
    steps_until,
)
from fieldbot.domain.policy import DEFAULT_POLICY, EscalationPolicy, SosPolicy

DEADLINE = datetime(2026, 6, 1, 19, 0, tzinfo=UTC)  # 21:00 in Berlin
ESC = DEFAULT_POLICY.escalation
SOS = DEFAULT_POLICY.sos
MIN = timedelta(minutes=1)


def ladder(
    kind: AlertKind, count: int, esc: EscalationPolicy = ESC, sos: SosPolicy = SOS
) -> list[tuple[Tier, timedelta, int]]:
    """Return the first `count` steps as (tier, delay from the deadline, attempt)."""
    steps = [first_step(kind, esc, sos, DEADLINE)]
    while len(steps) < count:
        steps.append(next_step(kind, esc, sos, DEADLINE, steps[-1]))
    assert [s.index for s in steps] == list(range(count))
    return [(s.tier, s.due_at - DEADLINE, s.attempt) for s in steps]


def test_the_default_ladder_for_a_missed_check_in() -> None:
    assert ladder(AlertKind.MISSED, 6) == [
        (Tier.REP, 0 * MIN, 1),
        (Tier.REP, 15 * MIN, 2),
        (Tier.MANAGER, 30 * MIN, 1),
        (Tier.OFFICERS, 60 * MIN, 1),
        (Tier.OFFICERS, 90 * MIN, 2),
        (Tier.OFFICERS, 120 * MIN, 3),
    ]


def test_the_manager_is_reminded_until_the_officers_turn_comes() -> None:
    esc = EscalationPolicy((), 10 * MIN, 60 * MIN, 20 * MIN, 3)

    assert ladder(AlertKind.MISSED, 5, esc) == [
        (Tier.MANAGER, 10 * MIN, 1),
        (Tier.MANAGER, 30 * MIN, 2),
        (Tier.MANAGER, 50 * MIN, 3),
        (Tier.OFFICERS, 60 * MIN, 1),
        (Tier.OFFICERS, 80 * MIN, 2),
    ]


def test_manager_and_officers_at_once_is_one_officers_step() -> None:
    esc = EscalationPolicy((timedelta(0),), 0 * MIN, 0 * MIN, 10 * MIN, 3)

    assert ladder(AlertKind.MISSED, 3, esc) == [
        (Tier.REP, 0 * MIN, 1),
        (Tier.OFFICERS, 0 * MIN, 1),
        (Tier.OFFICERS, 10 * MIN, 2),
    ]


def test_high_risk_levels_have_shorter_delays_by_default() -> None:
    red = DEFAULT_POLICY.escalation_for(4)

    assert ladder(AlertKind.MISSED, 5, red) == [
        (Tier.REP, 0 * MIN, 1),
        (Tier.REP, 5 * MIN, 2),
        (Tier.MANAGER, 10 * MIN, 1),
        (Tier.OFFICERS, 20 * MIN, 1),
        (Tier.OFFICERS, 35 * MIN, 2),
    ]
    assert DEFAULT_POLICY.escalation_for(3).manager_after == 20 * MIN
    assert DEFAULT_POLICY.escalation_for(1) == ESC
    assert DEFAULT_POLICY.escalation_for(0) == ESC


def test_rep_reminders_after_the_manager_alert_are_not_sent() -> None:
    esc = EscalationPolicy((timedelta(0), 15 * MIN), 10 * MIN, 20 * MIN, 15 * MIN, 3)

    assert [tier for tier, _, _ in ladder(AlertKind.MISSED, 3, esc)] == [
        Tier.REP,
        Tier.MANAGER,
        Tier.OFFICERS,
    ]


def test_the_emergency_ladder_tells_the_rep_and_the_emergency_tier_at_once() -> None:
    assert ladder(AlertKind.EMERGENCY, 4) == [
        (Tier.REP, 0 * MIN, 1),
        (Tier.EMERGENCY, 0 * MIN, 1),
        (Tier.EMERGENCY, 30 * MIN, 2),
        (Tier.EMERGENCY, 60 * MIN, 3),
    ]


@pytest.mark.parametrize("kind", [AlertKind.SOS, AlertKind.DURESS])
def test_an_sos_goes_to_manager_and_officers_at_once_and_repeats_every_five_minutes(
    kind: AlertKind,
) -> None:
    assert ladder(kind, 4) == [
        (Tier.OFFICERS, 0 * MIN, 1),
        (Tier.OFFICERS, 5 * MIN, 2),
        (Tier.OFFICERS, 10 * MIN, 3),
        (Tier.OFFICERS, 15 * MIN, 4),
    ]


def test_step_at_is_the_same_step_however_it_is_reached() -> None:
    step = first_step(AlertKind.MISSED, ESC, SOS, DEADLINE)
    for _ in range(40):
        step = next_step(AlertKind.MISSED, ESC, SOS, DEADLINE, step)

    assert step == step_at(AlertKind.MISSED, ESC, SOS, DEADLINE, 40)
    assert step == Step(40, Tier.OFFICERS, DEADLINE + 60 * MIN + 37 * 30 * MIN, 38)


def test_a_blocked_rep_sends_the_alert_to_the_manager_now() -> None:
    now = DEADLINE + 2 * MIN
    rep = first_step(AlertKind.MISSED, ESC, SOS, DEADLINE)

    skipped = skip_tier(AlertKind.MISSED, ESC, SOS, DEADLINE, rep, now)

    assert skipped == Step(2, Tier.MANAGER, now, 1)
    after = next_step(AlertKind.MISSED, ESC, SOS, DEADLINE, skipped)
    assert (after.tier, after.due_at) == (Tier.OFFICERS, DEADLINE + 60 * MIN)


def test_an_unreachable_manager_sends_the_alert_to_the_officers_now() -> None:
    now = DEADLINE + 30 * MIN
    manager = step_at(AlertKind.MISSED, ESC, SOS, DEADLINE, 2)

    assert skip_tier(AlertKind.MISSED, ESC, SOS, DEADLINE, manager, now) == Step(
        3, Tier.OFFICERS, now, 1
    )


def test_skipping_the_top_tier_repeats_it_on_schedule() -> None:
    officers = step_at(AlertKind.MISSED, ESC, SOS, DEADLINE, 3)

    assert skip_tier(
        AlertKind.MISSED, ESC, SOS, DEADLINE, officers, DEADLINE + 61 * MIN
    ) == step_at(AlertKind.MISSED, ESC, SOS, DEADLINE, 4)


def test_skipping_a_tier_late_never_goes_back_to_an_earlier_step() -> None:
    rep = first_step(AlertKind.MISSED, ESC, SOS, DEADLINE)
    now = DEADLINE + 95 * MIN  # the sweep got to the rep's step very late

    skipped = skip_tier(AlertKind.MISSED, ESC, SOS, DEADLINE, rep, now)

    assert (skipped.index, skipped.tier, skipped.due_at) == (4, Tier.OFFICERS, now)


def test_catch_up_after_six_hours_down_sends_one_top_tier_step() -> None:
    now = DEADLINE - 5 * MIN + timedelta(hours=6)  # down from before the deadline

    step = catch_up(AlertKind.MISSED, ESC, SOS, DEADLINE, None, now)

    assert step is not None
    assert step.tier is Tier.OFFICERS
    assert step.due_at == DEADLINE + timedelta(hours=5, minutes=30)
    assert step == steps_until(AlertKind.MISSED, ESC, SOS, DEADLINE, now)[-1]
    assert catch_up(AlertKind.MISSED, ESC, SOS, DEADLINE, step, now) is None


def test_catch_up_before_anything_is_due_returns_nothing() -> None:
    assert catch_up(AlertKind.MISSED, ESC, SOS, DEADLINE, None, DEADLINE - MIN) is None
    assert steps_until(AlertKind.MISSED, ESC, SOS, DEADLINE, DEADLINE - MIN) == []


def test_catch_up_on_time_returns_the_step_that_just_fell_due() -> None:
    rep = first_step(AlertKind.MISSED, ESC, SOS, DEADLINE)

    assert catch_up(AlertKind.MISSED, ESC, SOS, DEADLINE, None, DEADLINE) == rep
    second = catch_up(AlertKind.MISSED, ESC, SOS, DEADLINE, rep, DEADLINE + 15 * MIN)
    assert second == step_at(AlertKind.MISSED, ESC, SOS, DEADLINE, 1)


def test_naive_anchor_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        first_step(AlertKind.MISSED, ESC, SOS, datetime(2026, 6, 1, 19))  # noqa: DTZ001


def test_the_third_consecutive_missed_night_is_an_emergency() -> None:
    assert not is_emergency(2, ESC)
    assert is_emergency(3, ESC)
    assert is_emergency(4, ESC)


def test_consecutive_missed_nights_count_from_the_end() -> None:
    missed, checked_in = (
        NightOutcome.MISSED,
        NightOutcome.CHECKED_IN,
    )

    assert consecutive_missed([]) == 0
    assert consecutive_missed([checked_in, missed, missed]) == 2
    assert consecutive_missed([missed, missed, checked_in]) == 0
    assert consecutive_missed([missed, missed, missed]) == 3


def test_a_skipped_night_breaks_the_streak() -> None:
    missed, skipped = NightOutcome.MISSED, NightOutcome.SKIPPED

    assert consecutive_missed([missed, missed, skipped, missed]) == 1
    assert consecutive_missed([missed, skipped]) == 0


# Property-based tests ---------------------------------------------------------------------

SECONDS = st.integers(min_value=0, max_value=3 * 3600).map(lambda s: timedelta(seconds=s))
POSITIVE = st.integers(min_value=1, max_value=2 * 3600).map(lambda s: timedelta(seconds=s))
KINDS = st.sampled_from(list(AlertKind))
TOP_TIER = {
    AlertKind.MISSED: Tier.OFFICERS,
    AlertKind.EMERGENCY: Tier.EMERGENCY,
    AlertKind.SOS: Tier.OFFICERS,
    AlertKind.DURESS: Tier.OFFICERS,
    AlertKind.VISIT: Tier.OFFICERS,
    AlertKind.DRILL: Tier.OFFICERS,  # a drill never reaches the EMERGENCY tier
}


@st.composite
def escalations(draw: st.DrawFn) -> EscalationPolicy:
    manager_after = draw(SECONDS)
    officers_after = manager_after + draw(SECONDS)
    reminders = sorted(set(draw(st.lists(SECONDS, max_size=4))))
    return EscalationPolicy(
        rep_reminders=tuple(reminders),
        manager_after=manager_after,
        officers_after=officers_after,
        repeat_every=draw(POSITIVE),
        emergency_after_missed_nights=draw(st.integers(1, 5)),
    )


SOS_POLICIES = POSITIVE.map(SosPolicy)


@given(KINDS, escalations(), SOS_POLICIES, st.integers(0, 200))
def test_tiers_never_decrease_and_due_times_never_go_backwards(
    kind: AlertKind, esc: EscalationPolicy, sos: SosPolicy, length: int
) -> None:
    step = first_step(kind, esc, sos, DEADLINE)
    assert step.due_at >= DEADLINE
    for _ in range(length):
        following = next_step(kind, esc, sos, DEADLINE, step)
        assert following.tier >= step.tier
        assert following.due_at >= step.due_at
        assert following.index == step.index + 1
        if following.tier == step.tier:
            assert following.attempt == step.attempt + 1
        else:
            assert following.attempt == 1
        step = following


@given(escalations())
def test_an_unacknowledged_missed_check_in_reaches_each_tier_in_time(
    esc: EscalationPolicy,
) -> None:
    by_manager = catch_up(AlertKind.MISSED, esc, SOS, DEADLINE, None, DEADLINE + esc.manager_after)
    by_officers = catch_up(
        AlertKind.MISSED, esc, SOS, DEADLINE, None, DEADLINE + esc.officers_after
    )

    assert by_manager is not None
    assert by_manager.tier >= Tier.MANAGER
    assert by_officers is not None
    assert by_officers.tier == Tier.OFFICERS
    # ... and following the steps one by one gets there by the same times.
    step = first_step(AlertKind.MISSED, esc, SOS, DEADLINE)
    while step.tier < Tier.OFFICERS:
        if step.tier == Tier.REP:
            assert step.due_at <= DEADLINE + esc.manager_after
        step = next_step(AlertKind.MISSED, esc, SOS, DEADLINE, step)
        if step.tier == Tier.MANAGER and step.attempt == 1:
            assert step.due_at <= DEADLINE + esc.manager_after
    assert step.due_at <= DEADLINE + esc.officers_after


@given(escalations())
def test_the_emergency_tier_is_reached_at_once(esc: EscalationPolicy) -> None:
    step = catch_up(AlertKind.EMERGENCY, esc, SOS, DEADLINE, None, DEADLINE)

    assert step is not None
    assert step.tier is Tier.EMERGENCY


@given(st.sampled_from([AlertKind.SOS, AlertKind.DURESS]), escalations(), SOS_POLICIES)
def test_an_sos_never_messages_the_rep(
    kind: AlertKind, esc: EscalationPolicy, sos: SosPolicy
) -> None:
    assert all(step_at(kind, esc, sos, DEADLINE, i).tier is Tier.OFFICERS for i in range(0, 50, 7))


@given(
    KINDS,
    escalations(),
    SOS_POLICIES,
    st.integers(0, 60),
    st.integers(0, 12 * 3600).map(lambda s: timedelta(seconds=s)),
)
def test_catch_up_never_returns_a_lower_tier_than_the_last_done_step(
    kind: AlertKind, esc: EscalationPolicy, sos: SosPolicy, done: int, later: timedelta
) -> None:
    last_done = step_at(kind, esc, sos, DEADLINE, done)
    now = last_done.due_at + later

    step = catch_up(kind, esc, sos, DEADLINE, last_done, now)

    if step is not None:
        assert step.tier >= last_done.tier
        assert step.index > last_done.index
        assert step.due_at <= now
    following = next_step(kind, esc, sos, DEADLINE, step or last_done)
    assert following.due_at > now


@given(
    KINDS,
    escalations(),
    st.integers(60, 3600).map(lambda s: SosPolicy(timedelta(seconds=s))),
    st.integers(0, 6 * 3600).map(lambda s: timedelta(seconds=s)),
)
def test_catch_up_is_the_last_of_the_steps_due(
    kind: AlertKind, esc: EscalationPolicy, sos: SosPolicy, elapsed: timedelta
) -> None:
    esc = EscalationPolicy(
        esc.rep_reminders,
        esc.manager_after,
        esc.officers_after,
        max(esc.repeat_every, timedelta(minutes=1)),
        esc.emergency_after_missed_nights,
    )
    due = steps_until(kind, esc, sos, DEADLINE, DEADLINE + elapsed)

    expected = due[-1] if due else None
    assert catch_up(kind, esc, sos, DEADLINE, None, DEADLINE + elapsed) == expected
    assert [s.index for s in due] == list(range(len(due)))
    assert all(s.due_at <= DEADLINE + elapsed for s in due)


@given(KINDS, escalations(), SOS_POLICIES, st.integers(0, 40), st.integers(0, 4 * 3600))
def test_skip_tier_climbs_or_repeats_the_top_tier(
    kind: AlertKind, esc: EscalationPolicy, sos: SosPolicy, index: int, delay: int
) -> None:
    current = step_at(kind, esc, sos, DEADLINE, index)
    now = current.due_at + timedelta(seconds=delay)

    skipped = skip_tier(kind, esc, sos, DEADLINE, current, now)

    assert skipped.index > current.index
    if current.tier == TOP_TIER[kind]:
        assert skipped == next_step(kind, esc, sos, DEADLINE, current)
    else:
        assert skipped.tier > current.tier
        assert skipped.due_at == now
