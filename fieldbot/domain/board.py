"""The team board: how urgent each traveller's situation is, where they are, urgent first.

A traveller's state is the most urgent thing true of them now:

- SOS: an SOS (or a duress alert) is open;
- ALERT: a missed check-in has reached a manager or the safety desk and nobody closed it;
- OVERDUE: tonight's deadline has passed without a check-in, but so far only the rep herself
  has been reminded (the first half hour of the ladder), or the sweep has not run yet;
- DUE_SOON: tonight's deadline is close and she has not checked in;
- OK: nothing to do.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Generic, TypeVar
from zoneinfo import ZoneInfo

from fieldbot.domain.ladder import AlertKind
from fieldbot.domain.members import Member
from fieldbot.domain.places import Place
from fieldbot.domain.roles import Role
from fieldbot.domain.trips import Leg, Trip

DUE_SOON = timedelta(hours=1)  # the default policy reminds an hour before the deadline
PAGE_SIZE = 6

_UNSETTLED = ("pending", "reminded")  # a night nobody has answered for yet


class BoardState(StrEnum):
    SOS = "sos"
    ALERT = "alert"
    OVERDUE = "overdue"
    DUE_SOON = "due_soon"
    OK = "ok"

    @property
    def urgency(self) -> int:
        """Return 0 for the most urgent state, increasing to OK."""
        return list(BoardState).index(self)


@dataclass(frozen=True, slots=True)
class OpenAlert:
    """An alert about the traveller that is open or acknowledged (not yet closed)."""

    kind: AlertKind
    leads_alerted: bool  # a manager or officer has been told (beyond the rep's own reminders)


@dataclass(frozen=True, slots=True)
class Tonight:
    """The night whose check-in window contains now: its deadline and its stored state."""

    deadline: datetime
    state: str  # pending | reminded | checked_in | skipped | missed


@dataclass(frozen=True, slots=True)
class LastCheckin:
    at: datetime
    tz_name: str  # the zone of the night it was for
    place: Place | None  # the destination of that night (None: its leg is gone)


@dataclass(frozen=True, slots=True)
class OnVisit:
    """A client visit under way: until when (its zone), alone or with whom, where (its pin)."""

    ends_at: datetime
    tz_name: str
    companion: str  # '' alone
    point: tuple[float, float] | None = None  # the pin shared for the visit's place
    started_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Entry:
    """One person on the board: who, which trip and where today, and how urgent."""

    member_id: int
    name: str
    state: BoardState
    trip: Trip | None
    leg: Leg | None  # where they are today (by the trip's plan)
    next_deadline: datetime | None
    next_deadline_tz: str | None
    last_checkin: LastCheckin | None
    last_location: tuple[float, float, datetime] | None
    visit: OnVisit | None = None


def board_state(
    now: datetime,
    open_alerts: Iterable[OpenAlert],
    tonight: Tonight | None,
    next_deadline: datetime | None,
    due_soon: timedelta = DUE_SOON,
) -> BoardState:
    """Return the most urgent state that holds for a traveller now."""
    kinds = [(a.kind, a.leads_alerted) for a in open_alerts]
    if any(kind in (AlertKind.SOS, AlertKind.DURESS) for kind, _ in kinds):
        return BoardState.SOS
    missed = [leads for kind, leads in kinds
              if kind in (AlertKind.MISSED, AlertKind.EMERGENCY, AlertKind.VISIT)]
    if any(missed):
        return BoardState.ALERT
    if missed or (tonight is not None and tonight.state in _UNSETTLED
                  and now >= tonight.deadline):
        return BoardState.OVERDUE
    if next_deadline is not None and next_deadline - now <= due_soon:
        return BoardState.DUE_SOON
    return BoardState.OK


class Placed(StrEnum):
    """Why a person is on the map where they are."""

    LAST = "last"  # the last location they shared
    VISIT = "visit"  # the pin of the client visit under way
    DESTINATION = "destination"  # today's destination by the trip plan


def position(e: Entry) -> tuple[float, float, Placed] | None:
    """Return where to put a person on a map: on a client visit, at a location shared since it
    began (live location), else at its pin; otherwise at the last known location, else at
    today's destination; None when nothing is known."""
    if e.visit is not None:
        since = e.visit.started_at
        if e.last_location is not None and since is not None and e.last_location[2] >= since:
            return e.last_location[0], e.last_location[1], Placed.LAST
        if e.visit.point is not None:
            return e.visit.point[0], e.visit.point[1], Placed.VISIT
    if e.last_location is not None:
        return e.last_location[0], e.last_location[1], Placed.LAST
    if e.leg is not None:
        return e.leg.place.lat, e.leg.place.lon, Placed.DESTINATION
    return None


def visible_alert(viewer_id: int, subject_id: int, kind: AlertKind) -> bool:
    """Return False for a duress alert shown to its own subject: it must stay invisible."""
    return not (viewer_id == subject_id and kind is AlertKind.DURESS)


def local_today(now: datetime, tz_name: str) -> date:
    return now.astimezone(ZoneInfo(tz_name)).date()


def current_leg(trip: Trip, now: datetime) -> Leg:
    """Return the leg the rep is on now: the latest whose start date has come where it is."""
    for leg in reversed(trip.legs):
        if leg.start <= local_today(now, leg.place.tz_name):
            return leg
    return trip.legs[0]


def under_way(trip: Trip, now: datetime) -> bool:
    """Return whether today, at the destination, falls within the trip's dates."""
    if not trip.legs:
        return False
    first, here = trip.legs[0], current_leg(trip, now)
    return (trip.start <= local_today(now, first.place.tz_name)
            and local_today(now, here.place.tz_name) <= trip.end)


_FAR = datetime.max.replace(tzinfo=UTC)


def urgent_key(e: Entry) -> tuple[int, datetime, str, int]:
    """By state (SOS first), then by the nearest next deadline, then by name."""
    return (e.state.urgency, e.next_deadline or _FAR, e.name.casefold(), e.member_id)


def urgent_first(entries: Iterable[Entry]) -> list[Entry]:
    """Sort by state (SOS first), then by the nearest next deadline, then by name."""
    return sorted(entries, key=urgent_key)


def visible_teams(viewer: Member, teams: Iterable[str]) -> list[str]:
    """Managers see their own team; officers and admins every team; staff none."""
    if viewer.role is Role.MANAGER:
        return [viewer.team]
    if viewer.role in (Role.OFFICER, Role.ADMIN):
        return sorted(set(teams))
    return []


T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: tuple[T, ...]
    number: int  # from 0
    count: int  # at least 1


def paginate(items: Sequence[T], number: int, size: int = PAGE_SIZE) -> Page[T]:
    """Return page `number` (clamped to the pages that exist) of `items`."""
    if size < 1:
        raise ValueError("page size must be positive")
    count = max(1, -(-len(items) // size))
    number = min(max(number, 0), count - 1)
    return Page(tuple(items[number * size:(number + 1) * size]), number, count)
