"""Nights and deadlines: which check-in is due when, as aware UTC instants.

Each local date of a trip is one night. Its check-in window opens at the policy's
`window_opens` (noon by default) on that date, in the zone of the leg the rep sleeps in, and
lasts until the next night's window opens; the reminder and the deadline fall inside it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from fieldbot.domain.policy import Policy
from fieldbot.domain.trips import Trip


@dataclass(frozen=True, slots=True)
class Night:
    """One check-in: the night of local date `day`, in the zone of leg `leg_index`."""

    trip_id: int
    day: date
    leg_index: int
    tz_name: str
    reminder_at: datetime
    deadline: datetime
    opens_at: datetime  # the check-in window, half-open: opens_at <= t < closes_at
    closes_at: datetime

    def contains(self, now: datetime) -> bool:
        """Return whether `now` is inside this night's check-in window."""
        return self.opens_at <= now < self.closes_at


def local_to_utc(day: date, t: time, tz_name: str) -> datetime:
    """Return the UTC instant at which the wall clock in `tz_name` shows `t` on `day`.

    DST is decided here on purpose, because a deadline must always exist exactly once:
    - a time inside a spring-forward gap (02:30 on the night clocks jump 02:00 -> 03:00) never
      shows on the wall, so it resolves to the first instant after the gap (03:00): the
      earliest moment that is not before the time the policy asked for;
    - a time inside an autumn fold (01:30 shown twice) resolves to the EARLIER instant
      (fold=0), so nobody gets an extra hour before the alarm is raised.
    """
    zone = ZoneInfo(tz_name)
    wall = datetime.combine(day, t)
    first = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if first.astimezone(zone).replace(tzinfo=None) == wall:
        return first  # an ordinary time, or the first of the two in a fold
    # In a gap the two folds give the wall time read with the offset before and after the
    # transition; the transition instant lies between them. Find it to the microsecond.
    second = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
    lo, hi = min(first, second), max(first, second)
    after = hi.astimezone(zone).utcoffset()
    while hi - lo > timedelta(microseconds=1):
        mid = lo + (hi - lo) / 2
        if mid.astimezone(zone).utcoffset() == after:
            hi = mid
        else:
            lo = mid
    return hi


def _leg_for(trip: Trip, day: date) -> int:
    """Return the leg the rep sleeps in on `day`: the latest leg that has begun by then.

    On a date where one leg ends and the next begins the later leg wins; on a date between
    two legs (a gap in the plan) the rep is taken to still be where the last leg was.
    """
    index = 0
    for i, leg in enumerate(trip.legs):
        if leg.start <= day:
            index = i
    return index


def nights(trip: Trip, policy: Policy) -> list[Night]:
    """Return the trip's nights in date order, one per local date from start to end."""
    if not trip.legs:
        return []
    checkin = policy.checkin
    reminder_day = 1 if checkin.reminder < checkin.window_opens else 0
    deadline_day = 1 if checkin.deadline < checkin.window_opens else 0
    plan: list[tuple[date, int, str]] = []
    day = trip.start
    while day <= trip.end:
        leg_index = _leg_for(trip, day)
        plan.append((day, leg_index, trip.legs[leg_index].place.tz_name))
        day += timedelta(days=1)

    result: list[Night] = []
    for i, (day, leg_index, tz_name) in enumerate(plan):
        deadline = local_to_utc(day + timedelta(days=deadline_day), checkin.deadline, tz_name)
        natural_close = local_to_utc(day + timedelta(days=1), checkin.window_opens, tz_name)
        next_opens = (
            local_to_utc(plan[i + 1][0], checkin.window_opens, plan[i + 1][2])
            if i + 1 < len(plan)
            else natural_close
        )
        # Windows tile time: each closes when the next opens. Only a jump east across the date
        # line makes the next night open before this deadline; then the windows overlap rather
        # than leave this deadline outside its own window.
        closes_at = next_opens if next_opens > deadline else natural_close
        result.append(
            Night(
                trip_id=trip.id,
                day=day,
                leg_index=leg_index,
                tz_name=tz_name,
                reminder_at=local_to_utc(
                    day + timedelta(days=reminder_day), checkin.reminder, tz_name
                ),
                deadline=deadline,
                opens_at=local_to_utc(day, checkin.window_opens, tz_name),
                closes_at=closes_at,
            )
        )
    return result


def _require_aware(now: datetime) -> None:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be an aware datetime")


def nights_to_ask(trip: Trip, policy: Policy, now: datetime) -> list[Night]:
    """Return the nights a trip saved or approved at `now` asks to be checked in: those whose
    deadline is still ahead. A night already over was never asked for (a trip filed at 21:30
    on its first day, one approved on its fourth): it is not missed, it was not scheduled."""
    _require_aware(now)
    return [n for n in nights(trip, policy) if n.deadline > now]


def night_for(trip: Trip, policy: Policy, now: datetime) -> Night | None:
    """Return the night a check-in made at `now` counts for, or None outside every window.

    Where windows overlap (see `nights`), the check-in goes to the night whose deadline is
    soonest and not yet passed.
    """
    _require_aware(now)
    containing = [n for n in nights(trip, policy) if n.contains(now)]
    upcoming = [n for n in containing if now < n.deadline]
    if upcoming:
        return min(upcoming, key=lambda n: n.deadline)
    return containing[-1] if containing else None


def next_night(trip: Trip, policy: Policy, now: datetime) -> Night | None:
    """Return the night with the soonest deadline still ahead of `now` (strictly after it).

    A deadline equal to `now` is already due: a check-in counts as on time only before it.
    """
    _require_aware(now)
    ahead = [n for n in nights(trip, policy) if n.deadline > now]
    return min(ahead, key=lambda n: n.deadline) if ahead else None
