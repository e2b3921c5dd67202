"""Drills (DESIGN.md §12): a practice alert for a team or a person through the real ladder,
labelled DRILL everywhere (`drill: True` in every outbox row, for every channel), ended by
the person's "I'm safe" or a lead's Acknowledge, measured, and reported to the officer who
started it. Rules: `fieldbot.domain.drills`."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fieldbot.clock import Clock
from fieldbot.crypto import Cipher
from fieldbot.domain import drills as rules
from fieldbot.domain.alerts import AlertState, Priority
from fieldbot.domain.drills import DrillState
from fieldbot.domain.ladder import AlertKind
from fieldbot.domain.members import Member
from fieldbot.domain.policy import Policy, fold_text
from fieldbot.domain.roles import Role
from fieldbot.services.escalation import EscalationService
from fieldbot.storage import alerts, audit, outbox, users
from fieldbot.storage import drills as store
from fieldbot.storage.codec import ts
from fieldbot.storage.db import Database, Tx
from fieldbot.storage.drills import DrillRow

log = logging.getLogger(__name__)

RESULT_LINES = 30  # people named in the result message at most ("… and K more")
TEAMS_OFFERED = 10
PEOPLE_FOUND = 5


class DrillError(Exception):
    """Why a drill action was refused: not_allowed, nobody, too_many, real_alert, unknown,
    already (answered), over (the drill ended unanswered)."""

    def __init__(self, reason: str, by: int | None = None, missed: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.by = by
        self.missed = missed  # the person's real check-in is still missing


@dataclass(frozen=True, slots=True)
class Started:
    drill: DrillRow
    asked: int
    left_out: int = 0  # people with a real alert live: not drilled now


class DrillService:
    def __init__(self, db: Database, clock: Clock, policy: Policy, cipher: Cipher,
                 escalation: EscalationService) -> None:
        self._db = db
        self._clock = clock
        self._policy = policy.drill
        self._cipher = cipher
        self._escalation = escalation

    async def teams(self, query: str = "") -> tuple[list[tuple[str, int]], int]:
        """The teams with staff to drill (whose name contains `query`, if given), and how
        many each: at most TEAMS_OFFERED, and how many teams there are in all."""
        folded = fold_text(query[:64])
        async with self._db.read() as tx:
            staff = await users.with_role(tx, [Role.STAFF], cipher=self._cipher)
        counts: dict[str, int] = {}
        for m in staff:
            if m.team and m.unreachable is None and folded in fold_text(m.team):
                counts[m.team] = counts.get(m.team, 0) + 1
        return sorted(counts.items())[:TEAMS_OFFERED], len(counts)

    async def find_people(self, query: str, by: Member) -> list[Member]:
        """Staff and managers whose name contains `query` (not `by`), at most PEOPLE_FOUND."""
        folded = fold_text(query[:64])
        if not folded:
            return []
        async with self._db.read() as tx:
            found = await users.with_role(tx, [Role.STAFF, Role.MANAGER], cipher=self._cipher)
        return [m for m in found if folded in fold_text(m.name) and m.id != by.id
                and m.unreachable is None][:PEOPLE_FOUND]

    async def start(self, by: Member, *, team: str | None = None,
                    user_id: int | None = None) -> Started:
        """Open a DRILL alert for each person of `team` (its staff) or for one person, and
        carry out each first step at once."""
        if by.role is not Role.OFFICER:
            raise DrillError("not_allowed")
        now = self._clock.now()
        async with self._db.transaction() as tx:
            people = await self._targets(tx, by, team, user_id)
            if not people:
                raise DrillError("nobody")
            if len(people) > self._policy.max_people:
                raise DrillError("too_many")
            busy = {m.id for m in people
                    if await alerts.open_alerts_for(tx, m.id, rules.REAL_KINDS)}
            people = [m for m in people if m.id not in busy]
            if not people:
                raise DrillError("real_alert")
            drill_id = await store.add(tx, by.id, team or people[0].team, now,
                                       now + self._policy.ends_after)
            for person in people:
                alert_id = await alerts.open_alert(
                    tx, kind=AlertKind.DRILL, user_id=person.id, trip_id=None, night_id=None,
                    risk_level=0, anchor=now, now=now)
                assert alert_id is not None
                await store.add_alert(tx, drill_id, alert_id, person.id)
                await self._escalation.run_step(tx, alert_id, now)
            await audit.record(tx, by.id, "drill_start", user_id,
                               f"drill={drill_id} people={len(people)}"
                               f" scope={'team' if team else 'person'}", now)
            drill = await store.get(tx, drill_id)
        assert drill is not None
        log.info("drill %s started by %s for %s people", drill_id, by.id, len(people))
        return Started(drill, len(people), len(busy))

    async def _targets(self, tx: Tx, by: Member, team: str | None, user_id: int | None
                       ) -> list[Member]:
        if team:
            found = await users.with_role(tx, [Role.STAFF], team, cipher=self._cipher)
            return [m for m in found if m.unreachable is None]
        if user_id is None or user_id == by.id:
            return []
        person = await users.get(tx, user_id, cipher=self._cipher)
        if person is None or person.unreachable == "erased" or person.role not in (
                Role.STAFF, Role.MANAGER):
            return []
        return [person]

    async def open_drills(self, by: Member) -> list[DrillRow]:
        async with self._db.read() as tx:
            return await store.open_by(tx, by.id)

    async def safe(self, alert_id: int, by: Member) -> bool:
        """The person answers their drill: "I'm safe". Everyone alerted is told (DRILL).
        Returns whether a real missed check-in of theirs is still open (the drill's answer
        never ends it)."""
        now = self._clock.now()
        async with self._db.transaction() as tx:
            a = await alerts.alert(tx, alert_id)
            if a is None or a.kind is not AlertKind.DRILL or a.user_id != by.id:
                raise DrillError("unknown")
            missed = bool(await alerts.open_alerts_for(tx, by.id, rules.CHECK_IN_ENDS))
            if a.state is not AlertState.OPEN:  # answered, or the drill ended unanswered
                over = a.resolution in (rules.ENDED_RESOLUTION, rules.STOOD_DOWN_RESOLUTION)
                raise DrillError("over" if over else "already", a.acked_by, missed)
            if not await alerts.finish(tx, alert_id, AlertState.CLOSED, by.id, now,
                                       rules.SAFE_RESOLUTION):
                raise DrillError("already")
            await outbox.withdraw_ladder(tx, alert_id)
            await audit.record(tx, by.id, "drill_safe", by.id, f"alert={alert_id}", now)
            for uid in await alerts.recipients(tx, alert_id):
                await outbox.enqueue(
                    tx, cipher=self._cipher, dedupe=f"clear:{alert_id}:to:{uid}",
                    recipient=uid, kind="all_clear", priority=int(Priority.ALERT), now=now,
                    params={"alert": a.label, "at": ts(now), "subject_name": by.name,
                            "drill": True})
            drill_id = await store.of_alert(tx, alert_id)
        if drill_id is not None:
            await self.settle(drill_id)
        return missed

    async def settle_alert(self, alert_id: int) -> None:
        """After a lead acted on an alert: if it was a drill's last, the drill ends now."""
        async with self._db.read() as tx:
            drill_id = await store.of_alert(tx, alert_id)
        if drill_id is not None:
            await self.settle(drill_id)

    async def sweep(self) -> int:
        """End the drills that are over (every alert answered, or their time is up)."""
        async with self._db.read() as tx:
            due = await store.to_settle(tx, self._clock.now(), 100)
        done = 0
        for drill_id in due:
            try:
                done += await self.settle(drill_id)
            except Exception:
                log.exception("drill %s could not be ended; trying again later", drill_id)
        return done

    async def next_due(self) -> datetime | None:
        async with self._db.read() as tx:
            return await store.next_end(tx)

    async def settle(self, drill_id: int) -> int:
        """End the drill if it is over: close its alerts (nobody answered: "never did"), and
        send the officer the result. Returns 1 if it ended now."""
        now = self._clock.now()
        async with self._db.transaction() as tx:
            d = await store.get(tx, drill_id)
            if d is None or d.state is DrillState.DONE:
                return 0
            live = await store.live_alert_ids(tx, drill_id)
            if not rules.is_over(len(live), d.ends_at, now):
                return 0
            for alert_id in live:
                await alerts.finish(tx, alert_id, AlertState.CLOSED, None, now,
                                    rules.ENDED_RESOLUTION)
                await outbox.withdraw_ladder(tx, alert_id)
            await self._close_acknowledged(tx, drill_id, now)
            if not await store.finish(tx, drill_id, now):
                return 0
            results = await store.results(tx, drill_id, d.started_at)
            params = await self._result_params(tx, d, results)
            shown = rules.ordered(results)[:RESULT_LINES]  # the result's lines name them
            named = {r.user_id for r in shown} | {r.by for r in shown if r.by}
            for uid in await self._result_to(tx, d):
                await outbox.enqueue(
                    tx, cipher=self._cipher, dedupe=f"drill:{drill_id}:result:to:{uid}",
                    recipient=uid, kind="drill_result", priority=int(Priority.NOTICE),
                    now=now, params=params, about=named)
            summary = rules.summarise(results)
            await audit.record(tx, None, "drill_done", None,
                               f"drill={drill_id} asked={summary.asked}"
                               f" answered={summary.answered}", now)
        log.info("drill %s ended", drill_id)
        return 1

    async def _result_to(self, tx: Tx, d: DrillRow) -> list[int]:
        """Who gets the result: the officer who started the drill; once they are erased
        (their id is a stand-in that reaches nobody), the safety officers."""
        starter = await users.get(tx, d.started_by, cipher=self._cipher)
        if starter is not None and starter.unreachable != "erased":
            return [starter.id]
        return [m.id for m in await users.with_role(tx, [Role.OFFICER], cipher=self._cipher)]

    async def _close_acknowledged(self, tx: Tx, drill_id: int, now: datetime) -> None:
        """Acknowledged drill alerts are done with: closed, so no board shows them live."""
        for alert_id in await store.alert_ids(tx, drill_id):
            a = await alerts.alert(tx, alert_id)
            if a is not None and a.state is AlertState.ACKNOWLEDGED:
                await alerts.finish(tx, a.id, AlertState.CLOSED, None, now, "drill_acked")

    async def _result_params(self, tx: Tx, d: DrillRow,
                             results: list[rules.TargetResult]) -> dict[str, Any]:
        summary = rules.summarise(results)
        lines = []
        for r in rules.ordered(results)[:RESULT_LINES]:
            person = await users.get(tx, r.user_id, cipher=self._cipher)
            by = await users.get(tx, r.by, cipher=self._cipher) if r.by else None
            lines.append({"name": person.name if person else "?", "outcome": r.outcome.value,
                          "by_name": by.name if by else "",
                          "after": r.after.total_seconds() if r.after is not None else None})
        return {"drill": True, "label": d.label, "team": d.team, "asked": summary.asked,
                "answered": summary.answered, "lines": lines,
                "more": max(0, len(results) - RESULT_LINES),
                "median": None if summary.median is None else summary.median.total_seconds(),
                "worst": None if summary.worst is None else summary.worst.total_seconds()}
