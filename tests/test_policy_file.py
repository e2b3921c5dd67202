"""The operator's policy file: defaults, overrides, and errors that name the key at fault."""

from __future__ import annotations

from datetime import time, timedelta
from pathlib import Path

import pytest

from fieldbot.domain.policy import (
    DEFAULT_POLICY,
    CheckinPolicy,
    EscalationPolicy,
    Policy,
    SosPolicy,
)
from fieldbot.policy_file import PolicyError, load_policy, parse_duration

EXAMPLE = Path(__file__).parent.parent / "fieldbot" / "defaults" / "policy.example.toml"
MIN = timedelta(minutes=1)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "policy.toml"
    path.write_text(text, encoding="utf-8")
    return path


def error_for(tmp_path: Path, text: str) -> str:
    path = write(tmp_path, text)
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    message = str(info.value)
    assert message.startswith(f"{path}: ")
    return message.removeprefix(f"{path}: ")


def test_no_file_means_the_default_policy() -> None:
    assert load_policy(None) == DEFAULT_POLICY


def test_an_empty_file_means_the_default_policy(tmp_path: Path) -> None:
    assert load_policy(write(tmp_path, "")) == DEFAULT_POLICY


def test_the_shipped_example_documents_exactly_the_defaults() -> None:
    assert load_policy(EXAMPLE) == DEFAULT_POLICY


def test_the_default_policy_is_the_company_policy() -> None:
    assert DEFAULT_POLICY.checkin == CheckinPolicy(time(20, 0), time(21, 0), "")
    assert DEFAULT_POLICY.escalation == EscalationPolicy(
        (timedelta(0), 15 * MIN), 30 * MIN, 60 * MIN, 30 * MIN, 3
    )
    assert DEFAULT_POLICY.sos == SosPolicy(5 * MIN)


def test_a_full_file(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
[checkin]
reminder = "19:30"
deadline = "20:45:30"
duress_word = "bluebird"
window_opens = "10:00"

[escalation]
rep_reminders = ["0s", "10m", "20m"]
manager_after = "25m"
officers_after = "1h15m"
repeat_every = "20m"
emergency_after_missed_nights = 2

[sos]
repeat_every = "3m"
""",
    )

    policy = load_policy(path)

    assert policy.checkin == CheckinPolicy(
        time(19, 30), time(20, 45, 30), "bluebird", window_opens=time(10, 0)
    )
    assert policy.escalation == EscalationPolicy(
        (timedelta(0), 10 * MIN, 20 * MIN), 25 * MIN, 75 * MIN, 20 * MIN, 2
    )
    assert policy.sos == SosPolicy(3 * MIN)
    # Built-in level 3/4 ladders are applied on top of this file's [escalation].
    assert policy.escalation_for(4).manager_after == 10 * MIN
    assert policy.escalation_for(4).emergency_after_missed_nights == 2
    assert policy.escalation_for(2) == policy.escalation


def test_per_level_overrides_inherit_the_other_keys(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
[escalation]
manager_after = "40m"
officers_after = "80m"

[risk.level2]
officers_after = "50m"

[risk.level4]
manager_after = "10m"
officers_after = "20m"

[risk.level3]
""",
    )

    policy = load_policy(path)

    assert policy.escalation_for(1) == policy.escalation
    assert policy.escalation_for(2) == EscalationPolicy(
        (timedelta(0), 15 * MIN), 40 * MIN, 50 * MIN, 30 * MIN, 3
    )
    assert policy.escalation_for(3) == policy.escalation  # an empty section: no override
    assert policy.escalation_for(4) == EscalationPolicy(
        (timedelta(0), 15 * MIN), 10 * MIN, 20 * MIN, 30 * MIN, 3
    )
    # The design's own example: the 15m rep reminder comes after the manager alert at 10m.
    assert policy.escalation_for(4).rep_steps == (timedelta(0),)


def test_durations_in_seconds_so_tests_can_run_fast(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
[escalation]
rep_reminders = ["0s", "1s"]
manager_after = "2s"
officers_after = "4s"
repeat_every = "2s"

[sos]
repeat_every = "1s"

[risk.level4]
manager_after = "1s"
officers_after = "2s"
""",
    )

    policy = load_policy(path)

    assert policy.escalation.officers_after == timedelta(seconds=4)
    assert policy.sos.repeat_every == timedelta(seconds=1)
    assert policy.escalation_for(4).officers_after == timedelta(seconds=2)


def test_a_toml_local_time_is_accepted(tmp_path: Path) -> None:
    policy = load_policy(write(tmp_path, "[checkin]\ndeadline = 22:00:00\n"))

    assert policy.checkin.deadline == time(22, 0)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0s", timedelta(0)),
        ("45s", timedelta(seconds=45)),
        ("30m", timedelta(minutes=30)),
        ("2h", timedelta(hours=2)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("1h0m5s", timedelta(hours=1, seconds=5)),
        ("90s", timedelta(seconds=90)),
    ],
)
def test_parse_duration(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "abc", "30", "1.5h", "30 m", "-5m", "5M", "30m1h", "m"])
def test_parse_duration_refuses_anything_else(text: str) -> None:
    with pytest.raises(ValueError, match="is not a duration"):
        parse_duration(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            '[escalation]\nmanager_after = "abc"\n',
            'escalation.manager_after: "abc" is not a duration like "30m", "45s" or "1h30m"',
        ),
        (
            "[escalation]\nmanager_after = 30\n",
            'escalation.manager_after: 30 is not a duration like "30m" (write it in quotes)',
        ),
        (
            '[escalation]\nrep_reminders = ["0s", "soon"]\n',
            'escalation.rep_reminders[1]: "soon" is not a duration',
        ),
        (
            '[escalation]\nrep_reminders = "15m"\n',
            'escalation.rep_reminders: "15m" is not a list of durations',
        ),
        (
            '[escalation]\nemergency_after_missed_nights = "3"\n',
            'escalation.emergency_after_missed_nights: "3" is not a whole number',
        ),
        (
            "[escalation]\nemergency_after_missed_nights = 0\n",
            "escalation: emergency_after_missed_nights must be a whole number of at least 1",
        ),
        (
            '[escalation]\nmanager_after = "2h"\n',
            "escalation: manager_after (2h) must not be later than officers_after (1h)",
        ),
        (
            '[escalation]\nrep_reminders = ["15m", "0s"]\n',
            "escalation: rep_reminders must be in increasing order without repeats",
        ),
        ('[escalation]\nrepeat_every = "0s"\n', "escalation: repeat_every (0s) must be positive"),
        ('[sos]\nrepeat_every = "0s"\n', "sos: repeat_every (0s) must be positive"),
        ('[checkin]\ndeadline = "25:00"\n', 'checkin.deadline: "25:00" is not a time of day'),
        ('[checkin]\nreminder = "8pm"\n', 'checkin.reminder: "8pm" is not a time of day'),
        (
            '[checkin]\nreminder = "22:00"\n',
            "checkin: reminder (22:00:00) must come before deadline (21:00:00)",
        ),
        ("[checkin]\nduress_word = 7\n", "checkin.duress_word: 7 is not a text in quotes"),
        (
            '[checkin]\nduress_word = " red "\n',
            "checkin: duress_word must not start or end with spaces",
        ),
        (
            '[checkin]\ndeadlne = "21:00"\n',
            "checkin.deadlne: unknown key; expected one of reminder, deadline,",
        ),
        (
            '[escalation]\nmanager_afer = "30m"\n',
            "escalation.manager_afer: unknown key; expected one of rep_reminders,",
        ),
        ("[alerts]\nx = 1\n", "alerts: unknown section; expected one of checkin,"),
        ('checkin = "21:00"\n', 'checkin: must be a table ([checkin]), not "21:00"'),
        (
            '[risk.level5]\nmanager_after = "5m"\n',
            "risk.level5: unknown section; expected level1 to level4",
        ),
        (
            '[risk.level4]\nmanager_after = "ten"\n',
            'risk.level4.manager_after: "ten" is not a duration',
        ),
        (
            '[risk.level4]\nmanager_after = "2h"\n',
            "risk.level4: manager_after (2h) must not be later than officers_after (1h)",
        ),
        (
            '[risk.level4]\nduress_word = "x"\n',
            "risk.level4.duress_word: unknown key; expected one of rep_reminders,",
        ),
        ("[risk]\nlevel4 = 3\n", "risk.level4: must be a table ([risk.level4]), not 3"),
    ],
)
def test_errors_name_the_file_and_the_key(tmp_path: Path, text: str, expected: str) -> None:
    assert error_for(tmp_path, text).startswith(expected)


def test_invalid_toml_names_the_file(tmp_path: Path) -> None:
    assert error_for(tmp_path, "[checkin\n").startswith("not valid TOML:")


def test_a_missing_file_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.toml"

    with pytest.raises(PolicyError, match=rf"^{path}: cannot read the policy file"):
        load_policy(path)


def test_the_policy_is_validated_when_built_in_code_too() -> None:
    with pytest.raises(ValueError, match="officers_after"):
        EscalationPolicy((), 60 * MIN, 30 * MIN, 30 * MIN, 3)
    with pytest.raises(ValueError, match="risk levels 1-4"):
        Policy(
            DEFAULT_POLICY.checkin,
            DEFAULT_POLICY.escalation,
            DEFAULT_POLICY.sos,
            {5: DEFAULT_POLICY.escalation},
        )
    with pytest.raises(ValueError, match="risk level must be 0-4"):
        DEFAULT_POLICY.escalation_for(9)


def test_a_deadline_after_midnight_is_allowed() -> None:
    checkin = CheckinPolicy(reminder=time(20, 0), deadline=time(2, 30))

    assert checkin.deadline_offset == timedelta(hours=14, minutes=30)


def test_the_duress_word_is_found_in_any_case() -> None:
    checkin = CheckinPolicy(time(20), time(21), duress_word="Bluebird")

    assert checkin.is_duress("all fine, BLUEBIRD here")
    assert not checkin.is_duress("all fine")
    assert not CheckinPolicy(time(20), time(21)).is_duress("anything")


def test_the_visit_section_is_read_with_defaults_for_the_rest(tmp_path: Path) -> None:
    text = '[visit]\nmax_length = "4h"\nafter_dark = ["20:00", "05:30"]\nmanager_after = "5m"\n'
    policy = load_policy(write(tmp_path, text))
    assert policy.visit.max_length == timedelta(hours=4)
    assert policy.visit.after_dark == (time(20, 0), time(5, 30))
    assert policy.visit.manager_after == timedelta(minutes=5)
    assert policy.visit.officers_after == timedelta(minutes=20)  # the default
    assert policy.visit.escalation.repeat_every == timedelta(minutes=10)


@pytest.mark.parametrize(("text", "message"), [
    ('[visit]\nafter_dark = "19:00"\n', "visit.after_dark"),
    ('[visit]\nmax_lenght = "4h"\n', "visit.max_lenght: unknown key"),
    ('[visit]\nmanager_after = "30m"\n', "must not be later than officers_after"),
])
def test_a_bad_visit_section_names_the_key(tmp_path: Path, text: str, message: str) -> None:
    assert message in error_for(tmp_path, text)
