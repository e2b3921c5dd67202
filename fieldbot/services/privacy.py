"""Personal data: what is stored about a person, erasure on request, the retention purge,
and reading the audit log.

The policy in four words: minimum necessary, encrypted storage, access logged, destroyed when
due. Encryption happens in the storage functions (they are given the cipher); the key's life
cycle is `services/keys.py`; this service owns everything that looks at a person's data as a
whole.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from fieldbot.clock import Clock
from fieldbot.crypto import Cipher
from fieldbot.domain.contacts import ContactPoints
from fieldbot.domain.members import Member
from fieldbot.domain.roles import Role
from fieldbot.domain.trips import Leg
from fieldbot.storage import alerts, audit, contacts, outbox, trips, users, visits
from fieldbot.storage import privacy as store
from fieldbot.storage.audit import AuditEntry
from fieldbot.storage.codec import parse_ts, ts
from fieldbot.storage.db import Database, Tx
from fieldbot.storage.privacy import Erased, Purged
from fieldbot.storage.visits import NoteRow

log = logging.getLogger(__name__)

TRIPS_SHOWN = 5
PURGE_EVERY = timedelta(days=1)
PURGE_RETRY = timedelta(hours=1)
# Photos are stored by the hazard flow as photos/<sha256>.<ext> under the data directory.
_PHOTO = re.compile(r"photos/[0-9a-f]{64}\.(jpg|png|webp)")


@dataclass(frozen=True, slots=True)
class StoredTrip:
    id: int
    status: str
    legs: tuple[Leg, ...]  # where, named in the reader's language when shown
    start: date
    end: date
    lodging: str
    contact_name: str
    contact_phone: str
    purged: bool


@dataclass(frozen=True, slots=True)
class PersonalData:
    """Everything kept about one person, as /privacy shows it."""

    member: Member | None
    enrolled_at: datetime | None
    trips: tuple[StoredTrip, ...]  # the newest few, decrypted
    trip_count: int
    locations: int
    last_location: tuple[float, float, datetime] | None
    checkins: int
    skipped: int
    alerts_about: int
    open_alerts: tuple[int, ...]
    hazards: int
    photos: int
    audit_entries: int
    retention: timedelta
    contacts: ContactPoints = ContactPoints()
    visits: int = 0
    notes: tuple[NoteRow, ...] = ()  # the client safety notes they left that are still shown
    note_count: int = 0  # all of those (`notes` shows the newest few)


class ErasureRefused(Exception):
    """Why an erasure did not happen: an open alert about the person, or not allowed."""

    def __init__(self, reason: str, alert_ids: tuple[int, ...] = ()) -> None:
        super().__init__(reason)
        self.reason = reason
        self.alert_ids = alert_ids


async def _blockers(
    conn: Tx, subject_id: int, by: Member | None, *, asking: bool = False
) -> tuple[int, ...]:
    """The open alerts that stop an erasure, as `by` may see them. A person is never shown a
    duress alert about themselves (whoever holds the phone must not learn of it): asking
    goes on as usual, and the erasure itself is refused in general words ("try later")."""
    every = tuple(await store.open_alert_ids(conn, subject_id))
    if by is None or by.id != subject_id:
        return every
    visible = tuple(await store.open_alert_ids(conn, subject_id, hide_duress=True))
    if every and not visible and not asking:
        raise ErasureRefused("busy")
    return visible


def _allowed(subject_id: int, by: Member | None) -> None:
    """People erase themselves; admins (and the operator) erase anyone."""
    if by is not None and by.id != subject_id and by.role is not Role.ADMIN:
        raise ErasureRefused("not_allowed")


async def _nothing_held(tx: Tx, user_id: int, now: datetime, reason: str) -> int:
    return 0


class PrivacyService:
    def __init__(
        self, db: Database, clock: Clock, cipher: Cipher, retention: timedelta, data_dir: Path
    ) -> None:
        self._db = db
        self._clock = clock
        self._cipher = cipher
        self._retention = retention
        self._data_dir = data_dir
        self._next_purge: datetime | None = None
        # The escalation's `release_held` (wired by the container): alerts the erased person
        # acknowledged go back up their ladders.
        self.release_held: Callable[[Tx, int, datetime, str], Awaitable[int]] = _nothing_held

    # --- what is stored about a person ----------------------------------------------------

    async def personal_data(self, user_id: int) -> PersonalData:
        """Collect what is kept about a person (decrypted: for their own eyes)."""
        async with self._db.read() as conn:
            member = await users.get(conn, user_id, cipher=self._cipher)
            enrolled = await store.enrolled_at(conn, user_id)
            ids, total = await store.trip_ids_of(conn, user_id, TRIPS_SHOWN)
            purged = await store.purged_trip_ids(conn, ids) if ids else set()
            shown = []
            for trip_id in ids:
                trip = await trips.get(conn, trip_id, cipher=self._cipher)
                if trip is not None:
                    shown.append(StoredTrip(
                        trip.id, trip.status.value, trip.legs,
                        trip.start, trip.end, trip.lodging, trip.contact_name,
                        trip.contact_phone, trip.id in purged,
                    ))
            count = store.count
            hazards = photos = 0
            if await store.has_table(conn, "hazards"):
                hazards = await count(
                    conn, "SELECT COUNT(*) FROM hazards WHERE reporter_id = ?", user_id)
                photos = await count(
                    conn, "SELECT COUNT(*) FROM hazard_photos p JOIN hazards h"
                    " ON h.id = p.hazard_id WHERE h.reporter_id = ?", user_id)
            return PersonalData(
                member=member,
                enrolled_at=parse_ts(enrolled) if enrolled else None,
                trips=tuple(shown),
                trip_count=total,
                locations=await count(
                    conn, "SELECT COUNT(*) FROM locations WHERE user_id = ?", user_id),
                last_location=await alerts.last_location(conn, user_id, cipher=self._cipher),
                checkins=await count(conn, "SELECT COUNT(*) FROM nights WHERE user_id = ?"
                                     " AND state = 'checked_in'", user_id),
                skipped=await count(conn, "SELECT COUNT(*) FROM nights WHERE user_id = ?"
                                    " AND state = 'skipped'", user_id),
                # A duress alert is never shown to the person it is about, not even here:
                # whoever holds the phone must not learn that one was raised, ever after.
                alerts_about=await count(
                    conn, "SELECT COUNT(*) FROM alerts WHERE user_id = ? AND kind != 'duress'",
                    user_id),
                open_alerts=tuple(await store.open_alert_ids(conn, user_id, hide_duress=True)),
                hazards=hazards,
                photos=photos,
                audit_entries=await audit.count_about(conn, user_id, hide_duress=True),
                retention=self._retention,
                contacts=await contacts.get(conn, user_id, self._cipher),
                visits=await count(conn, "SELECT COUNT(*) FROM visits WHERE user_id = ?",
                                   user_id),
                notes=tuple(await visits.notes_by(conn, user_id, self._clock.now(),
                                                  cipher=self._cipher)),
                note_count=await count(
                    conn, "SELECT COUNT(*) FROM visit_notes WHERE author_id = ?"
                    " AND removed_at IS NULL AND expires_at > ?", user_id,
                    ts(self._clock.now())),
            )

    # --- erasure ------------------------------------------------------------------------

    async def erasure_blockers(self, subject_id: int, by: Member | None) -> tuple[int, ...]:
        """Return the ids of open alerts about a person: while one is open, nothing is erased
        (the people handling it need the lodging, the contact and the last location).

        Raises ErasureRefused("not_allowed") unless `by` may erase this person at all.
        """
        _allowed(subject_id, by)
        async with self._db.read() as conn:
            return await _blockers(conn, subject_id, by, asking=True)

    async def erase(self, subject_id: int, by: Member | None) -> Erased:
        """Erase a person's personal data; their statistics stay, anonymised.

        `by` is the person themselves or an admin; None is the operator's command line.
        """
        _allowed(subject_id, by)
        now = self._clock.now()
        async with self._db.transaction() as conn:
            blockers = await _blockers(conn, subject_id, by)
            if blockers:
                raise ErasureRefused("open_alert", blockers)
            subject = await users.get(conn, subject_id, cipher=self._cipher)
            # Nothing keeps running for a person who is gone: no nights, no trips, no
            # approvals (all in this transaction, so the sweep never sees half of it).
            stopped = await store.stop_safety_work(conn, subject_id, now)
            # Chosen over making the erasure wait: an acknowledgement is a promise that someone
            # is handling it, and a person being erased can no longer keep it; back on the
            # ladder (the next tier, at once) a person who can act has it within minutes.
            await self.release_held(conn, subject_id, now, "erased")
            erased = await store.erase_person(conn, subject_id)
            erased.contacts = await contacts.erase(conn, subject_id)  # phone, e-mail, codes
            if subject is not None and stopped.trips:
                await self._tell_managers(conn, subject, erased.stand_in, stopped, now)
            files = await self._unused_photos(conn, erased.photos)
            if erased.stand_in == 0:  # nobody stored under that id: nothing was erased
                log.info("user %s: nothing stored, nothing erased", subject_id)
                return erased
            await audit.record(
                conn, by.id if by else None, "erase", subject_id,
                f"trips={erased.trips} locations={erased.locations}"
                f" messages={erased.messages} hazards={erased.hazards}"
                f" photos={len(erased.photos)}",
                now,
            )
        await self._delete(files)
        await store.truncate_wal(self._db)
        log.info("user %s erased (by %s)", subject_id, by.id if by else "the operator")
        return erased

    async def _tell_managers(
        self,
        conn: Tx,
        subject: Member,
        stand_in: int,
        stopped: store.Stopped,
        now: datetime,
    ) -> None:
        """Tell the person's managers once that their check-ins stopped. The notice names the
        trips (place and dates, kept anonymised for statistics anyway), never the person's
        name or anything else erased: the outbox must not become a copy of it."""
        managers = await users.reachable(conn, [Role.MANAGER], subject.team, but=subject.id,
                                         cipher=self._cipher)
        if not managers:
            return
        shown = []
        for trip_id in stopped.trips[:TRIPS_SHOWN]:
            trip = await trips.get(conn, trip_id, cipher=self._cipher)
            if trip is not None:
                shown.append({"places": [leg.place.label() for leg in trip.legs],
                              "named_places": [leg.place.named() for leg in trip.legs],
                              "start": trip.start.isoformat(), "end": trip.end.isoformat(),
                              "ended": trip_id in stopped.ended})
        for manager in managers:
            await outbox.enqueue(
                conn, cipher=self._cipher, dedupe=f"erased:{stand_in}:to:{manager.id}",
                recipient=manager.id, kind="erasure_notice",
                params={"trips": shown, "more": len(stopped.trips) - len(shown)},
                priority=outbox.PRIORITY_NOTICE, now=now,
            )

    # --- retention ----------------------------------------------------------------------

    async def purge(self) -> Purged:
        """Purge what is older than the retention period allows (see storage.privacy)."""
        now = self._clock.now()
        async with self._db.transaction() as conn:
            purged = await store.purge_before(conn, now - self._retention, now)
            files = await self._unused_photos(conn, purged.photos)
            if purged.trips or purged.locations or purged.messages or purged.photos:
                await audit.record(conn, None, "retention_purge", None, purged.summary(), now)
        await self._delete(files)
        if purged.trips or purged.locations or purged.messages or purged.photos:
            await store.truncate_wal(self._db)
            log.info("retention purge: %s", purged.summary())
        return purged

    async def purge_if_due(self) -> Purged | None:
        """Purge at most once a day (called from every sweep); never let it stop the sweep."""
        now = self._clock.now()
        if self._next_purge is not None and now < self._next_purge:
            return None
        try:
            purged = await self.purge()
        except Exception:
            log.exception("retention purge failed; trying again in an hour")
            self._next_purge = now + PURGE_RETRY
            return None
        self._next_purge = now + PURGE_EVERY
        return purged

    # --- the audit log ------------------------------------------------------------------

    async def audit_log(self, since: datetime) -> list[AuditEntry]:
        """Return the audit log since an instant; the export itself is logged."""
        now = self._clock.now()
        async with self._db.transaction() as conn:
            entries = await audit.since(conn, since)
            await audit.record(conn, None, "audit_export", None,
                               f"since={since.date().isoformat()} entries={len(entries)}", now)
        return entries

    async def verify_audit(self) -> audit.ChainCheck:
        """Check the audit log's chain (`fieldbot audit --verify`); the check is not itself
        logged, so that verifying twice gives the same answer. The chain and its head are read
        in one snapshot: an entry the bot appends meanwhile is not taken for one put in."""
        async with self._db.snapshot() as conn:
            return await audit.verify(conn)

    # --- photo files --------------------------------------------------------------------

    async def _unused_photos(
        self, conn: Tx, photos: list[tuple[str, str]]
    ) -> list[Path]:
        """Of the photos whose rows were deleted, the files no other report refers to."""
        still = await store.photos_still_used(conn, [sha for sha, _ in photos])
        return [self._data_dir / path for sha, path in photos
                if sha not in still and _PHOTO.fullmatch(path)]

    async def _delete(self, files: list[Path]) -> None:
        def unlink_all() -> None:
            for path in files:
                path.unlink(missing_ok=True)

        if files:
            await asyncio.to_thread(unlink_all)
