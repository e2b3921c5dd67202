"""A roll-call's lifecycle: who is in scope, what each person's silence causes, the tally.

Every function here is pure. The services load, call these, store the change as a
compare-and-set and write its messages in the same transaction.

    A roll-call:  OPEN --Close--> CLOSED          (answers after that are kept, marked late)
    A person:     ASKED --remind_after--> REMINDED --manager_after--> MANAGER_TOLD
                  any of them --✅ / 🆘--> answered (nothing more is due for them)
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from fieldbot.domain.alerts import Priority
from fieldbot.domain.members import Member
from fieldbot.domain.policy import RollcallPolicy
from fieldbot.domain.roles import Role
from fieldbot.domain.trips import Trip, in_progress, leg_at

RADII_KM = (10, 50, 200)  # the radius buttons; 50 is the default
DEFAULT_RADIUS_KM = 50
LOCATION_FRESH = timedelta(hours=24)  # a last known location older than this places nobody
MAX_MESSAGE = 300  # the initiator's optional note under the question
TALLY_EVERY = timedelta(seconds=3)  # Telegram allows about one edit of a message per second
EARTH_RADIUS_KM = 6371.0088

# Outbox priorities: never above an SOS or an escalation; the people in the stricken area
# before any routine traffic (notices, replies, reminders); a team or everyone before reminders.
AREA_PRIORITY = int(Priority.ALERT) - 5  # 45
WIDE_PRIORITY = int(Priority.NOTICE) - 5  # 25
TALLY_PRIORITY = AREA_PRIORITY + 1  # one edit every few seconds: it never holds anyone up


class ScopeKind(StrEnum):
    PLACE = "place"  # within radius_km of a point
    COUNTRY = "country"  # a trip leg in a country
    TEAM = "team"  # every member of a team
    EVERYONE = "everyone"  # everyone with a trip under way


@dataclass(frozen=True, slots=True)
class Scope:
    kind: ScopeKind
    label: str = ""  # the place or country as the initiator picked it (shown, never matched)
    lat: float = 0.0
    lon: float = 0.0
    radius_km: int = DEFAULT_RADIUS_KM
    country_code: str = ""
    team: str = ""
    label_zh: str = ""  # the place as Chinese readers name it ("柏林，德国"), if known

    def __post_init__(self) -> None:
        if self.kind is ScopeKind.PLACE and self.radius_km not in RADII_KM:
            raise ValueError(f"radius must be one of {RADII_KM} km")
        if self.kind is ScopeKind.PLACE and not (-90 <= self.lat <= 90
                                                 and -180 <= self.lon <= 180):
            raise ValueError("invalid coordinates")

    @property
    def is_area(self) -> bool:
        """Whether the scope is a stricken area (its people are asked first)."""
        return self.kind in (ScopeKind.PLACE, ScopeKind.COUNTRY)

    def key(self, limit_team: str | None) -> str:
        """Return what makes two roll-calls the same question (one open at a time)."""
        where = {
            ScopeKind.PLACE: f"{self.lat:.2f},{self.lon:.2f},{self.radius_km}",
            ScopeKind.COUNTRY: self.country_code,
            ScopeKind.TEAM: self.team.casefold(),
            ScopeKind.EVERYONE: "",
        }[self.kind]
        return f"{self.kind.value}:{where}:{(limit_team or '').casefold()}"


class Reason(StrEnum):
    """Why a person is asked."""

    TRIP = "trip"  # a trip leg under way there
    LOCATION = "location"  # a last known location there, in the last 24 hours
    MEMBER = "member"  # a member of the team asked


@dataclass(frozen=True, slots=True)
class Candidate:
    """One person as the selection reads them (ids, trips under way, last known location)."""

    member: Member
    trips: tuple[Trip, ...] = ()
    location: tuple[float, float, datetime] | None = None  # lat, lon, when
    location_country: str = ""  # the country the gazetteer places `location` in, if asked


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Return the great-circle distance between two points (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def limit_team(initiator: Member) -> str | None:
    """Return the team a roll-call of `initiator` is limited to (a manager's own), else None."""
    return initiator.team if initiator.role is Role.MANAGER else None


def may_start(member: Member) -> bool:
    """Officers and admins ask anyone; a manager asks their own team only."""
    if member.role is Role.MANAGER:
        return bool(member.team)
    return member.role in (Role.OFFICER, Role.ADMIN)


def _reason(scope: Scope, c: Candidate, now: datetime) -> Reason | None:
    legs = [leg_at(t, now) for t in c.trips if in_progress(t, now)]
    if scope.kind is ScopeKind.TEAM:
        return Reason.MEMBER if c.member.team.casefold() == scope.team.casefold() else None
    if scope.kind is ScopeKind.EVERYONE:
        return Reason.TRIP if legs else None
    if scope.kind is ScopeKind.COUNTRY:
        if any(leg.place.country_code == scope.country_code for leg in legs):
            return Reason.TRIP
        fresh = c.location is not None and now - c.location[2] <= LOCATION_FRESH
        here = bool(c.location_country) and c.location_country == scope.country_code
        return Reason.LOCATION if fresh and here else None
    if any(distance_km(scope.lat, scope.lon, leg.place.lat, leg.place.lon) <= scope.radius_km
           for leg in legs):
        return Reason.TRIP
    if c.location is not None:
        lat, lon, at = c.location
        fresh = now - at <= LOCATION_FRESH
        if fresh and distance_km(scope.lat, scope.lon, lat, lon) <= scope.radius_km:
            return Reason.LOCATION
    return None


def select(
    scope: Scope, initiator: Member, candidates: Iterable[Candidate], now: datetime
) -> list[tuple[int, Reason]]:
    """Return who a roll-call asks and why, by user id: never the initiator, and a manager's
    roll-call only their own team."""
    team = limit_team(initiator)
    chosen = []
    for c in candidates:
        if c.member.id == initiator.id:
            continue
        if team is not None and c.member.team.casefold() != team.casefold():
            continue
        reason = _reason(scope, c, now)
        if reason is not None:
            chosen.append((c.member.id, reason))
    return sorted(chosen)


def question_priority(scope: Scope) -> int:
    return AREA_PRIORITY if scope.is_area else WIDE_PRIORITY


# --- a person's silence -----------------------------------------------------------------------


class Stage(StrEnum):
    ASKED = "asked"
    REMINDED = "reminded"
    MANAGER_TOLD = "manager_told"


class Answer(StrEnum):
    SAFE = "safe"
    HELP = "help"


class Effect(StrEnum):
    REMIND = "remind"  # ask the person again
    TELL_MANAGER = "tell_manager"  # their manager hears that they have not answered


@dataclass(frozen=True, slots=True)
class PersonMove:
    stage: Stage
    due_at: datetime | None
    effects: tuple[Effect, ...]


def first_due(policy: RollcallPolicy, started_at: datetime) -> datetime:
    return started_at + policy.remind_after


def on_due(
    policy: RollcallPolicy, stage: Stage, due_at: datetime | None, started_at: datetime,
    now: datetime,
) -> PersonMove | None:
    """Return what an unanswered person due at `now` becomes; None if nothing is due (another
    worker got there first). After downtime the late steps are taken at once, each once."""
    if due_at is None or due_at > now or stage is Stage.MANAGER_TOLD:
        return None
    manager_at = started_at + policy.manager_after
    if now < manager_at:
        if stage is Stage.REMINDED:  # woken early: wait for the manager step
            return PersonMove(Stage.REMINDED, manager_at, ())
        return PersonMove(Stage.REMINDED, manager_at, (Effect.REMIND,))
    effects = (Effect.REMIND,) if stage is Stage.ASKED else ()
    return PersonMove(Stage.MANAGER_TOLD, None, (*effects, Effect.TELL_MANAGER))


def unreachable(stage: Stage, due_at: datetime | None) -> PersonMove | None:
    """Return what a person the question cannot reach (blocked the bot, chat gone) becomes:
    their manager is told at once rather than after manager_after. None if that happened."""
    if due_at is None or stage is Stage.MANAGER_TOLD:
        return None
    return PersonMove(Stage.MANAGER_TOLD, None, (Effect.TELL_MANAGER,))


class AnswerStatus(StrEnum):
    RECORDED = "recorded"
    CHANGED = "changed"  # safe -> help or help -> safe: the newest answer counts
    ALREADY = "already"  # the same answer again
    LATE = "late"  # the roll-call was closed: kept, the initiator is told
    NOT_ASKED = "not_asked"  # forged, or a roll-call that never asked this person


def answer(asked: bool, closed: bool, before: Answer | None, now_: Answer) -> AnswerStatus:
    """Return how an answer counts. Answers after the close are kept, never refused: a
    person who was missing at the close turning up safe (or needing help) matters most."""
    if not asked:
        return AnswerStatus.NOT_ASKED
    if before is now_:
        return AnswerStatus.ALREADY
    if closed:
        return AnswerStatus.LATE
    return AnswerStatus.RECORDED if before is None else AnswerStatus.CHANGED


# --- the tally ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Tally:
    asked: int
    safe: int
    help: int

    @property
    def silent(self) -> int:
        return self.asked - self.safe - self.help


def tally(answers: Sequence[Answer | None]) -> Tally:
    return Tally(len(answers), sum(a is Answer.SAFE for a in answers),
                 sum(a is Answer.HELP for a in answers))


def next_edit(last_due: datetime | None, now: datetime) -> datetime:
    """Return when the tally may next be edited: at once, or TALLY_EVERY after the last."""
    return now if last_due is None else max(now, last_due + TALLY_EVERY)


def may_manage(member: Member, initiator_id: int, team: str | None) -> bool:
    """Whether `member` may see the names and close a roll-call: officers and admins any; a
    manager their own and those limited to their team."""
    if member.role in (Role.OFFICER, Role.ADMIN):
        return True
    if member.role is Role.MANAGER:
        return member.id == initiator_id or (
            team is not None and team.casefold() == member.team.casefold())
    return False
