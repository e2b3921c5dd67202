"""A night's lifecycle, without a database: reminded, missed, checked in, skipped, snoozed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fieldbot.domain.ladder import AlertKind
from fieldbot.domain.nights import (
    CheckinStatus,
    NightEffect,
    NightState,
    Refusal,
    Snooze,
    check_in,
    missed_alert_kind,
    on_due,
    refuse_change,
    snooze,
)
from fieldbot.domain.policy import DEFAULT_POLICY, CheckinPolicy
from fieldbot.policy_file import PolicyError, load_policy

DEADLINE = datetime(2026, 6, 1, 19, 0, tzinfo=UTC)
REMINDER = DEADLINE - timedelta(hours=1)
CHECKIN = DEFAULT_POLICY.checkin
ESC = DEFAULT_POLICY.escalation


@dataclass(frozen=True)
class Night:
    state: NightState
    due_at: datetime | None
    deadline: datetime = DEADLINE
    snoozes: int = 0
    id: int = 7
    closes_at: datetime = DEADLINE + timedelta(hours=15)  # noon the next day


def test_the_states_are_the_strings_the_database_holds() -> None:
    stored = {"pending", "reminded", "checked_in", "skipped", "missed", "cancelled"}
    assert {s.value for s in NightState} == stored


def test_a_pending_night_at_its_reminder_is_reminded_and_waits_for_the_deadline() -> None:
    move = on_due(Night(NightState.PENDING, REMINDER), REMINDER)
    assert move is not None
    assert (move.state, move.due_at, move.effect) == (
        NightState.REMINDED, DEADLINE, NightEffect.REMIND)


def test_a_night_past_its_deadline_is_missed_and_opens_an_alert() -> None:
    move = on_due(Night(NightState.REMINDED, DEADLINE), DEADLINE)
    assert move is not None
    assert (move.state, move.due_at, move.effect) == (
        NightState.MISSED, None, NightEffect.OPEN_ALERT)


def test_a_night_woken_before_a_snoozed_deadline_waits_without_a_second_reminder() -> None:
    early = DEADLINE - timedelta(minutes=10)  # due at the deadline it had before a snooze
    move = on_due(Night(NightState.REMINDED, early), DEADLINE - timedelta(minutes=5))
    assert move is not None
    assert (move.state, move.due_at, move.effect) == (
        NightState.REMINDED, DEADLINE, NightEffect.NONE)


def test_a_night_not_due_yet_is_left_to_whoever_made_it_due() -> None:
    assert on_due(Night(NightState.PENDING, REMINDER), REMINDER - timedelta(seconds=1)) is None
    assert on_due(Night(NightState.PENDING, None), REMINDER) is None


@pytest.mark.parametrize("state", [NightState.CHECKED_IN, NightState.SKIPPED,
                                   NightState.MISSED, NightState.CANCELLED])
def test_a_settled_night_found_due_is_only_taken_off_the_sweep(state: NightState) -> None:
    move = on_due(Night(state, REMINDER), DEADLINE)
    assert move is not None
    assert (move.state, move.due_at, move.effect) == (state, None, NightEffect.NONE)


@given(st.sampled_from(list(NightState)), st.integers(-600, 600), st.integers(-600, 600))
def test_the_sweep_never_reopens_a_night_and_only_open_nights_cause_anything(
    state: NightState, due_minutes: int, now_minutes: int
) -> None:
    now = DEADLINE + timedelta(minutes=now_minutes)
    move = on_due(Night(state, DEADLINE + timedelta(minutes=due_minutes)), now)
    if move is None:
        return
    if not state.is_open:
        assert move.state is state and move.effect is NightEffect.NONE
    if move.effect is NightEffect.OPEN_ALERT:
        assert now >= DEADLINE and move.state is NightState.MISSED
    if move.effect is NightEffect.REMIND:
        assert now < DEADLINE and state is NightState.PENDING


def test_the_third_missed_night_in_a_row_is_an_emergency_a_skip_breaks_the_streak() -> None:
    missed = NightState.MISSED
    assert missed_alert_kind(ESC, [missed, missed, missed]) is AlertKind.EMERGENCY
    assert missed_alert_kind(ESC, [missed, missed]) is AlertKind.MISSED
    assert missed_alert_kind(ESC, [NightState.SKIPPED, missed, missed]) is AlertKind.MISSED
    assert missed_alert_kind(ESC, [NightState.CHECKED_IN, missed, missed]) is AlertKind.MISSED


def test_a_check_in_counts_late_after_the_deadline_or_when_it_ends_an_alert() -> None:
    assert check_in(None, closes_alert=True) is CheckinStatus.NOTHING_DUE
    assert check_in(Night(NightState.PENDING, REMINDER), closes_alert=False) \
        is CheckinStatus.ON_TIME
    assert check_in(Night(NightState.MISSED, None), closes_alert=False) is CheckinStatus.LATE
    assert check_in(Night(NightState.CHECKED_IN, None), closes_alert=False) \
        is CheckinStatus.ALREADY
    assert check_in(Night(NightState.CHECKED_IN, None), closes_alert=True) is CheckinStatus.LATE


def test_only_an_open_night_before_its_deadline_may_be_skipped_or_snoozed() -> None:
    before = DEADLINE - timedelta(minutes=1)
    assert refuse_change(Night(NightState.REMINDED, DEADLINE), before) is None
    assert refuse_change(Night(NightState.REMINDED, DEADLINE), DEADLINE) \
        is Refusal.PAST_DEADLINE
    assert refuse_change(Night(NightState.SKIPPED, None), before) is Refusal.SETTLED
    assert refuse_change(None, before) is Refusal.NOTHING_DUE
    assert refuse_change(Night(NightState.PENDING, REMINDER), before, night_id=8) \
        is Refusal.OTHER_NIGHT


def test_a_snooze_moves_the_deadline_by_the_policy_and_wakes_the_sweep_then() -> None:
    moved = snooze(CHECKIN, Night(NightState.REMINDED, DEADLINE), DEADLINE - timedelta(minutes=5))
    assert moved == Snooze(DEADLINE + timedelta(minutes=30), DEADLINE + timedelta(minutes=30), 1)
    pending = snooze(CHECKIN, Night(NightState.PENDING, REMINDER), REMINDER - timedelta(hours=1))
    assert isinstance(pending, Snooze)
    assert pending.due_at == REMINDER  # the reminder is still to come


def test_the_snooze_limit_and_length_come_from_the_policy() -> None:
    strict = CheckinPolicy(reminder=CHECKIN.reminder, deadline=CHECKIN.deadline,
                           snooze=timedelta(minutes=10), max_snoozes=1)
    night = Night(NightState.REMINDED, DEADLINE)
    moved = snooze(strict, night, DEADLINE - timedelta(minutes=5))
    assert isinstance(moved, Snooze) and moved.deadline == DEADLINE + timedelta(minutes=10)
    again = Night(NightState.REMINDED, moved.deadline, moved.deadline, moved.snoozes)
    assert snooze(strict, again, DEADLINE) is Refusal.TOO_MANY


@given(st.integers(0, 5), st.integers(0, 5))
def test_a_night_is_never_snoozed_more_often_than_the_policy_allows(
    limit: int, tries: int
) -> None:
    policy = CheckinPolicy(reminder=CHECKIN.reminder, deadline=CHECKIN.deadline,
                           max_snoozes=limit)
    night = Night(NightState.REMINDED, DEADLINE)
    now = DEADLINE - timedelta(minutes=1)
    granted = 0
    for _ in range(tries):
        moved = snooze(policy, night, now)
        if isinstance(moved, Refusal):
            assert moved is Refusal.TOO_MANY
            continue
        granted += 1
        night = Night(NightState.REMINDED, moved.due_at, moved.deadline, moved.snoozes)
    assert granted == min(limit, tries)


def test_the_policy_file_sets_the_snooze_and_refuses_a_bad_one(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    path.write_text('[checkin]\nsnooze = "15m"\nmax_snoozes = 3\n', encoding="utf-8")
    policy = load_policy(path)
    assert (policy.checkin.snooze, policy.checkin.max_snoozes) == (timedelta(minutes=15), 3)
    for bad, where in (('snooze = "0s"', "snooze"), ("max_snoozes = -1", "max_snoozes"),
                       ('max_snoozes = "2"', "checkin.max_snoozes")):
        path.write_text(f"[checkin]\n{bad}\n", encoding="utf-8")
        with pytest.raises(PolicyError, match=where):
            load_policy(path)


def test_the_default_snooze_is_thirty_minutes_twice() -> None:
    assert (CHECKIN.snooze, CHECKIN.max_snoozes) == (timedelta(minutes=30), 2)


def test_a_snooze_never_moves_the_deadline_past_the_windows_close() -> None:
    """A check-in after the window closes counts for the next night: a deadline moved past it
    made a rep who checked in in time read "missed" (found by a hostile review)."""
    night = Night(NightState.REMINDED, DEADLINE, closes_at=DEADLINE + timedelta(minutes=45))
    early = DEADLINE - timedelta(minutes=5)
    assert isinstance(snooze(DEFAULT_POLICY.checkin, night, early), Snooze)
    night = Night(NightState.REMINDED, DEADLINE, closes_at=DEADLINE + timedelta(minutes=30))
    assert snooze(DEFAULT_POLICY.checkin, night,
                  DEADLINE - timedelta(minutes=5)) is Refusal.WINDOW_ENDS
