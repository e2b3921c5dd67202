"""The safety desk page's own use cases: who may open it, its sessions and one-time links,
and the audit of what it shows and does.

What the page shows comes from the same services as the chat (`BoardService`,
`EscalationService`, `HazardService`, `ReportService`, `RollcallService`); this module only
decides who is looking. Tokens are random (256 bits) and only their sha256 is stored.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from fieldbot.clock import Clock
from fieldbot.crypto import Cipher
from fieldbot.domain.members import Member
from fieldbot.domain.roles import may
from fieldbot.services.rollcall import RollcallService, scope_params
from fieldbot.storage import audit, desk, users
from fieldbot.storage.db import Database

LINK_TTL = timedelta(minutes=10)
SESSION_TTL = timedelta(hours=1)
PERMISSION = "dashboard"


class DeskRefused(Exception):
    """Nobody, or someone whose role may not open the desk; `reason` says which."""

    def __init__(self, reason: str) -> None:  # unknown | role | expired
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class DeskSession:
    token: str  # the cookie's value: shown once, never stored
    member: Member
    expires: datetime

    @property
    def csrf(self) -> str:
        """The token the page sends back in a header with every action."""
        return csrf_for(self.token)


def csrf_for(session_token: str) -> str:
    """Derive the session's CSRF token: a page of another site can read neither."""
    return hmac.new(session_token.encode(), b"fieldbot-desk-csrf", hashlib.sha256).hexdigest()


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


MAX_TALLIES = 10  # open roll-calls shown at once, newest first


@dataclass(frozen=True, slots=True)
class Tally:
    """An open roll-call's live count as the desk shows it (no names: counts only)."""

    rollcall_id: int
    scope: dict[str, Any]  # whom it asks, as the chat's tally renders it
    started_at: datetime
    by_name: str
    asked: int
    safe: int
    need_help: int
    team: str | None = None  # only this team was asked (a manager's roll-call)

    @property
    def no_answer(self) -> int:
        return self.asked - self.safe - self.need_help


class RollCalls(Protocol):
    """Where the desk reads the open roll-calls a viewer may see."""

    async def tallies(self, viewer: Member) -> list[Tally]: ...


class OpenRollCalls:
    """The open roll-calls as `/rollcall` keeps them: a manager's own team's (and their own),
    every one for officers and admins (`RollcallService.open_for`, the chat's own rule)."""

    def __init__(self, rollcall: RollcallService) -> None:
        self._rollcall = rollcall

    async def tallies(self, viewer: Member) -> list[Tally]:
        views = await self._rollcall.open_for(viewer)
        return [Tally(v.id, scope_params(v.scope), v.started_at, v.initiator_name,
                      v.tally.asked, v.tally.safe, v.tally.help, v.limit_team)
                for v in views[:MAX_TALLIES]]


class DeskService:
    def __init__(self, db: Database, clock: Clock, cipher: Cipher,
                 roll_calls: RollCalls) -> None:
        self._db = db
        self._clock = clock
        self._cipher = cipher
        self.roll_calls = roll_calls

    async def _lead(self, user_id: int) -> Member:
        async with self._db.read() as conn:
            member = await users.get(conn, user_id, cipher=self._cipher)
        if member is None:
            raise DeskRefused("unknown")
        if not may(member.role, PERMISSION):
            raise DeskRefused("role")
        return member

    async def issue_link(self, member: Member) -> str:
        """Return a one-time login token for `member` (single use, 10 minutes)."""
        if not may(member.role, PERMISSION):
            raise DeskRefused("role")
        token, now = secrets.token_urlsafe(32), self._clock.now()
        async with self._db.transaction() as conn:
            await desk.purge(conn, now)
            await desk.add_link(conn, _hash(token), member.id, now, now + LINK_TTL)
            await audit.record(conn, member.id, "desk_link", None, "", now)
        return token

    async def open_with_link(self, token: str) -> DeskSession:
        """Use a one-time link: a session for the person it was made for, once."""
        now = self._clock.now()
        async with self._db.transaction() as conn:
            user_id = await desk.use_link(conn, _hash(token), now)
        if user_id is None:
            raise DeskRefused("expired")
        return await self._open(user_id, "link")

    async def open_for(self, user_id: int) -> DeskSession:
        """Open a session for a person whose identity Telegram has vouched for (initData)."""
        return await self._open(user_id, "telegram")

    async def _open(self, user_id: int, how: str) -> DeskSession:
        member = await self._lead(user_id)
        token, now = secrets.token_urlsafe(32), self._clock.now()
        async with self._db.transaction() as conn:
            await desk.purge(conn, now)
            await desk.add_session(conn, _hash(token), member.id, now, now + SESSION_TTL)
            await audit.record(conn, member.id, "desk_open", None, f"via={how}", now)
        return DeskSession(token, member, now + SESSION_TTL)

    async def session(self, token: str) -> DeskSession:
        """Return the live session for a cookie; its person is read afresh (a role taken
        away, or an erasure, closes the page at the next request)."""
        async with self._db.read() as conn:
            found = await desk.session(conn, _hash(token), self._clock.now())
        if found is None:
            raise DeskRefused("expired")
        user_id, expires, _ = found
        return DeskSession(token, await self._lead(user_id), expires)

    async def close(self, token: str) -> None:
        async with self._db.transaction() as conn:
            await desk.end_session(conn, _hash(token))

    async def shown_changed(self, session: DeskSession, digest: str) -> bool:
        """Remember what the page now shows; True when it differs from what it showed last
        (the views are audited then, not on every poll of an unchanged page)."""
        async with self._db.transaction() as conn:
            return await desk.set_shown(conn, _hash(session.token), digest)

    async def record(self, member: Member, action: str, subject: int | None,
                     detail: str = "") -> None:
        """Audit something the page did or showed (ids and codes only in `detail`)."""
        async with self._db.transaction() as conn:
            await audit.record(conn, member.id, action, subject, detail, self._clock.now())

    async def record_views(self, member: Member, action: str,
                           shown: list[tuple[int, str]]) -> None:
        """Audit a view of other people's data: one entry per person shown (not the viewer)."""
        now = self._clock.now()
        async with self._db.transaction() as conn:
            for subject, detail in shown:
                if subject != member.id:
                    await audit.record(conn, member.id, action, subject, detail, now)

    async def alert_messages(self, alert_id: int, recipient: int) -> list[int]:
        """Return the chat message ids of the alert's messages to `recipient` (so a press in
        the page can change their buttons as a press in the chat would)."""
        async with self._db.read() as conn:
            return await desk.sent_alert_messages(conn, alert_id, recipient)
