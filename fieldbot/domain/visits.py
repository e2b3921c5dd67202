"""A client visit's lifecycle, and the client safety notes colleagues leave after one.

A visit is a timer on the same ladder engine as a night (DESIGN.md §11): every function here
is pure; the services store each change as a compare-and-set and write its messages or its
alert in the same transaction.

    ACTIVE --due at end - remind_before--> REMINDED --due at the end--> OVERDUE (opens an alert)
    ACTIVE / REMINDED --"I'm done" or /done--> ENDED
    OVERDUE --"I'm done" or /done (late)--> ENDED, and the alert's all-clear
    ACTIVE / REMINDED / OVERDUE --"+30 min"--> ACTIVE with a later end (max_extensions times)
    ACTIVE / REMINDED / OVERDUE --the person is erased--> CANCELLED
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Protocol
from zoneinfo import ZoneInfo

from fieldbot.domain.members import Member
from fieldbot.domain.policy import VisitPolicy
from fieldbot.domain.roles import Role

MAX_CLIENT = 200  # a client's name, an address or a place
MAX_COMPANION = 100
MAX_NOTE = 500  # a client safety note: short, minimal (it is about a third party)
NEAR_METRES = 300.0  # a note about a place is shown for visits this close to it
END_BUTTONS = (60, 120, 180)  # "+1 h / +2 h / +3 h", in minutes
PAST_GRACE = timedelta(hours=12)  # a typed time this recently past is "in the past", not tomorrow


class VisitState(StrEnum):
    """A visit's state; the values are the strings stored in the database."""

    ACTIVE = "active"
    REMINDED = "reminded"  # "I'm done / +30 min / Need help" went out
    OVERDUE = "overdue"  # the end passed: its alert climbs the ladder
    ENDED = "ended"
    CANCELLED = "cancelled"  # the person was erased

    @property
    def is_open(self) -> bool:
        return self in (VisitState.ACTIVE, VisitState.REMINDED, VisitState.OVERDUE)


class Visit(Protocol):
    """What the lifecycle reads of a visit (a storage row has these and more)."""

    @property
    def state(self) -> VisitState: ...
    @property
    def started_at(self) -> datetime: ...
    @property
    def ends_at(self) -> datetime: ...
    @property
    def due_at(self) -> datetime | None: ...
    @property
    def extensions(self) -> int: ...


class VisitEffect(StrEnum):
    NONE = "none"
    REMIND = "remind"  # ask the rep: I'm done, safe / +30 min / Need help
    OPEN_ALERT = "open_alert"  # the end passed: open a VISIT alert anchored at the end


@dataclass(frozen=True, slots=True)
class VisitMove:
    state: VisitState
    due_at: datetime | None
    effect: VisitEffect = VisitEffect.NONE


def first_due(policy: VisitPolicy, started_at: datetime, ends_at: datetime) -> datetime:
    """Return when a new (or extended) visit first wakes the sweep: the reminder, or the end
    itself if the visit is shorter than `remind_before`."""
    return max(started_at, ends_at - policy.remind_before)


def on_due(policy: VisitPolicy, visit: Visit, now: datetime) -> VisitMove | None:
    """Return what a visit due for the sweep becomes at `now`; None if it is not due (another
    worker got there first)."""
    if visit.due_at is None or visit.due_at > now:
        return None
    if not visit.state.is_open or visit.state is VisitState.OVERDUE:
        return VisitMove(visit.state, None)  # defensive: the alert carries an overdue visit
    if now < visit.ends_at:
        if visit.state is VisitState.REMINDED:
            return VisitMove(VisitState.REMINDED, visit.ends_at)
        return VisitMove(VisitState.REMINDED, visit.ends_at, VisitEffect.REMIND)
    return VisitMove(VisitState.OVERDUE, None, VisitEffect.OPEN_ALERT)


class FinishStatus(StrEnum):
    ON_TIME = "on_time"
    LATE = "late"  # after the end: the all-clear went to everyone alerted
    NONE_OPEN = "none_open"


def finish(visit: Visit | None) -> FinishStatus:
    """Return how "I'm done" counts for the visit under way."""
    if visit is None or not visit.state.is_open:
        return FinishStatus.NONE_OPEN
    return FinishStatus.LATE if visit.state is VisitState.OVERDUE else FinishStatus.ON_TIME


class ExtendRefusal(StrEnum):
    NONE_OPEN = "none_open"
    TOO_MANY = "too_many"
    TOO_LONG = "too_long"


@dataclass(frozen=True, slots=True)
class Extension:
    ends_at: datetime
    due_at: datetime
    extensions: int
    was_overdue: bool  # the alert it had opened ends with an all-clear (a sign of life)


def extend(policy: VisitPolicy, visit: Visit | None, now: datetime) -> Extension | ExtendRefusal:
    """Return the visit's later end ("+30 min" from the later of its end and now), or why not:
    at most `max_extensions` times, and never beyond `max_length` from its start."""
    if visit is None or not visit.state.is_open:
        return ExtendRefusal.NONE_OPEN
    if visit.extensions >= policy.max_extensions:
        return ExtendRefusal.TOO_MANY
    ends = max(visit.ends_at, now) + policy.extend_by
    if ends - visit.started_at > policy.max_length:
        return ExtendRefusal.TOO_LONG
    return Extension(ends, first_due(policy, now, ends), visit.extensions + 1,
                     visit.state is VisitState.OVERDUE)


# --- the expected end -----------------------------------------------------------------------


class EndProblem(StrEnum):
    NOT_A_TIME = "not_a_time"
    PAST = "past"
    TOO_LONG = "too_long"


_TYPED = re.compile(r"(\d{1,2})[:：.](\d{2})(?:[:：.](\d{2}))?")
# A time the Chinese way: 21点30, 21点30分, 晚上9点半, 9点 (the part of the day moves 1-11 on;
# 晚上12点 and 凌晨12点 are midnight, 中午12点 noon; 半夜/深夜 11点 is 23:00, 半夜2点 02:00).
_CLOCK_ZH = re.compile(r"(早上|上午|中午|下午|傍晚|晚上|凌晨|半夜|深夜)?"
                       r"(\d{1,2})[点點时時](?:(\d{1,2})分?|(半))?")
_AFTERNOON = {"中午", "下午", "傍晚", "晚上"}
_NIGHT = {"晚上", "凌晨", "半夜", "深夜"}  # their 12点 is midnight
# A length instead of an end, as the buttons say it: "+2 小时", "2h", "90分钟", "1.5 hours".
_LENGTH = re.compile(r"\+?(\d{1,2}(?:\.\d)?)(?:h|hrs?|hours?|个?小时|个?鐘頭|个?钟头)"
                     r"|\+?(\d{1,3})(?:m|mins?|minutes?|分钟|分鐘)")


def check_end(policy: VisitPolicy, now: datetime, ends_at: datetime) -> EndProblem | None:
    if ends_at <= now:
        return EndProblem.PAST
    if ends_at - now > policy.max_length:
        return EndProblem.TOO_LONG
    return None


def end_after(policy: VisitPolicy, now: datetime, minutes: int) -> datetime | EndProblem:
    """Return the end of a "+1 h" button (any whole number of minutes it names)."""
    ends = now + timedelta(minutes=minutes)
    return check_end(policy, now, ends) or ends


def _hour_zh(part: str | None, hour: int) -> int:
    """The hour on a 24-hour clock of "<part of the day><hour>点"."""
    if hour == 12 and part in _NIGHT:
        return 0
    if part in _AFTERNOON and 1 <= hour < 12:
        return hour + 12
    if part in ("半夜", "深夜") and 6 <= hour < 12:
        return hour + 12
    return hour


def parse_end(policy: VisitPolicy, text: str, now: datetime, tz_name: str
              ) -> datetime | EndProblem:
    """Return the instant a typed local time ("22:30", "22:30:15", full-width too, 晚上9点半)
    or length ("+2 小时", "90 min") means at the visit place: today there, or tomorrow if
    today's is more than PAST_GRACE ago (23:00 → "01:00" is tonight after midnight; 22:00 →
    "21:30" is in the past)."""
    typed = unicodedata.normalize("NFKC", text).strip().casefold().replace(" ", "")
    if length := _LENGTH.fullmatch(typed):
        hours, minutes = length.groups()
        return end_after(policy, now, round(float(hours) * 60) if hours else int(minutes))
    if chinese := _CLOCK_ZH.fullmatch(typed):
        part, hour_text, minute_text, half = chinese.groups()
        hour = _hour_zh(part, int(hour_text))
        typed = f"{hour}:{30 if half else int(minute_text or 0):02d}"
    match = _TYPED.fullmatch(typed)
    if match is None:
        return EndProblem.NOT_A_TIME
    hour, minute, second = (int(g or 0) for g in match.groups())
    if hour > 23 or minute > 59 or second > 59:
        return EndProblem.NOT_A_TIME
    zone = ZoneInfo(tz_name)
    today = now.astimezone(zone).date()
    ends = _at(today, time(hour, minute, second), zone)
    if ends <= now and now.astimezone(zone).fold == 1:
        # Now is the second pass of the hour the night clocks go back: the time typed may be
        # its second pass too, still ahead (at the first pass, the earlier one is meant).
        ends = max(ends, _at(today, time(hour, minute, second), zone, fold=1))
    if ends <= now and now - ends > PAST_GRACE:
        ends = _at(date.fromordinal(today.toordinal() + 1), time(hour, minute, second), zone)
    return check_end(policy, now, ends) or ends


def _at(day: date, clock: time, zone: ZoneInfo, fold: int = 0) -> datetime:
    """Return the instant of a local wall-clock time. In a DST gap (02:30 that never comes)
    the round trip through UTC moves it forward, as a phone's clock does; in a fold the first
    of the two instants is meant (fold=0), the earlier end, the safer one, unless it is
    already past and the second is still ahead (parse_end asks with fold=1 then)."""
    local = datetime.combine(day, clock, tzinfo=zone).replace(fold=fold)
    return local.astimezone(UTC)


def is_after_dark(policy: VisitPolicy, start: datetime, end: datetime, tz_name: str) -> bool:
    """Return whether any part of the visit falls within the policy's dark hours, local time
    at the visit place (e.g. 19:00 to 06:00)."""
    zone = ZoneInfo(tz_name)
    dusk, dawn = policy.after_dark
    first = start.astimezone(zone).date()
    last = end.astimezone(zone).date()
    day = date.fromordinal(first.toordinal() - 1)
    while day <= last:
        dark_from = datetime.combine(day, dusk, tzinfo=zone)
        next_day = day if dawn > dusk else date.fromordinal(day.toordinal() + 1)
        dark_until = datetime.combine(next_day, dawn, tzinfo=zone)
        if dark_from < end and start < dark_until:
            return True
        day = date.fromordinal(day.toordinal() + 1)
    return False


# --- client safety notes --------------------------------------------------------------------


class NoteCategory(StrEnum):
    AGGRESSIVE = "aggressive"
    HARASSMENT = "harassment"
    UNSAFE_PREMISES = "unsafe_premises"
    OTHER = "other"


# Company forms dropped when names are compared ("ACME Ltd" is "Acme"); longest first, so
# "股份有限公司" goes before "有限公司". Latin ones are whole words, Chinese ones suffixes.
_LATIN_FORMS = ("ltd", "limited", "gmbh", "inc", "incorporated", "llc", "plc", "corp",
                "corporation", "co", "company", "ag", "sa", "sarl", "srl", "bv", "nv", "kg",
                "oy", "ab", "pte", "pty", "kk")
_CJK_FORMS = ("股份有限公司", "有限责任公司", "有限公司", "集团公司", "集团", "公司")


def client_key(name: str) -> str:
    """Return a client's name as colleagues mean it: NFKC (full-width is half-width), case
    folded, punctuation dropped, company forms (Ltd, GmbH, Inc., 有限公司, ...) removed."""
    folded = unicodedata.normalize("NFKC", name).casefold()
    cleaned = "".join(" " if unicodedata.category(ch)[0] in "PSZC" else ch for ch in folded)
    if not cleaned.strip():  # only emoji or punctuation ("🍕🍕"): compare it as typed
        return "".join(ch for ch in folded if unicodedata.category(ch)[0] not in "ZC")
    words = cleaned.split()
    while len(words) > 1 and words[-1] in _LATIN_FORMS:
        words.pop()
    joined = " ".join(words)
    for form in () if joined in _CJK_FORMS else _CJK_FORMS:
        if joined.endswith(form) and len(joined) > len(form):
            joined = joined[: -len(form)].rstrip()
            break
    return joined


def metres_between(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Return the great-circle distance between two (lat, lon) points, in metres."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (math.sin((lat2 - lat1) / 2) ** 2
         + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2)
    return 2 * 6_371_000 * math.asin(min(1.0, math.sqrt(h)))


class Note(Protocol):
    @property
    def client(self) -> str: ...
    @property
    def point(self) -> tuple[float, float] | None: ...
    @property
    def expires_at(self) -> datetime: ...
    @property
    def removed(self) -> bool: ...


def note_applies(note: Note, client: str, point: tuple[float, float] | None,
                 now: datetime) -> bool:
    """Return whether a note is shown for a visit to `client` at `point`: live, and the same
    client (after `client_key`) or within NEAR_METRES of the place."""
    if note.removed or note.expires_at <= now:
        return False
    key = client_key(client)
    if key and client_key(note.client) == key:
        return True
    return (point is not None and note.point is not None
            and metres_between(point, note.point) <= NEAR_METRES)


def may_remove(by: Member, note_team: str) -> bool:
    """Return whether `by` may remove a note: managers their team's, officers and admins any."""
    if by.role in (Role.OFFICER, Role.ADMIN):
        return True
    return by.role is Role.MANAGER and by.team == note_team


def check_note(text: str) -> str | None:
    """Return the note as kept (trimmed), or None if it is empty or longer than MAX_NOTE."""
    text = text.strip()
    return text if text and len(text) <= MAX_NOTE else None


def valid_point(lat: float, lon: float) -> bool:
    return (math.isfinite(lat) and math.isfinite(lon)
            and -90 <= lat <= 90 and -180 <= lon <= 180)
