"""The managers' and safety desk's view: the team board and the open alerts.

Everything here shows one person's data to another, so every view is written to the audit
log inside the transaction that read it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from fieldbot.clock import Clock
from fieldbot.crypto import Cipher
from fieldbot.domain import alerts as alert_rules
from fieldbot.domain import board, ladder
from fieldbot.domain.board import BoardState, Entry, OnVisit, OpenAlert, Tonight
from fieldbot.domain.ladder import AlertKind, Tier
from fieldbot.domain.members import Member
from fieldbot.domain.policy import Policy
from fieldbot.domain.roles import Role
from fieldbot.storage import alerts, audit, trips, users, visits
from fieldbot.storage import board as store
from fieldbot.storage.alerts import AlertRow
from fieldbot.storage.db import Database, Tx

_SOS_KINDS = (AlertKind.SOS, AlertKind.DURESS)
_ALL_KINDS = tuple(k for k in AlertKind if k is not AlertKind.DRILL)  # a drill is no alert


class BoardAccessError(Exception):
    """The viewer may not see this team (a manager asking for another team, or staff)."""


@dataclass(frozen=True, slots=True)
class TeamBoard:
    team: str
    entries: list[Entry]  # urgent first

    @property
    def worst(self) -> BoardState:
        return self.entries[0].state if self.entries else BoardState.OK


@dataclass(frozen=True, slots=True)
class AlertView:
    """An open alert as the desk sees it: who, which ladder step, who has it."""

    id: int
    label: str
    kind: AlertKind
    state: str  # open | acknowledged
    subject_id: int
    subject_name: str
    subject_team: str
    anchor: datetime
    tz_name: str  # the destination's zone, or UTC for an alert without a trip
    step_index: int  # -1: no step carried out yet
    tier: Tier | None
    attempt: int | None
    acked_by_name: str | None
    acked_at: datetime | None
    told_at: datetime | None = None  # when the current step went out
    next_tier: Tier | None = None  # who is told next, unless someone acknowledges first
    next_at: datetime | None = None


class BoardService:
    def __init__(
        self, db: Database, clock: Clock, policy: Policy, cipher: Cipher,
        due_soon: timedelta = board.DUE_SOON,
    ) -> None:
        self._db = db
        self._clock = clock
        self._policy = policy
        self._cipher = cipher
        self._due_soon = due_soon

    async def teams(self, viewer: Member) -> list[str]:
        """Return the teams `viewer` may see."""
        async with self._db.read() as conn:
            return board.visible_teams(viewer, await store.teams(conn))

    async def boards(self, viewer: Member, *, audited: bool = True) -> list[TeamBoard]:
        """Return the board of each team the viewer may see.

        A manager always gets their team's (even with nobody out); officers and admins get
        the teams where someone is out or has an alert open, the most urgent team first.
        """
        result = [await self.board(viewer, team, audited=audited)
                  for team in await self.teams(viewer)]
        if viewer.role is not Role.MANAGER:
            result = [b for b in result if b.entries]
            result.sort(key=lambda b: (b.worst.urgency, b.team))
        return result

    async def board(self, viewer: Member, team: str, *, audited: bool = True) -> TeamBoard:
        """Return one team's board, urgent first; the view is audited (unless the caller
        audits it itself: the desk page records a view when what it shows changes)."""
        async with self._db.read() as conn:
            if team not in board.visible_teams(viewer, await store.teams(conn)):
                raise BoardAccessError(team)
        now = self._clock.now()
        async with self._db.transaction() as conn:
            ids = await store.traveller_ids(conn, team, (now - timedelta(days=2)).date())
            entries = [e for uid in ids if (e := await self._entry(conn, viewer, uid, now))]
            if audited:
                await _record_views(conn, viewer, "view_board",
                                    [(e.member_id, f"entries={len(entries)}") for e in entries],
                                    now)
        return TeamBoard(team, board.urgent_first(entries))

    async def _entry(
        self, conn: Tx, viewer: Member, user_id: int, now: datetime
    ) -> Entry | None:
        member = await users.get(conn, user_id, cipher=self._cipher)
        if member is None:
            return None
        active = await trips.for_user(conn, user_id, ["approved"], (now - timedelta(days=2))
                                      .date(), cipher=self._cipher)
        night = await alerts.current_night(conn, user_id, now)
        trip = next((t for t in active if night is not None and t.id == night.trip_id), None)
        trip = trip or next((t for t in active if board.under_way(t, now)), None)
        signals = []
        for a in await alerts.open_alerts_for(conn, user_id, _ALL_KINDS):
            if board.visible_alert(viewer.id, user_id, a.kind):
                signals.append(OpenAlert(a.kind, await store.leads_alerted(conn, a.id)))
        on_visit = await visits.open_for(conn, user_id, cipher=self._cipher)
        if trip is None and not signals and on_visit is None:
            return None  # planned, not under way: not on the board yet
        upcoming = await alerts.next_night(conn, user_id, now)
        tonight = Tonight(night.deadline, night.state) if night is not None else None
        return Entry(
            member_id=member.id,
            name=member.name,
            state=board.board_state(now, signals, tonight,
                                    upcoming.deadline if upcoming else None, self._due_soon),
            trip=trip,
            leg=board.current_leg(trip, now) if trip is not None else None,
            next_deadline=upcoming.deadline if upcoming else None,
            next_deadline_tz=upcoming.tz_name if upcoming else None,
            last_checkin=await store.last_checkin(conn, user_id),
            last_location=await alerts.last_location(conn, user_id, cipher=self._cipher),
            visit=OnVisit(on_visit.ends_at, on_visit.tz_name, on_visit.companion,
                          on_visit.point, on_visit.started_at)
            if on_visit is not None else None,
        )

    async def open_alerts(self, viewer: Member, *, audited: bool = True) -> list[AlertView]:
        """Return the alerts not closed yet that the viewer may see: SOS first, then the oldest,
        drills last."""
        if not viewer.is_lead:
            raise BoardAccessError("alerts")
        team = viewer.team if viewer.role is Role.MANAGER else None
        now = self._clock.now()
        views: list[AlertView] = []
        async with self._db.transaction() as conn:
            for alert_id in await store.open_alert_ids(conn, team):
                a = await alerts.alert(conn, alert_id)
                if a is None or not board.visible_alert(viewer.id, a.user_id, a.kind):
                    continue
                views.append(await self._alert_view(conn, a))
            if audited:
                await _record_views(conn, viewer, "view_alerts",
                                    [(v.subject_id, f"alert={v.id}") for v in views], now)
        # Practice last: a drill of thirty people must not push a real missed check-in past
        # the end of the list (it is bounded) onto "… and 17 more".
        views.sort(key=lambda v: (v.kind not in _SOS_KINDS, v.kind is AlertKind.DRILL,
                                  v.anchor, v.id))
        return views

    async def _alert_view(self, conn: Tx, a: AlertRow) -> AlertView:
        subject = await users.get(conn, a.user_id, cipher=self._cipher)
        acker = (await users.get(conn, a.acked_by, cipher=self._cipher)
                 if a.acked_by is not None else None)
        trip = (await trips.get(conn, a.trip_id, cipher=self._cipher)
                if a.trip_id is not None else None)
        visit = (await visits.of_alert(conn, a.id, cipher=self._cipher)
                 if a.kind is AlertKind.VISIT else None)
        step = coming = None
        esc = alert_rules.escalation(self._policy, a.kind, a.risk_level)
        if a.step_index >= 0:
            step = ladder.step_at(a.kind, esc, self._policy.sos, a.anchor, a.step_index)
        if a.acked_by is None and a.next_due_at is not None:
            coming = ladder.step_at(a.kind, esc, self._policy.sos, a.anchor, a.step_index + 1)
        return AlertView(
            id=a.id, label=a.label, kind=a.kind, state=a.state,
            subject_id=a.user_id,
            subject_name=subject.name if subject else "?",
            subject_team=subject.team if subject else "",
            anchor=a.anchor,
            tz_name=trip.legs[0].place.tz_name if trip and trip.legs else (
                visit.tz_name if visit else "UTC"),
            step_index=a.step_index,
            tier=step.tier if step else None,
            attempt=step.attempt if step else None,
            acked_by_name=acker.name if acker else (None if a.acked_by is None else "?"),
            acked_at=a.acked_at,
            told_at=step.due_at if step else None,
            next_tier=coming.tier if coming else None,
            next_at=a.next_due_at if coming else None,
        )


async def _record_views(
    conn: Tx,
    viewer: Member,
    action: str,
    shown: list[tuple[int, str]],
    now: datetime,
) -> None:
    """Audit a view of other people's data: one entry per person shown (not the viewer)."""
    for subject, detail in shown:
        if subject != viewer.id:
            await audit.record(conn, viewer.id, action, subject, detail, now)
