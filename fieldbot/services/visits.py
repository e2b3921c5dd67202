"""Client visits (DESIGN.md §11): start one, end it ("I'm done", /done), extend it, and the
client safety notes left afterwards. The timer itself is swept by
`services/escalation/visits.py`; the rules are `domain/visits.py`.

A late "I'm done" is a sign of life: it closes the visit's alert with an all-clear to everyone
who was alerted. Ending a visit is not a nightly check-in: the night still waits for its own.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from fieldbot.clock import Clock
from fieldbot.crypto import Cipher
from fieldbot.domain import visits as rules
from fieldbot.domain.alerts import Priority
from fieldbot.domain.channels import TELEGRAM
from fieldbot.domain.members import Member
from fieldbot.domain.places import Place
from fieldbot.domain.policy import Policy, fold_text
from fieldbot.domain.roles import Role
from fieldbot.domain.trips import TripStatus, in_progress, leg_at, local_day
from fieldbot.domain.visits import (
    EndProblem,
    ExtendRefusal,
    Extension,
    FinishStatus,
    NoteCategory,
    VisitState,
)
from fieldbot.services.escalation import EscalationService
from fieldbot.services.escalation.visits import visit_details
from fieldbot.storage import alerts, audit, outbox, trips, users, visits
from fieldbot.storage.codec import ts
from fieldbot.storage.db import Database, Tx
from fieldbot.storage.outbox import OutboxMessage
from fieldbot.storage.visits import NewNote, NewVisit, NoteRow, VisitRow

log = logging.getLogger(__name__)

__all__ = ["NoteRow", "VisitPlan", "VisitRow", "VisitService"]

COLLEAGUE_BUTTONS = 8  # enrolled colleagues offered as buttons at most
NOTES_SHOWN = 5  # client safety notes shown for one visit or place at most
_PAST = date(2000, 1, 1)


@dataclass(frozen=True, slots=True)
class VisitPlan:
    client: str
    place: str  # the pinned place's label ('' without a pin)
    point: tuple[float, float] | None
    tz_name: str
    companion: str  # '' alone
    companion_id: int | None
    ends_at: datetime
    draft_key: str
    place_zh: str = ""  # the same label as a Chinese reader names the place


class Told(StrEnum):
    """Who was told of a visit alone after dark, for the rep to read the truth."""

    MANAGER = "manager"  # the team's (other) managers
    OFFICERS = "officers"  # the safety officers: no manager of the team could be reached
    NOBODY = "nobody"  # nobody reachable on Telegram: the rep must tell someone herself


class StartRefusal(StrEnum):
    OPEN = "open"  # a visit is under way already
    PAST = "past"
    TOO_LONG = "too_long"
    INVALID = "invalid"


@dataclass(frozen=True, slots=True)
class Started:
    visit: VisitRow | None
    refused: StartRefusal | None = None
    duplicate: bool = False  # Start pressed again: the visit started the first time
    told: Told = Told.MANAGER  # who was told, alone after dark

    @property
    def alone_after_dark(self) -> bool:
        return self.visit is not None and self.visit.alone and self.visit.after_dark


@dataclass(frozen=True, slots=True)
class Finished:
    status: FinishStatus
    visit: VisitRow | None


class VisitService:
    def __init__(self, db: Database, clock: Clock, policy: Policy,
                 escalation: EscalationService, cipher: Cipher, default_tz: str) -> None:
        self._db = db
        self._clock = clock
        self._policy = policy
        self._escalation = escalation
        self._cipher = cipher
        self._default_tz = default_tz

    @property
    def policy(self) -> Policy:
        return self._policy

    def now(self) -> datetime:
        return self._clock.now()

    async def where(self, user_id: int) -> tuple[str, Place | None]:
        """Return the zone a visit without a pin is in, and the place whose risk applies: the
        trip leg under way, else the last leg of the person's last trip begun (not one still
        to come), else the default zone."""
        now = self._clock.now()
        async with self._db.read() as tx:
            known = await trips.for_user(
                tx, user_id, [TripStatus.APPROVED.value, TripStatus.ENDED.value], _PAST,
                cipher=self._cipher)
        under_way = [t for t in known if t.status is TripStatus.APPROVED and in_progress(t, now)]
        if under_way:
            place = leg_at(under_way[-1], now).place
            return place.tz_name, place
        # The last trip begun: next week's trip to Tokyo does not put today's visit in Berlin
        # on Tokyo time.
        begun = [t for t in known if t.start <= local_day(now, t.legs[0].place.tz_name)]
        if begun:
            return begun[-1].legs[-1].place.tz_name, None
        return self._default_tz, None

    async def overdue(self, user_id: int) -> bool | None:
        """None without a visit under way; else whether its end has passed (it is alerting).
        A glance: every /checkin asks."""
        async with self._db.glance() as tx:
            ends_at = await visits.open_ends_at(tx, user_id)
        return None if ends_at is None else ends_at <= self._clock.now()

    async def current(self, user_id: int) -> VisitRow | None:
        async with self._db.read() as tx:
            return await visits.open_for(tx, user_id, cipher=self._cipher)

    async def colleagues(self, member: Member) -> list[Member]:
        """Return the enrolled colleagues of the person's team (not themselves), bounded."""
        async with self._db.read() as tx:
            people = await users.with_role(tx, list(Role), member.team, cipher=self._cipher)
        return [p for p in people if p.id != member.id][:COLLEAGUE_BUTTONS]

    async def colleague(self, member: Member, name: str) -> Member | None:
        """Return the enrolled colleague (any team) whose name is `name` as people type it."""
        wanted = fold_text(name)
        async with self._db.read() as tx:
            people = await users.with_role(tx, list(Role), cipher=self._cipher)
        mates = [p for p in people if p.id != member.id and fold_text(p.name) == wanted]
        return next((p for p in mates if p.team == member.team), mates[0] if mates else None)

    @staticmethod
    def names_self(member: Member, name: str) -> bool:
        """Return whether a typed companion is the person themselves (not a companion)."""
        return fold_text(name) == fold_text(member.name)

    async def member(self, user_id: int) -> Member | None:
        async with self._db.read() as tx:
            return await users.get(tx, user_id, cipher=self._cipher)

    def end_after(self, minutes: int) -> datetime | EndProblem:
        return rules.end_after(self._policy.visit, self._clock.now(), minutes)

    def parse_end(self, text: str, tz_name: str) -> datetime | EndProblem:
        return rules.parse_end(self._policy.visit, text, self._clock.now(), tz_name)

    def after_dark(self, ends_at: datetime, tz_name: str) -> bool:
        return rules.is_after_dark(self._policy.visit, self._clock.now(), ends_at, tz_name)

    async def notes_for(self, client: str, point: tuple[float, float] | None
                        ) -> list[NoteRow]:
        """Return the live notes about this client (as names compare) or within 300 m."""
        now = self._clock.now()
        async with self._db.read() as tx:
            found = await visits.live_notes(tx, now, cipher=self._cipher)
        return [n for n in found if rules.note_applies(n, client, point, now)][:NOTES_SHOWN]

    async def start(self, member: Member, plan: VisitPlan) -> Started:
        """Start the visit's timer; alone after dark, the manager is told (not asked)."""
        now = self._clock.now()
        problem = rules.check_end(self._policy.visit, now, plan.ends_at)
        if problem is not None:
            return Started(None, StartRefusal(problem.value))
        if (len(plan.client) > rules.MAX_CLIENT or len(plan.companion) > rules.MAX_COMPANION
                or (not plan.client and plan.point is None)):
            return Started(None, StartRefusal.INVALID)
        async with self._db.transaction() as tx:
            under_way = await visits.open_for(tx, member.id, cipher=self._cipher)
            if under_way is not None:  # Start tapped twice is not a second visit
                twice = await visits.started_from(tx, plan.draft_key) == under_way.id
                return Started(under_way, None if twice else StartRefusal.OPEN, duplicate=twice)
            visit_id = await visits.add(tx, NewVisit(
                user_id=member.id, team=member.team, client=plan.client, place=plan.place,
                point=plan.point, tz_name=plan.tz_name, companion=plan.companion,
                companion_id=plan.companion_id,
                after_dark=rules.is_after_dark(self._policy.visit, now, plan.ends_at,
                                               plan.tz_name),
                started_at=now, ends_at=plan.ends_at,
                due_at=rules.first_due(self._policy.visit, now, plan.ends_at),
                draft_key=plan.draft_key, place_zh=plan.place_zh), cipher=self._cipher)
            if visit_id is None:
                return Started(None, duplicate=True)
            visit = await visits.get(tx, visit_id, cipher=self._cipher)
            assert visit is not None
            await audit.record(tx, member.id, "visit_start", member.id, f"visit={visit_id}", now)
            told = Told.MANAGER
            if visit.alone and visit.after_dark:
                told = await self._tell_leads(tx, member, visit, now)
        log.info("visit %s started by user %s", visit_id, member.id)
        return Started(visit, told=told)

    async def _tell_leads(self, tx: Tx, member: Member, visit: VisitRow, now: datetime,
                          *, not_managers: bool = False) -> Told:
        """Tell the team's reachable managers; with none (or a manager visiting, the only one
        of the team), the reachable safety officers, the ladder's next tier. Say who."""
        params = {"subject_name": member.name, **visit_details(visit)}
        told, leads = Told.MANAGER, [] if not_managers or not member.team else \
            await users.reachable(tx, [Role.MANAGER], member.team, but=member.id,
                                  cipher=self._cipher)
        if not leads:
            told, leads = Told.OFFICERS, await users.reachable(
                tx, [Role.OFFICER], but=member.id, cipher=self._cipher)
        for lead in leads:
            await outbox.enqueue(
                tx, cipher=self._cipher, dedupe=f"visit:{visit.id}:alone:to:{lead.id}",
                recipient=lead.id, kind="visit_alone", params=params,
                priority=int(Priority.NOTICE), now=now, about=(member.id,))
        return told if leads else Told.NOBODY

    async def on_delivery_failed(self, tx: Tx, message: OutboxMessage) -> None:
        """The outbox's hook: a manager told of a visit alone after dark cannot be reached on
        Telegram (blocked the bot, left it): the officers are told instead while the visit goes
        on, and the rep learns who knows now (she read that her manager did)."""
        if message.kind != "visit_alone" or message.channel != TELEGRAM:
            return
        now = self._clock.now()
        v = await visits.get(tx, int(message.params["id"]), cipher=self._cipher)
        if v is None or not v.state.is_open:
            return
        member = await users.get(tx, v.user_id, cipher=self._cipher)
        if member is None:
            return
        lead = await users.get(tx, message.recipient, cipher=self._cipher)
        if lead is not None and lead.role is not Role.MANAGER:
            return  # an officer failed: the admins hear of it (the outbox's "unreachable")
        if await outbox.any_live(tx, f"visit:{v.id}:alone:to:", but=message.recipient):
            return  # another manager was told, or still may be (if not, their failure acts)
        told = await self._tell_leads(tx, member, v, now, not_managers=True)
        log.info("visit %s: a manager told of it is unreachable; now told: %s", v.id, told)
        await outbox.enqueue(
            tx, cipher=self._cipher, dedupe=f"visit:{v.id}:alone:rerouted",
            recipient=member.id, kind="visit_alone_rerouted", params={"told": told.value},
            priority=int(Priority.NOTICE), now=now)

    async def finish(self, user_id: int, visit_id: int | None = None) -> Finished:
        """"I'm done, safe": end the visit under way; a late one sends the all-clear. A button
        names its visit: an old visit's button ends nothing new."""
        now = self._clock.now()
        async with self._db.transaction() as tx:
            v = await visits.open_for(tx, user_id, cipher=self._cipher)
            if v is not None and visit_id is not None and v.id != visit_id:
                v = None
            status = rules.finish(v)
            if v is None or status is FinishStatus.NONE_OPEN:
                return Finished(FinishStatus.NONE_OPEN, None)
            if not await visits.move(tx, v, state=VisitState.ENDED, due_at=None, ended_at=now):
                return Finished(FinishStatus.NONE_OPEN, None)
            await self._clear(tx, v, now)
            await audit.record(tx, user_id, "visit_end", user_id,
                               f"visit={v.id} {status.value}", now)
            done = await visits.get(tx, v.id, cipher=self._cipher)
        return Finished(status, done)

    async def _clear(self, tx: Tx, v: VisitRow, now: datetime) -> None:
        if v.alert_id is not None:
            a = await alerts.alert(tx, v.alert_id)
            if a is not None and a.state.is_live:
                await self._escalation.all_clear(tx, a, now)

    async def extend(self, user_id: int, visit_id: int | None = None
                     ) -> tuple[Extension | ExtendRefusal, VisitRow | None, Told | None]:
        """"+30 min": a later end (max_extensions times, within max_length); pressed after
        the end it is a sign of life too, so the visit's alert gets its all-clear. The third
        says who was told because the later end took a lone visit into the dark (None if
        it did not)."""
        now = self._clock.now()
        async with self._db.transaction() as tx:
            v = await visits.open_for(tx, user_id, cipher=self._cipher)
            if v is not None and visit_id is not None and v.id != visit_id:
                v = None
            moved = rules.extend(self._policy.visit, v, now)
            if isinstance(moved, ExtendRefusal) or v is None:
                return moved, v, None
            if not await visits.move(tx, v, state=VisitState.ACTIVE, due_at=moved.due_at,
                                     ends_at=moved.ends_at, extensions=moved.extensions):
                return ExtendRefusal.NONE_OPEN, v, None
            into_dark = v.alone and not v.after_dark and rules.is_after_dark(
                self._policy.visit, v.started_at, moved.ends_at, v.tz_name)
            if into_dark:
                await visits.mark_after_dark(tx, v.id)
            if moved.was_overdue:
                await self._clear(tx, v, now)
                await tx.execute("UPDATE visits SET alert_id = NULL WHERE id = ?", (v.id,))
            await audit.record(tx, user_id, "visit_extend", user_id,
                               f"visit={v.id} until={ts(moved.ends_at)}", now)
            after = await visits.get(tx, v.id, cipher=self._cipher)
            member = await users.get(tx, user_id, cipher=self._cipher)
            told = None
            if into_dark and after is not None and member is not None:
                told = await self._tell_leads(tx, member, after, now)
        return moved, after, told

    # --- client safety notes ------------------------------------------------------------------

    async def add_note(self, member: Member, visit_id: int, category: NoteCategory,
                       text: str) -> NoteRow | None:
        """Keep a client safety note from the person's own ended visit (one per visit);
        the manager is told, with a button to remove it. None: not theirs, or noted already."""
        body = rules.check_note(text)
        now = self._clock.now()
        if body is None:
            return None
        async with self._db.transaction() as tx:
            v = await visits.get(tx, visit_id, cipher=self._cipher)
            if v is None or v.user_id != member.id or await visits.has_note(tx, visit_id):
                return None
            note_id = await visits.add_note(tx, NewNote(
                author_id=member.id, visit_id=v.id, team=v.team, category=category,
                client=v.client, place=v.place, point=v.point, body=body, created_at=now,
                expires_at=now + self._policy.visit.notes_expire), cipher=self._cipher)
            await audit.record(tx, member.id, "visit_note", member.id, f"note={note_id}", now)
            note = await visits.note(tx, note_id, cipher=self._cipher)
            assert note is not None
            for manager in await users.with_role(tx, [Role.MANAGER], v.team,
                                                 cipher=self._cipher):
                if manager.id != member.id:
                    await outbox.enqueue(
                        tx, cipher=self._cipher, dedupe=f"note:{note_id}:to:{manager.id}",
                        recipient=manager.id, kind="visit_note", priority=int(Priority.NOTICE),
                        now=now, params={"note_id": note_id, "subject_name": member.name,
                                         "category": category.value, "client": v.client,
                                         "place": v.place, "place_zh": v.place_zh,
                                         "body": body}, about=(member.id,))
        return note

    async def remove_note(self, by: Member, note_id: int) -> bool:
        """A manager (of the note's team), officer or admin removes a note; False if it was
        gone already or is not theirs to remove."""
        now = self._clock.now()
        async with self._db.transaction() as tx:
            note = await visits.note(tx, note_id, cipher=self._cipher)
            if note is None or not rules.may_remove(by, note.team):
                return False
            if not await visits.remove_note(tx, note_id, by.id, now):
                return False
            await audit.record(tx, by.id, "visit_note_removed", note.author_id,
                               f"note={note_id}", now)
        return True
