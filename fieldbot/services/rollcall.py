"""Roll-calls: ask everyone in an area "Are you safe?", keep the tally, chase the silent.

The rules are `domain.rollcall`; this module loads, asks the domain, stores and enqueues in
one transaction. The silent are chased by `RollcallSweep` (services/rollcall_sweep.py).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fieldbot.clock import Clock
from fieldbot.crypto import Cipher
from fieldbot.domain import rollcall as rules
from fieldbot.domain.drills import CHECK_IN_ENDS
from fieldbot.domain.members import Member
from fieldbot.domain.policy import Policy
from fieldbot.domain.roles import Role
from fieldbot.domain.rollcall import (
    Answer,
    AnswerStatus,
    Candidate,
    Reason,
    Scope,
    ScopeKind,
    Stage,
    Tally,
)
from fieldbot.geo.resolver import PlaceResolver
from fieldbot.storage import alerts, audit, outbox, users
from fieldbot.storage import rollcall as store
from fieldbot.storage.codec import ts
from fieldbot.storage.db import Database, Tx
from fieldbot.storage.rollcall import RollcallRow

log = logging.getLogger(__name__)

PAGE = 25  # names per page of the names view
SUMMARY_NAMES = 20  # names of each state in the closing summary, then "and K more"
MAX_TEAMS = 12  # team buttons offered to an officer
NEAR_CITY_KM = 100  # a last location farther than this from any city is in no country


class RollcallRefused(Exception):
    """Why not: not_allowed, nobody, duplicate (rollcall_id names the open one), gone,
    too_long."""

    def __init__(self, reason: str, rollcall_id: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.rollcall_id = rollcall_id


@dataclass(frozen=True, slots=True)
class Preview:
    count: int
    by_trip: int
    by_location: int


@dataclass(frozen=True, slots=True)
class RollcallView:
    id: int
    scope: Scope
    message: str
    open: bool
    started_at: datetime
    closed_at: datetime | None
    initiator_name: str
    tally: Tally
    tally_message_id: int | None = None  # the initiator's live tally (edited by the outbox)
    initiator_id: int = 0  # whose chat the tally is in (message ids are per chat)
    limit_team: str | None = None  # a manager's roll-call asks only her team
    tz: str = "UTC"  # the organisation's own zone (settings.default_tz): its times read in it

    def params(self) -> dict[str, Any]:
        """What the tally's renderer reads (stored encrypted in the outbox)."""
        return {"rollcall": self.id, "scope": scope_params(self.scope), "open": self.open,
                "asked": self.tally.asked, "safe": self.tally.safe, "help": self.tally.help,
                "started_at": ts(self.started_at), "by_name": self.initiator_name,
                "closed_at": ts(self.closed_at) if self.closed_at else None, "tz": self.tz}


@dataclass(frozen=True, slots=True)
class NamesPage:
    state: str
    names: list[str]
    total: int
    page: int
    pages: int


@dataclass(frozen=True, slots=True)
class Answered:
    status: AnswerStatus
    tally_due: datetime | None = None  # when the initiator's tally edit goes (to wake for it)
    # "I'm safe" is not tonight's check-in: a missed one of hers is still open (she is told)
    check_in_missing: bool = False


async def told_of_silence(tx: Tx, rc: RollcallRow, subject: Member, cipher: Cipher) -> list[int]:
    """Who hears that `subject` has not answered: their team's reachable managers; a team
    without one, whoever asked (or, if they have erased themselves since, the officers)."""
    managers = [m.id for m in await users.reachable(tx, [Role.MANAGER], subject.team,
                                                    but=subject.id, cipher=cipher)]
    if managers:
        return managers
    asker = await users.get(tx, rc.initiator, cipher=cipher)
    if asker is not None and asker.unreachable != users.ERASED:
        return [rc.initiator]
    return [m.id for m in await users.reachable(tx, [Role.OFFICER], cipher=cipher)]


def scope_params(scope: Scope) -> dict[str, Any]:
    return {"kind": scope.kind.value, "label": scope.label, "radius": scope.radius_km,
            "team": scope.team, "label_zh": scope.label_zh, "country_code": scope.country_code}


class RollcallService:
    def __init__(self, db: Database, clock: Clock, policy: Policy, cipher: Cipher,
                 resolver: PlaceResolver, tz: str = "UTC") -> None:
        self._tz = tz  # the organisation's own zone: a roll-call's times read in it
        self._db = db
        self._clock = clock
        self._policy = policy.rollcall
        self._cipher = cipher
        self._resolver = resolver

    # --- choosing the scope ---------------------------------------------------------------

    async def teams(self, member: Member, *, everyone: bool = False) -> list[str]:
        """The teams an initiator may pick (a manager only their own): the first MAX_TEAMS
        for buttons, or all of them to match a typed name."""
        if member.role is Role.MANAGER:
            return [member.team]
        async with self._db.read() as tx:
            return await store.teams(tx, 10_000 if everyone else MAX_TEAMS)

    async def find_country(self, text: str) -> tuple[str, str] | None:
        """Return (ISO code, name) of a typed country name or code; None if unknown."""
        return await self._resolver.country(text)

    async def preview(self, member: Member, scope: Scope) -> Preview:
        """How many people a roll-call of `scope` would ask now, and why."""
        if not rules.may_start(member):
            raise RollcallRefused("not_allowed")
        chosen = await self._select(member, scope, self._clock.now())
        return Preview(len(chosen), sum(r is Reason.TRIP for _, r in chosen),
                       sum(r is Reason.LOCATION for _, r in chosen))

    async def _select(self, member: Member, scope: Scope,
                      now: datetime) -> list[tuple[int, Reason]]:
        async with self._db.read() as tx:
            found = await store.candidates(tx, now, cipher=self._cipher)
        if scope.kind is ScopeKind.COUNTRY:
            found = await asyncio.to_thread(self._place_locations, found)
        return rules.select(scope, member, found, now)

    def _place_locations(self, found: list[Candidate]) -> list[Candidate]:
        """Put each last location in its country (the nearest bundled city's; a point far from
        any city, out at sea, is in none)."""
        placed = []
        for c in found:
            hit = self._resolver.gazetteer.nearest(c.location[0], c.location[1]) \
                if c.location is not None else None
            country = hit[0].country_code if hit and hit[1] <= NEAR_CITY_KM else ""
            placed.append(dataclasses.replace(c, location_country=country))
        return placed

    # --- start, see, close --------------------------------------------------------------------

    async def start(self, member: Member, scope: Scope, message: str,
                    tally_message_id: int | None) -> RollcallView:
        """Ask everyone in scope now (the count may have changed since the preview)."""
        message = message.strip()
        if len(message) > rules.MAX_MESSAGE:
            raise RollcallRefused("too_long")
        if not rules.may_start(member):
            raise RollcallRefused("not_allowed")
        now = self._clock.now()
        chosen = await self._select(member, scope, now)
        if not chosen:
            raise RollcallRefused("nobody")
        team = rules.limit_team(member)
        priority = rules.question_priority(scope)
        async with self._db.transaction() as tx:
            rollcall_id = await store.insert(
                tx, initiator=member.id, limit_team=team, scope=scope, message=message,
                priority=priority, now=now, tally_message_id=tally_message_id,
                cipher=self._cipher)
            if rollcall_id is None:
                raise RollcallRefused("duplicate", await store.open_with_key(tx, scope.key(team)))
            await store.add_people(tx, rollcall_id, chosen, rules.first_due(self._policy, now))
            for user_id, _ in chosen:
                await self._ask(tx, rollcall_id, user_id, scope, message, member.name, priority,
                                now, again=False, by_manager=team is not None)
            await audit.record(tx, member.id, "rollcall_start", None,
                               f"rollcall={rollcall_id} scope={scope.kind.value} "
                               f"asked={len(chosen)}", now)
            view = await self._view(tx, rollcall_id)
        log.info("roll-call %s started by user %s: %s asked", rollcall_id, member.id,
                 len(chosen))
        return view

    async def _ask(self, tx: Tx, rollcall_id: int, user_id: int, scope: Scope, message: str,
                   by_name: str, priority: int, now: datetime, *, again: bool,
                   by_manager: bool = False) -> None:
        await outbox.enqueue(
            tx, dedupe=f"rollcall:{rollcall_id}:ask:{user_id}:{2 if again else 1}",
            recipient=user_id, kind="rollcall_ask", priority=priority, now=now,
            cipher=self._cipher,
            params={"rollcall": rollcall_id, "scope": scope_params(scope), "message": message,
                    "by_name": by_name, "again": again, "by_manager": by_manager})

    async def _view(self, tx: Tx, rollcall_id: int) -> RollcallView:
        rc = await store.get(tx, rollcall_id, cipher=self._cipher)
        if rc is None:
            raise RollcallRefused("gone")
        initiator = await users.get(tx, rc.initiator, cipher=self._cipher)
        asked, safe, help_ = await store.counts(tx, rollcall_id)
        return RollcallView(rc.id, rc.scope, rc.message, rc.open, rc.started_at, rc.closed_at,
                            initiator.name if initiator else "?", Tally(asked, safe, help_),
                            rc.tally_message_id, rc.initiator, rc.limit_team, self._tz)

    async def _managed(self, tx: Tx, member: Member, rollcall_id: int) -> RollcallRow:
        rc = await store.get(tx, rollcall_id, cipher=self._cipher)
        if rc is None:
            raise RollcallRefused("gone")
        if not rules.may_manage(member, rc.initiator, rc.limit_team):
            raise RollcallRefused("not_allowed")
        return rc

    async def open_for(self, member: Member) -> list[RollcallView]:
        """The open roll-calls `member` may see and close, newest first."""
        async with self._db.read() as tx:
            found = await store.open_ones(tx, cipher=self._cipher)
            return [await self._view(tx, rc.id) for rc in found
                    if rules.may_manage(member, rc.initiator, rc.limit_team)]

    async def view(self, member: Member, rollcall_id: int) -> RollcallView:
        async with self._db.read() as tx:
            await self._managed(tx, member, rollcall_id)
            return await self._view(tx, rollcall_id)

    async def set_tally_message(self, rollcall_id: int, message_id: int) -> None:
        async with self._db.transaction() as tx:
            await store.set_tally_message(tx, rollcall_id, message_id)

    async def names(self, member: Member, rollcall_id: int, state: str,
                    page: int) -> NamesPage:
        """One page of the names of people who answered `state` (safe, help) or not (silent)."""
        if state not in ("safe", "help", "silent"):
            raise RollcallRefused("gone")
        async with self._db.read() as tx:
            await self._managed(tx, member, rollcall_id)
            ids, total = await store.ids_in_state(tx, rollcall_id, state, 0, 0)
            pages = max(1, -(-total // PAGE))
            page = min(max(page, 0), pages - 1)
            ids, total = await store.ids_in_state(tx, rollcall_id, state, page * PAGE, PAGE)
            found = {m.id: m.name for m in await users.by_ids(tx, ids, cipher=self._cipher)}
        return NamesPage(state, [found.get(i, "?") for i in ids], total, page, pages)

    async def close(self, member: Member, rollcall_id: int) -> RollcallView:
        """End a roll-call: nobody is chased any more; the officers (and the initiator) get
        the summary; the tally shows the final state."""
        now = self._clock.now()
        async with self._db.transaction() as tx:
            rc = await self._managed(tx, member, rollcall_id)
            if not await store.close(tx, rollcall_id, member.id, now):
                raise RollcallRefused("closed")
            view = await self._view(tx, rollcall_id)
            await audit.record(tx, member.id, "rollcall_close", None,
                               f"rollcall={rollcall_id} asked={view.tally.asked} "
                               f"safe={view.tally.safe} help={view.tally.help}", now)
            await self._queue_tally(tx, rc, view, now, force=True)
            await self._summarise(tx, rc, view, member, now)
        log.info("roll-call %s closed by user %s", rollcall_id, member.id)
        return view

    async def _initiator(self, tx: Tx, rc: RollcallRow) -> set[int]:
        """Whoever started the roll-call, unless they have erased themselves since."""
        who = await users.get(tx, rc.initiator, cipher=self._cipher)
        return {rc.initiator} if who is not None and who.unreachable != users.ERASED else set()

    async def _summarise(self, tx: Tx, rc: RollcallRow, view: RollcallView, by: Member,
                         now: datetime) -> None:
        lists, named = {}, set()
        for state in ("help", "silent"):
            ids, total = await store.ids_in_state(tx, rc.id, state, 0, SUMMARY_NAMES)
            people = await users.by_ids(tx, ids, cipher=self._cipher)
            named |= {m.id for m in people}
            lists[f"{state}_names"] = {"names": [m.name for m in people],
                                       "more": total - len(people)}
        officers = await users.reachable(tx, [Role.OFFICER], cipher=self._cipher)
        to = {m.id for m in officers} | await self._initiator(tx, rc)
        params = {**view.params(), "closed_by": by.name, **lists}
        for recipient in sorted(to):
            await outbox.enqueue(tx, dedupe=f"rollcall:{rc.id}:summary:to:{recipient}",
                                 recipient=recipient, kind="rollcall_summary", params=params,
                                 priority=rc.priority, now=now, cipher=self._cipher,
                                 about={*named, by.id})

    async def _queue_tally(self, tx: Tx, rc: RollcallRow, view: RollcallView, now: datetime,
                           *, force: bool = False) -> datetime:
        if not await self._initiator(tx, rc):
            return now  # nobody's tally to edit any more
        last_due, landed = await store.last_tally(tx, rc.id)
        due = now if force else rules.next_edit(last_due, now)
        params = {**view.params(), "edit": landed or rc.tally_message_id}
        return await store.queue_tally(tx, rc.id, rc.initiator, params, due,
                                       rules.TALLY_PRIORITY, now, cipher=self._cipher)

    async def reachable_again(self, user_id: int) -> int:
        """Someone who had blocked the bot is back: ask again the open roll-calls they could
        not answer (the first question never reached them). Return how many."""
        now = self._clock.now()
        async with self._db.transaction() as tx:
            found = await store.unanswered_open(tx, user_id)
            for rollcall_id in found:
                rc = await store.get(tx, rollcall_id, cipher=self._cipher)
                assert rc is not None
                await outbox.enqueue(
                    tx, dedupe=f"rollcall:{rc.id}:ask:{user_id}:back:{ts(now)}",
                    recipient=user_id, kind="rollcall_ask", priority=rc.priority, now=now,
                    cipher=self._cipher,
                    params={"rollcall": rc.id, "scope": scope_params(rc.scope),
                            "message": rc.message, "by_name": "", "again": True})
        if found:
            log.info("user %s reachable again: asked %s open roll-call(s)", user_id, len(found))
        return len(found)

    # --- answers ------------------------------------------------------------------------------

    async def waiting_for(self, user_id: int) -> list[int]:
        """The open roll-calls whose "Are you safe?" to this person waits for an answer (a
        "平安" typed instead of pressed answers them)."""
        async with self._db.read() as tx:
            return await store.waiting_for(tx, user_id)

    async def answer(self, user_id: int, rollcall_id: int, choice: Answer) -> Answered:
        """Record a person's answer; the tally follows (throttled). After the close it is
        kept too, and the initiator told."""
        now = self._clock.now()
        async with self._db.transaction() as tx:
            rc = await store.get(tx, rollcall_id, cipher=self._cipher)
            p = await store.person(tx, rollcall_id, user_id) if rc else None
            status = rules.answer(p is not None, rc is not None and not rc.open,
                                  p.answer if p else None, choice)
            if rc is None or status in (AnswerStatus.NOT_ASKED, AnswerStatus.ALREADY):
                return Answered(status)
            await store.set_answer(tx, rollcall_id, user_id, choice, now,
                                   late=status is AnswerStatus.LATE)
            missing = choice is Answer.SAFE and bool(
                await alerts.open_alerts_for(tx, user_id, CHECK_IN_ENDS))
            if p is not None and p.stage is Stage.MANAGER_TOLD:
                await self._tell_told(tx, rc, user_id, choice, now,
                                      late=status is AnswerStatus.LATE)
            if status is AnswerStatus.LATE:
                await self._tell_late(tx, rc, user_id, choice, now)
                return Answered(status, check_in_missing=missing)
            due = await self._queue_tally(tx, rc, await self._view(tx, rollcall_id), now)
        log.info("roll-call %s: user %s answered %s", rollcall_id, user_id, choice.value)
        return Answered(status, due, missing)

    async def _tell_told(self, tx: Tx, rc: RollcallRow, user_id: int, choice: Answer,
                         now: datetime, *, late: bool) -> None:
        """Whoever was told of this person's silence hears that they have answered now (and
        stops trying to reach them); the initiator of a closed one hears it as a late answer."""
        who = await users.get(tx, user_id, cipher=self._cipher)
        if who is None:
            return
        for recipient in await told_of_silence(tx, rc, who, self._cipher):
            if late and recipient == rc.initiator:
                continue
            dedupe = f"rollcall:{rc.id}:answered:{user_id}:{choice.value}:to:{recipient}"
            params = {"rollcall": rc.id, "name": who.name, "answer": choice.value}
            # Told by SMS or e-mail to try to reach them: told there too that they answered.
            for channel in ["telegram", *await store.silence_told_on(tx, rc.id, recipient)]:
                await outbox.enqueue(
                    tx, dedupe=dedupe if channel == "telegram" else f"{dedupe}:{channel}",
                    recipient=recipient, kind="rollcall_answered", priority=rc.priority,
                    now=now, cipher=self._cipher, params=params, channel=channel,
                    about=(user_id,))

    async def _tell_late(self, tx: Tx, rc: RollcallRow, user_id: int, choice: Answer,
                         now: datetime) -> None:
        who = await users.get(tx, user_id, cipher=self._cipher)
        if not await self._initiator(tx, rc):
            return
        await outbox.enqueue(
            tx, dedupe=f"rollcall:{rc.id}:late:{user_id}:{choice.value}", recipient=rc.initiator,
            kind="rollcall_late", priority=rc.priority, now=now, cipher=self._cipher,
            params={"rollcall": rc.id, "name": who.name if who else "?", "answer": choice.value,
                    "scope": scope_params(rc.scope)}, about=(user_id,))
