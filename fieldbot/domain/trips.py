"""Trips and their legs: where a rep is on which dates, in which time zone."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from fieldbot.domain import dates
from fieldbot.domain.places import Place


class TripStatus(StrEnum):
    AWAITING_APPROVAL = "awaiting_approval"
    APPROVED = "approved"  # planned or under way; check-ins are scheduled
    REJECTED = "rejected"
    ENDED = "ended"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class Leg:
    place: Place
    start: date  # local dates at the destination, inclusive
    end: date

    def covers(self, day: date) -> bool:
        return self.start <= day <= self.end


@dataclass(frozen=True, slots=True)
class Trip:
    id: int
    user_id: int
    legs: tuple[Leg, ...]
    status: TripStatus
    lodging: str = ""
    contact_name: str = ""
    contact_phone: str = ""
    contact_user_id: int | None = None
    night_visits: bool = False
    companion: str = ""
    risk_level: int = 0
    notes: dict[str, str] = field(default_factory=dict)

    @property
    def start(self) -> date:
        return self.legs[0].start

    @property
    def end(self) -> date:
        return self.legs[-1].end


# --- validating what a rep types --------------------------------------------------------------

_PHONE_CHARS = re.compile(r"^\+?[\d\s().\-/]{6,24}$", re.ASCII)  # no other scripts' digits


class DateProblem(StrEnum):
    NOT_A_DATE = "not_a_date"
    IN_THE_PAST = "in_the_past"
    END_BEFORE_START = "end_before_start"
    TOO_LONG = "too_long"
    TOO_FAR = "too_far"


# A plan for a trip more than a year ahead is a typo ("9999-12-25" crashed the date buttons).
MAX_DAYS_AHEAD = 366


def parse_day(text: str, today: date, *, month_first: bool = False) -> date | DateProblem:
    """Parse a typed date (see `dates.parse_day` for the forms, English and Chinese)."""
    parsed = dates.parse_day(text, today, month_first=month_first)
    return DateProblem.NOT_A_DATE if parsed is None else parsed


def check_start(start: date, today: date) -> DateProblem | None:
    if start < today:
        return DateProblem.IN_THE_PAST
    if (start - today).days > MAX_DAYS_AHEAD:
        return DateProblem.TOO_FAR
    return None


def check_end(start: date, end: date, max_days: int) -> DateProblem | None:
    if end < start:
        return DateProblem.END_BEFORE_START
    if (end - start).days + 1 > max_days:
        return DateProblem.TOO_LONG
    return None


# What one plan may hold (the conversation says so before it is typed; `check_plan` refuses).
MAX_LEGS = 5
MAX_LODGING = 500
MAX_CONTACT_NAME = 100
MAX_PHONE = 16  # "+" and at most 15 digits (E.164), see normalise_phone
MAX_COMPANION = 200


class PlanProblem(StrEnum):
    NO_LEGS = "no_legs"
    TOO_MANY_LEGS = "too_many_legs"
    BEFORE_PREVIOUS = "before_previous"  # a leg starts before the one before it ends
    TOO_LONG_TEXT = "too_long_text"  # lodging, contact or companion beyond its limit


def earliest_today(now: datetime) -> date:
    """Return the earliest calendar date anywhere on Earth now (UTC-12).

    A trip's dates are local at its destination; a trip still under way in the far west must
    not drop out of /trips or /endtrip because it is already tomorrow in UTC.
    """
    return now.astimezone(ZoneInfo("Etc/GMT+12")).date()


def check_plan(
    legs: tuple[Leg, ...],
    *,
    lodging: str,
    contact_name: str,
    contact_phone: str,
    companion: str,
    now: datetime,
    max_days: int,
) -> DateProblem | PlanProblem | None:
    """Return the first rule a whole trip plan breaks, or None.

    Each leg starts no earlier than today at its destination and at most MAX_DAYS_AHEAD
    later, on or after the day the leg before it ends (the travel day is shared), and ends
    on or after its start; the whole trip lasts at most `max_days` days."""
    if not legs:
        return PlanProblem.NO_LEGS
    if len(legs) > MAX_LEGS:
        return PlanProblem.TOO_MANY_LEGS
    for i, leg in enumerate(legs):
        problem = check_start(leg.start, local_day(now, leg.place.tz_name))
        if problem is not None:
            return problem
        if i and leg.start < legs[i - 1].end:
            return PlanProblem.BEFORE_PREVIOUS
        problem = check_end(leg.start, leg.end, max_days) or check_end(
            legs[0].start, leg.end, max_days)
        if problem is not None:
            return problem
    limits = ((lodging, MAX_LODGING), (contact_name, MAX_CONTACT_NAME),
              (contact_phone, MAX_PHONE), (companion, MAX_COMPANION))
    if any(len(text) > limit for text, limit in limits):
        return PlanProblem.TOO_LONG_TEXT
    return None


def normalise_phone(text: str) -> str | None:
    """Return the phone number as '+digits' or 'digits', or None if it is not one."""
    candidate = unicodedata.normalize("NFKC", text).strip()  # "＋８６ １３８…" typed full-width
    if not _PHONE_CHARS.match(candidate):
        return None
    digits = re.sub(r"\D", "", candidate, flags=re.ASCII)
    if not 7 <= len(digits) <= 15:
        return None
    return ("+" if candidate.startswith("+") else "") + digits


def split_contact(text: str) -> tuple[str, str] | None:
    """Split 'Name +49 170 1234567' into (name, phone); None without a valid phone number.
    Full-width digits and signs (a Chinese keyboard's full-width mode) read as ASCII."""
    text = unicodedata.normalize("NFKC", text)
    match = re.search(r"\+?\d[\d\s().\-/]{5,}\d", text, re.ASCII)
    if match is None:
        return None
    phone = normalise_phone(match.group(0))
    name = (text[: match.start()] + text[match.end():]).strip(" ,;:-–—、\n\t")
    if phone is None or not name:
        return None
    return name[:100], phone


def overlaps(a_start: date, a_end: date, b_start: date, b_end: date) -> bool:
    return a_start <= b_end and b_start <= a_end


def needs_approval(risk_level: int, night_visits: bool, companion: str) -> bool:
    """Level 3-4 destinations, and night visits without a companion, need a manager's yes."""
    return risk_level >= 3 or (night_visits and not companion.strip())


# --- where a trip stands at an instant -----------------------------------------------------------


def local_day(now: datetime, tz_name: str) -> date:
    """Return the calendar date at `now` in a destination's time zone."""
    return now.astimezone(ZoneInfo(tz_name)).date()


def in_progress(trip: Trip, now: datetime) -> bool:
    """Return whether a trip is under way at `now`: begun by the local date at its first
    destination, not over by the local date at its last (the dates are local there)."""
    return (trip.start <= local_day(now, trip.legs[0].place.tz_name)
            and local_day(now, trip.legs[-1].place.tz_name) <= trip.end)


def withdrawable(trip: Trip, now: datetime) -> bool:
    """Return whether the rep may withdraw a trip at `now`: an approved one still to come (its
    first day has not come at its first destination; once under way it is ended, never
    withdrawn), or one still waiting for approval and not over (no check-in was ever asked
    for it, and it would block the dates of any other until a manager decides)."""
    if trip.status is TripStatus.AWAITING_APPROVAL:
        return local_day(now, trip.legs[-1].place.tz_name) <= trip.end
    return (trip.status is TripStatus.APPROVED
            and local_day(now, trip.legs[0].place.tz_name) < trip.start)


def leg_at(trip: Trip, now: datetime) -> Leg:
    """Return the leg a trip is on at `now`: the one whose local dates cover the local date
    at its destination; between legs the last one begun; before the trip the first."""
    current = trip.legs[0]
    for leg in trip.legs:
        today = local_day(now, leg.place.tz_name)
        if leg.covers(today):
            return leg
        if leg.start <= today:
            current = leg
    return current
