"""The roll-call sweep: each silent person due is asked again, then their manager is told.

Driven by the sweeper like nights: the state is in `rollcall_people` (stage, due_at), each
change a compare-and-set, its messages written in the same transaction; a restart or a second
worker loses nothing and sends nothing twice (the outbox's dedupe keys).
"""

from __future__ import annotations

import logging
from datetime import datetime

from fieldbot.clock import Clock
from fieldbot.crypto import Cipher
from fieldbot.domain import alerts as alert_rules
from fieldbot.domain import channels as channel_rules
from fieldbot.domain import rollcall as rules
from fieldbot.domain.policy import Policy
from fieldbot.domain.rollcall import Effect
from fieldbot.services.escalation.fanout import Fanout
from fieldbot.services.rollcall import scope_params, told_of_silence
from fieldbot.storage import outbox, users
from fieldbot.storage import rollcall as store
from fieldbot.storage.codec import ts
from fieldbot.storage.db import Database, StorageUnavailable, Tx
from fieldbot.storage.outbox import OutboxMessage
from fieldbot.storage.rollcall import PersonRow

log = logging.getLogger(__name__)

BATCH = 200
LISTED = 30  # names in one notice to a manager; the rest are counted

# (roll-call, recipient) -> the silent people to tell them about in one message
Notices = dict[tuple[int, int], list[tuple[int, str]]]


class RollcallSweep:
    def __init__(self, db: Database, clock: Clock, policy: Policy, cipher: Cipher,
                 fanout: Fanout | None = None, tz: str = "UTC") -> None:
        self._tz = tz  # the organisation's own zone: "since" reads in it
        self._db = db
        self._clock = clock
        self._policy = policy.rollcall
        self._channels = policy.channels
        self._cipher = cipher
        self._fanout = fanout or Fanout()  # Telegram only unless the channels are wired

    async def _send(self, tx: Tx, *, dedupe: str, recipient: int, kind: str,
                    params: dict[str, object], priority: int, now: datetime,
                    listed: tuple[str, ...], about: tuple[int, ...] = ()) -> None:
        """A message on Telegram, and at once on the policy's text channels beyond it that
        can reach the person (docs/RELIABILITY.md: roll-calls beyond Telegram). `about`:
        whom it names (see `outbox.enqueue`)."""
        await outbox.enqueue(tx, dedupe=dedupe, recipient=recipient, kind=kind,
                             priority=priority, now=now, cipher=self._cipher, params=params,
                             about=about)
        usable = await self._fanout.usable(tx, recipient)
        for channel in channel_rules.notice_channels(listed, usable):
            await outbox.enqueue(tx, dedupe=f"{dedupe}:{channel}", recipient=recipient,
                                 kind=kind, priority=priority, now=now, cipher=self._cipher,
                                 params=params, channel=channel, about=about)

    async def sweep(self) -> bool:
        """Advance the silent people due now; True if the batch was full (more may be due)."""
        now = self._clock.now()
        async with self._db.read() as tx:
            due = await store.due_people(tx, now, BATCH)
        try:
            async with self._db.transaction() as tx:
                notices: Notices = {}
                for person, started in due:
                    await self._advance(tx, person, started, now, notices)
                await self._tell(tx, notices, now)
        except Exception:
            log.exception("roll-call sweep failed; pushing its people forward")
            await self._push(due, now)
        return len(due) == BATCH

    async def next_due(self) -> datetime | None:
        async with self._db.read() as tx:
            return await store.next_due(tx)

    async def _push(self, due: list[tuple[PersonRow, datetime]], now: datetime) -> None:
        """A step that raised is tried a minute later, never a crash loop."""
        try:
            async with self._db.transaction() as tx:
                for person, _ in due:
                    await tx.execute(
                        "UPDATE rollcall_people SET due_at = ? WHERE rollcall_id = ?"
                        " AND user_id = ? AND answer IS NULL",
                        (ts(alert_rules.retry_at(now)),
                         person.rollcall_id, person.user_id))
        except StorageUnavailable:
            log.critical("could not push roll-call people forward", exc_info=True)

    async def on_delivery_failed(self, tx: Tx, message: OutboxMessage) -> None:
        """The outbox's hook: a question that cannot reach its person tells their manager
        now, not after manager_after."""
        if message.kind != "rollcall_ask" or message.channel != channel_rules.TELEGRAM:
            return  # an SMS copy failing says nothing about the question in Telegram
        p = await store.person(tx, int(message.params["rollcall"]), message.recipient)
        move = rules.unreachable(p.stage, p.due_at) if p and p.answer is None else None
        if p is not None and move is not None:
            await self._apply(tx, p, move, self._clock.now(), unreachable=True)

    async def _advance(self, tx: Tx, p: PersonRow, started: datetime, now: datetime,
                       notices: Notices) -> None:
        move = rules.on_due(self._policy, p.stage, p.due_at, started, now)
        if move is not None:
            await self._apply(tx, p, move, now, notices=notices)

    async def _tell(self, tx: Tx, notices: Notices, now: datetime) -> None:
        """One message per roll-call and recipient for the silent people of this sweep (forty
        silent reps are one list for their manager, not forty messages)."""
        for (rollcall_id, recipient), people in notices.items():
            rc = await store.get(tx, rollcall_id, cipher=self._cipher)
            if rc is None:
                continue
            first = people[0][0]
            params: dict[str, object] = {
                "rollcall": rc.id, "scope": scope_params(rc.scope),
                "since": rc.started_at.isoformat(), "tz": self._tz, "unreachable": False}
            if len(people) == 1:
                params["name"] = people[0][1]
                dedupe = f"rollcall:{rc.id}:silent:{first}:to:{recipient}"
            else:
                params["names"] = [name for _, name in people[:LISTED]]
                params["more"] = len(people) - LISTED if len(people) > LISTED else 0
                dedupe = f"rollcall:{rc.id}:silent:{first}+{len(people)}:to:{recipient}"
            await self._send(tx, dedupe=dedupe, recipient=recipient, kind="rollcall_silent",
                             priority=rc.priority, now=now, params=params,
                             listed=self._channels.manager,
                             about=tuple(uid for uid, _ in people[:LISTED]))

    async def _apply(self, tx: Tx, p: PersonRow, move: rules.PersonMove, now: datetime, *,
                     unreachable: bool = False, notices: Notices | None = None) -> None:
        subject = await users.get(tx, p.user_id, cipher=self._cipher)
        if subject is None or subject.unreachable == users.ERASED:
            move = rules.PersonMove(rules.Stage.MANAGER_TOLD, None, ())  # erased: nothing more
        if not await store.move_person(tx, p, move.stage, move.due_at):
            return  # an answer or another worker got there first
        rc = await store.get(tx, p.rollcall_id, cipher=self._cipher)
        if rc is None or subject is None:
            return
        started = rc.started_at
        if Effect.REMIND in move.effects:
            await self._send(
                tx, dedupe=f"rollcall:{rc.id}:ask:{p.user_id}:2", recipient=p.user_id,
                kind="rollcall_ask", priority=rc.priority, now=now, listed=self._channels.rep,
                params={"rollcall": rc.id, "scope": scope_params(rc.scope),
                        "message": rc.message, "by_name": "", "again": True})
        if Effect.TELL_MANAGER in move.effects:
            for recipient in await told_of_silence(tx, rc, subject, self._cipher):
                if notices is not None:
                    notices.setdefault((rc.id, recipient), []).append((p.user_id, subject.name))
                    continue
                await self._send(
                    tx, dedupe=f"rollcall:{rc.id}:silent:{p.user_id}:to:{recipient}",
                    recipient=recipient, kind="rollcall_silent", priority=rc.priority,
                    now=now, listed=self._channels.manager,
                    params={"rollcall": rc.id, "name": subject.name,
                            "scope": scope_params(rc.scope), "since": started.isoformat(),
                            "tz": self._tz, "unreachable": unreachable},
                    about=(p.user_id,))
        log.info("roll-call %s: user %s silent, %s", rc.id, p.user_id,
                 ",".join(e.value for e in move.effects) or "waiting")
