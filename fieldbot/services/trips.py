"""Trip plans: submit, approve or reject, list, end — and the nights they schedule."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

from fieldbot.clock import Clock
from fieldbot.crypto import Cipher
from fieldbot.domain import schedule
from fieldbot.domain.ladder import AlertKind
from fieldbot.domain.members import Member
from fieldbot.domain.places import Place
from fieldbot.domain.policy import Policy
from fieldbot.domain.risk import RiskLevel
from fieldbot.domain.roles import Role
from fieldbot.domain.trips import (
    DateProblem,
    Leg,
    PlanProblem,
    Trip,
    TripStatus,
    check_plan,
    in_progress,
    needs_approval,
    overlaps,
    withdrawable,
)
from fieldbot.storage import alerts, audit, outbox, trips, users
from fieldbot.storage.db import Database, Tx
from fieldbot.storage.outbox import OutboxMessage

log = logging.getLogger(__name__)


class HasLevel(Protocol):
    @property
    def level(self) -> RiskLevel: ...


class Assessor(Protocol):
    async def assess_place(self, place: Place) -> HasLevel: ...


class TripRefused(StrEnum):
    OVERLAP = "overlap"
    NO_MANAGER = "no_manager"
    INVALID = "invalid"  # the plan breaks a rule of `domain.trips.check_plan` (see `problem`)


@dataclass(frozen=True, slots=True)
class TripPlan:
    """Everything the rep typed: checked field by field by the conversation as it is typed,
    and as a whole by `TripService.submit` (`domain.trips.check_plan`)."""

    legs: tuple[Leg, ...]
    lodging: str
    contact_name: str
    contact_phone: str
    contact_user_id: int | None
    night_visits: bool
    companion: str


@dataclass(frozen=True, slots=True)
class Submitted:
    trip: Trip | None
    refused: TripRefused | None = None
    clash: Trip | None = None  # the trip it overlaps
    problem: DateProblem | PlanProblem | None = None  # why an INVALID plan is refused
    duplicate: bool = False  # the same draft was confirmed before


@dataclass(frozen=True, slots=True)
class Ended:
    trip: Trip
    open_alerts: tuple[int, ...]  # missed check-ins about the rep still open: ask if safe


class DecisionError(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class TripService:
    def __init__(
        self, db: Database, clock: Clock, policy: Policy, assessor: Assessor, cipher: Cipher,
        *, max_days: int = 60,
    ) -> None:
        self._max_days = max_days
        self._db = db
        self._clock = clock
        self._policy = policy
        self._assessor = assessor
        self._cipher = cipher

    async def risk_level(self, legs: tuple[Leg, ...]) -> RiskLevel:
        levels = [(await self._assessor.assess_place(leg.place)).level for leg in legs]
        return max(levels, default=RiskLevel.UNKNOWN)

    async def submit(self, member: Member, plan: TripPlan, draft_key: str) -> Submitted:
        """Save a confirmed plan: approved at once, or waiting for the manager's decision.

        Every rule of a plan is checked here, whoever calls: the conversation checks them as
        they are typed, but a day may have passed since, or another client may ask."""
        now = self._clock.now()
        problem = check_plan(plan.legs, lodging=plan.lodging, contact_name=plan.contact_name,
                             contact_phone=plan.contact_phone, companion=plan.companion,
                             now=now, max_days=self._max_days)
        if problem is not None:
            return Submitted(None, TripRefused.INVALID, problem=problem)
        level = await self.risk_level(plan.legs)
        async with self._db.transaction() as conn:
            earlier = await trips.by_draft(conn, draft_key, cipher=self._cipher)
            if earlier is not None:
                return Submitted(earlier, duplicate=True)
            clash = await self._clash(conn, member.id, plan.legs)
            if clash is not None:
                return Submitted(None, TripRefused.OVERLAP, clash)
            managers = await self._reachable_managers(conn, member)
            if not managers:
                await self._tell_admins_no_manager(conn, member, now)
                return Submitted(None, TripRefused.NO_MANAGER)
            status = (TripStatus.AWAITING_APPROVAL
                      if needs_approval(level, plan.night_visits, plan.companion)
                      else TripStatus.APPROVED)
            draft = Trip(
                id=0, user_id=member.id, legs=plan.legs, status=status, lodging=plan.lodging,
                contact_name=plan.contact_name, contact_phone=plan.contact_phone,
                contact_user_id=plan.contact_user_id, night_visits=plan.night_visits,
                companion=plan.companion, risk_level=int(level),
            )
            trip_id = await trips.insert(conn, draft, now, draft_key, cipher=self._cipher)
            assert trip_id is not None
            trip = await trips.get(conn, trip_id, cipher=self._cipher)
            assert trip is not None
            if status is TripStatus.APPROVED:
                await trips.insert_nights(conn, member.id,
                                          schedule.nights_to_ask(trip, self._policy, now))
            else:
                # The request shows the managers the rep's lodging and contact: a logged view.
                await audit.record(conn, member.id, "trip_approval_request", member.id,
                                   f"trip={trip_id} to={','.join(str(m.id) for m in managers)}",
                                   now)
                for manager in managers:
                    await outbox.enqueue(
                        conn, cipher=self._cipher,
                        dedupe=f"trip:{trip_id}:approval:to:{manager.id}",
                        recipient=manager.id, kind="trip_approval",
                        params={"trip_id": trip_id}, priority=outbox.PRIORITY_NOTICE, now=now,
                    )
        log.info("trip %s submitted by user %s: %s", trip_id, member.id, status.value)
        return Submitted(trip)

    async def decide(
        self, trip_id: int, manager: Member, approve: bool, reason: str = ""
    ) -> Trip:
        """Approve (scheduling its nights) or reject a waiting trip; the rep is told."""
        now = self._clock.now()
        async with self._db.transaction() as conn:
            trip = await self._decidable(conn, trip_id, manager)
            new = TripStatus.APPROVED if approve else TripStatus.REJECTED
            if not await trips.set_status(conn, trip_id, TripStatus.AWAITING_APPROVAL, new,
                                          manager.id, now, reason, cipher=self._cipher):
                raise DecisionError("already")
            await audit.record(conn, manager.id, "trip_approve" if approve else "trip_reject",
                               trip.user_id, f"trip={trip_id}", now)
            decided = await trips.get(conn, trip_id, cipher=self._cipher)
            assert decided is not None
            if approve:
                await trips.insert_nights(conn, trip.user_id,
                                          schedule.nights_to_ask(decided, self._policy, now))
            await outbox.enqueue(
                conn, cipher=self._cipher, dedupe=f"trip:{trip_id}:decision",
                recipient=trip.user_id,
                kind="trip_decision", priority=outbox.PRIORITY_NOTICE, now=now,
                params={"trip_id": trip_id, "approved": approve, "by_name": manager.name,
                        "reason": reason}, about=(manager.id,),
            )
        return decided

    async def may_decide(self, trip_id: int, manager: Member) -> Trip:
        """Return the waiting trip if `manager` may decide it, else raise DecisionError.

        Asked before a reject reason is asked for: a manager of another team is refused at
        once, not after typing a reason the rep would never get.
        """
        async with self._db.read() as conn:
            trip = await self._decidable(conn, trip_id, manager)
        if trip.status is not TripStatus.AWAITING_APPROVAL:
            raise DecisionError("already")
        return trip

    async def _decidable(self, conn: Tx, trip_id: int, manager: Member) -> Trip:
        trip = await trips.get(conn, trip_id, cipher=self._cipher)
        if trip is None or trip.status is TripStatus.CANCELLED:  # withdrawn, or rep erased
            raise DecisionError("unknown")
        rep = await users.get(conn, trip.user_id, cipher=self._cipher)
        if manager.id == trip.user_id:
            raise DecisionError("own")
        if manager.role is Role.MANAGER and rep is not None and rep.team != manager.team:
            raise DecisionError("not_allowed")
        return trip

    async def get(self, trip_id: int) -> Trip | None:
        async with self._db.read() as conn:
            return await trips.get(conn, trip_id, cipher=self._cipher)

    async def current_and_upcoming(self, user_id: int, today: date) -> list[Trip]:
        async with self._db.read() as conn:
            return await trips.for_user(conn, user_id, trips.LIVE_STATUSES, today,
                                        cipher=self._cipher)

    async def in_progress(self, user_id: int) -> Trip | None:
        """Return the approved trip under way now (by its destinations' local dates)."""
        now = self._clock.now()
        async with self._db.read() as conn:
            return await self._in_progress(conn, user_id, now)

    async def _in_progress(
        self, conn: Tx, user_id: int, now: datetime
    ) -> Trip | None:
        # A day back: in the far west a trip may still be under way on UTC's yesterday.
        approved = await trips.for_user(conn, user_id, ["approved"],
                                        (now - timedelta(days=1)).date(), cipher=self._cipher)
        return next((t for t in approved if in_progress(t, now)), None)

    async def end(self, trip_id: int, user_id: int) -> Ended | None:
        """End this trip if it is the rep's trip under way (never a later one); its future
        nights are dropped. None if it is not (any more) under way."""
        now = self._clock.now()
        async with self._db.transaction() as conn:
            trip = await self._in_progress(conn, user_id, now)
            if trip is None or trip.id != trip_id or not await trips.end(conn, trip.id, now):
                return None
            await trips.cancel_future_nights(conn, trip.id)
            await audit.record(conn, user_id, "trip_end", user_id, f"trip={trip.id}", now)
            # A missed check-in still open is not ended with the trip: the rep is asked.
            open_alerts = await alerts.open_alerts_for(
                conn, user_id, (AlertKind.MISSED, AlertKind.EMERGENCY))
        log.info("trip %s ended by user %s", trip.id, user_id)
        return Ended(trip, tuple(a.id for a in open_alerts))

    async def to_come(self, user_id: int) -> list[Trip]:
        """The rep's trips not begun yet (waiting for approval, or approved), soonest first:
        what she may withdraw."""
        now = self._clock.now()
        async with self._db.read() as conn:
            live = await trips.for_user(conn, user_id, trips.LIVE_STATUSES,
                                        (now - timedelta(days=1)).date(), cipher=self._cipher)
        return [t for t in live if withdrawable(t, now)]

    async def withdraw(self, trip_id: int, member: Member) -> Trip | None:
        """Withdraw a trip of the rep's that has not begun: no check-in is asked for it, a
        waiting approval request can no longer be decided, and her managers are told. None if
        it is not hers, or has begun, ended or been withdrawn meanwhile."""
        now = self._clock.now()
        async with self._db.transaction() as conn:
            trip = await trips.get(conn, trip_id, cipher=self._cipher)
            if (trip is None or trip.user_id != member.id or not withdrawable(trip, now)
                    or not await trips.set_status(conn, trip_id, trip.status,
                                                  TripStatus.CANCELLED, member.id, now)):
                return None
            await trips.cancel_future_nights(conn, trip_id)
            await audit.record(conn, member.id, "trip_withdraw", member.id, f"trip={trip_id}",
                               now)
            for manager in await self._reachable_managers(conn, member):
                await outbox.enqueue(
                    conn, cipher=self._cipher, dedupe=f"trip:{trip_id}:withdrawn:to:{manager.id}",
                    recipient=manager.id, kind="trip_withdrawn", priority=outbox.PRIORITY_NOTICE,
                    now=now,
                    params=_about_trip(member, trip), about=(member.id,),
                )
        log.info("trip %s withdrawn by user %s", trip_id, member.id)
        return trip

    async def file_report(
        self, trip_id: int, member: Member, what: str | None, warn: str | None
    ) -> None:
        """Keep the post-trip safety report (None, None: the rep gave none) and send it to
        the rep's managers, who hear that the trip ended either way."""
        now = self._clock.now()
        async with self._db.transaction() as conn:
            trip = await trips.get(conn, trip_id, cipher=self._cipher)
            if trip is None or trip.user_id != member.id or trip.status is not TripStatus.ENDED:
                return
            given = what is not None or warn is not None
            if given:
                report = f"What happened: {what or '-'}\nWarn colleagues: {warn or '-'}"
                await trips.save_report(conn, trip_id, report[:4000], cipher=self._cipher)
            for manager in await self._reachable_managers(conn, member):
                await outbox.enqueue(
                    conn, cipher=self._cipher, dedupe=f"trip:{trip_id}:report:to:{manager.id}",
                    recipient=manager.id, kind="trip_report", priority=outbox.PRIORITY_NOTICE,
                    now=now,
                    params={**_about_trip(member, trip), "given": given, "what": what or "",
                            "warn": warn or ""},
                    about=(member.id,),
                )

    async def on_delivery_failed(self, conn: Tx, message: OutboxMessage) -> None:
        """An approval request could not reach a manager: tell the rep why it waits."""
        if message.kind != "trip_approval":
            return
        trip = await trips.get(conn, int(message.params["trip_id"]), cipher=self._cipher)
        if trip is None:
            return
        await outbox.enqueue(
            conn, cipher=self._cipher, dedupe=f"trip:{trip.id}:manager_unreachable",
            recipient=trip.user_id,
            kind="trip_manager_unreachable", priority=outbox.PRIORITY_NOTICE,
            params={"trip_id": trip.id}, now=self._clock.now(),
        )

    async def _clash(
        self, conn: Tx, user_id: int, legs: tuple[Leg, ...]
    ) -> Trip | None:
        start, end = legs[0].start, legs[-1].end
        for other in await trips.for_user(conn, user_id, trips.LIVE_STATUSES, start,
                                          cipher=self._cipher):
            if overlaps(start, end, other.start, other.end):
                return other
        return None

    async def _reachable_managers(
        self, conn: Tx, member: Member
    ) -> list[Member]:
        return await users.reachable(conn, [Role.MANAGER], member.team, but=member.id,
                                     cipher=self._cipher)

    async def _tell_admins_no_manager(
        self, conn: Tx, member: Member, now: datetime
    ) -> None:
        for admin in await users.notice_recipients(conn, cipher=self._cipher):
            await outbox.enqueue(
                conn, cipher=self._cipher,
                dedupe=f"nomanager:{member.id}:{now.date().isoformat()}:to:{admin.id}",
                recipient=admin.id, kind="admin_no_manager",
                params={"user_id": member.id, "name": member.name, "team": member.team},
                priority=outbox.PRIORITY_NOTICE, now=now, about=(member.id,),
            )


def _about_trip(member: Member, trip: Trip) -> dict[str, Any]:
    """What a notice to the managers says of a rep's trip: who, where (in any language), when."""
    return {"name": member.name,
            "places": [leg.place.label() for leg in trip.legs],
            "named_places": [leg.place.named() for leg in trip.legs],
            "start": trip.start.isoformat(), "end": trip.end.isoformat()}
