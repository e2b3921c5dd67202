"""The incidents' deadlines, driven by the sweep: each due deadline runs its ladder
(`domain.incidents.run_deadline`: the owner, then the officers), claimed with a
compare-and-set and written to the outbox in the same transaction. A deadline that raises is
pushed forward, never a crash loop."""

from __future__ import annotations

import logging
from datetime import datetime

from fieldbot.clock import Clock
from fieldbot.crypto import Cipher
from fieldbot.domain import incidents as rules
from fieldbot.domain.alerts import STEP_RETRY, Priority
from fieldbot.domain.incidents import IncidentState
from fieldbot.domain.policy import Policy
from fieldbot.domain.roles import Role
from fieldbot.storage import audit, outbox, users
from fieldbot.storage import incidents as store
from fieldbot.storage.codec import ts
from fieldbot.storage.db import Database, StorageUnavailable, Tx

log = logging.getLogger(__name__)

BATCH = 200


class IncidentDeadlines:
    def __init__(self, db: Database, clock: Clock, policy: Policy, cipher: Cipher,
                 tz: str = "UTC") -> None:
        self._db = db
        self._tz = tz  # the desk's own zone (settings.default_tz): deadlines read in it
        self._clock = clock
        self._policy = policy.incident
        self._cipher = cipher

    async def sweep(self) -> int:
        """Carry out every deadline step due now; return how many reached somebody."""
        now = self._clock.now()
        async with self._db.read() as tx:
            due = await store.due_deadline_ids(tx, now, BATCH)
        sent = 0
        for deadline_id in due:
            try:
                async with self._db.transaction() as tx:
                    sent += await self._run(tx, deadline_id, now)
            except Exception:
                log.exception("incident deadline %s failed; retrying later", deadline_id)
                try:
                    async with self._db.transaction() as tx:
                        await store.push_deadline(tx, deadline_id, now + STEP_RETRY)
                except StorageUnavailable:
                    log.critical("could not push incident deadline %s forward", deadline_id)
        return sent

    async def next_due(self) -> datetime | None:
        async with self._db.read() as tx:
            return await store.next_deadline_due(tx)

    async def _run(self, tx: Tx, deadline_id: int, now: datetime) -> int:
        d = await store.deadline(tx, deadline_id)
        if d is None or d.next_due_at is None or d.next_due_at > now:
            return 0
        incident = await store.get(tx, d.incident_id, cipher=self._cipher)
        if incident is None or incident.state is IncidentState.CLOSED:
            await store.meet(tx, d.incident_id, (d.kind,), now)
            return 0
        run = rules.run_deadline(self._policy, d.due_at, d.step_index, d.next_due_at, now)
        if run is None:
            return 0
        if not await store.move_deadline(tx, d, run.step_index, run.next_due_at):
            return 0  # another worker moved it: it carries the step out
        officers = [m.id for m in await users.with_role(tx, [Role.OFFICER], cipher=self._cipher)]
        owner = await users.get(tx, incident.owner_id, cipher=self._cipher)
        # An owner who cannot be told (erased, or blocked the bot): the officers at once.
        owner_id = owner.id if owner and not owner.unreachable else None
        for step in run.steps:
            to = rules.audience(step.tier, owner_id, officers)
            params = {"incident": incident.label, "incident_id": incident.id,
                      "grade": incident.grade.value, "what": d.kind.value,
                      "due_at": ts(d.due_at), "tz": self._tz, "tier": int(step.tier),
                      "attempt": step.attempt, "late": run.late,
                      "overdue": now >= d.due_at, "owner_id": incident.owner_id}
            for uid in to:
                await outbox.enqueue(
                    tx, dedupe=f"incident:{incident.id}:{d.kind.value}:step:{step.index}:to:{uid}",
                    recipient=uid, kind="incident_due", params=params,
                    priority=int(Priority.NOTICE), now=now, cipher=self._cipher)
            await audit.record(tx, None, "incident_step", None,
                               f"incident={incident.id} deadline={d.kind.value}"
                               f" step={step.index} tier={int(step.tier)}"
                               f" to={','.join(str(u) for u in to) or 'none'}", now)
        return len(run.steps)
