"""Read the operator's policy file (TOML, named by FIELDBOT_POLICY) into a domain Policy.

The file is an operator-facing contract (DESIGN.md §3). Every key is optional; a missing key
keeps its default. Unknown keys are rejected, and every error names the file, the key and
what is wrong, so that a bad policy stops start-up with a message the operator can act on.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import time, timedelta
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from fieldbot.domain.crisis_policy import (
    DEFAULT_GRADE_DEADLINES,
    DrillPolicy,
    Grade,
    GradeDeadlines,
    IncidentPolicy,
)
from fieldbot.domain.policy import (
    DEFAULT_LEVEL_OVERRIDES,
    DEFAULT_POLICY,
    LEVELS,
    ChannelPolicy,
    EmergencyContactPolicy,
    EscalationPolicy,
    Policy,
    apply_overrides,
)

_T = TypeVar("_T")


def _no_slower(built_in: Any, base: Any) -> Any:
    """The built-in level's delay, or the base's where the base is quicker (a reminder later
    than the manager's step is dropped by the ladder)."""
    if isinstance(built_in, timedelta) and isinstance(base, timedelta):
        return min(built_in, base)
    return built_in


class PolicyError(ValueError):
    """The policy file cannot be used; the message says where and why."""


_DURATION = re.compile(r"(?:(?P<d>\d+)d)?(?:(?P<h>\d+)h)?(?:(?P<m>\d+)m)?(?:(?P<s>\d+)s)?")
_TIME = re.compile(r"(?P<h>\d{2}):(?P<m>\d{2})(?::(?P<s>\d{2}))?")


LONGEST_DURATION = timedelta(days=36500)


def parse_duration(text: str) -> timedelta:
    """Parse "45s", "30m", "2h", "1h30m", "90d" or "0s" into a timedelta."""
    match = _DURATION.fullmatch(text)
    if not text or match is None:
        raise ValueError(f'"{text}" is not a duration like "30m", "45s" or "1h30m"')
    try:
        value = timedelta(
            days=int(match["d"] or 0), hours=int(match["h"] or 0),
            minutes=int(match["m"] or 0), seconds=int(match["s"] or 0),
        )
    except OverflowError:
        value = LONGEST_DURATION * 2
    if value > LONGEST_DURATION:  # no date can be reckoned that far back or ahead
        raise ValueError(f'"{text}" is longer than anything fieldbot keeps or waits for'
                         " (at most 100 years)")
    return value


def parse_time(text: str) -> time:
    """Parse a local time of day, "HH:MM" or "HH:MM:SS"."""
    match = _TIME.fullmatch(text)
    problem = f'"{text}" is not a time of day like "21:00" or "21:00:30"'
    if match is None:
        raise ValueError(problem)
    try:
        return time(int(match["h"]), int(match["m"]), int(match["s"] or 0))
    except ValueError:
        raise ValueError(problem) from None


def _as_time(value: object) -> time:
    if isinstance(value, time) and value.tzinfo is None and not value.microsecond:
        return value  # TOML's own local time, e.g. 21:00:00 without quotes
    if not isinstance(value, str):
        raise ValueError(f'{_show(value)} is not a time of day like "21:00"')
    return parse_time(value)


def _as_duration(value: object) -> timedelta:
    if not isinstance(value, str):
        raise ValueError(f'{_show(value)} is not a duration like "30m" (write it in quotes)')
    return parse_duration(value)


def _as_durations(value: object) -> tuple[timedelta, ...]:
    if not isinstance(value, list):
        raise ValueError(f'{_show(value)} is not a list of durations like ["0s", "15m"]')
    return tuple(_as_duration(item) for item in value)


def _as_count(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{_show(value)} is not a whole number")
    return value


def _as_text(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{_show(value)} is not a text in quotes")
    return value


def _show(value: object) -> str:
    return f'"{value}"' if isinstance(value, str) else repr(value)


_CHECKIN_KEYS: dict[str, Callable[[object], Any]] = {
    "reminder": _as_time,
    "deadline": _as_time,
    "duress_word": _as_text,
    "window_opens": _as_time,
    "snooze": _as_duration,
    "max_snoozes": _as_count,
}
_ESCALATION_KEYS: dict[str, Callable[[object], Any]] = {
    "rep_reminders": _as_durations,
    "manager_after": _as_duration,
    "officers_after": _as_duration,
    "repeat_every": _as_duration,
    "emergency_after_missed_nights": _as_count,
}
_SOS_KEYS: dict[str, Callable[[object], Any]] = {"repeat_every": _as_duration}


def _as_channels(value: object) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValueError(f'{_show(value)} is not a list of channels like ["telegram", "sms"]')
    return tuple(value)


_CHANNEL_KEYS: dict[str, Callable[[object], Any]] = {
    "fallback_after": _as_duration,
    "telegram_down_after": _as_duration,
    "manager": _as_channels,
    "officers": _as_channels,
    "sos": _as_channels,
    "emergency": _as_channels,
    "rep": _as_channels,
    "max_calls_per_hour": _as_count,
}
_CONTACT_KEYS: dict[str, Callable[[object], Any]] = {
    "notify": _as_text,
    "message_en": _as_text,
    "message_zh": _as_text,
    "company_phone": _as_text,
}
def _as_window(value: object) -> tuple[time, time]:
    if not isinstance(value, list) or len(value) != 2:
        raise ValueError(f'{_show(value)} is not two times of day like ["19:00", "06:00"]')
    return _as_time(value[0]), _as_time(value[1])


_VISIT_KEYS: dict[str, Callable[[object], Any]] = {
    "max_length": _as_duration,
    "remind_before": _as_duration,
    "after_dark": _as_window,
    "extend_by": _as_duration,
    "max_extensions": _as_count,
    "rep_reminders": _as_durations,
    "manager_after": _as_duration,
    "officers_after": _as_duration,
    "repeat_every": _as_duration,
    "notes_expire": _as_duration,
}


_INCIDENT_KEYS: dict[str, Callable[[object], Any]] = {
    "remind_before": _as_duration,
    "officers_after": _as_duration,
    "repeat_every": _as_duration,
}
_GRADE_KEYS: dict[str, Callable[[object], Any]] = {
    "first_report": _as_duration,
    "review": _as_duration,
}
_DRILL_KEYS: dict[str, Callable[[object], Any]] = {
    "ends_after": _as_duration,
    "max_people": _as_count,
}
_ROLLCALL_KEYS: dict[str, Callable[[object], Any]] = {
    "remind_after": _as_duration,
    "manager_after": _as_duration,
}
_SECTIONS = ("checkin", "escalation", "sos", "risk", "visit", "incident", "drill",
             "rollcall", "channels", "emergency_contact")


class _Reader:
    """Turn the parsed TOML into keyword arguments, naming the key path in every error."""

    def __init__(self, source: str) -> None:
        self.source = source

    def error(self, where: str, problem: str) -> PolicyError:
        prefix = f"{self.source}: {where}" if where else self.source
        return PolicyError(f"{prefix}: {problem}")

    def table(self, doc: Mapping[str, Any], key: str, where: str) -> Mapping[str, Any]:
        value = doc.get(key, {})
        if not isinstance(value, dict):
            raise self.error(where, f"must be a table ([{where}]), not {_show(value)}")
        return value

    def section(
        self, table: Mapping[str, Any], keys: Mapping[str, Callable[[object], Any]], where: str
    ) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for key, raw in table.items():
            if key not in keys:
                known = ", ".join(keys)
                raise self.error(f"{where}.{key}", f"unknown key; expected one of {known}")
            try:
                values[key] = keys[key](raw)
            except ValueError as exc:
                item = _failed_item(raw)
                raise self.error(f"{where}.{key}{item}", str(exc)) from None
        return values

    def build(self, where: str, make: Callable[[], _T]) -> _T:
        """Return make(), turning a broken invariant into an error about section `where`."""
        try:
            return make()
        except ValueError as exc:
            raise self.error(where, str(exc)) from None


def _failed_item(raw: object) -> str:
    """Return "[i]" for the first list element that is not a duration, else ""."""
    if isinstance(raw, list):
        for i, item in enumerate(raw):
            try:
                _as_duration(item)
            except ValueError:
                return f"[{i}]"
    return ""


def load_policy(path: Path | None) -> Policy:
    """Return the policy in the TOML file at `path`, or the default policy if `path` is None."""
    if path is None:
        return DEFAULT_POLICY
    reader = _Reader(str(path))
    try:
        with path.open("rb") as f:
            doc = tomllib.load(f)
    except OSError as exc:
        raise reader.error("", f"cannot read the policy file: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise reader.error("", f"not valid TOML: {exc}") from None
    except UnicodeDecodeError:
        raise reader.error("", "not valid TOML: the file is not UTF-8") from None
    return _policy_from(doc, reader)


def _policy_from(doc: Mapping[str, Any], reader: _Reader) -> Policy:
    for key in doc:
        if key not in _SECTIONS:
            raise reader.error(key, f"unknown section; expected one of {', '.join(_SECTIONS)}")
    default = DEFAULT_POLICY
    changes = reader.section(reader.table(doc, "checkin", "checkin"), _CHECKIN_KEYS, "checkin")
    checkin = reader.build("checkin", partial(replace, default.checkin, **changes))
    overrides = reader.section(
        reader.table(doc, "escalation", "escalation"), _ESCALATION_KEYS, "escalation"
    )
    escalation = reader.build(
        "escalation", partial(apply_overrides, default.escalation, overrides)
    )
    changes = reader.section(reader.table(doc, "sos", "sos"), _SOS_KEYS, "sos")
    sos = reader.build("sos", partial(replace, default.sos, **changes))

    risk = reader.table(doc, "risk", "risk")
    names = {f"level{level}": level for level in LEVELS}
    for key in risk:
        if key not in names:
            raise reader.error(f"risk.{key}", "unknown section; expected level1 to level4")
    per_level: dict[int, EscalationPolicy] = {}
    for name, level in names.items():
        where = f"risk.{name}"
        if name in risk:
            overrides = reader.section(reader.table(risk, name, where), _ESCALATION_KEYS, where)
        elif level in DEFAULT_LEVEL_OVERRIDES:
            # The built-in high-risk delays are never slower than the file's own: a stricter
            # [escalation] (manager after 5 min) must not leave level 3-4 trips at 20 min.
            overrides = {key: _no_slower(value, getattr(escalation, key))
                         for key, value in DEFAULT_LEVEL_OVERRIDES[level].items()}
        else:
            continue
        per_level[level] = reader.build(where, partial(apply_overrides, escalation, overrides))
    changes = reader.section(reader.table(doc, "channels", "channels"), _CHANNEL_KEYS, "channels")
    channels = reader.build("channels", partial(ChannelPolicy, **changes))
    changes = reader.section(reader.table(doc, "emergency_contact", "emergency_contact"),
                             _CONTACT_KEYS, "emergency_contact")
    contact = reader.build("emergency_contact", partial(EmergencyContactPolicy, **changes))
    changes = reader.section(reader.table(doc, "visit", "visit"), _VISIT_KEYS, "visit")
    visit = reader.build("visit", partial(replace, default.visit, **changes))
    changes = reader.section(reader.table(doc, "rollcall", "rollcall"), _ROLLCALL_KEYS,
                             "rollcall")
    rollcall = reader.build("rollcall", partial(replace, default.rollcall, **changes))
    return Policy(checkin=checkin, escalation=escalation, sos=sos, per_level=per_level,
                  visit=visit, incident=_incident_from(doc, reader),
                  drill=_drill_from(doc, reader), rollcall=rollcall, channels=channels,
                  emergency_contact=contact)


def _incident_from(doc: Mapping[str, Any], reader: _Reader) -> IncidentPolicy:
    """[incident] and its [incident.red] ... [incident.blue] deadlines (DESIGN.md §12)."""
    table = dict(reader.table(doc, "incident", "incident"))
    grades: dict[Grade, GradeDeadlines] = {}
    for grade in Grade:
        if grade.value not in table:
            continue
        where = f"incident.{grade.value}"
        changes = reader.section(reader.table(table, grade.value, where), _GRADE_KEYS, where)
        base = DEFAULT_GRADE_DEADLINES[grade]
        grades[grade] = reader.build(where, partial(replace, base, **changes))
        del table[grade.value]
    changes = reader.section(table, _INCIDENT_KEYS, "incident")
    return reader.build("incident", partial(IncidentPolicy, deadlines=grades, **changes))


def _drill_from(doc: Mapping[str, Any], reader: _Reader) -> DrillPolicy:
    changes = reader.section(reader.table(doc, "drill", "drill"), _DRILL_KEYS, "drill")
    return reader.build("drill", partial(DrillPolicy, **changes))
