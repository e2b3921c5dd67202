"""Incidents (DESIGN.md §12): open one (from an alert resolved as "incident", or /incident),
hand it to another officer, file the first report, finish the review (which closes it and
turns its measures into a lesson). The rules are `fieldbot.domain.incidents`; the deadlines'
ladder runs in `services/incident_deadlines.py`."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from fieldbot.clock import Clock
from fieldbot.crypto import Cipher
from fieldbot.domain import incidents as rules
from fieldbot.domain.alerts import Priority
from fieldbot.domain.crisis_policy import Grade
from fieldbot.domain.incidents import DeadlineKind, IncidentState, Refusal, Review
from fieldbot.domain.ladder import AlertKind
from fieldbot.domain.members import Member
from fieldbot.domain.places import Place
from fieldbot.domain.policy import Policy
from fieldbot.domain.roles import Role
from fieldbot.domain.trips import leg_at
from fieldbot.services.escalation import EscalationService
from fieldbot.storage import alerts, audit, outbox, trips, users
from fieldbot.storage import incidents as store
from fieldbot.storage.alerts import AlertRow
from fieldbot.storage.db import Database, Tx
from fieldbot.storage.incidents import DeadlineRow, IncidentRow

__all__ = ["AlertRow", "DeadlineRow", "FromAlert", "IncidentDraft", "IncidentError", "IncidentRow",
           "IncidentService"]

log = logging.getLogger(__name__)

LISTED = 10  # open incidents shown at most in /incident
UNRECORDED = 3  # alerts resolved as "incident" but never recorded, offered in /incident
UNRECORDED_FOR = timedelta(days=30)
OFFICERS_OFFERED = 10  # officers offered as new owners at most


class IncidentError(Exception):
    """Why an incident action was refused (`domain.incidents.Refusal`)."""

    def __init__(self, reason: Refusal) -> None:
        super().__init__(reason.value)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class IncidentDraft:
    """What /incident asks, as the flow hands it over."""

    grade: Grade
    place: str
    country: str
    lat: float | None
    lon: float | None
    people: str
    description: str
    alert_id: int | None = None
    place_zh: str = ""  # the place as a Chinese reader names it


@dataclass(frozen=True, slots=True)
class FromAlert:
    """An alert resolved as "incident": what the incident it opens already knows."""

    alert: AlertRow
    grade: Grade
    place: str
    country: str
    lat: float | None
    lon: float | None
    people: str
    drill: bool  # a drill's alert opens no incident
    spot: Place | None = None  # the trip's place (the chat names it in the reader's language)


class IncidentService:
    def __init__(self, db: Database, clock: Clock, policy: Policy, cipher: Cipher,
                 escalation: EscalationService) -> None:
        self._db = db
        self._clock = clock
        self._policy = policy.incident
        self._cipher = cipher
        self._escalation = escalation

    async def resolve_alert(self, alert_id: int, by: Member) -> FromAlert:
        """Resolve an alert as "incident" (raises AlertActionError like any resolve) and
        return what the incident it opens knows: who, where, a grade to start from."""
        a = await self._escalation.resolve(alert_id, by, "incident")
        return await self._known(a)

    async def unrecorded(self, by: Member) -> list[AlertRow]:
        """The alerts `by` resolved as "incident" lately whose incident was never recorded
        (the draft was cancelled or lapsed): /incident offers to record them."""
        since = self._clock.now() - UNRECORDED_FOR
        async with self._db.read() as tx:
            ids = await store.unrecorded_alerts(tx, by.id, since, UNRECORDED)
            found = [await alerts.alert(tx, i) for i in ids]
        return [a for a in found if a is not None]

    async def known_alert(self, alert_id: int, by: Member) -> FromAlert:
        """What the incident of an alert `by` resolved as "incident" knows (refused for
        anyone else's, or once its incident is recorded)."""
        if not any(a.id == alert_id for a in await self.unrecorded(by)):
            raise IncidentError(Refusal.UNKNOWN)
        async with self._db.read() as tx:
            a = await alerts.alert(tx, alert_id)
        assert a is not None
        return await self._known(a)

    async def _known(self, a: AlertRow) -> FromAlert:
        async with self._db.read() as tx:
            subject = await users.get(tx, a.user_id, cipher=self._cipher)
            trip = await trips.get(tx, a.trip_id, cipher=self._cipher) if a.trip_id else None
            where = await alerts.last_location(tx, a.user_id, cipher=self._cipher)
        place, country, lat, lon, spot = "", "", None, None, None
        if trip is not None:
            spot = leg = leg_at(trip, a.anchor).place
            place, country, lat, lon = leg.label(), leg.country_code, leg.lat, leg.lon
        elif where is not None:
            lat, lon = where[0], where[1]
        return FromAlert(a, rules.grade_from_alert(a.kind), place, country, lat, lon,
                         subject.name if subject else "", a.kind is AlertKind.DRILL, spot)

    async def open(self, by: Member, draft: IncidentDraft) -> IncidentRow:
        """Open an incident owned by `by`; its two deadlines start now; the officers are told."""
        if by.role not in (Role.MANAGER, Role.OFFICER):
            raise IncidentError(Refusal.NOT_ALLOWED)
        for text, limit in ((draft.description, rules.MAX_DESCRIPTION),
                            (draft.people, rules.MAX_PEOPLE), (draft.place, rules.MAX_PLACE),
                            (draft.place_zh, rules.MAX_PLACE)):
            if len(text) > limit:
                raise IncidentError(Refusal.TOO_LONG)
        now = self._clock.now()
        async with self._db.transaction() as tx:
            incident_id = await store.add(
                tx, grade=draft.grade, owner_id=by.id, alert_id=draft.alert_id,
                place=draft.place, country=draft.country, lat=draft.lat, lon=draft.lon,
                people=draft.people, description=draft.description, now=now,
                cipher=self._cipher, place_zh=draft.place_zh)
            if incident_id is None:  # this alert has one already (a second Confirm)
                raise IncidentError(Refusal.CLOSED)
            for kind, due in rules.deadlines(self._policy, draft.grade, now).items():
                await store.add_deadline(tx, incident_id, kind, due,
                                         rules.first_due(self._policy, due))
            await audit.record(tx, by.id, "incident_open", None,
                               f"incident={incident_id} grade={draft.grade.value}"
                               f" alert={draft.alert_id or '-'}", now)
            incident = await store.get(tx, incident_id, cipher=self._cipher)
            assert incident is not None
            await self._tell_officers(tx, incident, "incident_opened", by, now)
        log.info("incident %s opened (%s) by %s", incident_id, draft.grade.value, by.id)
        return incident

    async def visible(self, viewer: Member) -> tuple[list[IncidentRow], int]:
        """The open incidents `viewer` may see, most severe first (at most LISTED), and how
        many they may see in all."""
        async with self._db.read() as tx:
            found = await store.open_ones(tx, 1000, cipher=self._cipher)
        mine = [i for i in found if rules.may_see(viewer, i.owner_id, i.opened_by)]
        return mine[:LISTED], len(mine)

    async def get(self, viewer: Member, incident_id: int) -> IncidentRow:
        async with self._db.read() as tx:
            incident = await store.get(tx, incident_id, cipher=self._cipher)
        if incident is None or not rules.may_see(viewer, incident.owner_id, incident.opened_by):
            raise IncidentError(Refusal.UNKNOWN)
        return incident

    async def deadlines(self, incident_id: int) -> list[DeadlineRow]:
        async with self._db.read() as tx:
            return await store.deadlines_of(tx, incident_id)

    async def counts_for(self, user_id: int) -> dict[str, int]:
        """What /privacy says: incidents a person opened or owns, lessons they wrote."""
        async with self._db.read() as tx:
            return await store.counts_for(tx, user_id)

    async def officers(self, incident_id: int, by: Member) -> list[Member]:
        """The officers `by` may hand this incident to (at most OFFICERS_OFFERED); refused
        (IncidentError) to anyone but an officer, and once the incident is closed."""
        async with self._db.read() as tx:
            incident = await store.get(tx, incident_id, cipher=self._cipher)
            if incident is None or not rules.may_see(by, incident.owner_id, incident.opened_by):
                raise IncidentError(Refusal.UNKNOWN)
            refused = rules.refuse_handover(by, incident.state)
            if refused is not None:
                raise IncidentError(refused)
            found = await users.with_role(tx, [Role.OFFICER], cipher=self._cipher)
        return found[:OFFICERS_OFFERED]

    async def reassign(self, incident_id: int, by: Member, to_id: int) -> IncidentRow:
        """Hand an incident to another officer; the new owner is told, and so is the one it
        was taken from (they may be writing its review)."""
        now = self._clock.now()
        async with self._db.transaction() as tx:
            incident = await store.get(tx, incident_id, cipher=self._cipher)
            if incident is None:
                raise IncidentError(Refusal.UNKNOWN)
            to = await users.get(tx, to_id, cipher=self._cipher)
            refused = rules.refuse_reassign(by, to, incident.state)
            if refused is not None:
                raise IncidentError(refused)
            await store.set_owner(tx, incident_id, to_id)
            await audit.record(tx, by.id, "incident_reassign", None,
                               f"incident={incident_id} from={incident.owner_id} to={to_id}",
                               now)
            if to_id != by.id:
                await outbox.enqueue(
                    tx, dedupe=f"incident:{incident_id}:owner:{to_id}:{now.isoformat()}",
                    recipient=to_id, kind="incident_assigned",
                    params=_params(incident, by_name=by.name), priority=int(Priority.NOTICE),
                    now=now, cipher=self._cipher, about=(by.id,))
            before = await users.get(tx, incident.owner_id, cipher=self._cipher)
            if before is not None and before.unreachable != "erased" \
                    and before.id not in (by.id, to_id):
                await outbox.enqueue(
                    tx, dedupe=f"incident:{incident_id}:taken:{before.id}:{now.isoformat()}",
                    recipient=before.id, kind="incident_taken",
                    params=_params(incident, by_name=by.name, to_name=to.name if to else ""),
                    priority=int(Priority.NOTICE), now=now, cipher=self._cipher,
                    about=(by.id, to_id))
            done = await store.get(tx, incident_id, cipher=self._cipher)
        assert done is not None
        return done

    async def review_of(self, incident_id: int, by: Member) -> IncidentRow:
        """Return the incident whose review `by` is about to write (the owner only)."""
        async with self._db.read() as tx:
            incident = await store.get(tx, incident_id, cipher=self._cipher)
        if incident is None:
            raise IncidentError(Refusal.UNKNOWN)
        refused = rules.refuse_review(by, incident.owner_id, incident.state)
        if refused is not None:
            raise IncidentError(refused)
        return incident

    async def file_report(self, incident_id: int, by: Member, what: str, loss: str
                          ) -> IncidentRow:
        """The first report (what happened, the loss): its deadline is met."""
        return await self._save(incident_id, by, {"what": what, "loss": loss},
                                IncidentState.REPORTED, (DeadlineKind.REPORT,))

    async def close(self, incident_id: int, by: Member, review: Review) -> IncidentRow:
        """Finish the review: the incident closes, both deadlines are met, and its root cause
        and measures become a lesson, without the names of anyone involved."""
        answers = {"what": review.what, "loss": review.loss, "whys": list(review.whys),
                   "responsibility": review.responsibility.value, "measures": review.measures}
        return await self._save(incident_id, by, answers, IncidentState.CLOSED,
                                (DeadlineKind.REPORT, DeadlineKind.REVIEW), review)

    async def _save(self, incident_id: int, by: Member, answers: dict[str, Any],
                    state: IncidentState, met: tuple[DeadlineKind, ...],
                    review: Review | None = None) -> IncidentRow:
        now = self._clock.now()
        for value in answers.values():
            texts = value if isinstance(value, list) else [value]
            if any(len(str(v)) > rules.MAX_ANSWER for v in texts):
                raise IncidentError(Refusal.TOO_LONG)
        async with self._db.transaction() as tx:
            incident = await store.get(tx, incident_id, cipher=self._cipher)
            if incident is None:
                raise IncidentError(Refusal.UNKNOWN)
            refused = rules.refuse_review(by, incident.owner_id, incident.state)
            if refused is not None:
                raise IncidentError(refused)
            merged = {**incident.review, **answers}
            if not await store.save_review(tx, incident, merged, state, now,
                                           cipher=self._cipher):
                raise IncidentError(Refusal.CLOSED)
            await store.meet(tx, incident_id, met, now)
            await audit.record(tx, by.id, f"incident_{state.value}", None,
                               f"incident={incident_id}", now)
            if review is not None:
                names = await self._names(tx, incident)
                cause, measures = review.lesson(names)
                await store.add_lesson(tx, incident, cause, measures, by.id, now,
                                       cipher=self._cipher)
                await audit.record(tx, by.id, "lesson_add", None, f"incident={incident_id}",
                                   now)
                await self._tell_officers(tx, incident, "incident_closed", by, now)
            done = await store.get(tx, incident_id, cipher=self._cipher)
        assert done is not None
        return done

    async def _names(self, tx: Tx, incident: IncidentRow) -> list[str]:
        """The names a lesson must not carry: the people involved as typed, and everyone
        enrolled (a colleague's name typed into a "why" or the measures is still a name)."""
        everyone = await users.with_role(tx, list(Role), cipher=self._cipher)
        return rules.names_in(incident.people, [m.name for m in everyone])

    async def _tell_officers(self, tx: Tx, incident: IncidentRow, kind: str, by: Member,
                             now: datetime) -> None:
        for officer in await users.with_role(tx, [Role.OFFICER], cipher=self._cipher):
            if officer.id != by.id:
                await outbox.enqueue(
                    tx, dedupe=f"incident:{incident.id}:{kind}:to:{officer.id}",
                    recipient=officer.id, kind=kind, params=_params(incident, by_name=by.name),
                    priority=int(Priority.NOTICE), now=now, cipher=self._cipher)


def _params(incident: IncidentRow, **more: Any) -> dict[str, Any]:
    return {"incident": incident.label, "incident_id": incident.id,
            "grade": incident.grade.value, "place": incident.place,
            "place_zh": incident.place_zh, **more}
