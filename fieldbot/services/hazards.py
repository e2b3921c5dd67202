"""Hazard reports: save, route by severity, verify or dismiss, award points, warn colleagues."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from fieldbot.clock import Clock
from fieldbot.crypto import Cipher
from fieldbot.domain.hazards import (
    MAX_RADIUS_KM,
    Hazard,
    HazardReport,
    HazardState,
    PhotoRef,
    headline,
    points_for,
    radius_km,
    risk_level_of,
)
from fieldbot.domain.members import Member
from fieldbot.domain.risk import DEFAULT_HAZARD_MAX_AGE, HazardSignal, haversine_km
from fieldbot.domain.roles import Role
from fieldbot.domain.trips import earliest_today
from fieldbot.services.photos import PhotoStore, check_size
from fieldbot.storage import hazards, outbox, users
from fieldbot.storage.db import Database, Tx

log = logging.getLogger(__name__)

KM_PER_DEGREE_LAT = 111.0
OPEN_LIST_LIMIT = 10
LEADERBOARD_SIZE = 10


class HazardDecisionError(Exception):
    """Why a lead cannot verify or dismiss: unknown, own, not_allowed, already."""

    def __init__(self, reason: str, by_name: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.by_name = by_name


@dataclass(frozen=True, slots=True)
class Reported:
    hazard: Hazard
    alerted: int  # leads told at once (red and orange); 0: it waits in /hazards
    duplicate: bool = False
    to_admins: bool = False  # no manager or officer could be told: the admins were


@dataclass(frozen=True, slots=True)
class Decided:
    hazard: Hazard
    points: int  # awarded to the reporter (0 when dismissed)
    notified: int  # colleagues with a trip in the radius who are told
    reporter_gone: bool = False  # erased since: nobody earns points or hears of it


@dataclass(frozen=True, slots=True)
class Standing:
    mine: int
    board: list[tuple[int, str, int]]  # (user id, name, points), most first


class HazardService:
    def __init__(self, db: Database, clock: Clock, photos: PhotoStore, cipher: Cipher) -> None:
        self._db = db
        self._clock = clock
        self._photos = photos
        self._cipher = cipher  # the outbox params carry the place, the photo and the reporter

    # --- photos ---------------------------------------------------------------------------

    def check_size(self, size: int | None) -> None:
        """Refuse a file over 20 MB before it is downloaded (raises PhotoRejected)."""
        check_size(size)

    async def add_photo(self, data: bytes, reporter_id: int) -> PhotoRef:
        """Clean and store one photo of a draft; raises PhotoRejected with the reason.

        A person's photos are checked one at a time (each may take a few hundred MB while decoded).
        """
        ref = await self._photos.add(data, owner=reporter_id)
        async with self._db.transaction() as conn:  # whose draft holds it, until it is sent
            await hazards.keep_draft_photo(conn, ref, reporter_id, self._clock.now())
        return ref

    async def photo_bytes(self, ref: PhotoRef) -> bytes | None:
        """Return a stored photo's bytes; None if it is gone (purged or erased)."""
        return await self._photos.read(ref)

    async def photo_file_bytes(self, path: Path) -> bytes | None:
        """Return the decrypted bytes of a stored photo by its path (outbox messages carry
        the path); None if it is gone."""
        return await self._photos.read_file(path)

    async def discard_photos(self, refs: list[PhotoRef], user_id: int) -> None:
        """Delete the photos of `user_id`'s cancelled draft, unless a saved report or someone
        else's draft uses them too (one file per content)."""
        async with self._db.transaction() as conn:
            await hazards.drop_draft_photos(conn, user_id, [r.sha256 for r in refs])
            used = await hazards.photos_in_use(conn, [r.sha256 for r in refs])
            await self._photos.remove(r for r in refs if r.sha256 not in used)

    # --- reporting ------------------------------------------------------------------------

    async def report(self, member: Member, report: HazardReport, draft_key: str) -> Reported:
        """Save a confirmed report; red and orange go to the managers and officers at once."""
        now = self._clock.now()
        radius = radius_km(report.category, report.by_place_name)
        async with self._db.transaction() as conn:
            earlier = await hazards.by_draft(conn, draft_key, cipher=self._cipher)
            if earlier is not None:
                return Reported(earlier, 0, duplicate=True)
            hazard_id = await hazards.insert(conn, member.id, member.team, report, radius, now,
                                             draft_key, cipher=self._cipher)
            assert hazard_id is not None
            hazard = await hazards.get(conn, hazard_id, cipher=self._cipher)
            assert hazard is not None
            await hazards.drop_draft_photos(conn, member.id, [p.sha256 for p in report.photos])
            alerted = 0
            leads: list[Member] = []
            if report.severity.urgent:
                leads = await self._leads_of(conn, member)
                for lead in leads:
                    alerted += await outbox.enqueue(
                        conn, cipher=self._cipher, dedupe=f"hazard:{hazard_id}:alert:to:{lead.id}",
                        recipient=lead.id, kind="hazard_alert", now=now,
                        params=self._params(hazard, member.name),
                        priority=outbox.PRIORITY_ALERT, about=(member.id,),
                    )
        log.info("hazard %s reported by user %s (severity %s)", hazard_id, member.id,
                 int(report.severity))
        return Reported(hazard, alerted,
                        to_admins=bool(leads) and all(m.role is Role.ADMIN for m in leads))

    async def _leads_of(self, conn: Tx, member: Member) -> list[Member]:
        """The reporter's managers and the safety officers (admins if there is nobody)."""
        leads = [*await users.reachable(conn, [Role.MANAGER], member.team, but=member.id,
                                        cipher=self._cipher),
                 *await users.reachable(conn, [Role.OFFICER], but=member.id,
                                        cipher=self._cipher)]
        return leads or await users.reachable(conn, [Role.ADMIN], but=member.id,
                                              cipher=self._cipher)

    def _params(self, hazard: Hazard, reporter_name: str) -> dict[str, Any]:
        photo = str(self._photos.path(hazard.photos[0])) if hazard.photos else None
        return {
            "hazard_id": hazard.id, "category": hazard.category.value,
            "severity": int(hazard.severity), "place": hazard.place,
            "place_zh": hazard.place_zh, "lat": hazard.lat,
            "lon": hazard.lon, "description": hazard.description, "reporter": reporter_name,
            "photo": photo, "photos": len(hazard.photos),
            "radius_km": hazard.radius_km,
        }

    # --- deciding -------------------------------------------------------------------------

    async def get(self, hazard_id: int) -> Hazard | None:
        async with self._db.read() as conn:
            return await hazards.get(conn, hazard_id, cipher=self._cipher)

    async def open_for(self, lead: Member, team: str | None = None
                       ) -> tuple[list[tuple[Hazard, str]], int]:
        """Return the open reports a lead may decide (with reporter names), and the total: a
        manager's team's; an officer's of every team, or of `team` (the desk's filter)."""
        team = lead.team if lead.role is Role.MANAGER else team
        async with self._db.read() as conn:
            found, total = await hazards.open_reports(conn, team, OPEN_LIST_LIMIT,
                                                      cipher=self._cipher)
            people = {m.id: m.name for m in await users.by_ids(
                conn, [h.reporter_id for h in found], cipher=self._cipher)} if found else {}
        return [(h, people.get(h.reporter_id, "?")) for h in found], total

    def params_for_lead(self, hazard: Hazard, reporter_name: str) -> dict[str, Any]:
        """What a lead is shown about a report (the same as the alert carries)."""
        return self._params(hazard, reporter_name)

    async def decide(self, hazard_id: int, lead: Member, verify: bool) -> Decided:
        """Verify (points, colleagues nearby warned) or dismiss an open report."""
        now = self._clock.now()
        async with self._db.transaction() as conn:
            hazard = await hazards.get(conn, hazard_id, cipher=self._cipher)
            if hazard is None:
                raise HazardDecisionError("unknown")
            if hazard.reporter_id == lead.id:
                raise HazardDecisionError("own")
            if lead.role is Role.MANAGER and hazard.team != lead.team:
                raise HazardDecisionError("not_allowed")
            new = HazardState.VERIFIED if verify else HazardState.DISMISSED
            if not await hazards.decide(conn, hazard_id, new, lead.id, now):
                decider = await users.get(conn, hazard.decided_by or 0, cipher=self._cipher)
                raise HazardDecisionError(f"already_{hazard.state.value}",
                                          decider.name if decider else "?")
            decided = await hazards.get(conn, hazard_id, cipher=self._cipher)
            assert decided is not None
            # A reporter erased since is her anonymous stand-in: no points for nobody, and no
            # message to an id that is nobody's (the admins would hear "user -1 unreachable").
            reporter = await users.get(conn, decided.reporter_id, cipher=self._cipher)
            gone = reporter is None or reporter.unreachable == users.ERASED
            if not verify:
                if not gone:
                    await self._tell_reporter(conn, decided, "hazard_dismissed", lead, now, 0)
                return Decided(decided, 0, 0, gone)
            points = 0 if gone else points_for(decided.severity)
            if not gone:
                await hazards.award(conn, decided.reporter_id, hazard_id, points, now)
                await self._tell_reporter(conn, decided, "hazard_verified", lead, now, points)
            notified = await self._warn_travellers(conn, decided, now)  # colleagues still
        log.info("hazard %s %s by user %s", hazard_id, new.value, lead.id)
        return Decided(decided, points, notified, gone)

    async def _tell_reporter(
        self, conn: Tx, hazard: Hazard, kind: str, lead: Member,
        now: datetime, points: int,
    ) -> None:
        total = await hazards.points_of(conn, hazard.reporter_id)
        await outbox.enqueue(
            conn, cipher=self._cipher, dedupe=f"hazard:{hazard.id}:decision",
            recipient=hazard.reporter_id,
            kind=kind, priority=outbox.PRIORITY_NOTICE, now=now,
            params={"hazard_id": hazard.id, "place": hazard.place, "place_zh": hazard.place_zh,
                    "by_name": lead.name,
                    "points": points, "total": total},
        )

    async def _warn_travellers(
        self, conn: Tx, hazard: Hazard, now: datetime
    ) -> int:
        """Tell colleagues whose trips (under way or upcoming) go within the radius."""
        stops = await hazards.trip_stops(conn, earliest_today(now).isoformat())
        near = {row["user_id"] for row in stops
                if row["user_id"] != hazard.reporter_id
                and hazard.covers(row["lat"], row["lon"])}
        reporter = await users.get(conn, hazard.reporter_id, cipher=self._cipher)
        params = self._params(hazard, reporter.name if reporter else "?")
        params["photo"] = None  # a heads-up, not an alert: text with a map link is enough
        told = 0
        for user_id in sorted(near):
            told += await outbox.enqueue(
                conn, cipher=self._cipher, dedupe=f"hazard:{hazard.id}:nearby:to:{user_id}",
                recipient=user_id,
                kind="hazard_nearby", params=params, priority=outbox.PRIORITY_NOTICE, now=now,
                about=(hazard.reporter_id,),
            )
        return told

    # --- points ---------------------------------------------------------------------------

    async def standing(self, member: Member) -> Standing:
        """Return my points and the leaderboard of my team (all teams for officers, admins)."""
        team = member.team if member.role in (Role.STAFF, Role.MANAGER) else None
        async with self._db.read() as conn:
            mine = await hazards.points_of(conn, member.id)
            board = await hazards.leaderboard(conn, team, LEADERBOARD_SIZE, cipher=self._cipher)
        return Standing(mine, board)


class VerifiedHazards:
    """The risk seam: verified reports near a point, recent enough (a RiskService source)."""

    def __init__(
        self, db: Database, clock: Clock, cipher: Cipher,
        max_age: timedelta = DEFAULT_HAZARD_MAX_AGE,
    ) -> None:
        self._db = db
        self._cipher = cipher
        self._clock = clock
        self._max_age = max_age

    async def near(self, lat: float, lon: float) -> list[HazardSignal]:
        band = MAX_RADIUS_KM / KM_PER_DEGREE_LAT
        since = self._clock.now() - self._max_age
        async with self._db.read() as conn:
            found = await hazards.verified_between(conn, lat - band, lat + band, since,
                                                     cipher=self._cipher)
        return [
            HazardSignal(h.lat, h.lon, h.radius_km, risk_level_of(h.severity), h.decided_at,
                         headline(h.place, h.description),
                         headline(h.place_zh, h.description, colon="：") if h.place_zh else "")
            for h in found
            if h.decided_at is not None and haversine_km(h.lat, h.lon, lat, lon) <= h.radius_km
        ]
