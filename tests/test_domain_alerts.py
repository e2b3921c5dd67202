"""An alert's lifecycle, without a database: who each tier reaches, what one run of the ladder
sends, lateness, urgency, who may act, and who hears of the bot's own troubles."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fieldbot.domain import ladder
from fieldbot.domain.alerts import (
    LATE_AFTER,
    ActionRefusal,
    AlertState,
    EmptyTier,
    Ladder,
    People,
    Priority,
    Send,
    escalation,
    is_late,
    message_priority,
    notice_recipients,
    priority,
    recipients,
    refuse_action,
    retry_at,
    run,
    swept_first,
)
from fieldbot.domain.ladder import AlertKind, Tier
from fieldbot.domain.members import Member
from fieldbot.domain.policy import DEFAULT_POLICY
from fieldbot.domain.roles import Role

DEADLINE = datetime(2026, 6, 1, 19, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)
RITA, MIA, OLU, SAM = 1, 2, 3, 4  # the rep, her manager, the safety officer, her contact
OTHER_MANAGER = 5
PEOPLE = People(RITA, team={Role.MANAGER: (MIA,)},
                everyone={Role.OFFICER: (OLU,)}, contact_id=SAM)


def test_the_states_are_the_strings_the_database_holds() -> None:
    assert {s.value for s in AlertState} == {"open", "acknowledged", "resolved", "closed"}


def test_each_tier_reaches_the_same_people_every_time() -> None:
    kind = AlertKind.MISSED
    assert recipients(kind, Tier.REP, PEOPLE) == (RITA,)
    assert recipients(kind, Tier.MANAGER, PEOPLE) == (MIA,)
    assert recipients(kind, Tier.OFFICERS, PEOPLE) == (MIA, OLU)
    assert recipients(kind, Tier.EMERGENCY, PEOPLE) == (MIA, OLU, SAM)


def test_a_duress_alert_never_reaches_the_rep() -> None:
    assert recipients(AlertKind.DURESS, Tier.REP, PEOPLE) == ()
    assert RITA not in recipients(AlertKind.DURESS, Tier.OFFICERS, PEOPLE)


def test_nobody_is_alerted_about_themselves_even_as_a_manager_or_officer() -> None:
    people = People(MIA, team={Role.MANAGER: (MIA,)}, everyone={Role.OFFICER: (OLU,)})
    assert recipients(AlertKind.SOS, Tier.OFFICERS, people) == (OLU,)
    assert recipients(AlertKind.MISSED, Tier.MANAGER, people) == ()


def test_sos_goes_first_then_emergencies_then_alerts() -> None:
    assert priority(AlertKind.SOS) is priority(AlertKind.DURESS) is Priority.SOS
    assert Priority.SOS > priority(AlertKind.EMERGENCY) > priority(AlertKind.MISSED)
    assert priority(AlertKind.MISSED) > Priority.NOTICE > Priority.REMINDER


def test_a_step_is_late_after_a_minute_and_a_failed_step_is_retried_a_minute_on() -> None:
    assert not is_late(DEADLINE, DEADLINE + LATE_AFTER)
    assert is_late(DEADLINE, DEADLINE + LATE_AFTER + timedelta(seconds=1))
    assert retry_at(DEADLINE) == DEADLINE + MIN


def fresh(kind: AlertKind, anchor: datetime = DEADLINE, level: int = 0) -> Ladder:
    return Ladder(kind, level, anchor, -1, False, anchor)


def test_a_missed_night_first_reminds_the_rep() -> None:
    done = run(DEFAULT_POLICY, fresh(AlertKind.MISSED), PEOPLE, DEADLINE)
    assert [(e.step.tier, e.to) for e in done.effects if isinstance(e, Send)] == [
        (Tier.REP, (RITA,))]
    assert (done.step_index, done.next_due_at, done.changed) == (0, DEADLINE + 15 * MIN, True)
    assert done.steps == 1 and not done.late


def test_an_emergency_messages_the_rep_and_everyone_at_the_same_instant() -> None:
    done = run(DEFAULT_POLICY, fresh(AlertKind.EMERGENCY), PEOPLE, DEADLINE)
    sends = [e for e in done.effects if isinstance(e, Send)]
    assert [(s.step.tier, s.to, s.twin) for s in sends] == [
        (Tier.REP, (RITA,), True), (Tier.EMERGENCY, (MIA, OLU, SAM), False)]
    assert done.steps == 1


def test_a_tier_nobody_can_be_reached_at_goes_to_the_next_tier_at_once() -> None:
    alone = People(RITA, everyone={Role.OFFICER: (OLU,)})  # the team has no manager
    state = Ladder(AlertKind.MISSED, 0, DEADLINE, 1, False, DEADLINE + 30 * MIN)
    done = run(DEFAULT_POLICY, state, alone, DEADLINE + 30 * MIN)
    assert [type(e) for e in done.effects] == [EmptyTier, Send]
    empty, sent = done.effects
    assert empty.step.tier is Tier.MANAGER
    assert isinstance(sent, Send) and (sent.step.tier, sent.to) == (Tier.OFFICERS, (OLU,))
    assert not done.skip_tier


def test_at_the_top_tier_with_nobody_to_reach_the_ladder_waits_for_the_next_repeat() -> None:
    nobody = People(RITA)
    state = Ladder(AlertKind.SOS, 0, DEADLINE, -1, False, DEADLINE)
    done = run(DEFAULT_POLICY, state, nobody, DEADLINE)
    assert [type(e) for e in done.effects] == [EmptyTier]
    assert done.next_due_at == DEADLINE + DEFAULT_POLICY.sos.repeat_every
    assert not done.skip_tier and done.steps == 0


def test_after_downtime_one_late_message_goes_to_the_top_tier_reached() -> None:
    state = Ladder(AlertKind.MISSED, 0, DEADLINE, 0, False, DEADLINE + 15 * MIN)
    done = run(DEFAULT_POLICY, state, PEOPLE, DEADLINE + timedelta(hours=6))
    sends = [e for e in done.effects if isinstance(e, Send)]
    assert len(sends) == 1 and sends[0].step.tier is Tier.OFFICERS
    assert done.late


def test_nothing_due_changes_nothing() -> None:
    state = Ladder(AlertKind.MISSED, 0, DEADLINE, 0, False, DEADLINE + 15 * MIN)
    done = run(DEFAULT_POLICY, state, PEOPLE, DEADLINE + 5 * MIN)
    assert done.effects == () and not done.changed


@given(
    st.sampled_from(list(AlertKind)),
    st.integers(0, 4),
    st.integers(0, 600),
    st.booleans(),
    st.booleans(),
)
def test_a_run_never_goes_back_and_reaches_somebody_whenever_it_can(
    kind: AlertKind, level: int, minutes: int, has_manager: bool, has_officer: bool
) -> None:
    people = People(RITA, team={Role.MANAGER: (MIA,) if has_manager else ()},
                    everyone={Role.OFFICER: (OLU,) if has_officer else ()})
    now = DEADLINE + timedelta(minutes=minutes)
    done = run(DEFAULT_POLICY, fresh(kind, level=level), people, now)
    assert done.changed  # a fresh alert is due at its anchor
    assert done.next_due_at > now or (done.skip_tier and done.next_due_at == now)
    indexes = [e.step.index for e in done.effects]
    tiers = [e.step.tier for e in done.effects]
    assert indexes == sorted(set(indexes)) and tiers == sorted(tiers)  # never back, never down
    assert done.step_index == max(indexes)
    for effect in done.effects:
        if isinstance(effect, Send) and kind is AlertKind.DURESS:
            assert RITA not in effect.to
    esc = escalation(DEFAULT_POLICY, kind, level)
    following = ladder.step_at(kind, esc, DEFAULT_POLICY.sos, DEADLINE, done.step_index + 1)
    assert done.next_due_at in (following.due_at, now + esc.repeat_every,
                                now + DEFAULT_POLICY.sos.repeat_every)
    if has_officer:  # the officers are in every tier above the manager
        assert done.steps >= 1 or all(
            e.step.tier in (Tier.REP, Tier.MANAGER) for e in done.effects)


MANAGER = Member(MIA, "Mia", Role.MANAGER, "north", "en")


@pytest.mark.parametrize(
    ("by", "subject", "team", "alerted", "state", "refusal"),
    [
        (MANAGER, RITA, "north", False, AlertState.OPEN, None),
        (MANAGER, MIA, "north", False, AlertState.OPEN, ActionRefusal.OWN),
        (Member(6, "Stan", Role.STAFF, "north", "en"), RITA, "north", True, AlertState.OPEN,
         ActionRefusal.NOT_ALLOWED),
        (MANAGER, RITA, "south", False, AlertState.OPEN, ActionRefusal.NOT_ALLOWED),
        (MANAGER, RITA, "south", True, AlertState.OPEN, None),
        (Member(OLU, "Olu", Role.OFFICER, "", "en"), RITA, "south", False,
         AlertState.ACKNOWLEDGED, None),
        (MANAGER, RITA, "north", True, AlertState.RESOLVED, ActionRefusal.CLOSED),
        (MANAGER, RITA, "north", True, AlertState.CLOSED, ActionRefusal.CLOSED),
    ],
)
def test_who_may_acknowledge_or_resolve(
    by: Member, subject: int, team: str, alerted: bool, state: AlertState,
    refusal: ActionRefusal | None,
) -> None:
    assert refuse_action(state, subject, team, by, alerted) is refusal


def test_notices_go_to_the_reachable_admins_or_else_the_officers() -> None:
    admin = Member(10, "Ada", Role.ADMIN, "", "en")
    gone = Member(11, "Abe", Role.ADMIN, "", "en", unreachable="blocked")
    officer = Member(OLU, "Olu", Role.OFFICER, "", "en")
    assert notice_recipients([gone, officer, admin]) == [admin]
    assert notice_recipients([gone, officer]) == [officer]
    assert notice_recipients([gone, MANAGER]) == []


def test_a_first_message_goes_before_repeats_but_never_before_a_more_urgent_kind() -> None:
    assert message_priority(AlertKind.SOS, 1) > message_priority(AlertKind.SOS, 2)
    assert message_priority(AlertKind.SOS, 2) > message_priority(AlertKind.EMERGENCY, 1)
    assert message_priority(AlertKind.EMERGENCY, 2) > message_priority(AlertKind.MISSED, 1)
    assert message_priority(AlertKind.MISSED, 7) > Priority.NOTICE


def test_the_sweep_takes_sos_and_duress_first() -> None:
    assert set(swept_first()) == {AlertKind.SOS, AlertKind.DURESS}
