"""Enrolment: invites, redeeming them, and who is who."""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from fieldbot.clock import Clock
from fieldbot.crypto import Cipher
from fieldbot.domain.members import Member
from fieldbot.domain.roles import Role, invitable_roles
from fieldbot.storage import audit, users
from fieldbot.storage.codec import parse_ts
from fieldbot.storage.db import Database

log = logging.getLogger(__name__)

MAX_CODE_LENGTH = 64
STRANGER_REPLIES_PER_HOUR = 3


class InviteRefused(StrEnum):
    UNKNOWN = "unknown"
    USED = "used"
    EXPIRED = "expired"
    ROLE_NOT_ALLOWED = "role_not_allowed"
    NO_TEAM = "no_team"
    ALREADY_ENROLLED = "already_enrolled"
    NOT_ENROLLED = "not_enrolled"


class EnrolmentError(Exception):
    def __init__(
        self, reason: InviteRefused, member: Member | None = None, admins: tuple[str, ...] = ()
    ) -> None:
        super().__init__(reason.value)
        self.reason = reason
        self.member = member  # ALREADY_ENROLLED: who they are now
        self.admins = admins  # ALREADY_ENROLLED: the names of those who can change roles


@dataclass(frozen=True, slots=True)
class Invite:
    code: str
    role: Role
    team: str
    expires_in: timedelta


def hash_code(code: str) -> str:
    return hashlib.sha256(code.encode("utf-8")).hexdigest()


class EnrolmentService:
    def __init__(
        self, db: Database, clock: Clock, admin_ids: tuple[int, ...], invite_ttl: timedelta,
        cipher: Cipher,
    ) -> None:
        self._db = db
        self._cipher = cipher  # names are stored encrypted
        self._clock = clock
        self._admin_ids = frozenset(admin_ids)
        self._ttl = invite_ttl
        # After a change of role or team (wired by the container): the escalation releases
        # the alerts they acknowledged and may no longer act on.
        self.on_role_changed: list[Callable[[Member], Awaitable[object]]] = []

    async def member(self, user_id: int, name: str = "", language: str = "en") -> Member | None:
        """Return the enrolled member, enrolling a configured admin on first contact."""
        async with self._db.glance() as conn:  # every update: no trip to a database thread
            found = await users.get(conn, user_id, cipher=self._cipher)
        if found is not None or user_id not in self._admin_ids:
            return found
        admin = Member(user_id, name or str(user_id), Role.ADMIN, "", language)
        now = self._clock.now()
        async with self._db.transaction() as conn:
            await users.upsert(conn, admin, now, cipher=self._cipher)
            await audit.record(conn, None, "enrol", user_id, "role=admin via=configuration", now)
        return admin

    async def create_invite(self, inviter: Member | None, role: Role, team: str) -> Invite:
        """Create a single-use invite; `inviter` None means the operator's command line."""
        if inviter is not None:
            if role not in invitable_roles(inviter.role):
                raise EnrolmentError(InviteRefused.ROLE_NOT_ALLOWED)
            if inviter.role is Role.MANAGER:
                team = inviter.team
        if role in (Role.STAFF, Role.MANAGER) and not team:
            raise EnrolmentError(InviteRefused.NO_TEAM)
        code = secrets.token_urlsafe(24)  # 32 characters, well under Telegram's 64
        now = self._clock.now()
        async with self._db.transaction() as conn:
            await users.add_invite(
                conn, hash_code(code), role, team,
                inviter.id if inviter else None, now, now + self._ttl,
            )
            await audit.record(conn, inviter.id if inviter else None, "invite", None,
                               f"role={role.value} team={team or '-'}", now)
        return Invite(code, role, team, self._ttl)

    async def redeem(self, code: str, user_id: int, name: str, language: str) -> Member:
        """Enrol a new person with the invite's role and team, or raise EnrolmentError.

        Someone already enrolled is refused (ALREADY_ENROLLED): roles are not changed by
        opening a link; the error names the administrators who decide.
        """
        if not code or len(code) > MAX_CODE_LENGTH:
            raise EnrolmentError(InviteRefused.UNKNOWN)
        digest = hash_code(code)
        now = self._clock.now()
        async with self._db.transaction() as conn:
            invite = await users.get_invite(conn, digest)
            if invite is None:
                raise EnrolmentError(InviteRefused.UNKNOWN)
            if invite["used_by"] is not None:
                raise EnrolmentError(InviteRefused.USED)
            if parse_ts(invite["expires_at"]) <= now:
                raise EnrolmentError(InviteRefused.EXPIRED)
            # A link never changes who someone is: a configured admin who opened a staff link
            # became staff. The invite stays unused, so it can still reach the person meant.
            existing = await users.get(conn, user_id, cipher=self._cipher)
            if existing is not None and existing.unreachable != users.ERASED:
                admins = await users.with_role(conn, [Role.ADMIN], cipher=self._cipher)
                raise EnrolmentError(InviteRefused.ALREADY_ENROLLED, existing,
                                     tuple(a.name for a in admins if a.id != user_id))
            if not await users.use_invite(conn, digest, user_id, now):
                raise EnrolmentError(InviteRefused.USED)
            member = Member(user_id, name, Role(invite["role"]), invite["team"], language)
            await users.upsert(conn, member, now, cipher=self._cipher)
            invited_by = invite["created_by"] if invite["created_by"] is not None else "cli"
            await audit.record(conn, user_id, "enrol", user_id,
                               f"role={member.role.value} team={member.team or '-'}"
                               f" invited_by={invited_by}", now)
        return member

    async def change_role(self, user_id: int, role: Role, team: str) -> Member:
        """Give an enrolled person another role or team (the operator's `fieldbot set-role`):
        the one way roles change, since opening an invite never changes them. Audited."""
        team = team if role in (Role.STAFF, Role.MANAGER) else ""
        if role in (Role.STAFF, Role.MANAGER) and not team:
            raise EnrolmentError(InviteRefused.NO_TEAM)
        now = self._clock.now()
        async with self._db.transaction() as conn:
            before = await users.get(conn, user_id, cipher=self._cipher)
            if before is None or not await users.set_role(conn, user_id, role, team):
                raise EnrolmentError(InviteRefused.NOT_ENROLLED)
            await audit.record(conn, None, "role_change", user_id,
                               f"role={role.value} team={team or '-'}"
                               f" was={before.role.value}/{before.team or '-'}", now)
            after = await users.get(conn, user_id, cipher=self._cipher)
        assert after is not None
        log.info("user %s is now %s", user_id, role.value)
        for hook in self.on_role_changed:
            await hook(after)
        return after

    async def mark_reachable(self, user_id: int) -> bool:
        """They wrote to the bot or unblocked it: messages reach them again. Call it only for
        someone marked unreachable (one write, not one per update); True if it changed."""
        async with self._db.transaction() as conn:
            changed = await users.set_reachable(conn, user_id)
        if changed:
            log.info("user %s is reachable again", user_id)
        return changed

    async def mark_unreachable(self, user_id: int, why: str) -> None:
        """They blocked the bot: known at once, not at the next failed message."""
        async with self._db.transaction() as conn:
            await users.set_unreachable(conn, user_id, why)
        log.info("user %s is unreachable: %s", user_id, why)

    async def set_language(self, user_id: int, language: str) -> None:
        async with self._db.transaction() as conn:
            await users.set_language(conn, user_id, language)

    async def should_answer_stranger(self, user_id: int) -> bool:
        """Count a stranger's message; answer only the first few an hour (no other data kept)."""
        now = self._clock.now()
        async with self._db.transaction() as conn:
            hits = await users.count_stranger(conn, user_id, now, now - timedelta(hours=1))
        return hits <= STRANGER_REPLIES_PER_HOUR
