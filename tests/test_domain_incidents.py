"""The pure rules of incidents and drills: deadlines per grade, the deadline ladder, names
kept out of lessons, drill results; and the policy file's [incident] and [drill]."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from fieldbot.domain import drills, incidents
from fieldbot.domain.crisis_policy import DrillPolicy, Grade, IncidentPolicy
from fieldbot.domain.incidents import DeadlineKind
from fieldbot.domain.ladder import Tier
from fieldbot.policy_file import PolicyError, load_policy

OPENED = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
POLICY = IncidentPolicy()


def test_deadlines_follow_the_policys_grades() -> None:
    red = incidents.deadlines(POLICY, Grade.RED, OPENED)
    orange = incidents.deadlines(POLICY, Grade.ORANGE, OPENED)
    assert red[DeadlineKind.REPORT] == OPENED + timedelta(hours=24)
    assert red[DeadlineKind.REVIEW] == OPENED + timedelta(days=7)
    assert orange[DeadlineKind.REPORT] == OPENED + timedelta(hours=48)
    assert orange[DeadlineKind.REVIEW] == OPENED + timedelta(days=14)


def _walk(due: datetime, until: datetime) -> list[tuple[datetime, Tier]]:
    """Run a deadline's ladder step by step, as the sweep would at each due time."""
    index, next_due, seen = -1, incidents.first_due(POLICY, due), []
    while next_due <= until:
        run = incidents.run_deadline(POLICY, due, index, next_due, next_due)
        assert run is not None
        seen += [(step.due_at, step.tier) for step in run.steps]
        index, next_due = run.step_index, run.next_due_at
    return seen


def test_a_deadline_reminds_the_owner_before_and_at_it_then_the_officers_repeatedly() -> None:
    due = OPENED + timedelta(hours=24)
    assert _walk(due, due + timedelta(hours=30)) == [
        (due - timedelta(hours=4), Tier.REP),
        (due, Tier.REP),
        (due + timedelta(hours=2), Tier.OFFICERS),
        (due + timedelta(hours=14), Tier.OFFICERS),
        (due + timedelta(hours=26), Tier.OFFICERS),
    ]


def test_after_downtime_a_deadline_sends_one_late_step() -> None:
    due = OPENED + timedelta(hours=24)
    first = incidents.first_due(POLICY, due)
    run = incidents.run_deadline(POLICY, due, -1, first, due + timedelta(days=2))
    assert run is not None and run.late
    assert [s.tier for s in run.steps] == [Tier.OFFICERS]


def test_the_officers_tier_always_includes_the_owner() -> None:
    assert incidents.audience(Tier.REP, 7, [1, 2]) == (7,)
    assert incidents.audience(Tier.OFFICERS, 7, [1, 2]) == (1, 2, 7)


def test_a_lesson_drops_every_name_involved() -> None:
    names = incidents.names_in("Rita Lee, 王芳；Tom", ["Mia Chen"])
    text = "Rita and rita LEE met 王芳 and Mia; Chen drove. Tomorrow is fine."
    cleaned = incidents.anonymise(text, names)
    for name in ("Rita", "rita", "LEE", "王芳", "Mia", "Chen"):
        assert name not in cleaned
    assert "drove" in cleaned


def test_a_why_quotes_at_most_two_hundred_characters() -> None:
    assert incidents.quote("a  b\nc") == "a b c"
    assert len(incidents.quote("x" * 4000)) == incidents.MAX_QUOTE


def test_drill_results_order_and_summary() -> None:
    start = OPENED
    results = [
        drills.outcome_of(1, start, drills.SAFE_RESOLUTION, 1, start + timedelta(minutes=3)),
        drills.outcome_of(2, start, "drill_acked", 9, start + timedelta(minutes=40)),
        drills.outcome_of(3, start, drills.ENDED_RESOLUTION, None, None),
    ]
    assert [r.outcome for r in results] == [drills.Outcome.SAFE, drills.Outcome.ACKED,
                                            drills.Outcome.NONE]
    assert [r.user_id for r in drills.ordered(results)] == [3, 2, 1]
    summary = drills.summarise(results)
    assert (summary.asked, summary.answered) == (3, 2)
    assert summary.median == timedelta(minutes=21, seconds=30)
    assert summary.worst == timedelta(minutes=40)


def test_the_policy_file_reads_incident_and_drill_sections(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    path.write_text('[incident]\nremind_before = "1h"\n[incident.red]\nfirst_report = "12h"\n'
                    '[drill]\nends_after = "30m"\n', encoding="utf-8")
    policy = load_policy(path)
    assert policy.incident.remind_before == timedelta(hours=1)
    assert policy.incident.for_grade(Grade.RED).first_report == timedelta(hours=12)
    assert policy.incident.for_grade(Grade.RED).review == timedelta(days=7)  # kept
    assert policy.drill.ends_after == timedelta(minutes=30)


@pytest.mark.parametrize(("text", "where"), [
    ('[incident.purple]\nfirst_report = "1h"\n', "incident.purple"),
    ('[incident.red]\nfirst_report = "8d"\n', "incident.red"),
    ('[drill]\nmax_people = 0\n', "drill"),
])
def test_a_bad_incident_or_drill_policy_stops_start_up(tmp_path: Path, text: str,
                                                       where: str) -> None:
    path = tmp_path / "policy.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PolicyError, match=where):
        load_policy(path)


def test_the_example_policy_file_is_the_default() -> None:
    example = Path(__file__).parent.parent / "fieldbot" / "defaults" / "policy.example.toml"
    policy = load_policy(example)
    assert policy.incident == IncidentPolicy()
    assert policy.drill == DrillPolicy()


def test_a_drill_climbs_the_missed_ladder_and_never_the_emergency_tier() -> None:
    from fieldbot.domain.ladder import AlertKind, step_at
    from fieldbot.domain.policy import DEFAULT_POLICY

    esc, sos = DEFAULT_POLICY.escalation, DEFAULT_POLICY.sos
    drill = [step_at(AlertKind.DRILL, esc, sos, OPENED, i) for i in range(60)]
    missed = [step_at(AlertKind.MISSED, esc, sos, OPENED, i) for i in range(60)]
    assert drill == missed
    assert Tier.EMERGENCY not in {s.tier for s in drill}


def test_a_name_is_taken_out_as_a_whole_word_and_chinese_anywhere() -> None:
    names = incidents.names_in("Ann Lee, 丽塔", ["<b>Tom</b>"])
    assert incidents.anonymise("Planning: Ann and Lee sleep; Tom's bag", names) == \
        "Planning: … and … sleep; …'s bag"
    assert incidents.anonymise("丽塔晚上独自步行", names) == "…晚上独自步行"
    assert incidents.anonymise("An\u200bn walked", names) == "… walked"


def test_a_person_the_drill_stood_down_for_is_not_counted_as_asked() -> None:
    start = datetime(2026, 12, 1, 9, tzinfo=UTC)
    results = [drills.outcome_of(1, start, drills.STOOD_DOWN_RESOLUTION, None, None),
               drills.outcome_of(2, start, drills.SAFE_RESOLUTION, 2,
                                 start + timedelta(minutes=4))]
    assert results[0].outcome is drills.Outcome.STOOD_DOWN
    summary = drills.summarise(results)
    assert (summary.asked, summary.answered, summary.median) == (1, 1, timedelta(minutes=4))
